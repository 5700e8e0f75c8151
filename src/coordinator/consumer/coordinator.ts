/**
 * The KIP-848 consumer-group coordinator: ConsumerGroupHeartbeat as a deterministic state
 * machine, following Kafka 4's GroupMetadataManager.consumerGroupHeartbeat. See README.md.
 *
 * Every state change goes through `replay` (records are applied as they are produced, as
 * Kafka's runtime does); a failed append restores the group as it was before the operation.
 */
import type { Clock } from '../../common/clock.ts';
import { ErrorCode } from '../../common/errors.ts';
import { randomUuid } from '../../protocol/primitives/uuid.ts';
import type {
  ConsumerGroupHeartbeatRequest,
  TopicPartitions as RequestTopicPartitions,
} from '../../protocol/messages/consumer-group-heartbeat-request.generated.ts';
import type { ConsumerGroupHeartbeatResponse } from '../../protocol/messages/consumer-group-heartbeat-response.generated.ts';
import { appendErrorToResponseError } from '../group/types.ts';
import { equalAssignments, toTopicPartitions, type Assignment } from './assignment.ts';
import { DEFAULT_ASSIGNORS, type Assignor } from './assignors.ts';
import {
  currentAssignmentRecord,
  groupStateName,
  memberMetadataRecord,
  newGroup,
  newMember,
  partitionOwners,
  removeMemberRecords,
  replayRecord,
  staticMember,
  type ConsumerGroupState,
  type ConsumerGroupStateName,
  type ConsumerMember,
} from './group.ts';
import { FencedByUnknownState, isReconciledTo, reconcile } from './reconcile.ts';
import { MemberState, type ConsumerGroupRecord, type TopicMetadata } from './records.ts';
import {
  CONSUMER_GENERATED_MEMBER_ID_REQUIRED_VERSION,
  DEFAULT_CONSUMER_CONFIG,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  type ConsumerCoordinatorConfig,
  type RequestContext,
  type Result,
  type TopicLookup,
} from './types.ts';

/** A Kafka error raised inside an operation; turned into the response at the API boundary. */
export class ApiError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

export interface ConsumerCoordinatorOptions {
  clock: Clock;
  /** Topic name → id and partition count (the metadata layer). */
  metadata: TopicLookup;
  config?: Partial<ConsumerCoordinatorConfig>;
  /** Assignors by name; the first is the default. Defaults to uniform, range. */
  assignors?: readonly Assignor[];
  /** Receives what timers produce (session and rebalance timeouts fence members). */
  onTimerResult?: (r: Result<void>) => void;
  /**
   * Every topic name a regex subscription may match (the service passes the topics the
   * clients may see; Kafka also filters by DESCRIBE authorization). Without it, regexes match
   * nothing.
   */
  listTopics?: () => Iterable<string>;
  /** Member ids generated for ConsumerGroupHeartbeat v0 (Kafka: Uuid.randomUuid()). */
  newUuid?: () => string;
}

type HeartbeatResponse = ConsumerGroupHeartbeatResponse;

/** Kafka's INVALID_REGULAR_EXPRESSION (128); not in src/common/errors.ts yet. */
export const INVALID_REGULAR_EXPRESSION = 128;

