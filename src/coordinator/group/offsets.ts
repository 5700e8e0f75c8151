/**
 * Committed offsets (Kafka's OffsetMetadataManager): the store with its pending transactional
 * offsets, OffsetCommit, TxnOffsetCommit, OffsetFetch, OffsetDelete and offset expiration. Offsets change only by replaying
 * OffsetCommit records: an operation returns the records and applies them in `complete(null)`.
 */
import { ErrorCode } from '../../common/errors.ts';
import type { OffsetCommitRequest } from '../../protocol/messages/offset-commit-request.generated.ts';
import type { OffsetCommitResponse } from '../../protocol/messages/offset-commit-response.generated.ts';
import type { TxnOffsetCommitRequest } from '../../protocol/messages/txn-offset-commit-request.generated.ts';
import type { TxnOffsetCommitResponse } from '../../protocol/messages/txn-offset-commit-response.generated.ts';
import type { OffsetDeleteRequest } from '../../protocol/messages/offset-delete-request.generated.ts';
import type { OffsetDeleteResponse } from '../../protocol/messages/offset-delete-response.generated.ts';
import { type ClassicGroup, CONSUMER_PROTOCOL_TYPE } from './group.ts';
import type { RebalanceEngine } from './rebalance.ts';
import type { GroupRecord, OffsetCommitValue } from './records.ts';
import { appendErrorToResponseError, immediate, type RequestContext, type Result, type TxnProducer } from './types.ts';

// Kafka accepts the empty group id for OffsetCommit, OffsetFetch, DescribeGroups and
// DeleteGroups (backwards compatibility); only OffsetDelete and the membership APIs refuse it.

export type CommittedOffset = OffsetCommitValue;

/** group → topic → partition → offset, in insertion order. */
export type OffsetMap = Map<string, Map<string, Map<number, CommittedOffset>>>;

function mapGet(m: OffsetMap, groupId: string, topic: string, partition: number): CommittedOffset | undefined {
  return m.get(groupId)?.get(topic)?.get(partition);
}

function mapSet(m: OffsetMap, groupId: string, topic: string, partition: number, value: CommittedOffset): void {
  let topics = m.get(groupId);
  if (!topics) m.set(groupId, (topics = new Map()));
  let partitions = topics.get(topic);
  if (!partitions) topics.set(topic, (partitions = new Map()));
  partitions.set(partition, value);
}

function mapDelete(m: OffsetMap, groupId: string, topic: string, partition: number): boolean {
  const topics = m.get(groupId);
  const partitions = topics?.get(topic);
  if (!topics || !partitions) return false;
  const had = partitions.delete(partition);
  if (partitions.size === 0) topics.delete(topic);
  if (topics.size === 0) m.delete(groupId);
  return had;
}

/** A transactional offset waiting for its transaction's marker. */
export interface PendingOffset {
  producerId: number;
  topic: string;
  partition: number;
  offset: CommittedOffset;
}

/**
 * Committed offsets, and the pending transactional ones (Kafka's OffsetMetadataManager
 * `offsets`, `pendingTransactionalOffsets` and `openTransactionsByGroup`).
 *
 * Every offset remembers the order in which its record was applied. Records are applied in
 * log order within a `__consumer_offsets` partition (at load, and live: appends are issued and
 * completed in production order), and a group lives in one partition, so within a group this
 * order is the order of the records' log offsets — what Kafka compares when a transaction
 * commits: the pending offset wins only over a committed offset written before it (a plain
 * OffsetCommit written after the transactional one keeps its value).
 */
export class OffsetStore {
  readonly byGroup: OffsetMap = new Map();
  /** producer id → the offsets its open transaction wrote. */
  readonly pendingByProducer = new Map<number, OffsetMap>();
  /** group → producer ids with pending offsets for it. */
  readonly openTransactionsByGroup = new Map<string, Set<number>>();
  readonly #order = new WeakMap<CommittedOffset, number>();
  #nextOrder = 0;

  get(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return mapGet(this.byGroup, groupId, topic, partition);
  }

  has(groupId: string, topic: string, partition: number): boolean {
    return this.get(groupId, topic, partition) !== undefined;
  }

  hasOffsets(groupId: string): boolean {
    return this.byGroup.has(groupId);
  }

  /** Applies a committed (non-transactional) offset record. */
  set(groupId: string, topic: string, partition: number, value: CommittedOffset): void {
    this.#order.set(value, this.#nextOrder++);
    mapSet(this.byGroup, groupId, topic, partition, value);
  }

