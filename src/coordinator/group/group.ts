/**
 * A classic group's state (Kafka's ClassicGroup): members, static members, pending members,
 * protocol votes, the leader and the state machine with its legal transitions.
 */
import { ErrorCode, KafkaError } from '../../common/errors.ts';
import type { Clock } from '../../common/clock.ts';
import type { JoinGroupResponse, JoinGroupResponseMember } from '../../protocol/messages/join-group-response.generated.ts';
import type { SyncGroupResponse } from '../../protocol/messages/sync-group-response.generated.ts';
import { ClassicGroupMember, EMPTY_ASSIGNMENT, type Protocol } from './members.ts';
import { parseSubscribedTopics } from './subscription.ts';
import type { ClassicGroupState } from './types.ts';
import type { GroupMetadataValue } from './records.ts';

/** The states a group may come from when it enters each state (Kafka's validPreviousStates). */
const VALID_PREVIOUS: Record<ClassicGroupState, readonly ClassicGroupState[]> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
};

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

export class ClassicGroup {
  readonly groupId: string;
  readonly #clock: Clock;
  state: ClassicGroupState;
  previousState: ClassicGroupState | null = null;
  /** When the group entered its current state; null when unknown (old records). */
  currentStateTimestamp: number | null;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string | null;
  /** Insertion-ordered, as the leader re-election takes the first remaining member. */
  readonly members = new Map<string, ClassicGroupMember>();
  /** group.instance.id → member id */
  readonly staticMembers = new Map<string, string>();
  /** Members told MEMBER_ID_REQUIRED that have not joined with their id yet. */
  readonly pendingJoinMembers = new Set<string>();
  /** Members of the current generation that have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<string>();
  /** protocol name → number of members supporting it */
  readonly supportedProtocols = new Map<string, number>();
  numMembersAwaitingJoin = 0;
  /** During the initial rebalance delay: a member joined, so the delay may be extended. */
  newMemberAdded = false;
  /** Topics the members subscribe to (consumer protocol only); null when unknown. */
  subscribedTopics: Set<string> | null = null;

  constructor(
    groupId: string,
    clock: Clock,
    init?: {
      state: ClassicGroupState;
      generationId: number;
      protocolType: string | null;
      protocolName: string | null;
      leaderId: string | null;
      currentStateTimestamp: number | null;
    },
  ) {
    this.groupId = groupId;
    this.#clock = clock;
    this.state = init?.state ?? 'Empty';
    this.generationId = init?.generationId ?? 0;
    this.protocolType = init?.protocolType ?? null;
    this.protocolName = init?.protocolName ?? null;
    this.leaderId = init?.leaderId ?? null;
    this.currentStateTimestamp = init ? init.currentStateTimestamp : clock.now();
  }

  is(state: ClassicGroupState): boolean {
    return this.state === state;
  }

  transitionTo(target: ClassicGroupState): void {
    if (!VALID_PREVIOUS[target].includes(this.state)) {
      throw new Error(`group ${this.groupId}: illegal transition ${this.state} → ${target}`);
    }
    this.previousState = this.state;
    this.state = target;
    this.currentStateTimestamp = this.#clock.now();
  }

  /** PreparingRebalance may be entered from the current state. */
  canRebalance(): boolean {
    return VALID_PREVIOUS.PreparingRebalance.includes(this.state);
  }

  hasMember(memberId: string): boolean {
    return this.members.has(memberId);
  }