export function errorResponse(code: number, message: string | null): HeartbeatResponse {
  return { throttleTimeMs: 0, errorCode: code, errorMessage: message, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
}

export class ConsumerGroupCoordinator {
  readonly config: ConsumerCoordinatorConfig;
  readonly assignors: readonly Assignor[];
  readonly groups = new Map<string, ConsumerGroupState>();
  #clock: Clock;
  #metadata: TopicLookup;
  #onTimerResult: (r: Result<void>) => void;
  #newUuid: () => string;
  #timers = new Map<string, () => void>();
  #listTopics: () => Iterable<string>;
  #regexes = new Map<string, RegExp>();

  constructor(options: ConsumerCoordinatorOptions) {
    this.#clock = options.clock;
    this.#metadata = options.metadata;
    this.config = { ...DEFAULT_CONSUMER_CONFIG, ...options.config };
    this.assignors = options.assignors ?? DEFAULT_ASSIGNORS;
    if (this.assignors.length === 0) throw new Error('at least one assignor is required');
    this.#onTimerResult = options.onTimerResult ?? ((r) => void r.complete(null));
    this.#newUuid = options.newUuid ?? randomUuid;
    this.#listTopics = options.listTopics ?? (() => []);
  }

  // ---- ConsumerGroupHeartbeat ------------------------------------------------------------

  heartbeat(ctx: RequestContext, req: ConsumerGroupHeartbeatRequest): Result<HeartbeatResponse> {
    try {
      this.#validate(ctx, req);
    } catch (e) {
      return immediate(this.#toError(e));
    }
    return this.#transact(req.groupId, (emit) => {
      if (req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH || req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
        return this.#leave(req, emit);
      }
      return this.#heartbeat(ctx, req, emit);
    });
  }

  /** Kafka 4's GroupCoordinatorService.throwIfConsumerGroupHeartbeatRequestIsInvalid, in its order. */
  #validate(ctx: RequestContext, req: ConsumerGroupHeartbeatRequest): void {
    const bad = (msg: string) => new ApiError(ErrorCode.INVALID_REQUEST, msg);
    if (ctx.apiVersion >= CONSUMER_GENERATED_MEMBER_ID_REQUIRED_VERSION || req.memberEpoch > 0 || req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH) {
      if (req.memberId === '') throw bad("MemberId can't be empty.");
    }
    if (req.groupId === '') throw bad("GroupId can't be empty.");
    if (req.instanceId === '') throw bad("InstanceId can't be empty.");
    if (req.rackId === '') throw bad("RackId can't be empty.");
    if (req.memberEpoch === 0) {
      if (req.rebalanceTimeoutMs === -1) throw bad('RebalanceTimeoutMs must be provided in first request.');
      if (req.topicPartitions === null || req.topicPartitions.length > 0) throw bad('TopicPartitions must be empty when (re-)joining.');
      // Kafka accepts an empty list of names or an empty regex: a member subscribed to nothing.
      if (req.subscribedTopicNames === null && req.subscribedTopicRegex === null) {
        throw bad('Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.');
      }
    } else if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      if (req.instanceId === null) throw bad("InstanceId can't be null.");
    } else if (req.memberEpoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      throw bad('MemberEpoch is invalid.');
    }
    if (req.serverAssignor !== null && !this.assignors.some((a) => a.name === req.serverAssignor)) {
      throw new ApiError(
        ErrorCode.UNSUPPORTED_ASSIGNOR,
        `ServerAssignor ${req.serverAssignor} is not supported. Supported assignors: ${this.assignors.map((a) => a.name).join(', ')}.`,
      );
    }
  }

  #heartbeat(ctx: RequestContext, req: ConsumerGroupHeartbeatRequest, emit: (r: ConsumerGroupRecord) => void): HeartbeatResponse {
    const createIfNotExists = req.memberEpoch === 0;
    let group = this.groups.get(req.groupId);
    if (!group) {
      if (!createIfNotExists) throw new ApiError(ErrorCode.GROUP_ID_NOT_FOUND, `Consumer group ${req.groupId} not found.`);
      group = newGroup(req.groupId);
      this.groups.set(req.groupId, group);
    }
    const groupId = group.groupId;
    if (group.members.size >= this.config.maxGroupSize && (req.memberId === '' || !group.members.has(req.memberId))) {
      throw new ApiError(ErrorCode.GROUP_MAX_SIZE_REACHED, `The consumer group has reached its maximum capacity of ${this.config.maxGroupSize} members.`);
    }
    const memberId = req.memberId === '' ? this.#newUuid() : req.memberId;

    // The member as it is before this heartbeat (a fresh one when it joins).
    let member: ConsumerMember;
    if (req.instanceId === null) {
      const existing = group.members.get(memberId);
      if (!existing) {
        if (!createIfNotExists) throw new ApiError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${memberId} is not a member of group ${groupId}.`);
        member = newMember(memberId);
      } else {
        throwIfEpochInvalid(existing, req.memberEpoch, req.topicPartitions);
        member = existing;
      }
    } else {
      const existing = staticMember(group, req.instanceId);
      if (createIfNotExists) {
        if (!existing) {
          member = group.members.get(memberId) ?? newMember(memberId);
        } else {
          if (existing.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
            throw new ApiError(
              ErrorCode.UNRELEASED_INSTANCE_ID,
              `Static member ${memberId} with instance id ${req.instanceId} cannot join the group because the instance id is owned by ${existing.memberId} member.`,
            );
          }
          // Replace the static member: the new member id takes over its assignment.
          const target = group.targetAssignment.get(existing.memberId) ?? {};
          const replaced: ConsumerMember = { ...structuredClone(existing), memberId, memberEpoch: 0, previousMemberEpoch: 0 };
          for (const r of removeMemberRecords(groupId, existing.memberId)) emit(r);
          emit(memberMetadataRecord(groupId, replaced));
          emit({ type: 'cg-target-member', groupId, memberId, value: { assignment: target } });
          emit(currentAssignmentRecord(groupId, replaced));
          this.#cancelTimers(groupId, existing.memberId);
          member = group.members.get(memberId)!;
        }
      } else {
        if (!existing) throw new ApiError(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${req.instanceId} is unknown.`);
        if (existing.memberId !== memberId) {
          throw new ApiError(ErrorCode.FENCED_INSTANCE_ID, `Static member ${memberId} with instance id ${req.instanceId} was fenced by member ${existing.memberId}.`);
        }
        throwIfEpochInvalid(existing, req.memberEpoch, req.topicPartitions);
        member = existing;
      }
    }
    const before = structuredClone(member);

    // 1. Update the member's metadata; a subscription or assignor change bumps the group epoch.
    const updated: ConsumerMember = {
      ...structuredClone(member),
      instanceId: req.instanceId ?? member.instanceId,
      rackId: req.rackId ?? member.rackId,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs !== -1 ? req.rebalanceTimeoutMs : member.rebalanceTimeoutMs,
      serverAssignor: req.serverAssignor ?? member.serverAssignor,
      subscribedTopicNames: req.subscribedTopicNames ? [...req.subscribedTopicNames] : member.subscribedTopicNames,
      subscribedTopicRegex: req.subscribedTopicRegex ?? member.subscribedTopicRegex,
      clientId: ctx.clientId,
      clientHost: ctx.clientHost,
    };
    const isNew = !group.members.has(memberId);
    if (updated.subscribedTopicRegex !== member.subscribedTopicRegex && updated.subscribedTopicRegex) this.#compile(updated.subscribedTopicRegex);
    let bumpGroupEpoch = false;
    if (isNew || !sameMetadata(member, updated)) {
      emit(memberMetadataRecord(groupId, updated));
      bumpGroupEpoch =
        isNew ||
        !sameList(member.subscribedTopicNames, updated.subscribedTopicNames) ||
        member.subscribedTopicRegex !== updated.subscribedTopicRegex ||
        member.serverAssignor !== updated.serverAssignor;
    }
    // Subscription metadata: recomputed on every heartbeat, so topic creation, deletion and
    // partition-count changes reach the target assignment at the next heartbeat.
    if (this.#refreshSubscriptionMetadata(group, emit)) bumpGroupEpoch = true;
    if (bumpGroupEpoch) emit({ type: 'cg-metadata', groupId, value: { epoch: group.groupEpoch + 1 } });

    // 2. A newer group epoch computes a new target assignment.
    if (group.groupEpoch > group.assignmentEpoch) this.#updateTargetAssignment(group, emit);
    const target = group.targetAssignment.get(memberId) ?? {};

    // 3. Reconcile the member toward its target.
    const current = group.members.get(memberId)!;
    if (!isReconciledTo(current, group.assignmentEpoch)) {
      const owners = partitionOwners(group);
      let next;
      try {
        next = reconcile({
          member: current,
          targetEpoch: group.assignmentEpoch,
          target,
          isOwned: (t, p) => owners.has(`${t}:${p}`),
          owned: req.topicPartitions,
        });
      } catch (e) {
        if (e instanceof FencedByUnknownState) throw new ApiError(ErrorCode.FENCED_MEMBER_EPOCH, e.message);
        throw e;
      }
      const changed =
        next.memberEpoch !== current.memberEpoch ||
        next.previousMemberEpoch !== current.previousMemberEpoch ||
        next.state !== current.state ||
        !equalAssignments(next.assigned, current.assigned) ||
        !equalAssignments(next.pendingRevocation, current.pendingRevocation);
      if (changed || isNew) {
        emit(currentAssignmentRecord(groupId, { ...current, ...next }));
        if (next.state === MemberState.UNREVOKED_PARTITIONS) {
          this.#scheduleRebalanceTimeout(groupId, memberId, next.memberEpoch, current.rebalanceTimeoutMs);
        } else {
          this.#cancel(`rebalance:${groupId}:${memberId}`);
        }
      }
    }
    this.#scheduleSessionTimeout(groupId, memberId);

    const after = group.members.get(memberId)!;
    const fullRequest = req.memberEpoch === 0 || (req.rebalanceTimeoutMs !== -1 && req.subscribedTopicNames !== null && req.topicPartitions !== null);
    const assignmentChanged = !equalAssignments(before.assigned, after.assigned);
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId,
      memberEpoch: after.memberEpoch,
      heartbeatIntervalMs: this.config.heartbeatIntervalMs,
      assignment: fullRequest || assignmentChanged ? { topicPartitions: toTopicPartitions(after.assigned) } : null,
    };
  }

  #leave(req: ConsumerGroupHeartbeatRequest, emit: (r: ConsumerGroupRecord) => void): HeartbeatResponse {
    const group = this.groups.get(req.groupId);
    if (!group) throw new ApiError(ErrorCode.GROUP_ID_NOT_FOUND, `Consumer group ${req.groupId} not found.`);
    const response: HeartbeatResponse = {
      throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, memberId: req.memberId, memberEpoch: req.memberEpoch, heartbeatIntervalMs: 0, assignment: null,
    };
    if (req.instanceId === null) {
      const member = group.members.get(req.memberId);
      if (!member) throw new ApiError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${req.memberId} is not a member of group ${group.groupId}.`);
      this.#fence(group, member.memberId, emit);
      return response;
    }
    const member = staticMember(group, req.instanceId);
    if (!member) throw new ApiError(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${req.instanceId} is unknown.`);
    if (member.memberId !== req.memberId) {
      throw new ApiError(ErrorCode.FENCED_INSTANCE_ID, `Static member ${req.memberId} with instance id ${req.instanceId} was fenced by member ${member.memberId}.`);
    }
    if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      // A temporary leave: the member keeps its assignment and its place; its session still runs.
      emit(currentAssignmentRecord(group.groupId, { ...member, memberEpoch: LEAVE_GROUP_STATIC_MEMBER_EPOCH, pendingRevocation: {} }));
      return { ...response, memberId: member.memberId, memberEpoch: LEAVE_GROUP_STATIC_MEMBER_EPOCH };
    }
    this.#fence(group, member.memberId, emit);
    return response;
  }

  /** Kafka's consumerGroupFenceMember: remove the member, refresh metadata, bump the epoch. */
  #fence(group: ConsumerGroupState, memberId: string, emit: (r: ConsumerGroupRecord) => void): void {
    for (const r of removeMemberRecords(group.groupId, memberId)) emit(r);
    this.#refreshSubscriptionMetadata(group, emit);
    emit({ type: 'cg-metadata', groupId: group.groupId, value: { epoch: group.groupEpoch + 1 } });
    this.#cancelTimers(group.groupId, memberId);
  }

  /** Recomputes the subscribed topics' metadata; emits and returns true if it changed. */
  #refreshSubscriptionMetadata(group: ConsumerGroupState, emit: (r: ConsumerGroupRecord) => void): boolean {
    const names = new Set<string>();
    for (const m of group.members.values()) for (const t of this.memberTopics(m)) names.add(t);
    const topics: TopicMetadata[] = [];
    for (const name of [...names].sort()) {
      const md = this.#metadata(name);
      if (md && md.partitions > 0) topics.push({ topicId: md.id, topicName: name, numPartitions: md.partitions });
    }
    const old = group.subscriptionMetadata;
    const same = old.length === topics.length && old.every((t, i) => t.topicId === topics[i]!.topicId && t.topicName === topics[i]!.topicName && t.numPartitions === topics[i]!.numPartitions);
    if (same) return false;
    emit({ type: 'cg-partition-metadata', groupId: group.groupId, value: { topics } });
    return true;
  }

  /** Kafka's TargetAssignmentBuilder: run the group's assignor, write the changed members. */
  #updateTargetAssignment(group: ConsumerGroupState, emit: (r: ConsumerGroupRecord) => void): void {
    const assignor = this.preferredAssignor(group);
    const byName = new Map(group.subscriptionMetadata.map((t) => [t.topicName, t]));
    const topics = new Map(group.subscriptionMetadata.map((t) => [t.topicId, t.numPartitions]));
    const members = [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      rackId: m.rackId,
      subscribedTopicIds: this.memberTopics(m).filter((n) => byName.has(n)).map((n) => byName.get(n)!.topicId),
    }));
    const result = assignor.assign({ members, topics, previous: group.targetAssignment });
    for (const m of [...group.members.keys()].sort()) {
      const next = result.get(m) ?? {};
      const prev = group.targetAssignment.get(m);
      if (!prev || !equalAssignments(prev, next)) emit({ type: 'cg-target-member', groupId: group.groupId, memberId: m, value: { assignment: next } });
    }
    emit({ type: 'cg-target-metadata', groupId: group.groupId, value: { assignmentEpoch: group.groupEpoch } });
  }

  /**
   * The topic names a member subscribes to: its names plus the topics its regex matches (a
   * full match, like Kafka's RE2J `matches()`, over `listTopics()`), sorted.
   */
  memberTopics(m: ConsumerMember): string[] {
    const out = new Set(m.subscribedTopicNames);
    if (m.subscribedTopicRegex) {
      const re = this.#compile(m.subscribedTopicRegex);
      for (const t of this.#listTopics()) if (re.test(t)) out.add(t);
    }
    return [...out].sort();
  }

  #compile(regex: string): RegExp {
    let re = this.#regexes.get(regex);
    if (!re) {
      try {
        re = new RegExp(`^(?:${regex})$`, 'u');
      } catch (e) {
        throw new ApiError(INVALID_REGULAR_EXPRESSION, `SubscribedTopicRegex \`${regex}\` is not a valid regular expression: ${(e as Error).message}.`);
      }
      if (this.#regexes.size > 1000) this.#regexes.clear();
      this.#regexes.set(regex, re);
    }
    return re;
  }

  /** The assignor most members ask for (ties: by name), else the default (the first). */
  preferredAssignor(group: ConsumerGroupState): Assignor {
    const counts = new Map<string, number>();
    for (const m of group.members.values()) if (m.serverAssignor !== null) counts.set(m.serverAssignor, (counts.get(m.serverAssignor) ?? 0) + 1);
    let best: string | null = null;
    for (const [name, n] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) if (best === null || n > counts.get(best)!) best = name;
    return this.assignors.find((a) => a.name === best) ?? this.assignors[0]!;
  }

  // ---- timers ------------------------------------------------------------------------------

  #schedule(key: string, ms: number, fn: () => Result<void> | null): void {
    this.#cancel(key);
    const cancel = this.#clock.setTimeout(() => {
      this.#timers.delete(key);
      const r = fn();
      if (r) this.#onTimerResult(r);
    }, ms);
    this.#timers.set(key, cancel);
  }

  #cancel(key: string): void {
    const c = this.#timers.get(key);
    if (c) {
      c();
      this.#timers.delete(key);
    }
  }

  #cancelTimers(groupId: string, memberId: string): void {
    this.#cancel(`session:${groupId}:${memberId}`);
    this.#cancel(`rebalance:${groupId}:${memberId}`);
  }

  #scheduleSessionTimeout(groupId: string, memberId: string): void {
    this.#schedule(`session:${groupId}:${memberId}`, this.config.sessionTimeoutMs, () => {
      const g = this.groups.get(groupId);
      if (!g?.members.has(memberId)) return null;
      return this.#transact(groupId, (emit) => this.#fence(g, memberId, emit));
    });
  }

  #scheduleRebalanceTimeout(groupId: string, memberId: string, memberEpoch: number, ms: number): void {
    this.#schedule(`rebalance:${groupId}:${memberId}`, ms, () => {
      const g = this.groups.get(groupId);
      const m = g?.members.get(memberId);
      if (!g || !m || m.memberEpoch !== memberEpoch) return null;
      return this.#transact(groupId, (emit) => this.#fence(g, memberId, emit));
    });
  }

  /** True if a session or rebalance timer is pending for the member (tests). */
  hasTimer(kind: 'session' | 'rebalance', groupId: string, memberId: string): boolean {
    return this.#timers.has(`${kind}:${groupId}:${memberId}`);
  }

  // ---- operations as transactions ----------------------------------------------------------

  /**
   * Runs `op` with an `emit` that records and replays each record; on an ApiError the group is
   * restored and the error answered; on a failed append `complete` restores it too.
   */
  #transact<R>(groupId: string, op: (emit: (r: ConsumerGroupRecord) => void) => R): Result<R | HeartbeatResponse> {
    const existed = this.groups.get(groupId);
    const snapshot = existed ? structuredClone(existed) : undefined;
    const restore = () => {
      if (snapshot) this.groups.set(groupId, structuredClone(snapshot));
      else this.groups.delete(groupId);
    };
    const records: ConsumerGroupRecord[] = [];
    let response: R;
    try {
      response = op((r) => {
        records.push(r);
        replayRecord(this.groups, r);
      });
    } catch (e) {
      restore();
      return immediate(this.#toError(e));
    }
    // A group created by a failed join that wrote nothing does not linger.
    if (records.length === 0 && !existed) this.groups.delete(groupId);
    let done = false;
    return {
      records,
      complete: (appendError) => {
        if (done) throw new Error('Result completed twice');
        done = true;
        if (appendError === null) return response;
        restore();
        const code = appendErrorToResponseError(appendError);
        return response === undefined ? (undefined as R) : errorResponse(code, null);
      },
    };
  }

  #toError(e: unknown): HeartbeatResponse {
    if (e instanceof ApiError) return errorResponse(e.code, e.message);
    throw e;
  }

  // ---- loading and inspection --------------------------------------------------------------

  /** Applies a record read from `__consumer_offsets` while loading (never records this machine produced). */
  replay(record: ConsumerGroupRecord): void {
    replayRecord(this.groups, record);
  }

  /** After loading: start every member's session, and rebalance timers for members revoking. */
  onLoaded(): void {
    for (const g of this.groups.values()) {
      for (const m of g.members.values()) {
        this.#scheduleSessionTimeout(g.groupId, m.memberId);
        if (m.state === MemberState.UNREVOKED_PARTITIONS) this.#scheduleRebalanceTimeout(g.groupId, m.memberId, m.memberEpoch, m.rebalanceTimeoutMs);
      }
    }
  }

  groupState(groupId: string): ConsumerGroupStateName {
    const g = this.groups.get(groupId);
    return g ? groupStateName(g) : 'Dead';
  }

  groupIds(): string[] {
    return [...this.groups.keys()].sort();
  }

  /** The durable state of every group, in a canonical form (tests compare replays with it). */
  snapshot(): unknown {
    return this.groupIds().map((id) => {
      const g = this.groups.get(id)!;
      return {
        groupId: g.groupId,
        groupEpoch: g.groupEpoch,
        assignmentEpoch: g.assignmentEpoch,
        subscriptionMetadata: g.subscriptionMetadata,
        members: [...g.members.keys()].sort().map((k) => g.members.get(k)),
        targetAssignment: [...g.targetAssignment.keys()].sort().map((k) => [k, g.targetAssignment.get(k)]),
      };
    });
  }
}