  /** Applies a transactional offset record: pending until its producer's marker. */
  setPending(producerId: number, groupId: string, topic: string, partition: number, value: CommittedOffset): void {
    this.#order.set(value, this.#nextOrder++);
    let pending = this.pendingByProducer.get(producerId);
    if (!pending) this.pendingByProducer.set(producerId, (pending = new Map()));
    mapSet(pending, groupId, topic, partition, value);
    let open = this.openTransactionsByGroup.get(groupId);
    if (!open) this.openTransactionsByGroup.set(groupId, (open = new Set()));
    open.add(producerId);
  }

  /** An offset tombstone: removes the committed offset and every pending one of the partition (as Kafka). */
  delete(groupId: string, topic: string, partition: number): void {
    mapDelete(this.byGroup, groupId, topic, partition);
    for (const producerId of this.openTransactionsByGroup.get(groupId) ?? []) {
      const pending = this.pendingByProducer.get(producerId);
      if (pending) mapDelete(pending, groupId, topic, partition);
    }
  }

  /** Whether an open transaction has written an offset for this partition of the group. */
  hasPending(groupId: string, topic: string, partition: number): boolean {
    for (const producerId of this.openTransactionsByGroup.get(groupId) ?? []) {
      const pending = this.pendingByProducer.get(producerId);
      if (pending && mapGet(pending, groupId, topic, partition) !== undefined) return true;
    }
    return false;
  }

  /** Whether some open transaction has written offsets for the group. */
  hasOpenTransactions(groupId: string): boolean {
    return this.openTransactionsByGroup.has(groupId);
  }

  /** The pending offsets of a group, by producer (inspection, tests). */
  pending(groupId: string): PendingOffset[] {
    const out: PendingOffset[] = [];
    for (const producerId of this.openTransactionsByGroup.get(groupId) ?? []) {
      for (const [topic, partitions] of this.pendingByProducer.get(producerId)?.get(groupId) ?? []) {
        for (const [partition, offset] of partitions) out.push({ producerId, topic, partition, offset });
      }
    }
    return out;
  }

  /**
   * A transaction marker of `producerId` for the groups `inScope` (those of the marker's
   * `__consumer_offsets` partition): its pending offsets become committed (unless a committed
   * offset was written after them) or are dropped. Returns the groups that received offsets.
   */
  completeTransaction(producerId: number, committed: boolean, inScope: (groupId: string) => boolean = () => true): string[] {
    // The transaction ends for every group in scope, also those whose pending offsets were all
    // dropped by tombstones meanwhile (else they would look open forever and never expire).
    for (const [groupId, open] of [...this.openTransactionsByGroup]) {
      if (!open.has(producerId) || !inScope(groupId)) continue;
      open.delete(producerId);
      if (open.size === 0) this.openTransactionsByGroup.delete(groupId);
    }
    const pending = this.pendingByProducer.get(producerId);
    if (!pending) return [];
    const received: string[] = [];
    for (const [groupId, topics] of [...pending]) {
      if (!inScope(groupId)) continue;
      pending.delete(groupId);
      if (!committed) continue;
      for (const [topic, partitions] of topics) {
        for (const [partition, value] of partitions) {
          const existing = this.get(groupId, topic, partition);
          if (existing === undefined || this.#orderOf(value) > this.#orderOf(existing)) {
            mapSet(this.byGroup, groupId, topic, partition, value);
            if (!received.includes(groupId)) received.push(groupId);
          }
        }
      }
    }
    if (pending.size === 0) this.pendingByProducer.delete(producerId);
    return received;
  }

  #orderOf(value: CommittedOffset): number {
    return this.#order.get(value) ?? -1;
  }

  /** Tombstones for every offset of a group, committed or pending (Kafka's deleteAllOffsets). */
  tombstones(groupId: string): GroupRecord[] {
    const out: GroupRecord[] = [];
    for (const [topic, partitions] of this.byGroup.get(groupId) ?? []) {
      for (const partition of partitions.keys()) out.push({ type: 'offset', groupId, topic, partition, value: null });
    }
    for (const p of this.pending(groupId)) {
      if (this.has(groupId, p.topic, p.partition)) continue;
      if (out.some((r) => r.type === 'offset' && r.topic === p.topic && r.partition === p.partition)) continue;
      out.push({ type: 'offset', groupId, topic: p.topic, partition: p.partition, value: null });
    }
    return out;
  }
}

// ---------------------------------------------------------------- OffsetCommit

