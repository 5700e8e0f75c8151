/**
 * The rebalance engine shared by JoinGroup, SyncGroup, Heartbeat and LeaveGroup (the classic
 * paths of Kafka's GroupMetadataManager): the groups, their timers, and the steps a rebalance
 * goes through — prepare, complete the join phase, await the leader's assignment, expire
 * members. Every step returns a Result (see types.ts); steps fired by a timer hand theirs to
 * `emit`.
 */
import { ErrorCode } from '../../common/errors.ts';
import type { Clock } from '../../common/clock.ts';
import { ClassicGroup, joinError, joinResponse, syncResponse } from './group.ts';
import { EMPTY_ASSIGNMENT, type ClassicGroupMember } from './members.ts';
import type { GroupRecord } from './records.ts';
import { EMPTY_RESULT, appended, type GroupCoordinatorConfig, type Result } from './types.ts';

export class RebalanceEngine {
  readonly clock: Clock;
  readonly config: GroupCoordinatorConfig;
  readonly groups = new Map<string, ClassicGroup>();
  readonly #timers = new Map<string, () => void>();
  readonly #emit: (result: Result<void>) => void;
  readonly newUuid: () => string;

  constructor(clock: Clock, config: GroupCoordinatorConfig, emit: (r: Result<void>) => void, newUuid: () => string) {
    this.clock = clock;
    this.config = config;
    this.#emit = emit;
    this.newUuid = newUuid;
  }

  // ------------------------------------------------------------------ timers

  /** Schedules `fn` under `key`, replacing a timer with the same key. */
  schedule(key: string, ms: number, fn: () => Result<void>): void {
    this.cancel(key);
    const cancel = this.clock.setTimeout(() => {
      this.#timers.delete(key);
      const r = fn();
      if (r.records.length > 0) this.#emit(r);
      else r.complete(null);
    }, ms);
    this.#timers.set(key, cancel);
  }

  cancel(key: string): void {
    const c = this.#timers.get(key);
    if (c) {
      this.#timers.delete(key);
      c();
    }
  }

  hasTimer(key: string): boolean {
    return this.#timers.has(key);
  }

