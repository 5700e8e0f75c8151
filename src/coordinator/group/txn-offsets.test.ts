/**
 * Transactional offsets (TxnOffsetCommit): pending until the transaction's marker, commit /
 * abort, Kafka's ordering rule against plain commits, require_stable, replay, deletion and
 * expiry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../common/errors.ts';
import { ManualClock } from '../../common/clock.ts';
import type { TxnOffsetCommitRequest } from '../../protocol/messages/txn-offset-commit-request.generated.ts';
import type { OffsetCommitRequest } from '../../protocol/messages/offset-commit-request.generated.ts';
import { GroupCoordinator, NO_PRODUCER_ID } from './coordinator.ts';
import { decodeRecord, encodeRecord, type GroupRecord } from './records.ts';
import { Harness } from './test-helpers.ts';
import type { Result } from './types.ts';

const E = ErrorCode;

/** What `__consumer_offsets` holds: batches (plain or transactional) and transaction markers. */
type Entry = { kind: 'batch'; producerId: number; records: readonly GroupRecord[] } | { kind: 'marker'; producerId: number; committed: boolean };

/** The Harness plus a log that keeps batch producers and markers, as the service writes them. */
class TxnHarness extends Harness {
  readonly entries: Entry[] = [];

  override run<R>(result: Result<R>): R {
    if (this.failAppends === null && result.records.length > 0) {
      this.entries.push({ kind: 'batch', producerId: result.producer?.producerId ?? NO_PRODUCER_ID, records: result.records });
    }
    return super.run(result);
  }

  marker(producerId: number, committed: boolean): void {
    this.entries.push({ kind: 'marker', producerId, committed });
    this.coordinator.completeTransaction(producerId, committed);
  }

  txnCommit(fields: Partial<TxnOffsetCommitRequest> & { parts?: [string, number, bigint, (string | null)?][] } = {}): number[] {
    const req: TxnOffsetCommitRequest = {
      transactionalId: 'tx',
      groupId: 'g',
      producerId: 1000n,
      producerEpoch: 0,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [],
      ...fields,
    };
    if (fields.parts) req.topics = partsToTopics(fields.parts);
    const res = this.run(this.coordinator.txnOffsetCommit(this.ctx(4), req));
    return res.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));
  }

  commit(fields: Partial<OffsetCommitRequest> & { parts?: [string, number, bigint][] } = {}): number[] {
    const req: OffsetCommitRequest = {
      groupId: 'g',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [],
      ...fields,
    };
    if (fields.parts) {
      req.topics = partsToTopics(fields.parts).map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ ...p, commitTimestamp: -1n })),
      }));
    }
    const res = this.run(this.coordinator.offsetCommit(this.ctx(8), req));
    return res.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));
  }

  /** OffsetFetch of one partition: [offset, errorCode]. */
  fetch(topic: string, partition: number, requireStable = false, version = 8, groupId = 'g'): [bigint, number] {
    const topics = [{ name: topic, partitionIndexes: [partition] }];
    const res =
      version >= 8
        ? this.coordinator.offsetFetch(this.ctx(version), { groupId: '', topics: null, requireStable, groups: [{ groupId, memberId: null, memberEpoch: -1, topics }] })
            .groups[0]!
        : this.coordinator.offsetFetch(this.ctx(version), { groupId, topics, requireStable, groups: [] });
    assert.equal(res.errorCode, E.NONE, 'never a group-level error for unstable offsets');
    const p = res.topics[0]!.partitions[0]!;
    return [p.committedOffset, p.errorCode];
  }
}

function partsToTopics(parts: [string, number, bigint, (string | null)?][]) {
  const byTopic = new Map<string, { name: string; partitions: { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: string | null }[] }>();
  for (const [topic, partition, offset, metadata] of parts) {
    if (!byTopic.has(topic)) byTopic.set(topic, { name: topic, partitions: [] });
    byTopic.get(topic)!.partitions.push({ partitionIndex: partition, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: metadata === undefined ? '' : metadata });
  }
  return [...byTopic.values()];
}

