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
 * Not done: Kafka (transaction.partition.verification.enable) first asks the transaction
 * coordinator whether the transaction contains the group's `__consumer_offsets` partition
 * (AddOffsetsToTxn); here the log only checks the producer epoch on append.
 */
import { ErrorCode } from '../common/errors.ts';
import { TxnOffsetCommitRequest } from '../protocol/messages/txn-offset-commit-request.generated.ts';
import { TxnOffsetCommitResponse } from '../protocol/messages/txn-offset-commit-response.generated.ts';
import { validateOffsetCommit } from '../coordinator/consumer/index.ts';
import { defineApi } from './api.ts';
import { partitionKey } from './partition-waiters.ts';
import { coordinatorContext, groupsReady } from './group-context.ts';

export const txnOffsetCommit = defineApi({
  request: TxnOffsetCommitRequest,
  response: TxnOffsetCommitResponse,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, ctx) {
    const groups = await groupsReady(ctx);
    const codes = new Map<string, number>();
    const known = req.topics
      .map((t) => {
        const topic = ctx.broker.topics.get(t.name);
        const partitions = t.partitions.filter((p) => {
          const exists = topic !== undefined && p.partitionIndex >= 0 && p.partitionIndex < topic.partitions;
          if (!exists) codes.set(partitionKey(t.name, p.partitionIndex), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          return exists;
        });
        return { ...t, partitions };
      })
      .filter((t) => t.partitions.length > 0);
    const res = TxnOffsetCommitResponse.default();
    if (known.length > 0) {
      let consumerCheck =
        req.groupId === '' ? null : validateOffsetCommit(groups.consumer, req.groupId, req.memberId, req.generationId, ctx.apiVersion, true);
      if (consumerCheck === ErrorCode.STALE_MEMBER_EPOCH) consumerCheck = ErrorCode.ILLEGAL_GENERATION;
      if (consumerCheck !== null && consumerCheck !== ErrorCode.NONE) {
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