function immediate<R>(response: R): Result<R> {
  return { records: [], complete: () => response };
}

/** Kafka's throwIfConsumerGroupMemberEpochIsInvalid. */
function throwIfEpochInvalid(member: ConsumerMember, received: number, owned: readonly RequestTopicPartitions[] | null): void {
  if (received > member.memberEpoch) {
    throw new ApiError(
      ErrorCode.FENCED_MEMBER_EPOCH,
      `The consumer group member has a greater member epoch (${received}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`,
    );
  }
  if (received < member.memberEpoch) {
    // A member that did not get the response of its last epoch bump may retry with the
    // previous epoch, as long as it owns nothing outside its assignment.
    if (received !== member.previousMemberEpoch || !isSubset(owned, member.assigned)) {
      throw new ApiError(
        ErrorCode.FENCED_MEMBER_EPOCH,
        `The consumer group member has a smaller member epoch (${received}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`,
      );
    }
  }
}

function isSubset(owned: readonly RequestTopicPartitions[] | null, a: Assignment): boolean {
  if (owned === null) return false;
  for (const tp of owned) {
    const ps = a[tp.topicId];
    if (!ps) return false;
    if (tp.partitions.some((p) => !ps.includes(p))) return false;
  }
  return true;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameMetadata(a: ConsumerMember, b: ConsumerMember): boolean {
  return (
    a.instanceId === b.instanceId &&
    a.rackId === b.rackId &&
    a.clientId === b.clientId &&
    a.clientHost === b.clientHost &&
    sameList(a.subscribedTopicNames, b.subscribedTopicNames) &&
    a.subscribedTopicRegex === b.subscribedTopicRegex &&
    a.rebalanceTimeoutMs === b.rebalanceTimeoutMs &&
    a.serverAssignor === b.serverAssignor
  );
}
