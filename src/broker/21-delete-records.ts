/**
 * DeleteRecords (key 21): moves each partition's log start offset up to the requested offset
 * (-1: the high watermark) through `PartitionLog.deleteRecords`, and answers with the new log
 * start offset as the low watermark. Errors as Kafka's ReplicaManager: an unknown partition
 * → UNKNOWN_TOPIC_OR_PARTITION, an internal topic → INVALID_TOPIC_EXCEPTION, an offline log →
 * KAFKA_STORAGE_ERROR, a topic whose cleanup.policy lacks delete → POLICY_VIOLATION, an offset
 * below -1 or above the high watermark → OFFSET_OUT_OF_RANGE; every error has low watermark -1.
 *
 * timeoutMs: Kafka waits (up to it) only until every in-sync replica's log start offset reaches
 * the requested offset; with the single local replica that is true as soon as the local log
 * has moved, so, as on a one-broker Kafka, the response never waits and never times out.
 * A partition named twice is answered once, with the last offset asked (Kafka keeps a map).
 */
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { isInternalTopic } from '../metadata/topic-names.ts';
import { DeleteRecordsRequest } from '../protocol/messages/delete-records-request.generated.ts';
import { DeleteRecordsResponse } from '../protocol/messages/delete-records-response.generated.ts';
import { defineApi } from './api.ts';
import type { Broker } from './broker.ts';
import { topicConfigValue } from './broker-config.ts';

export const deleteRecords = defineApi({
  request: DeleteRecordsRequest,
  response: DeleteRecordsResponse,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, { broker }) {
    // topic → partition → offset, in request order; a repeated partition keeps its last offset.
    const wanted = new Map<string, Map<number, bigint>>();
    for (const t of req.topics) {
      const partitions = wanted.get(t.name) ?? new Map<number, bigint>();
      wanted.set(t.name, partitions);
      for (const p of t.partitions) partitions.set(p.partitionIndex, p.offset);
    }
    const res = DeleteRecordsResponse.default();
    res.topics = await Promise.all(
      [...wanted].map(async ([name, partitions]) => ({
        name,
        partitions: await Promise.all(
          [...partitions].map(async ([partitionIndex, offset]) => {
            const result = await deletePartition(broker, name, partitionIndex, offset);
            return result instanceof KafkaError
              ? { partitionIndex, lowWatermark: -1n, errorCode: result.code }
              : { partitionIndex, lowWatermark: BigInt(result), errorCode: ErrorCode.NONE };
          }),
        ),
      })),
    );
    return res;
  },
});

/** The new log start offset of one partition, or the Kafka error it gets. */
async function deletePartition(broker: Broker, topic: string, partition: number, offset: bigint): Promise<number | KafkaError> {
  const log = broker.topics.partition(topic, partition);
  if (log instanceof KafkaError && log.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return log;
  if (isInternalTopic(topic)) {
    return new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Cannot delete records of internal topic ${topic}`);
  }
  if (log instanceof KafkaError) return log;
  const policy = topicConfigValue(broker.config, broker.topics.get(topic)?.configs ?? {}, 'cleanup.policy');
  if (!policy.split(',').some((p) => p.trim() === 'delete')) {
    return new KafkaError(
      ErrorCode.POLICY_VIOLATION,
      `Records of partition ${topic}-${partition} can not be deleted due to the configured policy`,
    );
  }
  if (offset < -1n || offset > BigInt(Number.MAX_SAFE_INTEGER)) {
    return new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `The offset ${offset} for partition ${topic}-${partition} is not valid`);
  }
  try {
    return await log.deleteRecords(Number(offset));
  } catch (err) {
    if (err instanceof KafkaError) return err;
    broker.logger.error('DeleteRecords failed', { topic, partition, error: err as Error });
    return new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, (err as Error).message);
  }
}