/** Replays the entries into a fresh coordinator through the byte format, as GroupService loads a partition. */
function replayed(entries: Entry[]): GroupCoordinator {
  const fresh = new GroupCoordinator({ clock: new ManualClock() });
  for (const e of entries) {
    if (e.kind === 'marker') {
      fresh.completeTransaction(e.producerId, e.committed);
      continue;
    }
    for (const r of e.records) {
      const { key, value } = encodeRecord(r);
      fresh.replay(decodeRecord(key, value), e.producerId);
    }
  }
  return fresh;
}

test('a transactional offset is pending until its commit marker; require_stable answers UNSTABLE_OFFSET_COMMIT per partition', () => {
  const h = new TxnHarness();
  assert.deepEqual(h.commit({ parts: [['t', 0, 5n]] }), [E.NONE]);
  assert.deepEqual(h.txnCommit({ parts: [['t', 0, 10n], ['t', 1, 20n]] }), [E.NONE, E.NONE]);
  // The Result names the producer: the service writes a transactional batch.
  const last = h.entries.at(-1)!;
  assert.ok(last.kind === 'batch' && last.producerId === 1000);
  // Pending: OffsetFetch shows the last committed offset (or none).
  assert.deepEqual(h.fetch('t', 0), [5n, E.NONE]);
  assert.deepEqual(h.fetch('t', 1), [-1n, E.NONE]);
  assert.deepEqual(h.fetch('t', 0, true), [-1n, E.UNSTABLE_OFFSET_COMMIT]);
  assert.deepEqual(h.fetch('t', 1, true, 7), [-1n, E.UNSTABLE_OFFSET_COMMIT]);
  assert.deepEqual(h.fetch('t', 2, true), [-1n, E.NONE], 'a partition without pending offset is stable');
  // require_stable does not exist before v7.
  assert.deepEqual(h.fetch('t', 0, true, 6), [5n, E.NONE]);
  // All partitions (topics null): committed partitions only, unstable ones flagged (as Kafka's fetchAllOffsets).
  const all = h.coordinator.offsetFetch(h.ctx(8), { groupId: '', topics: null, requireStable: true, groups: [{ groupId: 'g', memberId: null, memberEpoch: -1, topics: null }] });
  assert.deepEqual(all.groups[0]!.topics.map((t) => t.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.errorCode])), [[[0, -1n, E.UNSTABLE_OFFSET_COMMIT]]]);
  assert.equal(h.coordinator.hasPendingOffset('g', 't', 0), true);
  assert.deepEqual(h.coordinator.pendingOffsets('g').map((p) => [p.producerId, p.topic, p.partition, p.offset.offset]), [[1000, 't', 0, 10n], [1000, 't', 1, 20n]]);

  // Another producer's marker changes nothing.
  h.marker(999, true);
  assert.deepEqual(h.fetch('t', 0), [5n, E.NONE]);
  h.marker(1000, true);
  assert.deepEqual(h.fetch('t', 0, true), [10n, E.NONE]);
  assert.deepEqual(h.fetch('t', 1, true), [20n, E.NONE]);
  assert.deepEqual(h.coordinator.pendingOffsets('g'), []);
});

test('an abort marker drops the pending offsets; the committed offset stays', () => {
  const h = new TxnHarness();
  h.commit({ parts: [['t', 0, 5n]] });
  h.txnCommit({ parts: [['t', 0, 10n], ['u', 0, 1n]] });
  h.marker(1000, false);
  assert.deepEqual(h.fetch('t', 0, true), [5n, E.NONE]);
  assert.deepEqual(h.fetch('u', 0, true), [-1n, E.NONE]);
  // A later commit marker of the same producer finds nothing.
  h.marker(1000, true);
  assert.deepEqual(h.fetch('t', 0), [5n, E.NONE]);
});