  member(memberId: string): ClassicGroupMember {
    const m = this.members.get(memberId);
    if (!m) throw new Error(`group ${this.groupId}: no member ${memberId}`);
    return m;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  staticMemberId(groupInstanceId: string): string | null {
    return this.staticMembers.get(groupInstanceId) ?? null;
  }

  isPendingMember(memberId: string): boolean {
    return this.pendingJoinMembers.has(memberId);
  }

  /** The longest rebalance timeout of the members (how long a rebalance waits). */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  hasAllMembersJoined(): boolean {
    return this.members.size === this.numMembersAwaitingJoin && this.pendingJoinMembers.size === 0;
  }

  notYetRejoinedMembers(): ClassicGroupMember[] {
    return [...this.members.values()].filter((m) => !m.isAwaitingJoin);
  }

  add(member: ClassicGroupMember, respond: ClassicGroupMember['awaitingJoin']): void {
    if (member.groupInstanceId !== null) {
      if (this.staticMembers.has(member.groupInstanceId)) {
        throw new Error(`static member ${member.groupInstanceId} already exists in group ${this.groupId}`);
      }
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    this.#countProtocols(member.protocols, 1);
    member.awaitingJoin = respond;
    if (member.isAwaitingJoin) this.numMembersAwaitingJoin++;
    this.pendingJoinMembers.delete(member.memberId);
  }

  /** Removes a member (or a pending member); a removed leader is replaced by the first member left. */
  remove(memberId: string): void {
    const removed = this.members.get(memberId);
    if (removed) {
      this.members.delete(memberId);
      this.#countProtocols(removed.protocols, -1);
      if (removed.isAwaitingJoin) this.numMembersAwaitingJoin--;
      if (removed.groupInstanceId !== null) this.staticMembers.delete(removed.groupInstanceId);
    }
    if (this.isLeader(memberId)) {
      const next = this.members.keys().next();
      this.leaderId = next.done ? null : next.value;
    }
    this.pendingJoinMembers.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
  }

  updateMember(
    member: ClassicGroupMember,
    protocols: Protocol[],
    rebalanceTimeoutMs: number,
    sessionTimeoutMs: number,
    respond: ClassicGroupMember['awaitingJoin'],
  ): void {
    this.#countProtocols(member.protocols, -1);
    member.protocols = protocols;
    this.#countProtocols(protocols, 1);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    if (respond !== null && !member.isAwaitingJoin) this.numMembersAwaitingJoin++;
    else if (respond === null && member.isAwaitingJoin) this.numMembersAwaitingJoin--;
    // As Kafka: a superseded JoinGroup continuation (a retry by the same member) is dropped.
    member.awaitingJoin = respond;
  }

  /**
   * Replaces a static member's id (a static member rejoined without its member id): the old
   * id is fenced — its parked JoinGroup/SyncGroup are answered FENCED_INSTANCE_ID.
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): ClassicGroupMember {
    const old = this.members.get(oldMemberId);
    if (!old) throw new Error(`group ${this.groupId}: cannot replace unknown static member ${oldMemberId}`);
    this.completeJoin(old, joinError(ErrorCode.FENCED_INSTANCE_ID, oldMemberId));
    this.completeSync(old, syncError(ErrorCode.FENCED_INSTANCE_ID));
    this.members.delete(oldMemberId);
    const fresh = new ClassicGroupMember({
      memberId: newMemberId,
      groupInstanceId: old.groupInstanceId,
      clientId: old.clientId,
      clientHost: old.clientHost,
      rebalanceTimeoutMs: old.rebalanceTimeoutMs,
      sessionTimeoutMs: old.sessionTimeoutMs,
      protocolType: old.protocolType,
      protocols: old.protocols,
      assignment: old.assignment,
    });
    this.members.set(newMemberId, fresh);
    if (this.isLeader(oldMemberId)) this.leaderId = newMemberId;
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    this.staticMembers.set(groupInstanceId, newMemberId);
    return fresh;
  }

  /** Answers a parked JoinGroup; false if the member had none. */
  completeJoin(member: ClassicGroupMember, response: JoinGroupResponse): boolean {
    const respond = member.awaitingJoin;
    if (!respond) return false;
    member.awaitingJoin = null;
    this.numMembersAwaitingJoin--;
    respond(response);
    return true;
  }

  /** Answers a parked SyncGroup; false if the member had none. */
  completeSync(member: ClassicGroupMember, response: SyncGroupResponse): boolean {
    const respond = member.awaitingSync;
    if (!respond) return false;
    member.awaitingSync = null;
    respond(response);
    return true;
  }

  /**
   * Kafka's validateMember: with a group.instance.id the instance must be known
   * (UNKNOWN_MEMBER_ID) and mapped to this member id (FENCED_INSTANCE_ID); otherwise the member
   * id must be known (UNKNOWN_MEMBER_ID).
   */
  validateMember(memberId: string, groupInstanceId: string | null): ErrorCode {
    if (groupInstanceId !== null) {
      const existing = this.staticMemberId(groupInstanceId);
      if (existing === null) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (existing !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
      return ErrorCode.NONE;
    }
    return this.hasMember(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  /** Whether a member with this protocol type and these protocols may join. */
  supportsProtocols(protocolType: string, protocols: readonly Protocol[]): boolean {
    if (this.is('Empty')) return protocolType !== '' && protocols.length > 0;
    return (
      this.protocolType === protocolType &&
      protocols.some((p) => (this.supportedProtocols.get(p.name) ?? 0) === this.members.size)
    );
  }

  /**
   * The protocol for the next generation: among the protocols every member supports, the one
   * with the most votes (each member votes for its most preferred candidate); ties go to the
   * candidate that comes first in the first member's preference order.
   */
  selectProtocol(): string {
    if (this.members.size === 0) throw new Error(`group ${this.groupId}: no members to select a protocol`);
    const candidates = new Set<string>();
    for (const [name, count] of this.supportedProtocols) if (count === this.members.size) candidates.add(name);
    if (candidates.size === 0) throw new KafkaError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const v = m.vote(candidates);
      votes.set(v, (votes.get(v) ?? 0) + 1);
    }
    const order = [...this.members.values()][0]!.protocols.map((p) => p.name).filter((n) => candidates.has(n));
    let best = order[0]!;
    for (const name of order) if ((votes.get(name) ?? 0) > (votes.get(best) ?? 0)) best = name;
    return best;
  }

  /**
   * When the leader has not rejoined, a member that has becomes leader. Returns false when no
   * member rejoined (or there is no leader).
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader?.isAwaitingJoin) return true;
    for (const m of this.members.values()) {
      if (m.isAwaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  initNextGeneration(): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('CompletingRebalance');
    } else {
      this.protocolName = null;
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('Empty');
    }
    this.pendingSyncMembers.clear();
  }

  /** Kafka's computeSubscribedTopics: known only for the consumer protocol type. */
  computeSubscribedTopics(): Set<string> | null {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE) return null;
    if (this.members.size === 0) return new Set();
    if (this.protocolName === null) return null;
    const all = new Set<string>();
    for (const m of this.members.values()) {
      const topics = parseSubscribedTopics(m.metadata(this.protocolName));
      if (topics === null) return null;
      for (const t of topics) all.add(t);
    }
    return all;
  }

  /** Unknown subscriptions of a consumer-protocol group count as subscribed to everything. */
  isSubscribedToTopic(topic: string): boolean {
    if (this.subscribedTopics === null) return this.protocolType === CONSUMER_PROTOCOL_TYPE;
    return this.subscribedTopics.has(topic);
  }

  /** The members as the leader sees them in its JoinGroup response. */
  currentMembersForLeader(): JoinGroupResponseMember[] {
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadata(this.protocolName),
    }));
  }