  /** Cancels every timer of a group (when it is removed). */
  cancelGroupTimers(groupId: string): void {
    for (const key of [...this.#timers.keys()]) {
      if (key === joinKey(groupId) || key === syncKey(groupId) || key.startsWith(`hb\u0000${groupId}\u0000`)) this.cancel(key);
    }
  }

  // ------------------------------------------------------------------ records

  groupRecord(group: ClassicGroup, assignment: ReadonlyMap<string, Buffer>): GroupRecord {
    return { type: 'group', groupId: group.groupId, value: group.toRecordValue(assignment) };
  }

  // ------------------------------------------------------------------ heartbeats

  rescheduleHeartbeat(group: ClassicGroup, member: ClassicGroupMember, timeoutMs = member.sessionTimeoutMs): void {
    const groupId = group.groupId;
    const memberId = member.memberId;
    this.schedule(heartbeatKey(groupId, memberId), timeoutMs, () => this.expireHeartbeat(groupId, memberId));
  }

  schedulePendingMemberExpiry(group: ClassicGroup, memberId: string, timeoutMs: number): void {
    const groupId = group.groupId;
    this.schedule(heartbeatKey(groupId, memberId), timeoutMs, () => this.expireHeartbeat(groupId, memberId));
  }

  cancelHeartbeat(group: ClassicGroup, memberId: string): void {
    this.cancel(heartbeatKey(group.groupId, memberId));
  }

  /** A member's session (or a pending member's join window) expired. */
  expireHeartbeat(groupId: string, memberId: string): Result<void> {
    const group = this.groups.get(groupId);
    if (!group || group.is('Dead')) return EMPTY_RESULT;
    if (group.isPendingMember(memberId)) return this.removePendingMemberAndUpdateGroup(group, memberId);
    const member = group.members.get(memberId);
    if (!member || member.hasSatisfiedHeartbeat()) return EMPTY_RESULT;
    return this.removeMemberAndUpdateGroup(group, member);
  }

  // ------------------------------------------------------------------ membership changes

  /** Removes a member that failed (session expiry): its parked JoinGroup gets UNKNOWN_MEMBER_ID. */
  removeMemberAndUpdateGroup(group: ClassicGroup, member: ClassicGroupMember): Result<void> {
    group.completeJoin(member, joinError(ErrorCode.UNKNOWN_MEMBER_ID, ''));
    group.remove(member.memberId);
    if (group.is('Stable') || group.is('CompletingRebalance')) return this.maybePrepareRebalanceOrCompleteJoin(group);
    if (group.is('PreparingRebalance') && group.hasAllMembersJoined()) return this.completeJoin(group);
    return EMPTY_RESULT;
  }

  /** A pending member (told MEMBER_ID_REQUIRED) expired: it no longer holds the join phase. */
  removePendingMemberAndUpdateGroup(group: ClassicGroup, memberId: string): Result<void> {
    group.remove(memberId);
    if (group.is('PreparingRebalance') && group.hasAllMembersJoined()) return this.completeJoin(group);
    return EMPTY_RESULT;
  }

  /** Removes a member that asked to leave (LeaveGroup); no rebalance decision here. */
  removeCurrentMember(group: ClassicGroup, memberId: string): void {
    const member = group.member(memberId);
    this.cancelHeartbeat(group, memberId);
    group.completeJoin(member, joinError(ErrorCode.UNKNOWN_MEMBER_ID, ''));
    group.remove(memberId);
  }

  // ------------------------------------------------------------------ rebalance steps

  maybePrepareRebalanceOrCompleteJoin(group: ClassicGroup): Result<void> {
    return group.canRebalance() ? this.prepareRebalance(group) : this.maybeCompleteJoinPhase(group);
  }

  prepareRebalance(group: ClassicGroup): Result<void> {
    // Members awaiting the assignment must rejoin.
    if (group.is('CompletingRebalance')) this.resetAndPropagateAssignmentWithError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.cancel(syncKey(group.groupId));
    const isInitialRebalance = group.is('Empty');
    if (isInitialRebalance) {
      // A new group: give the members time to join (group.initial.rebalance.delay.ms).
      const delayMs = this.config.initialRebalanceDelayMs;
      const remainingMs = Math.max(group.rebalanceTimeoutMs() - delayMs, 0);
      const groupId = group.groupId;
      this.schedule(joinKey(groupId), delayMs, () => this.tryCompleteInitialRebalanceElseSchedule(groupId, delayMs, remainingMs));
    }
    group.transitionTo('PreparingRebalance');
    return isInitialRebalance ? EMPTY_RESULT : this.maybeCompleteJoinElseSchedule(group);
  }

  maybeCompleteJoinElseSchedule(group: ClassicGroup): Result<void> {
    if (group.hasAllMembersJoined()) return this.completeJoin(group);
    const groupId = group.groupId;
    this.schedule(joinKey(groupId), group.rebalanceTimeoutMs(), () => this.completeJoinById(groupId));
    return EMPTY_RESULT;
  }

  /** Completes the join phase when everyone joined — but never during the initial delay. */
  maybeCompleteJoinPhase(group: ClassicGroup): Result<void> {
    if (group.is('PreparingRebalance') && group.hasAllMembersJoined() && group.previousState !== 'Empty') {
      return this.completeJoin(group);
    }
    return EMPTY_RESULT;
  }

  tryCompleteInitialRebalanceElseSchedule(groupId: string, delayMs: number, remainingMs: number): Result<void> {
    const group = this.groups.get(groupId);
    if (!group || !group.is('PreparingRebalance')) return EMPTY_RESULT;
    if (group.newMemberAdded && remainingMs !== 0) {
      // A member joined during the delay: wait again, within the rebalance timeout.
      group.newMemberAdded = false;
      const newDelayMs = Math.min(this.config.initialRebalanceDelayMs, remainingMs);
      const newRemainingMs = Math.max(remainingMs - delayMs, 0);
      this.schedule(joinKey(groupId), newDelayMs, () =>
        this.tryCompleteInitialRebalanceElseSchedule(groupId, newDelayMs, newRemainingMs),
      );
      return EMPTY_RESULT;
    }
    return this.completeJoin(group);
  }

  completeJoinById(groupId: string): Result<void> {
    const group = this.groups.get(groupId);
    if (!group || !group.is('PreparingRebalance')) return EMPTY_RESULT;
    return this.completeJoin(group);
  }

  /**
   * Ends the join phase: dynamic members that did not rejoin are removed, a leader that did not
   * rejoin is replaced, the next generation starts, and every joined member is answered (the
   * leader with the member list).
   */
  completeJoin(group: ClassicGroup): Result<void> {
    this.cancel(joinKey(group.groupId));
    for (const m of group.notYetRejoinedMembers()) {
      if (m.isStatic) continue;
      group.remove(m.memberId);
      this.cancelHeartbeat(group, m.memberId);
    }
    if (group.is('Dead')) return EMPTY_RESULT;
    if (!group.maybeElectNewJoinedLeader() && group.members.size > 0) {
      // Only static members that have not rejoined are left: wait for them (or their session expiry).
      const groupId = group.groupId;
      this.schedule(joinKey(groupId), group.rebalanceTimeoutMs(), () => this.completeJoinById(groupId));
      return EMPTY_RESULT;
    }
    group.initNextGeneration();
    if (group.is('Empty')) {
      const record = this.groupRecord(group, new Map());
      return appended([record], () => undefined);
    }
    for (const m of group.members.values()) {
      const response = joinResponse({
        members: group.isLeader(m.memberId) ? group.currentMembersForLeader() : [],
        memberId: m.memberId,
        generationId: group.generationId,
        protocolName: group.protocolName,
        protocolType: group.protocolType,
        leader: group.leaderId ?? '',
        skipAssignment: false,
      });
      group.completeJoin(m, response);
      this.rescheduleHeartbeat(group, m);
      m.isNew = false;
      group.pendingSyncMembers.add(m.memberId);
    }
    this.schedulePendingSync(group);
    return EMPTY_RESULT;
  }

  schedulePendingSync(group: ClassicGroup): void {
    const groupId = group.groupId;
    const generationId = group.generationId;
    this.schedule(syncKey(groupId), group.rebalanceTimeoutMs(), () => this.expirePendingSync(groupId, generationId));
  }

  /** Members that never sent SyncGroup within the rebalance timeout are removed. */
  expirePendingSync(groupId: string, generationId: number): Result<void> {
    const group = this.groups.get(groupId);
    if (!group || group.generationId !== generationId) return EMPTY_RESULT;
    if (!group.is('CompletingRebalance') && !group.is('Stable')) return EMPTY_RESULT;
    if (group.pendingSyncMembers.size === 0) return EMPTY_RESULT;
    for (const memberId of [...group.pendingSyncMembers]) {
      group.remove(memberId);
      this.cancelHeartbeat(group, memberId);
    }
    return this.prepareRebalance(group);
  }

  removePendingSyncMember(group: ClassicGroup, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    if (group.pendingSyncMembers.size === 0) this.cancel(syncKey(group.groupId));
  }

  resetAndPropagateAssignmentWithError(group: ClassicGroup, error: ErrorCode): void {
    for (const m of group.members.values()) m.assignment = EMPTY_ASSIGNMENT;
    this.propagateAssignment(group, error);
  }

  setAndPropagateAssignment(group: ClassicGroup, assignment: ReadonlyMap<string, Buffer>): void {
    for (const m of group.members.values()) m.assignment = assignment.get(m.memberId) ?? EMPTY_ASSIGNMENT;
    this.propagateAssignment(group, ErrorCode.NONE);
  }

  /** Answers every parked SyncGroup; the session timer restarts for each answered member. */
  propagateAssignment(group: ClassicGroup, error: ErrorCode): void {
    const ok = error === ErrorCode.NONE;
    for (const m of group.members.values()) {
      const answered = group.completeSync(
        m,
        syncResponse({
          errorCode: error,
          protocolType: ok ? group.protocolType : null,
          protocolName: ok ? group.protocolName : null,
          assignment: m.assignment,
        }),
      );
      if (answered) this.rescheduleHeartbeat(group, m);
    }
  }
}

export function heartbeatKey(groupId: string, memberId: string): string {
  return `hb\u0000${groupId}\u0000${memberId}`;
}

export function joinKey(groupId: string): string {
  return `join\u0000${groupId}`;
}

export function syncKey(groupId: string): string {
  return `sync\u0000${groupId}`;
}