test('ordering: a plain commit written after the transactional one wins when the transaction commits; one written before loses', () => {
  const h = new TxnHarness();
  h.txnCommit({ parts: [['t', 0, 10n]] });
  h.commit({ parts: [['t', 0, 7n]] }); // after the pending one
  assert.deepEqual(h.fetch('t', 0), [7n, E.NONE]);
  assert.deepEqual(h.fetch('t', 0, true), [-1n, E.UNSTABLE_OFFSET_COMMIT]);
  h.marker(1000, true);
  assert.deepEqual(h.fetch('t', 0), [7n, E.NONE], 'the later plain commit is kept');

  h.commit({ parts: [['t', 1, 3n]] }); // before the pending one
  h.txnCommit({ producerId: 2000n, parts: [['t', 1, 30n]] });
  h.marker(2000, true);
  assert.deepEqual(h.fetch('t', 1), [30n, E.NONE], 'the transactional offset wins over an older commit');

  // Two transactions of different producers on one partition: each commits its own, in record order.
  h.txnCommit({ producerId: 3000n, parts: [['t', 2, 100n]] });
  h.txnCommit({ producerId: 4000n, parts: [['t', 2, 200n]] });
  h.marker(4000, true);
  assert.deepEqual(h.fetch('t', 2, true), [-1n, E.UNSTABLE_OFFSET_COMMIT], 'producer 3000 is still open');
  h.marker(3000, true);
  assert.deepEqual(h.fetch('t', 2, true), [200n, E.NONE], 'the older transactional record does not overwrite the newer');

  // Replaying the log gives the same result.
  const fresh = replayed(h.entries);
  assert.deepEqual(fresh.snapshot(), h.coordinator.snapshot());
});

test('replay: transactional batches are pending, markers commit or abort them, an open transaction stays pending', () => {
  const h = new TxnHarness();
  h.commit({ parts: [['t', 0, 1n]] });
  h.txnCommit({ producerId: 1n, parts: [['t', 0, 10n]] });
  h.marker(1, true);
  h.txnCommit({ producerId: 2n, parts: [['t', 1, 20n]] });
  h.marker(2, false);
  h.txnCommit({ producerId: 3n, parts: [['t', 2, 30n]] });
  h.txnCommit({ producerId: 1n, groupId: 'other', parts: [['t', 0, 40n]] });
  const fresh = replayed(h.entries);
  assert.deepEqual(fresh.snapshot(), h.coordinator.snapshot());
  assert.deepEqual(fresh.fetchOffsets('g', [{ name: 't', partitionIndexes: [0, 1, 2] }], true).flatMap((t) => t.partitions.map((p) => [p.committedOffset, p.errorCode])), [
    [10n, E.NONE],
    [-1n, E.NONE],
    [-1n, E.UNSTABLE_OFFSET_COMMIT],
  ]);
  assert.deepEqual(fresh.pendingOffsets('g').map((p) => [p.producerId, p.partition]), [[3, 2]]);
  // The simple group of a transactional commit exists once its record is applied (as Kafka).
  assert.equal(fresh.groupState('other'), 'Empty');
  assert.deepEqual(fresh.pendingOffsets('other').map((p) => [p.producerId, p.offset.offset]), [[1, 40n]]);
  // The marker arrives after the restart.
  fresh.completeTransaction(3, true);
  assert.deepEqual(fresh.fetchOffsets('g', [{ name: 't', partitionIndexes: [2] }], true)[0]!.partitions[0]!.committedOffset, 30n);
});

test('a marker completes only the groups of its __consumer_offsets partition', () => {
  const h = new TxnHarness();
  h.txnCommit({ groupId: 'a', parts: [['t', 0, 1n]] });
  h.txnCommit({ groupId: 'b', parts: [['t', 0, 2n]] });
  h.coordinator.completeTransaction(1000, true, (g) => g === 'a');
  assert.deepEqual(h.fetch('t', 0, true, 8, 'a'), [1n, E.NONE]);
  assert.deepEqual(h.fetch('t', 0, true, 8, 'b'), [-1n, E.UNSTABLE_OFFSET_COMMIT]);
  h.coordinator.completeTransaction(1000, false, (g) => g === 'b');
  assert.deepEqual(h.fetch('t', 0, true, 8, 'b'), [-1n, E.NONE]);
});

