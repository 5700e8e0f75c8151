/**
 * Produce (key 0). For each partition: validate the batches' headers and CRCs without
 * decoding records, then append (offsets are assigned synchronously, in request order). Once
 * every append is queued the connection is released, so the next request may start while this
 * one waits: for the OS write (acks=1) or for the group-committed fdatasync (acks=-1).
 *
 * Topics with cleanup.policy=compact or a compression.type other than producer also go through
 * produce-topic-rules.ts (key check, recompression), the only place records are decoded.
 *
 * Idempotent and transactional batches are checked against the partition's producer state
 * inside PartitionLog.append (epoch, sequence, duplicates of the last five batches, answered
 * with the original offsets). A transactional batch that would open a transaction in a
 * partition must belong to a transaction the coordinator knows has that partition (KIP-890
 * part 1 verification: INVALID_TXN_STATE otherwise), so a late retry can never leave a
 * transaction open that nobody will end.
 *
 * acks=0 gets no response; if any partition failed, the connection is closed instead, which is
 * how Kafka tells an acks=0 producer that something went wrong.
 */
import { ErrorCode, KafkaError, errorName, type ErrorCode as Code } from '../common/errors.ts';
import { ProduceRequest } from '../protocol/messages/produce-request.generated.ts';
import { ProduceResponse } from '../protocol/messages/produce-response.generated.ts';
import { validateRecordSet, type BatchSummary } from '../protocol/record-batch.ts';
import { isInternalTopic } from '../metadata/topic-names.ts';
import { defineApi } from './api.ts';
import type { Broker } from './broker.ts';
import { BadRequestError } from './dispatcher.ts';
import { LEADER_EPOCH } from './leader-epoch.ts';
import { applyTopicRules, needsTopicRules } from './produce-topic-rules.ts';
import { batchProducerEpoch } from '../protocol/control-batch.ts';
import type { PartitionLog } from '../storage/partition-log.ts';

type PartitionResponse = ReturnType<typeof ProduceResponse.default>['responses'][number]['partitionResponses'][number];

interface PendingPartition {
  response: PartitionResponse;
  topic: string;
  append?: Promise<{ baseOffset: number; logAppendTime: number; logStartOffset: number }>;
  sync?: () => Promise<void>;
}

export const produce = defineApi({
  request: ProduceRequest,
  response: ProduceResponse,
  minVersion: 3,
  maxVersion: 11,
  // v0-v2 (magic 0/1 message sets) are refused, but advertised for librdkafka (KAFKA-18659).
  advertisedMinVersion: 0,
  async handle(req, ctx) {
    const { broker } = ctx;
    const acks = req.acks;
    const results: { name: string; partitions: PendingPartition[] }[] = [];
    for (const topic of req.topicData) {
      const partitions: PendingPartition[] = [];
      for (const p of topic.partitionData) {
        const pending: PendingPartition = { response: partitionResponse(p.index), topic: topic.name };
        if (acks !== 0 && acks !== 1 && acks !== -1) {
          fail(pending.response, ErrorCode.INVALID_REQUIRED_ACKS, `acks must be -1, 0 or 1, not ${acks}`);
        } else {
          appendPartition(broker, topic.name, p.index, p.records, req.transactionalId, pending);
        }
        partitions.push(pending);
      }
      results.push({ name: topic.name, partitions });
    }
    ctx.release();

    for (const { partitions } of results) {
      for (const p of partitions) {
        if (!p.append) continue;
        try {
          const done = await p.append;
          if (acks === -1) await p.sync!();
          p.response.baseOffset = BigInt(done.baseOffset);
          p.response.logAppendTimeMs = BigInt(done.logAppendTime);
          p.response.logStartOffset = BigInt(done.logStartOffset);
        } catch (err) {
          const code = err instanceof KafkaError ? err.code : ErrorCode.KAFKA_STORAGE_ERROR;
          fail(p.response, code, (err as Error).message);
          broker.logger.error('append failed', { topic: p.topic, partition: p.response.index, error: err as Error });
        }
      }
    }

    if (acks === 0) {
      const failed = results.flatMap((t) => t.partitions).find((p) => p.response.errorCode !== ErrorCode.NONE);
      if (failed) {
        throw new BadRequestError(
          `acks=0 produce to ${failed.topic}-${failed.response.index} failed with error ${failed.response.errorCode}: ${failed.response.errorMessage}`,
        );
      }
      return null;
    }
    const res = ProduceResponse.default();
    res.responses = results.map((t) => ({ name: t.name, partitionResponses: t.partitions.map((p) => p.response) }));
    return res;
  },
});

function partitionResponse(index: number): PartitionResponse {
  return {
    index,
    errorCode: ErrorCode.NONE,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    recordErrors: [],
    errorMessage: null,
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
  };
}

function fail(res: PartitionResponse, code: Code, message: string): void {
  res.errorCode = code;
  res.errorMessage = message;
  res.baseOffset = -1n;
}

