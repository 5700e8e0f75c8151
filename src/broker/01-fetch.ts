/**
 * Fetch (key 1). Reads whole batches from each requested partition up to the high watermark
 * (READ_UNCOMMITTED) or the last stable offset (READ_COMMITTED: nothing of an open transaction
 * is returned, and the aborted transactions overlapping the returned data are listed so the
 * client can drop their records), within the partition and response byte limits; the first batch of the first partition with
 * data is returned whole even when it is larger than the limits, so a consumer can always
 * make progress. If fewer than min_bytes are available, the request is parked until data
 * arrives, max_wait passes, or the broker shuts down, and then read again.
 *
 * Fetch sessions (KIP-227): we answer every request in full and give out session id 0, which
 * tells the client no session was created; an incremental request (epoch > 0) gets
 * FETCH_SESSION_ID_NOT_FOUND, as Kafka answers for an unknown session, so clients fall back
 * to full fetches.
 */
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { FetchRequest } from '../protocol/messages/fetch-request.generated.ts';
import { FetchResponse } from '../protocol/messages/fetch-response.generated.ts';
import { EMPTY_BUFFER } from '../protocol/primitives/index.ts';
import { largeBuffers } from '../common/buffer-pool.ts';
import { defineApi } from './api.ts';
import type { Broker } from './broker.ts';
import { partitionKey } from './partition-waiters.ts';
import { leaderEpochError } from './leader-epoch.ts';
import { BATCH_HEADER_SIZE, batchLastOffset, batchSize } from '../protocol/record-batch.ts';

type FetchReq = ReturnType<typeof FetchRequest.default>;
type FetchRes = ReturnType<typeof FetchResponse.default>;
type PartitionData = FetchRes['responses'][number]['partitions'][number];

const READ_COMMITTED = 1;

export const fetch = defineApi({
  request: FetchRequest,
  response: FetchResponse,
  minVersion: 4,
  maxVersion: 17,
  async handle(req, { broker, apiVersion, afterResponseWritten }) {
    const res = FetchResponse.default();
    // Epoch 0 (open a session) and -1 (no session) are full fetches, whatever the session id;
    // any other epoch continues a session, and we never created one.
    if (req.sessionEpoch !== 0 && req.sessionEpoch !== -1) {
      res.errorCode = ErrorCode.FETCH_SESSION_ID_NOT_FOUND;
      return res;
    }
    const started = broker.clock.now();
    let keys: string[] | undefined; // computed only if the request has to wait
    for (;;) {
      const { responses, bytes, errors, buffers } = await readAll(broker, req, apiVersion);
      const remaining = req.maxWaitMs - (broker.clock.now() - started);
      keys ??= bytes >= req.minBytes || errors || remaining <= 0 ? [] : waitKeys(broker, req, apiVersion);
      if (bytes >= req.minBytes || errors || remaining <= 0 || broker.closing || keys.length === 0) {
        res.responses = responses;
        // The read buffers go back to the pool once the response is on the socket.
        if (buffers.length > 0) afterResponseWritten(() => releaseAll(buffers));
        return res;
      }
      releaseAll(buffers); // this read is dropped: wait and read again
      await broker.waiters.wait(keys, remaining);
    }
  },
});

/** The partitions a parked request waits on. */
function waitKeys(broker: Broker, req: FetchReq, apiVersion: number): string[] {
  const keys: string[] = [];
  for (const t of req.topics) {
    const name = apiVersion >= 13 ? broker.topics.getById(t.topicId)?.name : t.topic;
    if (name === undefined) continue;
    for (const p of t.partitions) keys.push(partitionKey(name, p.partition));
  }
  return keys;
}

async function readAll(
  broker: Broker,
  req: FetchReq,
  apiVersion: number,
): Promise<{ responses: FetchRes['responses']; bytes: number; errors: boolean; buffers: Buffer[] }> {
  const buffers: Buffer[] = [];
  let budget = req.maxBytes;
  let bytes = 0;
  let errors = false;
  const responses: FetchRes['responses'] = [];
  for (const t of req.topics) {
    const topic = apiVersion >= 13 ? broker.topics.getById(t.topicId) : broker.topics.get(t.topic);
    const partitions: PartitionData[] = [];
    for (const p of t.partitions) {
      const data = emptyPartition(p.partition);
      partitions.push(data);
      if (!topic) {
        data.errorCode = apiVersion >= 13 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        errors = true;
        continue;
      }
      const log = broker.topics.partition(topic.name, p.partition);
      if (log instanceof KafkaError) {
        data.errorCode = log.code;
        errors = true;
        continue;
      }
      const committedOnly = req.isolationLevel === READ_COMMITTED;
      const lastStable = log.lastStableOffset;
      data.highWatermark = BigInt(log.highWatermark);
      data.lastStableOffset = BigInt(lastStable);
      data.logStartOffset = BigInt(log.logStartOffset);
      data.abortedTransactions = committedOnly ? [] : null;
      const epochError = leaderEpochError(p.currentLeaderEpoch);
      if (epochError !== null) {
        data.errorCode = epochError;
        errors = true;
        continue;
      }
      const fetchOffset = Number(p.fetchOffset);
      const limit = Math.min(p.partitionMaxBytes, budget);
      if (limit <= 0 && bytes > 0) continue;
      try {
        const read = await log.read(fetchOffset, Math.max(limit, 0), {
          minOneBatch: bytes === 0,
          maxOffset: committedOnly ? lastStable : log.highWatermark,
        });
        if (read.bytes > 0) {
          buffers.push(...read.records);
          data.records = read.records.length === 1 ? read.records[0]! : Buffer.concat(read.records, read.bytes);
          bytes += read.bytes;
          budget -= read.bytes;
          if (committedOnly) {
            data.abortedTransactions = log
              .abortedTransactions(fetchOffset, endOffsetOf(data.records))
              .map((a) => ({ producerId: BigInt(a.producerId), firstOffset: BigInt(a.firstOffset) }));
          }
        }
      } catch (err) {
        if (!(err instanceof KafkaError)) throw err;
        data.errorCode = err.code;
        errors = true;
      }
    }
    responses.push({ topic: topic?.name ?? t.topic, topicId: t.topicId, partitions });
  }
  return { responses, bytes, errors, buffers };
}

/** The offset after the last batch of a record set (header walk only). */
function endOffsetOf(records: Buffer): number {
  let end = -1;
  for (let pos = 0; pos + BATCH_HEADER_SIZE <= records.length; pos += batchSize(records, pos)) end = batchLastOffset(records, pos) + 1;
  return end;
}

function releaseAll(buffers: Buffer[]): void {
  for (const b of buffers) largeBuffers.release(b);
}

function emptyPartition(partitionIndex: number): PartitionData {
  return {
    partitionIndex,
    errorCode: ErrorCode.NONE,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    divergingEpoch: { epoch: -1, endOffset: -1n },
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1n, epoch: -1 },
    abortedTransactions: null,
    preferredReadReplica: -1,
    // Kafka sends an empty record set, not null; some clients do not expect null here.
    records: EMPTY_BUFFER,
  };
}