  groupAssignment(): Map<string, Buffer> {
    return new Map([...this.members.values()].map((m) => [m.memberId, m.assignment]));
  }

  /** The GroupMetadataValue that stores this group with the given assignment. */
  toRecordValue(assignment: ReadonlyMap<string, Buffer>): GroupMetadataValue {
    return {
      protocolType: this.protocolType ?? '',
      generation: this.generationId,
      protocol: this.protocolName,
      leader: this.leaderId,
      currentStateTimestamp: this.currentStateTimestamp ?? -1,
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: m.metadata(this.protocolName),
        assignment: assignment.get(m.memberId) ?? EMPTY_ASSIGNMENT,
      })),
    };
  }

  /** Rebuilds a group from its stored record (Kafka's replay of GroupMetadataValue). */
  static fromRecord(groupId: string, v: GroupMetadataValue, clock: Clock): ClassicGroup {
    const g = new ClassicGroup(groupId, clock, {
      state: v.members.length === 0 ? 'Empty' : 'Stable',
      generationId: v.generation,
      protocolType: v.protocolType === '' ? null : v.protocolType,
      protocolName: v.protocol,
      leaderId: v.leader,
      currentStateTimestamp: v.currentStateTimestamp === -1 ? null : v.currentStateTimestamp,
    });
    for (const m of v.members) {
      g.add(
        new ClassicGroupMember({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          rebalanceTimeoutMs: m.rebalanceTimeout === -1 ? m.sessionTimeout : m.rebalanceTimeout,
          sessionTimeoutMs: m.sessionTimeout,
          protocolType: v.protocolType,
          protocols: [{ name: v.protocol ?? '', metadata: m.subscription }],
          assignment: m.assignment,
        }),
        null,
      );
    }
    g.subscribedTopics = g.computeSubscribedTopics();
    return g;
  }

  #countProtocols(protocols: readonly Protocol[], delta: number): void {
    for (const p of protocols) {
      const n = (this.supportedProtocols.get(p.name) ?? 0) + delta;
      if (n === 0) this.supportedProtocols.delete(p.name);
      else this.supportedProtocols.set(p.name, n);
    }
  }
}

/** A JoinGroup response with Kafka's defaults. */
export function joinResponse(fields: Partial<JoinGroupResponse>): JoinGroupResponse {
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    skipAssignment: false,
    memberId: '',
    members: [],
    ...fields,
  };
}

export function joinError(errorCode: ErrorCode, memberId: string): JoinGroupResponse {
  return joinResponse({ errorCode, memberId });
}

export function syncResponse(fields: Partial<SyncGroupResponse>): SyncGroupResponse {
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, protocolType: null, protocolName: null, assignment: EMPTY_ASSIGNMENT, ...fields };
}

export function syncError(errorCode: ErrorCode): SyncGroupResponse {
  return syncResponse({ errorCode });
}
