/**
 * DescribeProducers (key 61): the active idempotent/transactional producers of partitions,
 * with Kafka's errors (KafkaApis.handleDescribeProducersRequest): an illegal topic name →
 * INVALID_TOPIC_EXCEPTION with Topic.validate's reason, an unknown topic → UNKNOWN_TOPIC_OR_PARTITION with
 * the error's default message, an unknown partition of a known topic →
 * UNKNOWN_TOPIC_OR_PARTITION and an offline log → KAFKA_STORAGE_ERROR, both without message.
 *
 * The active producers are the partition log's producer state (storage/producer-state.ts):
 * every producer id with state there, until producer.id.expiration.ms forgets it.
 */
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { MAX_TOPIC_NAME_LENGTH, topicNameProblem } from '../metadata/topic-names.ts';
import { DescribeProducersRequest } from '../protocol/messages/describe-producers-request.generated.ts';
import { DescribeProducersResponse, type ProducerState } from '../protocol/messages/describe-producers-response.generated.ts';
import { defineApi } from './api.ts';
import type { PartitionLog } from '../storage/partition-log.ts';

/** The active producers of a partition, as DescribeProducers reports them. */
export function producers(log: PartitionLog): ProducerState[] {
  return log.activeProducers.map((e) => ({
    producerId: BigInt(e.producerId),
    producerEpoch: e.producerEpoch,
    lastSequence: e.batches.length > 0 ? e.batches[e.batches.length - 1]!.lastSeq : -1,
    lastTimestamp: BigInt(e.lastTimestamp),
    coordinatorEpoch: e.coordinatorEpoch,
    currentTxnStartOffset: BigInt(e.currentTxnFirstOffset),
  }));
}

const UNKNOWN_TOPIC_MESSAGE = 'This server does not host this topic-partition.';

export const describeProducers = defineApi({
  request: DescribeProducersRequest,
  response: DescribeProducersResponse,
  minVersion: 0,
  maxVersion: 0,
  handle(req, { broker }) {
    const res = DescribeProducersResponse.default();
    for (const t of req.topics) {
      const nameProblem = invalidTopicMessage(t.name);
      const topicError: [number, string] | null = nameProblem
        ? [ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem]
        : broker.topics.get(t.name)
          ? null
          : [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_MESSAGE];
      res.topics.push({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => {
          if (topicError) return { partitionIndex, errorCode: topicError[0], errorMessage: topicError[1], activeProducers: [] };
          const log = broker.topics.partition(t.name, partitionIndex);
          if (log instanceof KafkaError) return { partitionIndex, errorCode: log.code, errorMessage: null, activeProducers: [] };
          return { partitionIndex, errorCode: ErrorCode.NONE, errorMessage: null, activeProducers: producers(log) };
        }),
      });
    }
    return res;
  },
});

/** Kafka's Topic.validate message for an illegal name (worded unlike CreateTopics'), or null. */
function invalidTopicMessage(name: string): string | null {
  if (topicNameProblem(name) === null) return null;
  const reason =
    name === ''
      ? 'the empty string is not allowed'
      : name === '.' || name === '..'
        ? `'${name}' is not allowed`
        : name.length > MAX_TOPIC_NAME_LENGTH
          ? `the length of '${name}' is longer than the max allowed length ${MAX_TOPIC_NAME_LENGTH}`
          : `'${name}' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'`;
  return `Topic name is invalid: ${reason}`;
}