/**
 * KIP-890 part 1: a transactional batch that starts this producer's transaction in the
 * partition must be covered by the coordinator's view of the transaction. Null when it is;
 * otherwise the error, translated as Kafka's ReplicaManager does for clients before Produce
 * v12: not in the transaction → INVALID_TXN_STATE, another epoch → INVALID_PRODUCER_EPOCH (the
 * producer aborts and goes on, or learns it is fenced at EndTxn), a transaction being completed
 * → NOT_ENOUGH_REPLICAS (retriable without a metadata refresh).
 */
function verifyTransaction(
  broker: Broker,
  log: PartitionLog,
  transactionalId: string,
  topic: string,
  partition: number,
  records: Buffer,
  batch: BatchSummary,
): [Code, string] | null {
  const producerId = batch.producerId;
  if (log.hasOngoingTransaction(producerId)) return null;
  const epoch = batchProducerEpoch(records, batch.pos);
  const code = broker.transactions.verifyPartition(transactionalId, producerId, epoch, topic, partition);
  switch (code) {
    case ErrorCode.NONE:
      return null;
    case ErrorCode.TRANSACTION_ABORTABLE:
      return [ErrorCode.INVALID_TXN_STATE, 'Partition was not added to the transaction'];
    case ErrorCode.PRODUCER_FENCED:
      return [ErrorCode.INVALID_PRODUCER_EPOCH, `Producer epoch ${epoch} is not the current epoch of transactional id ${transactionalId}`];
    case ErrorCode.CONCURRENT_TRANSACTIONS:
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
    case ErrorCode.NOT_COORDINATOR:
      return [ErrorCode.NOT_ENOUGH_REPLICAS, `Unable to verify the partition has been added to the transaction. Underlying error: ${errorName(code)}`];
    default:
      return [code as Code, 'The transaction could not be verified'];
  }
}

/** Validates one partition's record set and starts its append; failures go into `pending`. */
function appendPartition(
  broker: Broker,
  topic: string,
  partition: number,
  records: Buffer | null,
  transactionalId: string | null,
  pending: PendingPartition,
): void {
  const res = pending.response;
  const log = broker.topics.partition(topic, partition);
  if (log instanceof KafkaError) return fail(res, log.code, log.message);
  if (isInternalTopic(topic)) return fail(res, ErrorCode.INVALID_TOPIC_EXCEPTION, `Cannot append to internal topic ${topic}`);
  if (!records || records.length === 0) return fail(res, ErrorCode.INVALID_RECORD, 'produce request has no records');

  const settings = broker.topics.settings(topic);
  const validated = validateRecordSet(records);
  if ('code' in validated) return fail(res, ErrorCode[validated.code], validated.message);
  if (validated.batches.length !== 1) {
    // Kafka 4 accepts exactly one batch per partition in a v3+ produce request.
    return fail(res, ErrorCode.INVALID_RECORD, 'Produce requests are only allowed to contain exactly one record batch per partition');
  }

  const now = broker.clock.now();
  for (const batch of validated.batches) {
    if (batch.size > settings.maxMessageBytes) {
      return fail(
        res,
        ErrorCode.MESSAGE_TOO_LARGE,
        `record batch of ${batch.size} bytes exceeds max.message.bytes ${settings.maxMessageBytes}`,
      );
    }
    if (batch.isTransactional) {
      if (transactionalId === null) {
        // Kafka refuses the whole request: transactional records need an (authorized) transactional id.
        return fail(res, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'Transactional records require a transactional id');
      }
      if (batch.producerId < 0) return fail(res, ErrorCode.INVALID_RECORD, 'a transactional batch must carry a producer id');
      const problem = verifyTransaction(broker, log, transactionalId, topic, partition, records, batch);
      if (problem) return fail(res, problem[0], problem[1]);
    }
    if (!settings.logAppendTime && batch.maxTimestamp !== -1) {
      if (batch.maxTimestamp > now + settings.timestampAfterMaxMs) {
        return fail(res, ErrorCode.INVALID_TIMESTAMP, `timestamp ${batch.maxTimestamp} is too far in the future`);
      }
      if (batch.maxTimestamp < now - settings.timestampBeforeMaxMs) {
        return fail(res, ErrorCode.INVALID_TIMESTAMP, `timestamp ${batch.maxTimestamp} is too far in the past`);
      }
    }
  }

  let data = records;
  let batches = validated.batches;
  if (needsTopicRules(settings)) {
    // Compacted topics and topic-level compression.type only; the default path skips this.
    const applied = applyTopicRules(records, batches[0]!, settings, `${topic}-${partition}`);
    if ('code' in applied) {
      fail(res, applied.code, applied.message);
      res.recordErrors = applied.recordErrors;
      if (applied.recordErrors.length > 0) res.logStartOffset = BigInt(log.logStartOffset); // as Kafka's record errors
      return;
    }
    ({ records: data, batches } = applied);
  }

  try {
    pending.append = log
      .append(data, {
        origin: 'client',
        leaderEpoch: LEADER_EPOCH,
        logAppendTime: settings.logAppendTime ? now : undefined,
        batches,
      })
      .then((done) => {
        broker.waiters.notify(topic, partition);
        return done;
      });
    pending.sync = () => log.sync();
  } catch (err) {
    const code = err instanceof KafkaError ? err.code : ErrorCode.KAFKA_STORAGE_ERROR;
    fail(res, code, (err as Error).message);
  }
}
