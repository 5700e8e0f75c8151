/**
 * The classic group coordinator: the facade the broker's handlers call (see README.md).
 *
 * A deterministic state machine over the groups of one or more `__consumer_offsets`
 * partitions. Every operation is synchronous and returns a Result: the caller appends its
 * records, then calls `complete(appendError)` and sends what it returns. JoinGroup and SyncGroup
 * answer through a continuation instead. Timers (sessions, rebalances, the initial delay,
 * offset expiration) run on the injected Clock and hand their Results to `onTimerResult`.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../../common/errors.ts';
import type { Clock } from '../../common/clock.ts';
import type { JoinGroupRequest } from '../../protocol/messages/join-group-request.generated.ts';
import type { JoinGroupResponse } from '../../protocol/messages/join-group-response.generated.ts';
import type { SyncGroupRequest } from '../../protocol/messages/sync-group-request.generated.ts';
import type { SyncGroupResponse } from '../../protocol/messages/sync-group-response.generated.ts';
import type { HeartbeatRequest } from '../../protocol/messages/heartbeat-request.generated.ts';
import type { HeartbeatResponse } from '../../protocol/messages/heartbeat-response.generated.ts';
import type { LeaveGroupRequest } from '../../protocol/messages/leave-group-request.generated.ts';
import type { LeaveGroupResponse } from '../../protocol/messages/leave-group-response.generated.ts';
import type { OffsetCommitRequest } from '../../protocol/messages/offset-commit-request.generated.ts';
import type { OffsetCommitResponse } from '../../protocol/messages/offset-commit-response.generated.ts';
import type { OffsetFetchRequest } from '../../protocol/messages/offset-fetch-request.generated.ts';
import type { OffsetFetchResponse } from '../../protocol/messages/offset-fetch-response.generated.ts';
import type { TxnOffsetCommitRequest } from '../../protocol/messages/txn-offset-commit-request.generated.ts';
import type { TxnOffsetCommitResponse } from '../../protocol/messages/txn-offset-commit-response.generated.ts';
import type { OffsetDeleteRequest } from '../../protocol/messages/offset-delete-request.generated.ts';
import type { OffsetDeleteResponse } from '../../protocol/messages/offset-delete-response.generated.ts';
import type { DescribedGroup } from '../../protocol/messages/describe-groups-response.generated.ts';
import type { ListedGroup } from '../../protocol/messages/list-groups-response.generated.ts';
import type { DeletableGroupResult } from '../../protocol/messages/delete-groups-response.generated.ts';
import { ClassicGroup, joinError, syncError } from './group.ts';
import { joinGroup } from './join.ts';
import { syncGroup } from './sync.ts';
import { heartbeat, leaveGroup } from './heartbeat-leave.ts';
import {
  OffsetStore,
  expiredOffsetRecords,
  fetchOffsets,
  offsetCommit,
  offsetDelete,
  type CommittedOffset,
  type FetchedTopic,
  type PendingOffset,
  txnOffsetCommit,
} from './offsets.ts';
import { deleteGroups, describeGroups, listGroups } from './admin.ts';
import { RebalanceEngine } from './rebalance.ts';
import type { GroupRecord, OtherRecord } from './records.ts';

/** The producer id of a non-transactional record batch. */
export const NO_PRODUCER_ID = -1;
import {
  DEFAULT_CONFIG,
  EMPTY_RESULT,
  immediate,
  type ClassicGroupState,
  type GroupCoordinatorConfig,
  type RequestContext,
  type Respond,
  type Result,
} from './types.ts';

function once<R>(respond: Respond<R>): Respond<R> {
  let done = false;
  return (res) => {
    if (done) return;
    done = true;
    respond(res);
  };
}

export interface GroupCoordinatorOptions {
  clock: Clock;
  config?: Partial<GroupCoordinatorConfig>;
  /**
   * Receives the Results of timers (a session expiring, a rebalance completing, offsets
   * expiring). Append the records, then call `complete`. Defaults to completing at once
   * (records dropped) — only for tests that do not care about durability.
   */
  onTimerResult?: (result: Result<void>) => void;
  /** Member id suffixes (Kafka: a random UUID). Injected for deterministic tests. */
  newUuid?: () => string;
  /**
   * Groups whose offsets must not expire now although this coordinator sees no members: the
   * KIP-848 consumer groups with members, whose offsets live in this store (Kafka expires a
   * consumer group's offsets only once it is empty).
   */
  retainOffsets?: (groupId: string) => boolean;
}