export function offsetCommit(
  e: RebalanceEngine,
  store: OffsetStore,
  apply: (r: GroupRecord) => void,
  ctx: RequestContext,
  req: OffsetCommitRequest,
  trusted = false,
): Result<OffsetCommitResponse> {
  const allWith = (errorCode: ErrorCode): OffsetCommitResponse => ({
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) })),
  });
  // OffsetCommit v0 has neither generation nor member id.
  const generationId = ctx.apiVersion === 0 ? -1 : req.generationIdOrMemberEpoch;
  const group = trusted ? undefined : e.groups.get(req.groupId);
  if (trusted) {
    // Validated by the consumer-group coordinator: no classic membership applies.
  } else if (!group) {
    if (generationId >= 0) {
      // v9+: GROUP_ID_NOT_FOUND; older versions keep ILLEGAL_GENERATION.
      return immediate(allWith(ctx.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION));
    }
    // Otherwise a "simple" group (offsets of a consumer or admin that does not use membership):
    // replaying the first offset record creates it, so a failed append leaves nothing behind.
  } else {
    const error = validateOffsetCommit(group, req.memberId, req.groupInstanceId, generationId);
    if (error !== ErrorCode.NONE) return immediate(allWith(error));
    // A commit keeps a classic member's session alive in Stable and PreparingRebalance.
    if ((group.is('Stable') || group.is('PreparingRebalance')) && group.hasMember(req.memberId)) {
      e.rescheduleHeartbeat(group, group.member(req.memberId));
    }
  }

  const now = e.clock.now();
  const expireTimestamp = ctx.apiVersion >= 2 && ctx.apiVersion <= 4 && req.retentionTimeMs !== -1n ? now + Number(req.retentionTimeMs) : -1;
  const { records, topics } = offsetRecords(req.groupId, req.topics, e.config.offsetMetadataMaxBytes, (p, metadata) => ({
    offset: p.committedOffset,
    leaderEpoch: ctx.apiVersion >= 6 ? p.committedLeaderEpoch : -1,
    metadata,
    commitTimestamp: ctx.apiVersion === 1 && p.commitTimestamp !== -1n ? Number(p.commitTimestamp) : now,
    expireTimestamp,
  }));
  const response: OffsetCommitResponse = { throttleTimeMs: 0, topics };
  return {
    records,
    complete(err) {
      if (err !== null && err !== ErrorCode.NONE) return allWith(appendErrorToResponseError(err));
      for (const r of records) apply(r);
      return response;
    },
  };
}

/** Kafka's ClassicGroup.validateOffsetCommit (non-transactional). */
function validateOffsetCommit(group: ClassicGroup, memberId: string, instanceId: string | null, generationId: number): ErrorCode {
  if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  // Generation -1 in an Empty group: an admin client or a consumer without group management.
  if (generationId < 0 && group.is('Empty')) return ErrorCode.NONE;
  if (generationId >= 0 || memberId !== '' || instanceId !== null) {
    const memberError = group.validateMember(memberId, instanceId);
    if (memberError !== ErrorCode.NONE) return memberError;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
  } else if (!group.is('Empty')) {
    // Neither member nor generation: only accepted while the group is empty.
    return ErrorCode.UNKNOWN_MEMBER_ID;
  }
  if (group.is('CompletingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS;
  return ErrorCode.NONE;
}

// ---------------------------------------------------------------- TxnOffsetCommit

/**
 * TxnOffsetCommit (Kafka's commitTransactionalOffset): the offsets are written in a
 * transactional batch of the request's producer and stay pending until its marker. Checks as
 * Kafka's validateTransactionalOffsetCommit: the empty group id is INVALID_GROUP_ID; an unknown
 * group is a simple group when the generation is -1 (created when the record is applied), else
 * ILLEGAL_GENERATION; a known classic group checks member, instance id and generation (v3+
 * carries them) but, unlike OffsetCommit, neither its state (CompletingRebalance) nor that a
 * commit without member comes to an Empty group. `trusted`: a KIP-848 consumer group checked by
 * its own coordinator. Partitions of unknown topics are the handler's business.
 */
export function txnOffsetCommit(
  e: RebalanceEngine,
  apply: (r: GroupRecord, producerId: number) => void,
  req: TxnOffsetCommitRequest,
  trusted = false,
): Result<TxnOffsetCommitResponse> {
  const allWith = (errorCode: ErrorCode): TxnOffsetCommitResponse => ({
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) })),
  });
  if (req.groupId === '') return immediate(allWith(ErrorCode.INVALID_GROUP_ID));
  if (!trusted) {
    const group = e.groups.get(req.groupId);
    const error = group
      ? validateTxnOffsetCommit(group, req.memberId, req.groupInstanceId, req.generationId)
      : req.generationId < 0
        ? ErrorCode.NONE
        : ErrorCode.ILLEGAL_GENERATION;
    if (error !== ErrorCode.NONE) return immediate(allWith(error));
  }
  const producer: TxnProducer = { producerId: Number(req.producerId), producerEpoch: req.producerEpoch };
  const now = e.clock.now();
  const { records, topics } = offsetRecords(req.groupId, req.topics, e.config.offsetMetadataMaxBytes, (p, metadata) => ({
    offset: p.committedOffset,
    leaderEpoch: p.committedLeaderEpoch,
    metadata,
    commitTimestamp: now,
    expireTimestamp: -1,
  }));
  const response: TxnOffsetCommitResponse = { throttleTimeMs: 0, topics };
  return {
    records,
    producer,
    complete(err) {
      if (err !== null && err !== ErrorCode.NONE) return allWith(appendErrorToResponseError(err));
      for (const r of records) apply(r, producer.producerId);
      return response;
    },
  };
}

