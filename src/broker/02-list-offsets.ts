/**
 * ListOffsets (key 2): earliest (-2), latest (-1: the high watermark, or the last stable offset for READ_COMMITTED),
 * max timestamp (-3, v7+), earliest local (-4, v8+: the same as earliest without tiered
 * storage), latest tiered (-5, v9+: none, so -1), or the first offset whose timestamp is at
 * least the given one, found through the time index. A special timestamp the request version
 * does not know, or an unknown negative one, gets UNSUPPORTED_VERSION; a partition asked for
 * twice gets INVALID_REQUEST (both as Kafka). v0 (maxNumOffsets lists) is not served, as in
 * Kafka 4 (KIP-896).
 */
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { ListOffsetsRequest } from '../protocol/messages/list-offsets-request.generated.ts';
import { ListOffsetsResponse } from '../protocol/messages/list-offsets-response.generated.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import { defineApi } from './api.ts';
import { partitionKey } from './partition-waiters.ts';
import { LEADER_EPOCH, leaderEpochError } from './leader-epoch.ts';

export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;
export const MAX_TIMESTAMP = -3;
export const EARLIEST_LOCAL_TIMESTAMP = -4;
export const LATEST_TIERED_TIMESTAMP = -5;

/** The first version that knows each special timestamp; any other negative one is unknown. */
const SPECIAL_SINCE: ReadonlyMap<number, number> = new Map([
  [LATEST_TIMESTAMP, 0],
  [EARLIEST_TIMESTAMP, 0],
  [MAX_TIMESTAMP, 7],
  [EARLIEST_LOCAL_TIMESTAMP, 8],
  [LATEST_TIERED_TIMESTAMP, 9],
]);

function timestampSupported(timestamp: number, version: number): boolean {
  if (timestamp >= 0) return true;
  const since = SPECIAL_SINCE.get(timestamp);
  return since !== undefined && version >= since;
}

type PartitionResult = ReturnType<typeof ListOffsetsResponse.default>['topics'][number]['partitions'][number];

export const listOffsets = defineApi({
  request: ListOffsetsRequest,
  response: ListOffsetsResponse,
  minVersion: 1,
  maxVersion: 10,
  async handle(req, { broker, apiVersion }) {
    const res = ListOffsetsResponse.default();
    const seen = new Map<string, number>();
    for (const t of req.topics) for (const p of t.partitions) {
      const key = partitionKey(t.name, p.partitionIndex);
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    for (const t of req.topics) {
      const partitions: PartitionResult[] = [];
      for (const p of t.partitions) {
        const out: PartitionResult = {
          partitionIndex: p.partitionIndex,
          errorCode: ErrorCode.NONE,
          oldStyleOffsets: [],
          timestamp: -1n,
          offset: -1n,
          leaderEpoch: -1,
        };
        partitions.push(out);
        if (seen.get(partitionKey(t.name, p.partitionIndex))! > 1) {
          out.errorCode = ErrorCode.INVALID_REQUEST; // Kafka refuses a partition asked twice
          continue;
        }
        const timestamp = Number(p.timestamp);
        if (!timestampSupported(timestamp, apiVersion)) {
          out.errorCode = ErrorCode.UNSUPPORTED_VERSION;
          continue;
        }
        const log = broker.topics.partition(t.name, p.partitionIndex);
        if (log instanceof KafkaError) {
          out.errorCode = log.code;
          continue;
        }
        const epochError = leaderEpochError(p.currentLeaderEpoch);
        if (epochError !== null) {
          out.errorCode = epochError;
          continue;
        }
        const found = await lookup(log, timestamp, req.isolationLevel === READ_COMMITTED);
        if (found) {
          out.offset = BigInt(found.offset);
          out.timestamp = BigInt(found.timestamp);
          out.leaderEpoch = LEADER_EPOCH;
        }
      }
      res.topics.push({ name: t.name, partitions });
    }
    return res;
  },
});

const READ_COMMITTED = 1;

async function lookup(log: PartitionLog, timestamp: number, committedOnly: boolean): Promise<{ offset: number; timestamp: number } | null> {
  switch (timestamp) {
    case LATEST_TIMESTAMP:
      // READ_COMMITTED consumers start at the last stable offset, never inside an open transaction.
      return { offset: committedOnly ? log.lastStableOffset : log.highWatermark, timestamp: -1 };
    case EARLIEST_TIMESTAMP:
    case EARLIEST_LOCAL_TIMESTAMP:
      return { offset: log.logStartOffset, timestamp: -1 };
    case MAX_TIMESTAMP:
      return log.maxTimestampOffset();
    case LATEST_TIERED_TIMESTAMP:
      return null;
    default: {
      const found = await log.offsetForTimestamp(timestamp);
      // As Kafka: a READ_COMMITTED lookup never answers at or past the last stable offset.
      return found && committedOnly && found.offset >= log.lastStableOffset ? null : found;
    }
  }
}
