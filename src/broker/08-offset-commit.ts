/**
 * OffsetCommit (key 8). Partitions of unknown topics are answered UNKNOWN_TOPIC_OR_PARTITION
 * here, as Kafka checks them before the coordinator; the rest go to the coordinator and are
 * answered once the commit is durable. The response lists partitions in request order.
 *
 * For a KIP-848 consumer group the consumer coordinator checks the member and its epoch
 * (STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID); the offsets then go to the shared offsets store.
 */
import { ErrorCode } from '../common/errors.ts';
import { OffsetCommitRequest } from '../protocol/messages/offset-commit-request.generated.ts';
import { OffsetCommitResponse } from '../protocol/messages/offset-commit-response.generated.ts';
import { validateOffsetCommit } from '../coordinator/consumer/index.ts';
import { defineApi } from './api.ts';
import { partitionKey } from './partition-waiters.ts';
import { coordinatorContext, groupsReady, knownPartitions } from './group-context.ts';

export const offsetCommit = defineApi({
  request: OffsetCommitRequest,
  response: OffsetCommitResponse,
  minVersion: 2,
  maxVersion: 9,
  async handle(req, ctx) {
    const groups = await groupsReady(ctx);
    const consumerCheck = validateOffsetCommit(groups.consumer, req.groupId, req.memberId, req.generationIdOrMemberEpoch, ctx.apiVersion);
    const codes = new Map<string, number>();
    const known = knownPartitions(ctx, req.topics, codes);
    const res = OffsetCommitResponse.default();
    if (consumerCheck !== null && consumerCheck !== ErrorCode.NONE) {
      for (const t of known) for (const p of t.partitions) codes.set(partitionKey(t.name, p.partitionIndex), consumerCheck);
    } else if (known.length > 0) {
      const trusted = consumerCheck === ErrorCode.NONE;
      const answered = await groups.apply(groups.coordinator.offsetCommit(coordinatorContext(ctx), { ...req, topics: known }, trusted));
      res.throttleTimeMs = answered.throttleTimeMs;
      for (const t of answered.topics) for (const p of t.partitions) codes.set(partitionKey(t.name, p.partitionIndex), p.errorCode);
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