/**
 * The offset records of a commit (OffsetCommit or TxnOffsetCommit) and the per-partition answer:
 * a partition whose metadata is longer than offset.metadata.max.bytes gets
 * OFFSET_METADATA_TOO_LARGE and no record.
 */
function offsetRecords<P extends { partitionIndex: number; committedMetadata: string | null }>(
  groupId: string,
  requested: readonly { name: string; partitions: readonly P[] }[],
  maxMetadataBytes: number,
  valueOf: (p: P, metadata: string) => OffsetCommitValue,
): { records: GroupRecord[]; topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[] } {
  const records: GroupRecord[] = [];
  const topics = requested.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => {
      const metadata = p.committedMetadata ?? '';
      if (metadata.length > maxMetadataBytes) return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.OFFSET_METADATA_TOO_LARGE as number };
      records.push({ type: 'offset', groupId, topic: t.name, partition: p.partitionIndex, value: valueOf(p, metadata) });
      return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE as number };
    }),
  }));
  return { records, topics };
}

/** Kafka's ClassicGroup.validateOffsetCommit with isTransactional = true. */
function validateTxnOffsetCommit(group: ClassicGroup, memberId: string, instanceId: string | null, generationId: number): ErrorCode {
  if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  if (generationId < 0 && group.is('Empty')) return ErrorCode.NONE;
  if (generationId >= 0 || memberId !== '' || instanceId !== null) {
    const memberError = group.validateMember(memberId, instanceId);
    if (memberError !== ErrorCode.NONE) return memberError;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
  }
  // Neither member nor generation (v0-2 requests carry none): accepted in any state.
  return ErrorCode.NONE;
}

// ---------------------------------------------------------------- OffsetFetch

export interface FetchedPartition {
  partitionIndex: number;
  committedOffset: bigint;
  committedLeaderEpoch: number;
  metadata: string | null;
  errorCode: number;
}

export interface FetchedTopic {
  name: string;
  partitions: FetchedPartition[];
}

/**
 * The committed offsets of a group: all (`topics` null) or the named partitions (-1 when none).
 * Pending transactional offsets are never shown; with `requireStable` (OffsetFetch v7+) a
 * partition that has one answers UNSTABLE_OFFSET_COMMIT (offset -1), per partition as Kafka —
 * listing all partitions covers those with a committed offset only, as Kafka's fetchAllOffsets.
 */
export function fetchOffsets(
  store: OffsetStore,
  groupId: string,
  topics: { name: string; partitionIndexes: number[] }[] | null,
  requireStable = false,
): FetchedTopic[] {
  const none = (p: number, errorCode: ErrorCode): FetchedPartition => ({
    partitionIndex: p,
    committedOffset: -1n,
    committedLeaderEpoch: -1,
    metadata: '',
    errorCode,
  });
  const answer = (topic: string, p: number, o: CommittedOffset | undefined): FetchedPartition => {
    if (requireStable && store.hasPending(groupId, topic, p)) return none(p, ErrorCode.UNSTABLE_OFFSET_COMMIT);
    if (!o) return none(p, ErrorCode.NONE);
    return { partitionIndex: p, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: ErrorCode.NONE };
  };
  if (topics === null) {
    return [...(store.byGroup.get(groupId) ?? [])].map(([name, partitions]) => ({
      name,
      partitions: [...partitions].map(([p, o]) => answer(name, p, o)),
    }));
  }
  return topics.map((t) => ({
    name: t.name,
    partitions: t.partitionIndexes.map((p) => answer(t.name, p, store.get(groupId, t.name, p))),
  }));
}

