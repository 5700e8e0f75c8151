/**
 * The durable state of a KIP-848 consumer group and `replay`, the only way it changes
 * (DESIGN.md §5). Plain data (no classes) so a group can be cloned with structuredClone for
 * the revert on a failed append, and compared in tests.
 */
import { normalize, type Assignment } from './assignment.ts';
import { MemberState, type ConsumerGroupRecord, type MemberMetadataValue, type MemberStateValue, type TopicMetadata } from './records.ts';

/** A member: its stored metadata (MemberMetadataValue) plus its epochs and assignment. */
export interface ConsumerMember extends MemberMetadataValue {
  memberId: string;
  memberEpoch: number;
  previousMemberEpoch: number;
  state: MemberStateValue;
  /** Partitions assigned to (owned by) the member. */
  assigned: Assignment;
  /** Partitions the member must revoke; still owned by it until it acknowledges. */
  pendingRevocation: Assignment;
}

export interface ConsumerGroupState {
  groupId: string;
  groupEpoch: number;
  assignmentEpoch: number;
  /** The subscribed topics that exist, sorted by name (ConsumerGroupPartitionMetadata). */
  subscriptionMetadata: TopicMetadata[];
  members: Map<string, ConsumerMember>;
  /** memberId → target assignment. */
  targetAssignment: Map<string, Assignment>;
}

export const GROUP_STATES = ['Empty', 'Assigning', 'Reconciling', 'Stable', 'Dead'] as const;
export type ConsumerGroupStateName = (typeof GROUP_STATES)[number];

export function newGroup(groupId: string): ConsumerGroupState {
  return { groupId, groupEpoch: 0, assignmentEpoch: 0, subscriptionMetadata: [], members: new Map(), targetAssignment: new Map() };
}

export function newMember(memberId: string): ConsumerMember {
  return {
    memberId,
    instanceId: null,
    rackId: null,
    clientId: '',
    clientHost: '',
    subscribedTopicNames: [],
    subscribedTopicRegex: null,
    rebalanceTimeoutMs: -1,
    serverAssignor: null,
    memberEpoch: 0,
    previousMemberEpoch: -1,
    state: MemberState.STABLE,
    assigned: {},
    pendingRevocation: {},
  };
}

/** Kafka's ConsumerGroup.state(): Empty, Assigning, Reconciling or Stable. */
export function groupStateName(g: ConsumerGroupState): ConsumerGroupStateName {
  if (g.members.size === 0) return 'Empty';
  if (g.groupEpoch > g.assignmentEpoch) return 'Assigning';
  for (const m of g.members.values()) {
    if (m.memberEpoch !== g.assignmentEpoch || m.state !== MemberState.STABLE) return 'Reconciling';
  }
  return 'Stable';
}

export function staticMember(g: ConsumerGroupState, instanceId: string): ConsumerMember | undefined {
  for (const m of g.members.values()) if (m.instanceId === instanceId) return m;
  return undefined;
}

/** "topicId:partition" → the member that owns it (assigned or pending revocation). */
export function partitionOwners(g: ConsumerGroupState): Map<string, string> {
  const owners = new Map<string, string>();
  for (const m of g.members.values()) {
    for (const a of [m.assigned, m.pendingRevocation]) {
      for (const t of Object.keys(a)) for (const p of a[t]!) owners.set(`${t}:${p}`, m.memberId);
    }
  }
  return owners;
}

/**
 * Applies one record to the groups (Kafka's GroupMetadataManager.replay for consumer groups).
 * Any record creates its group; the ConsumerGroupMetadata tombstone deletes it.
 */
export function replayRecord(groups: Map<string, ConsumerGroupState>, r: ConsumerGroupRecord): void {
  let g = groups.get(r.groupId);
  if (!g) {
    if (r.value === null) return; // a tombstone for a group we do not know: nothing to do
    g = newGroup(r.groupId);
    groups.set(r.groupId, g);
  }
  switch (r.type) {
    case 'cg-metadata':
      if (r.value === null) groups.delete(r.groupId);
      else g.groupEpoch = r.value.epoch;
      return;
    case 'cg-partition-metadata':
      g.subscriptionMetadata = r.value === null ? [] : [...r.value.topics].sort((a, b) => (a.topicName < b.topicName ? -1 : a.topicName > b.topicName ? 1 : 0));
      return;
    case 'cg-target-metadata':
      g.assignmentEpoch = r.value === null ? 0 : r.value.assignmentEpoch;
      return;
    case 'cg-target-member':
      if (r.value === null) g.targetAssignment.delete(r.memberId);
      else g.targetAssignment.set(r.memberId, normalize(r.value.assignment));
      return;
    case 'cg-member': {
      if (r.value === null) {
        g.members.delete(r.memberId);
        return;
      }
      const m = g.members.get(r.memberId) ?? newMember(r.memberId);
      Object.assign(m, { ...r.value, subscribedTopicNames: [...r.value.subscribedTopicNames] });
      g.members.set(r.memberId, m);
      return;
    }
    case 'cg-current-assignment': {
      if (r.value === null && !g.members.has(r.memberId)) return; // Kafka ignores it
      const m = g.members.get(r.memberId) ?? newMember(r.memberId);
      g.members.set(r.memberId, m);
      if (r.value === null) {
        // Kafka: the member leaves its epoch and owns nothing; its metadata tombstone follows.
        m.memberEpoch = -1;
        m.previousMemberEpoch = -1;
        m.state = MemberState.STABLE;
        m.assigned = {};
        m.pendingRevocation = {};
      } else {
        m.memberEpoch = r.value.memberEpoch;
        m.previousMemberEpoch = r.value.previousMemberEpoch;
        m.state = r.value.state;
        m.assigned = normalize(r.value.assigned);
        m.pendingRevocation = normalize(r.value.pendingRevocation);
      }
      return;
    }
  }
}

// ---- record builders ---------------------------------------------------------------------

export function memberMetadataRecord(groupId: string, m: ConsumerMember): ConsumerGroupRecord {
  return {
    type: 'cg-member',
    groupId,
    memberId: m.memberId,
    value: {
      instanceId: m.instanceId,
      rackId: m.rackId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      subscribedTopicNames: [...m.subscribedTopicNames],
      subscribedTopicRegex: m.subscribedTopicRegex,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      serverAssignor: m.serverAssignor,
    },
  };
}

export function currentAssignmentRecord(groupId: string, m: ConsumerMember): ConsumerGroupRecord {
  return {
    type: 'cg-current-assignment',
    groupId,
    memberId: m.memberId,
    value: {
      memberEpoch: m.memberEpoch,
      previousMemberEpoch: m.previousMemberEpoch,
      state: m.state,
      assigned: normalize(m.assigned),
      pendingRevocation: normalize(m.pendingRevocation),
    },
  };
}

/** Kafka's removeMember: current assignment, target assignment and member tombstones. */
export function removeMemberRecords(groupId: string, memberId: string): ConsumerGroupRecord[] {
  return [
    { type: 'cg-current-assignment', groupId, memberId, value: null },
    { type: 'cg-target-member', groupId, memberId, value: null },
    { type: 'cg-member', groupId, memberId, value: null },
  ];
}

/** Tombstones deleting an empty group (Kafka's createGroupTombstoneRecords). */
export function groupTombstones(groupId: string): ConsumerGroupRecord[] {
  return [
    { type: 'cg-target-metadata', groupId, value: null },
    { type: 'cg-partition-metadata', groupId, value: null },
    { type: 'cg-metadata', groupId, value: null },
  ];
}