test('TxnOffsetCommit checks: group id, unknown groups, member, instance, generation (not the group state), metadata size', () => {
  const h = new TxnHarness({ offsetMetadataMaxBytes: 5 });
  assert.deepEqual(h.txnCommit({ groupId: '', parts: [['t', 0, 1n]] }), [E.INVALID_GROUP_ID]);
  assert.deepEqual(h.txnCommit({ groupId: 'nope', generationId: 1, memberId: 'm', parts: [['t', 0, 1n]] }), [E.ILLEGAL_GENERATION]);
  assert.equal(h.coordinator.groupState('nope'), null);
  assert.deepEqual(h.txnCommit({ parts: [['t', 0, 1n, '123456'], ['t', 1, 1n, '12345'], ['t', 2, 1n, null]] }), [E.OFFSET_METADATA_TOO_LARGE, E.NONE, E.NONE]);
  assert.deepEqual(h.coordinator.pendingOffsets('g').map((p) => [p.partition, p.offset.metadata]), [[1, '12345'], [2, '']]);

  h.joinDefaults = { sessionTimeoutMs: 60_000 };
  const s = h.stableGroup('s', 2);
  const m = s.leader;
  assert.deepEqual(h.txnCommit({ groupId: 's', generationId: s.generation, memberId: 'ghost', parts: [['t', 0, 1n]] }), [E.UNKNOWN_MEMBER_ID]);
  assert.deepEqual(h.txnCommit({ groupId: 's', generationId: s.generation + 1, memberId: m, parts: [['t', 0, 1n]] }), [E.ILLEGAL_GENERATION]);
  assert.deepEqual(h.txnCommit({ groupId: 's', generationId: s.generation, memberId: m, parts: [['t', 0, 1n]] }), [E.NONE]);
  // v0-2 requests carry neither member nor generation: accepted in a non-empty group (unlike OffsetCommit).
  assert.deepEqual(h.txnCommit({ groupId: 's', parts: [['t', 1, 1n]] }), [E.NONE]);
  assert.deepEqual(h.commit({ groupId: 's', parts: [['t', 1, 1n]] }), [E.UNKNOWN_MEMBER_ID]);
  // A rebalance in progress does not matter (CompletingRebalance is REBALANCE_IN_PROGRESS for OffsetCommit).
  const newcomer = h.memberId('s', 'c9');
  h.join('s', newcomer);
  for (const id of s.ids) h.join('s', id);
  assert.equal(h.coordinator.groupState('s'), 'CompletingRebalance');
  const gen = s.generation + 1;
  assert.deepEqual(h.commit({ groupId: 's', generationIdOrMemberEpoch: gen, memberId: m, parts: [['t', 0, 2n]] }), [E.REBALANCE_IN_PROGRESS]);
  assert.deepEqual(h.txnCommit({ groupId: 's', generationId: gen, memberId: m, parts: [['t', 0, 2n]] }), [E.NONE]);

  // Static member: an old member id for the instance is fenced.
  const sj = h.join('st', '', { groupInstanceId: 'inst' });
  h.settle(sj);
  const old = sj.response!.memberId;
  h.sync('st', old, 1, [{ memberId: old, assignment: Buffer.from('a') }], { groupInstanceId: 'inst' });
  h.join('st', '', { groupInstanceId: 'inst' }); // replaces the member id
  assert.deepEqual(h.txnCommit({ groupId: 'st', generationId: 1, memberId: old, groupInstanceId: 'inst', parts: [['t', 0, 1n]] }), [E.FENCED_INSTANCE_ID]);
  assert.deepEqual(h.txnCommit({ groupId: 'st', generationId: 1, memberId: old, groupInstanceId: 'unknown-inst', parts: [['t', 0, 1n]] }), [E.UNKNOWN_MEMBER_ID]);
});

test('a failed append (e.g. INVALID_PRODUCER_EPOCH from the log) answers the error and leaves nothing pending', () => {
  const h = new TxnHarness();
  h.failAppends = E.INVALID_PRODUCER_EPOCH;
  assert.deepEqual(h.txnCommit({ parts: [['t', 0, 1n], ['t', 1, 1n]] }), [E.INVALID_PRODUCER_EPOCH, E.INVALID_PRODUCER_EPOCH]);
  h.failAppends = E.NOT_LEADER_OR_FOLLOWER;
  assert.deepEqual(h.txnCommit({ parts: [['t', 0, 1n]] }), [E.NOT_COORDINATOR]);
  h.failAppends = null;
  assert.deepEqual(h.coordinator.pendingOffsets('g'), []);
  assert.equal(h.coordinator.groupState('g'), null, 'no simple group for a failed commit');
});

