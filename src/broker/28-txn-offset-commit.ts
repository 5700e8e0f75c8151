/**
 * TxnOffsetCommit (key 28), v0-4: a transactional producer commits a consumer group's offsets
 * as part of its transaction. As Kafka's handleTxnOffsetCommitRequest, partitions of unknown
 * topics (or beyond a topic's partition count) are answered UNKNOWN_TOPIC_OR_PARTITION here;
 * the rest go to the group coordinator, which writes them to `__consumer_offsets` in a
 * transactional batch of the request's producer (id, epoch, base sequence -1). They stay
 * pending — invisible to OffsetFetch, UNSTABLE_OFFSET_COMMIT with require_stable — until the
 * transaction's marker reaches the group's `__consumer_offsets` partition
 * (GroupService.completeTransaction). The response lists partitions in request order.
 *
 * Groups: classic groups (member / instance / generation checks from v3), simple groups
 * (generation -1: an unknown group is created as Kafka does), and KIP-848 consumer groups,
 * whose member and epoch the consumer coordinator checks (a stale epoch is ILLEGAL_GENERATION,
 * as Kafka's validateTransactionalOffsetCommit).
 *
 * Verification (Kafka's transaction.partition.verification.enable, on by default): the
 * transaction of this producer id and epoch must be ongoing and contain the group's
 * `__consumer_offsets` partition (AddOffsetsToTxn) — so no offsets stay pending that no marker
 * would ever complete. Errors as Kafka 4.3 (probed):
 * unknown transactional id / other producer id INVALID_PRODUCER_ID_MAPPING, other epoch
 * INVALID_PRODUCER_EPOCH, no AddOffsetsToTxn INVALID_TXN_STATE (v4: TRANSACTION_ABORTABLE).
 * The log then checks the producer epoch of the batch on append. The check and the append are
 * issued in the same turn of the event loop, and the coordinator leaves Ongoing only once
 * PrepareCommit/PrepareAbort is durable (the markers come after that): so offsets accepted here
 * always precede the transaction's marker in the log, even when EndTxn races this request
 * (Kafka guards the same with its verification guard in the log).
 */
import { ErrorCode } from '../common/errors.ts';
import { TxnOffsetCommitRequest } from '../protocol/messages/txn-offset-commit-request.generated.ts';
import { TxnOffsetCommitResponse } from '../protocol/messages/txn-offset-commit-response.generated.ts';
import { validateOffsetCommit } from '../coordinator/consumer/index.ts';
import { defineApi } from './api.ts';
import { partitionKey } from './partition-waiters.ts';
import { coordinatorContext, groupsReady, knownPartitions } from './group-context.ts';
import { OFFSETS_TOPIC } from './group-service.ts';
import { partitionFor } from '../coordinator/group/partition-for.ts';
import type { Broker } from './broker.ts';

/**
 * Kafka's verification of a transactional write (the transaction must be ongoing with the
 * group's `__consumer_offsets` partition), with the errors Kafka 4.3 answers: an unknown
 * transactional id or another producer id INVALID_PRODUCER_ID_MAPPING, another epoch (a
 * zombie) INVALID_PRODUCER_EPOCH, a transaction being completed (PrepareCommit/PrepareAbort)
 * CONCURRENT_TRANSACTIONS, the partition not in the transaction INVALID_TXN_STATE (v4:
 * TRANSACTION_ABORTABLE).
 */
function verifyTransaction(broker: Broker, req: TxnOffsetCommitRequest, offsetsPartition: number, apiVersion: number): ErrorCode {
  const code = broker.transactions.verifyPartition(req.transactionalId, Number(req.producerId), req.producerEpoch, OFFSETS_TOPIC, offsetsPartition);
  switch (code) {
    case ErrorCode.PRODUCER_FENCED:
      return ErrorCode.INVALID_PRODUCER_EPOCH;
    case ErrorCode.INVALID_REQUEST:
      return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    case ErrorCode.TRANSACTION_ABORTABLE:
      return apiVersion >= 4 ? ErrorCode.TRANSACTION_ABORTABLE : ErrorCode.INVALID_TXN_STATE;
    default:
      return code;
  }
}

export const txnOffsetCommit = defineApi({
  request: TxnOffsetCommitRequest,
  response: TxnOffsetCommitResponse,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, ctx) {
    const groups = await groupsReady(ctx);
    const codes = new Map<string, number>();
    const known = knownPartitions(ctx, req.topics, codes);
    const res = TxnOffsetCommitResponse.default();
    if (known.length > 0) {
      let consumerCheck =
        req.groupId === '' ? null : validateOffsetCommit(groups.consumer, req.groupId, req.memberId, req.generationId, ctx.apiVersion, true);
      if (consumerCheck === ErrorCode.STALE_MEMBER_EPOCH) consumerCheck = ErrorCode.ILLEGAL_GENERATION;
      const unverified = req.groupId === '' ? ErrorCode.NONE : verifyTransaction(ctx.broker, req, partitionFor(req.groupId, groups.numPartitions), ctx.apiVersion);
      if (unverified !== ErrorCode.NONE) {
        for (const t of known) for (const p of t.partitions) codes.set(partitionKey(t.name, p.partitionIndex), unverified);
      } else if (consumerCheck !== null && consumerCheck !== ErrorCode.NONE) {
        for (const t of known) for (const p of t.partitions) codes.set(partitionKey(t.name, p.partitionIndex), consumerCheck);
      } else {
        const trusted = consumerCheck === ErrorCode.NONE;
        const answered = await groups.apply(groups.coordinator.txnOffsetCommit(coordinatorContext(ctx), { ...req, topics: known }, trusted));
        for (const t of answered.topics) for (const p of t.partitions) codes.set(partitionKey(t.name, p.partitionIndex), p.errorCode);
      }
    }
    res.topics = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: codes.get(partitionKey(t.name, p.partitionIndex)) ?? ErrorCode.UNKNOWN_SERVER_ERROR,
      })),
    }));
    return res;
  },
});
