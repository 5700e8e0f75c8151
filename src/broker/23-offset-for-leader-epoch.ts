/**
 * OffsetForLeaderEpoch (key 23): the end offset of a leader epoch, which consumers use to
 * detect log truncation after a leader change (KIP-320) and followers use to truncate.
 */
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { OffsetForLeaderEpochRequest } from '../protocol/messages/offset-for-leader-epoch-request.generated.ts';
import { OffsetForLeaderEpochResponse } from '../protocol/messages/offset-for-leader-epoch-response.generated.ts';
import { defineApi } from './api.ts';
import { leaderEpochError } from './leader-epoch.ts';

export const offsetForLeaderEpoch = defineApi({
  request: OffsetForLeaderEpochRequest,
  response: OffsetForLeaderEpochResponse,
  minVersion: 2,
  maxVersion: 4,
  handle(req, { broker }) {
    const res = OffsetForLeaderEpochResponse.default();
    res.topics = req.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => {
        const out = { errorCode: ErrorCode.NONE as number, partition: p.partition, leaderEpoch: -1, endOffset: -1n };
        const log = broker.topics.partition(t.topic, p.partition);
        const epochError = leaderEpochError(p.currentLeaderEpoch);
        if (log instanceof KafkaError) {
          out.errorCode = log.code;
        } else if (epochError !== null) {
          out.errorCode = epochError;
        } else {
          const end = log.endOffsetForEpoch(p.leaderEpoch);
          out.leaderEpoch = end.leaderEpoch;
          out.endOffset = BigInt(end.endOffset);
        }
        return out;
      }),
    }));
    return res;
  },
});