test('deleting a group drops its pending offsets (tombstones also for pending-only partitions); a later commit marker does not resurrect them', () => {
  const h = new TxnHarness();
  h.commit({ parts: [['t', 0, 5n]] });
  h.txnCommit({ parts: [['t', 0, 10n], ['t', 1, 11n]] });
  const res = h.run(h.coordinator.deleteGroups(['g']));
  assert.deepEqual(res, [{ groupId: 'g', errorCode: E.NONE }]);
  const deletion = h.entries.at(-1)!;
  assert.ok(deletion.kind === 'batch');
  const tombstones = deletion.records.map((r) => (r.type === 'offset' ? `${r.topic}-${r.partition}` : r.type));
  assert.deepEqual(tombstones, ['t-0', 't-1', 'group']);
  assert.deepEqual(h.coordinator.pendingOffsets('g'), []);
  h.marker(1000, true);
  assert.equal(h.coordinator.groupState('g'), null);
  assert.deepEqual(h.fetch('t', 0, true), [-1n, E.NONE]);
  assert.deepEqual(replayed(h.entries).snapshot(), h.coordinator.snapshot());
});

test('OffsetDelete writes a tombstone for a pending-only partition, which drops the pending offset', () => {
  const h = new TxnHarness();
  h.txnCommit({ parts: [['t', 0, 10n]] });
  const res = h.run(h.coordinator.offsetDelete(h.ctx(0), { groupId: 'g', topics: [{ name: 't', partitions: [{ partitionIndex: 0 }] }] }));
  assert.equal(res.errorCode, E.NONE);
  assert.deepEqual(h.coordinator.pendingOffsets('g'), []);
  h.marker(1000, true);
  assert.deepEqual(h.fetch('t', 0), [-1n, E.NONE]);
});

test('a marker ends the transaction for a group whose pending offsets were all deleted: the group can expire again', () => {
  const h = new TxnHarness({ offsetsRetentionMs: 60_000, offsetsRetentionCheckIntervalMs: 10_000 });
  h.run(h.coordinator.onLoaded());
  h.txnCommit({ parts: [['t', 0, 10n]] });
  h.run(h.coordinator.offsetDelete(h.ctx(0), { groupId: 'g', topics: [{ name: 't', partitions: [{ partitionIndex: 0 }] }] }));
  h.clock.advance(120_000);
  assert.equal(h.coordinator.groupState('g'), 'Empty', 'the transaction is still open');
  h.marker(1000, false);
  h.clock.advance(20_000);
  assert.equal(h.coordinator.groupState('g'), null);
});

test('expiry keeps an offset with a pending transactional offset, and a group with open transactions', () => {
  const h = new TxnHarness({ offsetsRetentionMs: 60_000, offsetsRetentionCheckIntervalMs: 10_000 });
  h.run(h.coordinator.onLoaded());
  h.commit({ parts: [['t', 0, 5n], ['t', 1, 6n]] });
  h.txnCommit({ parts: [['t', 0, 10n]] });
  h.txnCommit({ groupId: 'only-pending', parts: [['t', 0, 1n]] });
  h.clock.advance(120_000);
  assert.deepEqual(h.fetch('t', 1), [-1n, E.NONE], 't-1 expired');
  assert.deepEqual(h.fetch('t', 0), [5n, E.NONE], 't-0 is kept while a transaction is open on it');
  assert.equal(h.coordinator.groupState('g'), 'Empty');
  assert.equal(h.coordinator.groupState('only-pending'), 'Empty', 'a group with only pending offsets is kept');
  h.marker(1000, true);
  assert.deepEqual(h.fetch('t', 0), [10n, E.NONE]);
  assert.deepEqual(h.fetch('t', 0, true, 8, 'only-pending'), [1n, E.NONE]);
  h.clock.advance(120_000);
  assert.equal(h.coordinator.groupState('g'), null, 'expired once the transaction committed');
  assert.equal(h.coordinator.groupState('only-pending'), null);
});