// ---------------------------------------------------------------- OffsetDelete

export function offsetDelete(
  e: RebalanceEngine,
  store: OffsetStore,
  apply: (r: GroupRecord) => void,
  req: OffsetDeleteRequest,
): Result<OffsetDeleteResponse> {
  const topLevel = (errorCode: ErrorCode): OffsetDeleteResponse => ({ errorCode, throttleTimeMs: 0, topics: [] });
  if (req.groupId === '') return immediate(topLevel(ErrorCode.INVALID_GROUP_ID));
  const group = e.groups.get(req.groupId);
  if (!group || group.is('Dead')) return immediate(topLevel(ErrorCode.GROUP_ID_NOT_FOUND));
  if (!group.is('Empty') && group.protocolType !== CONSUMER_PROTOCOL_TYPE) return immediate(topLevel(ErrorCode.NON_EMPTY_GROUP));
  const records: GroupRecord[] = [];
  const response: OffsetDeleteResponse = { errorCode: ErrorCode.NONE, throttleTimeMs: 0, topics: [] };
  for (const t of req.topics) {
    if (group.isSubscribedToTopic(t.name)) {
      response.topics.push({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC })),
      });
      continue;
    }
    response.topics.push({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE })) });
    for (const p of t.partitions) {
      // A tombstone also for a pending transactional offset only (as Kafka): it drops it.
      if (store.has(req.groupId, t.name, p.partitionIndex) || store.hasPending(req.groupId, t.name, p.partitionIndex)) {
        records.push({ type: 'offset', groupId: req.groupId, topic: t.name, partition: p.partitionIndex, value: null });
      }
    }
  }
  return {
    records,
    complete(err) {
      if (err !== null && err !== ErrorCode.NONE) return topLevel(appendErrorToResponseError(err));
      for (const r of records) apply(r);
      return response;
    },
  };
}

// ---------------------------------------------------------------- expiration

/**
 * Kafka's offset expiration condition for a classic group: the base timestamp an offset's age
 * is measured from, or null when the group's offsets do not expire now.
 *   - Empty group with a protocol type: since the group became Empty (else the commit time);
 *   - Stable consumer group that knows its subscriptions: since the commit (for topics it no
 *     longer subscribes to);
 *   - simple group (no protocol type): since the commit.
 */
function expirationBase(group: ClassicGroup): ((o: CommittedOffset) => number) | null {
  if (group.protocolType !== null) {
    if (group.is('Empty')) return (o) => group.currentStateTimestamp ?? o.commitTimestamp;
    if (group.protocolType === CONSUMER_PROTOCOL_TYPE && group.subscribedTopics !== null && group.is('Stable')) {
      return (o) => o.commitTimestamp;
    }
    return null;
  }
  return (o) => o.commitTimestamp;
}

/**
 * Expired offsets get tombstones; a group left Empty without offsets gets a group tombstone
 * (Kafka's cleanupGroupMetadata). Returns the records and the groups to delete.
 */
export function expiredOffsetRecords(
  e: RebalanceEngine,
  store: OffsetStore,
  now: number,
  retained: (groupId: string) => boolean = () => false,
): { records: GroupRecord[]; deadGroups: string[] } {
  const records: GroupRecord[] = [];
  const deadGroups: string[] = [];
  for (const group of e.groups.values()) {
    if (retained(group.groupId)) continue;
    let allExpired = true;
    const topics = store.byGroup.get(group.groupId);
    if (topics) {
      const base = expirationBase(group);
      if (base === null) continue;
      for (const [topic, partitions] of topics) {
        if (group.isSubscribedToTopic(topic)) {
          allExpired = false;
          continue;
        }
        for (const [partition, o] of partitions) {
          const expired = o.expireTimestamp !== -1 ? now >= o.expireTimestamp : now - base(o) >= e.config.offsetsRetentionMs;
          // Not while a transaction has a pending offset for the partition (as Kafka).
          if (expired && !store.hasPending(group.groupId, topic, partition)) records.push({ type: 'offset', groupId: group.groupId, topic, partition, value: null });
          else allExpired = false;
        }
      }
    }
    // A group with open transactions is kept (Kafka's cleanupExpiredOffsets).
    if (allExpired && group.is('Empty') && !store.hasOpenTransactions(group.groupId)) {
      records.push({ type: 'group', groupId: group.groupId, value: null });
      deadGroups.push(group.groupId);
    }
  }
  return { records, deadGroups };
}