/** The stored view of a group (what replaying `__consumer_offsets` rebuilds). */
export interface GroupSnapshot {
  groupId: string;
  state: ClassicGroupState;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string | null;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    rebalanceTimeoutMs: number;
    sessionTimeoutMs: number;
    subscription: Buffer;
    assignment: Buffer;
  }[];
  offsets: { topic: string; partition: number; offset: CommittedOffset }[];
  /** Pending transactional offsets, by producer. */
  pending: PendingOffset[];
}

export class GroupCoordinator {
  readonly config: GroupCoordinatorConfig;
  readonly #engine: RebalanceEngine;
  readonly #offsets = new OffsetStore();
  readonly #apply = (r: GroupRecord) => this.replay(r);
  readonly #retainOffsets: (groupId: string) => boolean;

  constructor(options: GroupCoordinatorOptions) {
    this.config = { ...DEFAULT_CONFIG, ...options.config };
    this.#retainOffsets = options.retainOffsets ?? (() => false);
    const emit = options.onTimerResult ?? ((r: Result<void>) => r.complete(null));
    this.#engine = new RebalanceEngine(options.clock, this.config, emit, options.newUuid ?? randomUUID);
  }

  // ---------------------------------------------------------------- membership

  /**
   * JoinGroup. `respond` is called exactly once — at once for errors (MEMBER_ID_REQUIRED, ...),
   * later when the rebalance's join phase completes — with a response valid for
   * `ctx.apiVersion` (protocolName is '' instead of null below v7).
   */
  joinGroup(ctx: RequestContext, req: JoinGroupRequest, respond: Respond<JoinGroupResponse>): Result<void> {
    // The first answer wins (as a Java CompletableFuture): e.g. MEMBER_ID_REQUIRED is not
    // followed by an error if the new group's record then fails to append.
    const answer = once<JoinGroupResponse>((res) =>
      respond(ctx.apiVersion < 7 && res.protocolName === null ? { ...res, protocolName: '' } : res),
    );
    if (req.groupId === '') {
      answer(joinError(ErrorCode.INVALID_GROUP_ID, req.memberId));
      return EMPTY_RESULT;
    }
    if (req.sessionTimeoutMs < this.config.minSessionTimeoutMs || req.sessionTimeoutMs > this.config.maxSessionTimeoutMs) {
      answer(joinError(ErrorCode.INVALID_SESSION_TIMEOUT, req.memberId));
      return EMPTY_RESULT;
    }
    return joinGroup(this.#engine, ctx, req, answer);
  }

  /** SyncGroup. `respond` is called once: at once, or when the leader's assignment is stored. */
  syncGroup(ctx: RequestContext, req: SyncGroupRequest, respond: Respond<SyncGroupResponse>): Result<void> {
    void ctx;
    if (req.groupId === '') {
      respond(syncError(ErrorCode.INVALID_GROUP_ID));
      return EMPTY_RESULT;
    }
    return syncGroup(this.#engine, req, once(respond));
  }

  heartbeat(ctx: RequestContext, req: HeartbeatRequest): Result<HeartbeatResponse> {
    void ctx;
    if (req.groupId === '') return immediate({ throttleTimeMs: 0, errorCode: ErrorCode.INVALID_GROUP_ID });
    return heartbeat(this.#engine, req);
  }

  /** LeaveGroup: v0-2 single member (top-level error), v3+ batch (per-member errors). */
  leaveGroup(ctx: RequestContext, req: LeaveGroupRequest): Result<LeaveGroupResponse> {
    if (req.groupId === '') return immediate({ throttleTimeMs: 0, errorCode: ErrorCode.INVALID_GROUP_ID, members: [] });
    return leaveGroup(this.#engine, req, ctx.apiVersion);
  }

  // ---------------------------------------------------------------- offsets

  /**
   * OffsetCommit. `trusted`: the member was validated by another coordinator (a KIP-848
   * consumer group, whose offsets live in this store), so the classic group checks are skipped.
   */
  offsetCommit(ctx: RequestContext, req: OffsetCommitRequest, trusted = false): Result<OffsetCommitResponse> {
    return offsetCommit(this.#engine, this.#offsets, this.#apply, ctx, req, trusted);
  }

  /**
   * OffsetFetch for any version: v0-7 one group (`topics` null = all, v2+), v8+ `groups`.
   * Reads only durable committed offsets, never pending transactional ones; with
   * `requireStable` (v7+) a partition with a pending transactional offset answers
   * UNSTABLE_OFFSET_COMMIT (a partition error in every version, as Kafka).
   */
  offsetFetch(ctx: RequestContext, req: OffsetFetchRequest): OffsetFetchResponse {
    const requireStable = ctx.apiVersion >= 7 && req.requireStable;
    if (ctx.apiVersion >= 8) {
      return {
        throttleTimeMs: 0,
        topics: [],
        errorCode: ErrorCode.NONE,
        groups: req.groups.map((g) => ({
          groupId: g.groupId,
          topics: this.fetchOffsets(g.groupId, g.topics, requireStable),
          errorCode: ErrorCode.NONE,
        })),
      };
    }
    const topics = ctx.apiVersion < 2 ? (req.topics ?? []) : req.topics;
    return { throttleTimeMs: 0, topics: this.fetchOffsets(req.groupId, topics, requireStable), errorCode: ErrorCode.NONE, groups: [] };
  }

  /**
   * Committed offsets of a group: all (`topics` null) or the named partitions (-1 if none);
   * `requireStable`: UNSTABLE_OFFSET_COMMIT for partitions with a pending transactional offset.
   */
  fetchOffsets(groupId: string, topics: { name: string; partitionIndexes: number[] }[] | null, requireStable = false): FetchedTopic[] {
    // A Dead group (being deleted) reads as unknown, as Kafka's validateOffsetFetch.
    const store = this.#engine.groups.get(groupId)?.is('Dead') ? new OffsetStore() : this.#offsets;
    return fetchOffsets(store, groupId, topics, requireStable);
  }

  /**
   * TxnOffsetCommit (v0-4). The Result carries `producer`: its records must be appended in a
   * transactional batch of that producer; once durable they are pending transactional offsets
   * until `completeTransaction`. `trusted`: a KIP-848 consumer group's member was validated by
   * the consumer coordinator (the offsets of both kinds of groups live here).
   */
  txnOffsetCommit(ctx: RequestContext, req: TxnOffsetCommitRequest, trusted = false): Result<TxnOffsetCommitResponse> {
    void ctx;
    return txnOffsetCommit(this.#engine, (r, producerId) => this.replay(r, producerId), req, trusted);
  }

  offsetDelete(ctx: RequestContext, req: OffsetDeleteRequest): Result<OffsetDeleteResponse> {
    void ctx;
    return offsetDelete(this.#engine, this.#offsets, this.#apply, req);
  }

  /** Tombstones for expired offsets and for Empty groups left without offsets. */
  expireOffsets(): Result<void> {
    const { records, deadGroups } = expiredOffsetRecords(this.#engine, this.#offsets, this.#engine.clock.now(), this.#retainOffsets);
    if (records.length === 0) return EMPTY_RESULT;
    for (const id of deadGroups) this.#engine.groups.get(id)?.transitionTo('Dead');
    return {
      records,
      complete: (err) => {
        if (err !== null && err !== ErrorCode.NONE) {
          for (const id of deadGroups) {
            const g = this.#engine.groups.get(id);
            if (g?.is('Dead')) g.state = 'Empty';
          }
          return;
        }
        for (const r of records) this.replay(r);
      },
    };
  }

  // ---------------------------------------------------------------- admin

  describeGroups(groupIds: string[]): DescribedGroup[] {
    return describeGroups(this.#engine, groupIds);
  }

  listGroups(statesFilter: string[] = [], typesFilter: string[] = []): ListedGroup[] {
    return listGroups(this.#engine, statesFilter, typesFilter);
  }

  deleteGroups(groupIds: string[]): Result<DeletableGroupResult[]> {
    return deleteGroups(this.#engine, this.#offsets, this.#apply, groupIds);
  }

  // ---------------------------------------------------------------- durable state

  /**
   * Applies one `__consumer_offsets` record. Used to load a partition (replay everything, then
   * `onLoaded()`), and internally by `complete` for offset and tombstone records. A
   * GroupMetadata record rebuilds its group as Kafka loads it: Empty without members, else
   * Stable. Records of other types (KIP-848) are ignored for now.
   */
  replay(record: GroupRecord | OtherRecord, producerId = NO_PRODUCER_ID): void {
    const e = this.#engine;
    if (record.type === 'other') return;
    if (record.type === 'offset') {
      if (record.value === null) {
        // Also drops the partition's pending transactional offsets (as Kafka).
        this.#offsets.delete(record.groupId, record.topic, record.partition);
        return;
      }
      // Offsets without a group: a simple group (also for a transactional offset, as Kafka).
      if (!e.groups.has(record.groupId)) e.groups.set(record.groupId, new ClassicGroup(record.groupId, e.clock));
      if (producerId === NO_PRODUCER_ID) this.#offsets.set(record.groupId, record.topic, record.partition, record.value);
      else this.#offsets.setPending(producerId, record.groupId, record.topic, record.partition, record.value);
      return;
    }
    e.cancelGroupTimers(record.groupId);
    if (record.value === null) {
      const g = e.groups.get(record.groupId);
      if (g && !g.is('Dead')) g.transitionTo('Dead');
      e.groups.delete(record.groupId);
      return;
    }
    e.groups.set(record.groupId, ClassicGroup.fromRecord(record.groupId, record.value, e.clock));
  }

  /**
   * A transaction marker (COMMIT or ABORT) of `producerId`, durable in the `__consumer_offsets`
   * partition that holds the groups `inScope`: the producer's pending offsets of those groups
   * become committed — each unless a committed offset was written after it (Kafka compares
   * the records' log offsets) — or are dropped. Also used when loading (for control batches).
   */
  completeTransaction(producerId: number, committed: boolean, inScope: (groupId: string) => boolean = () => true): void {
    const e = this.#engine;
    for (const groupId of this.#offsets.completeTransaction(producerId, committed, inScope)) {
      // The group exists unless it was deleted meanwhile (its tombstones dropped the pending
      // offsets then, so this only guards against surprises): offsets need a group.
      if (!e.groups.has(groupId)) e.groups.set(groupId, new ClassicGroup(groupId, e.clock));
    }
  }

  /** Whether an open transaction has written an offset for this partition of the group. */
  hasPendingOffset(groupId: string, topic: string, partition: number): boolean {
    return this.#offsets.hasPending(groupId, topic, partition);
  }

  /** The pending transactional offsets of a group (inspection, tests). */
  pendingOffsets(groupId: string): PendingOffset[] {
    return this.#offsets.pending(groupId);
  }

  /**
   * After loading: members' sessions start now, an over-sized group rebalances, and offset
   * expiration runs every offsets.retention.check.interval.ms.
   */
  onLoaded(): Result<void> {
    const e = this.#engine;
    const results: Result<void>[] = [];
    for (const g of e.groups.values()) {
      for (const m of g.members.values()) e.rescheduleHeartbeat(g, m);
      if (g.members.size > this.config.maxGroupSize && g.canRebalance()) results.push(e.prepareRebalance(g));
    }
    this.#scheduleExpiration();
    const records = results.flatMap((r) => [...r.records]);
    return { records, complete: (err) => results.forEach((r) => r.complete(err)) };
  }

  #scheduleExpiration(): void {
    this.#engine.schedule('expire', this.config.offsetsRetentionCheckIntervalMs, () => {
      this.#scheduleExpiration();
      return this.expireOffsets();
    });
  }

  // ---------------------------------------------------------------- inspection

  groupState(groupId: string): ClassicGroupState | null {
    return this.#engine.groups.get(groupId)?.state ?? null;
  }

  /** Group ids known to this coordinator. */
  groupIds(): string[] {
    return [...this.#engine.groups.keys()];
  }

  /** The committed offsets of a group (for consumer lag). */
  committedOffsets(groupId: string): { topic: string; partition: number; offset: CommittedOffset }[] {
    const out: { topic: string; partition: number; offset: CommittedOffset }[] = [];
    for (const [topic, partitions] of this.#offsets.byGroup.get(groupId) ?? []) {
      for (const [partition, offset] of partitions) out.push({ topic, partition, offset });
    }
    return out;
  }

  /** The durable view of every group, sorted (replay-equivalence tests compare these). */
  snapshot(): GroupSnapshot[] {
    return [...this.#engine.groups.values()]
      .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
      .map((g) => ({
        groupId: g.groupId,
        state: g.state,
        generationId: g.generationId,
        protocolType: g.protocolType,
        protocolName: g.protocolName,
        leaderId: g.leaderId,
        members: [...g.members.values()].map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          rebalanceTimeoutMs: m.rebalanceTimeoutMs,
          sessionTimeoutMs: m.sessionTimeoutMs,
          subscription: m.metadata(g.protocolName),
          assignment: m.assignment,
        })),
        offsets: this.committedOffsets(g.groupId).sort((a, b) =>
          a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
        ),
        pending: this.pendingOffsets(g.groupId).sort((a, b) =>
          a.producerId !== b.producerId ? a.producerId - b.producerId : a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
        ),
      }));
  }
}
