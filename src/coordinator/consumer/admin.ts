/**
 * Read-side and offset-related operations on consumer groups: ConsumerGroupDescribe, the
 * member-epoch checks the shared OffsetCommit/OffsetFetch path calls, ListGroups entries and
 * DeleteGroups. Follows Kafka 4's ConsumerGroup.validateOffsetCommit/validateOffsetFetch and
 * GroupMetadataManager.consumerGroupDescribe.
 */
import { ErrorCode } from '../../common/errors.ts';
import type { DescribedGroup, Assignment as DescribeAssignment } from '../../protocol/messages/consumer-group-describe-response.generated.ts';
import { toTopicPartitions, type Assignment } from './assignment.ts';
import type { ConsumerGroupCoordinator, Result } from './index.ts';
import { groupStateName, groupTombstones, removeMemberRecords, replayRecord, type ConsumerGroupState } from './group.ts';
import type { ConsumerGroupRecord } from './records.ts';

/** Kafka leaves authorizedOperations at this value when they are not requested. */
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

function describeAssignment(g: ConsumerGroupState, a: Assignment): DescribeAssignment {
  const names = new Map(g.subscriptionMetadata.map((t) => [t.topicId, t.topicName]));
  return {
    topicPartitions: toTopicPartitions(a)
      .filter((tp) => names.has(tp.topicId)) // Kafka skips topics it no longer knows
      .map((tp) => ({ topicId: tp.topicId, topicName: names.get(tp.topicId)!, partitions: tp.partitions })),
  };
}

/**
 * ConsumerGroupDescribe for each id: GROUP_ID_NOT_FOUND for unknown groups (the service should
 * answer "Group X is not a consumer group." itself for a classic group of that id).
 */
export function describeConsumerGroups(c: ConsumerGroupCoordinator, groupIds: readonly string[]): DescribedGroup[] {
  return groupIds.map((groupId): DescribedGroup => {
    const g = c.groups.get(groupId);
    if (!g) {
      return {
        errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} not found.`, groupId, groupState: '',
        groupEpoch: 0, assignmentEpoch: 0, assignorName: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId,
      groupState: groupStateName(g),
      groupEpoch: g.groupEpoch,
      assignmentEpoch: g.assignmentEpoch,
      assignorName: c.preferredAssignor(g).name,
      members: [...g.members.keys()].sort().map((id) => {
        const m = g.members.get(id)!;
        return {
          memberId: m.memberId,
          instanceId: m.instanceId,
          rackId: m.rackId,
          memberEpoch: m.memberEpoch,
          clientId: m.clientId,
          clientHost: m.clientHost,
          subscribedTopicNames: [...m.subscribedTopicNames],
          subscribedTopicRegex: m.subscribedTopicRegex,
          assignment: describeAssignment(g, m.assigned),
          targetAssignment: describeAssignment(g, g.targetAssignment.get(id) ?? {}),
        };
      }),
      authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    };
  });
}

/**
 * The OffsetCommit check for a consumer group (Kafka's ConsumerGroup.validateOffsetCommit):
 * `null` if `groupId` is not a consumer group (the classic path decides), else the error
 * (NONE to accept). An epoch < 0 is accepted for an empty group (admin / simple commits);
 * otherwise UNKNOWN_MEMBER_ID, UNSUPPORTED_VERSION below OffsetCommit v9 (non-transactional),
 * STALE_MEMBER_EPOCH when the epoch is not the member's current one.
 */
export function validateOffsetCommit(
  c: ConsumerGroupCoordinator,
  groupId: string,
  memberId: string,
  memberEpoch: number,
  apiVersion: number,
  isTransactional = false,
): ErrorCode | null {
  const g = c.groups.get(groupId);
  if (!g) return null;
  if (memberEpoch < 0 && g.members.size === 0) return ErrorCode.NONE;
  const m = g.members.get(memberId);
  if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (!isTransactional && apiVersion < 9) return ErrorCode.UNSUPPORTED_VERSION;
  return memberEpoch === m.memberEpoch ? ErrorCode.NONE : ErrorCode.STALE_MEMBER_EPOCH;
}

/**
 * The OffsetFetch check (Kafka's validateOffsetFetch; OffsetFetch v9+ carries memberId and
 * memberEpoch): `null` if not a consumer group; NONE when no member is given (memberId null,
 * epoch < 0: admin clients); else UNKNOWN_MEMBER_ID or STALE_MEMBER_EPOCH.
 */
export function validateOffsetFetch(c: ConsumerGroupCoordinator, groupId: string, memberId: string | null, memberEpoch: number): ErrorCode | null {
  const g = c.groups.get(groupId);
  if (!g) return null;
  if (memberId === null && memberEpoch < 0) return ErrorCode.NONE;
  const m = memberId === null ? undefined : g.members.get(memberId);
  if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
  return memberEpoch === m.memberEpoch ? ErrorCode.NONE : ErrorCode.STALE_MEMBER_EPOCH;
}

/** Topics some member subscribes to (OffsetDelete's GROUP_SUBSCRIBED_TO_TOPIC). */
export function subscribedTopics(c: ConsumerGroupCoordinator, groupId: string): Set<string> {
  const out = new Set<string>();
  for (const m of c.groups.get(groupId)?.members.values() ?? []) for (const t of m.subscribedTopicNames) out.add(t);
  return out;
}

/** ListGroups entries: protocolType "consumer", type "consumer", Kafka's state names. */
export function listConsumerGroups(c: ConsumerGroupCoordinator): { groupId: string; protocolType: string; groupState: string; groupType: string }[] {
  return c.groupIds().map((groupId) => ({ groupId, protocolType: 'consumer', groupState: c.groupState(groupId), groupType: 'consumer' }));
}

/**
 * DeleteGroups for a consumer group: `null` if unknown here; NON_EMPTY_GROUP with members;
 * else the tombstones (group removed at once, restored if the append fails). The service adds
 * the offsets' tombstones (offsets live in the classic coordinator's store).
 */
export function deleteConsumerGroup(c: ConsumerGroupCoordinator, groupId: string): Result<ErrorCode> | null {
  const g = c.groups.get(groupId);
  if (!g) return null;
  if (g.members.size > 0) return { records: [], complete: () => ErrorCode.NON_EMPTY_GROUP };
  const snapshot = structuredClone(g);
  const records: ConsumerGroupRecord[] = [];
  for (const memberId of g.targetAssignment.keys()) records.push(...removeMemberRecords(groupId, memberId).slice(1, 2));
  records.push(...groupTombstones(groupId));
  for (const r of records) replayRecord(c.groups, r);
  c.groups.delete(groupId);
  let done = false;
  return {
    records,
    complete(err) {
      if (done) throw new Error('Result completed twice');
      done = true;
      if (err === null) return ErrorCode.NONE;
      c.groups.set(groupId, snapshot);
      return err;
    },
  };
}
