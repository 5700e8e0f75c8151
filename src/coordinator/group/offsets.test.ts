import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../common/errors.ts';
import type { OffsetCommitRequest } from '../../protocol/messages/offset-commit-request.generated.ts';
import { Harness } from './test-helpers.ts';

const E = ErrorCode;

function commit(
  h: Harness,
  fields: Partial<OffsetCommitRequest> & { version?: number; parts?: [string, number, bigint, (string | null)?, number?][] },
) {
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
    const byTopic = new Map<string, OffsetCommitRequest['topics'][number]>();
    for (const [topic, partition, offset, metadata, epoch] of fields.parts) {
      if (!byTopic.has(topic)) byTopic.set(topic, { name: topic, partitions: [] });
      byTopic.get(topic)!.partitions.push({
        partitionIndex: partition,
        committedOffset: offset,
        committedLeaderEpoch: epoch ?? -1,
        commitTimestamp: -1n,
        committedMetadata: metadata === undefined ? '' : metadata,
      });
    }
    req.topics = [...byTopic.values()];
  }
  const res = h.run(h.coordinator.offsetCommit(h.ctx(fields.version ?? 8), req));
  return res.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));
}

function fetchAll(h: Harness, groupId = 'g') {
  return h.coordinator.offsetFetch(h.ctx(8), { groupId: '', topics: null, requireStable: false, groups: [{ groupId, memberId: null, memberEpoch: -1, topics: null }] }).groups[0]!;
}

test('simple commits (generation -1, no member) create a simple group; fetch returns offset, epoch and metadata', () => {
  const h = new Harness();
  assert.deepEqual(commit(h, { parts: [['t', 0, 10n, 'meta', 5], ['t', 1, 20n, null], ['u', 0, 30n]] }), [0, 0, 0]);
  assert.equal(h.coordinator.groupState('g'), 'Empty');
  const all = fetchAll(h);
  assert.equal(all.errorCode, E.NONE);
  assert.deepEqual(
    all.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.committedLeaderEpoch, p.metadata])]),
    [
      ['t', [[0, 10n, 5, 'meta'], [1, 20n, -1, '']]],
      ['u', [[0, 30n, -1, '']]],
    ],
  );
  // The record is OffsetCommitValue v3-shaped with the commit time.
  const rec = h.log[0]!;
  assert.ok(rec.type === 'offset' && rec.value);
  assert.equal(rec.value.commitTimestamp, h.clock.now());
  assert.equal(rec.value.expireTimestamp, -1);
  // Specific partitions: unknown ones are -1 with empty metadata; v0-7 shape.
  const v7 = h.coordinator.offsetFetch(h.ctx(7), { groupId: 'g', topics: [{ name: 't', partitionIndexes: [0, 9] }], requireStable: true, groups: [] });
  assert.deepEqual(v7.topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata]), [[0, 10n, 'meta'], [9, -1n, '']]);
  assert.equal(v7.errorCode, E.NONE);
  // Unknown group: all → nothing; specific → -1.
  assert.deepEqual(fetchAll(h, 'other').topics, []);
  const v1 = h.coordinator.offsetFetch(h.ctx(1), { groupId: 'other', topics: [{ name: 't', partitionIndexes: [0] }], requireStable: false, groups: [] });
  assert.equal(v1.topics[0]!.partitions[0]!.committedOffset, -1n);
});

test('OFFSET_METADATA_TOO_LARGE per partition (length > offset.metadata.max.bytes), others committed', () => {
  const h = new Harness({ offsetMetadataMaxBytes: 4 });
  assert.deepEqual(commit(h, { parts: [['t', 0, 1n, 'abcd'], ['t', 1, 2n, 'abcde']] }), [E.NONE, E.OFFSET_METADATA_TOO_LARGE]);
  assert.deepEqual(fetchAll(h).topics[0]!.partitions.map((p) => p.partitionIndex), [0]);
});

test('group commits: generation and member checks', () => {
  const h = new Harness();
  const s = h.stableGroup('g', 2);
  const ok = commit(h, { generationIdOrMemberEpoch: s.generation, memberId: s.leader, parts: [['t', 0, 5n]] });
  assert.deepEqual(ok, [E.NONE]);
  assert.deepEqual(commit(h, { generationIdOrMemberEpoch: s.generation + 1, memberId: s.leader, parts: [['t', 0, 5n]] }), [E.ILLEGAL_GENERATION]);
  assert.deepEqual(commit(h, { generationIdOrMemberEpoch: s.generation, memberId: 'stranger', parts: [['t', 0, 5n]] }), [E.UNKNOWN_MEMBER_ID]);
  // A simple commit into a non-empty group.
  assert.deepEqual(commit(h, { parts: [['t', 0, 5n]] }), [E.UNKNOWN_MEMBER_ID]);
  assert.deepEqual(commit(h, { generationIdOrMemberEpoch: -1, memberId: s.leader, parts: [['t', 0, 5n]] }), [E.ILLEGAL_GENERATION]);
  // The empty group id is a group like any other for offsets (Kafka keeps it for compatibility).
  assert.deepEqual(commit(h, { groupId: '', parts: [['t', 0, 5n]] }), [E.NONE]);
  assert.equal(fetchAll(h, '').topics[0]!.partitions[0]!.committedOffset, 5n);
  // Unknown group with a generation: ILLEGAL_GENERATION before v9, GROUP_ID_NOT_FOUND from v9.
  assert.deepEqual(commit(h, { groupId: 'x', generationIdOrMemberEpoch: 1, memberId: 'm', parts: [['t', 0, 1n]] }), [E.ILLEGAL_GENERATION]);
  assert.deepEqual(commit(h, { version: 9, groupId: 'x', generationIdOrMemberEpoch: 1, memberId: 'm', parts: [['t', 0, 1n]] }), [E.GROUP_ID_NOT_FOUND]);
  // REBALANCE_IN_PROGRESS in CompletingRebalance.
  const n = h.memberId('g', 'n');
  h.join('g', n);
  const joins = s.ids.map((id) => h.join('g', id));
  const gen2 = joins[0]!.response!.generationId;
  assert.equal(h.coordinator.groupState('g'), 'CompletingRebalance');
  assert.deepEqual(commit(h, { generationIdOrMemberEpoch: gen2, memberId: n, parts: [['t', 0, 5n]] }), [E.REBALANCE_IN_PROGRESS]);
});

test('a static member commit with a stale member id is FENCED_INSTANCE_ID', () => {
  const h = new Harness();
  const j = h.join('g', '', { groupInstanceId: 'i' });
  h.settle(j);
  const id = j.response!.memberId;
  h.sync('g', id, 1, [], { groupInstanceId: 'i' });
  assert.deepEqual(commit(h, { generationIdOrMemberEpoch: 1, memberId: 'old', groupInstanceId: 'i', parts: [['t', 0, 1n]] }), [E.FENCED_INSTANCE_ID]);
  assert.deepEqual(commit(h, { generationIdOrMemberEpoch: 1, memberId: id, groupInstanceId: 'i', parts: [['t', 0, 1n]] }), [E.NONE]);
});

test('a commit keeps the member session alive in Stable', () => {
  const h = new Harness();
  const s = h.stableGroup('g', 1);
  for (let i = 0; i < 5; i++) {
    h.clock.advance(8_000);
    assert.deepEqual(commit(h, { generationIdOrMemberEpoch: s.generation, memberId: s.leader, parts: [['t', 0, BigInt(i)]] }), [E.NONE]);
  }
  assert.equal(h.coordinator.groupState('g'), 'Stable');
});

test('a failed append answers the mapped error and commits nothing', () => {
  const h = new Harness();
  h.failAppends = E.MESSAGE_TOO_LARGE;
  assert.deepEqual(commit(h, { parts: [['t', 0, 1n]] }), [E.UNKNOWN_SERVER_ERROR]);
  h.failAppends = E.NOT_LEADER_OR_FOLLOWER;
  assert.deepEqual(commit(h, { parts: [['t', 0, 1n]] }), [E.NOT_COORDINATOR]);
  assert.deepEqual(fetchAll(h).topics, []);
});

test('offsets are visible only once durable (complete), not when the records are produced', () => {
  const h = new Harness();
  const result = h.coordinator.offsetCommit(h.ctx(8), {
    groupId: 'g', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n,
    topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 7n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: null }] }],
  });
  assert.deepEqual(fetchAll(h).topics, []);
  result.complete(null);
  assert.equal(fetchAll(h).topics[0]!.partitions[0]!.committedOffset, 7n);
});

test('OffsetDelete: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, GROUP_SUBSCRIBED_TO_TOPIC, tombstones', () => {
  const h = new Harness();
  const del = (groupId: string, topics: [string, number[]][]) =>
    h.run(h.coordinator.offsetDelete(h.ctx(0), { groupId, topics: topics.map(([name, ps]) => ({ name, partitions: ps.map((p) => ({ partitionIndex: p })) })) }));
  assert.equal(del('nope', [['t', [0]]]).errorCode, E.GROUP_ID_NOT_FOUND);
  commit(h, { parts: [['t', 0, 1n], ['t', 1, 2n], ['u', 0, 3n]] });
  // A consumer group subscribed to "t" (and not "u").
  const s = h.stableGroup('g', 1, ['t']);
  const res = del('g', [['t', [0]], ['u', [0, 5]]]);
  assert.equal(res.errorCode, E.NONE);
  assert.deepEqual(res.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode])]), [
    ['t', [[0, E.GROUP_SUBSCRIBED_TO_TOPIC]]],
    ['u', [[0, E.NONE], [5, E.NONE]]],
  ]);
  assert.deepEqual(h.log.at(-1), { type: 'offset', groupId: 'g', topic: 'u', partition: 0, value: null });
  assert.deepEqual(fetchAll(h).topics.map((t) => t.name), ['t']);
  // A non-consumer protocol group that is not empty: NON_EMPTY_GROUP.
  const j = h.join('connect-g', '', { protocolType: 'connect', version: 3 });
  h.settle(j);
  assert.equal(del('connect-g', [['t', [0]]]).errorCode, E.NON_EMPTY_GROUP);
  void s;
});

test('offset expiration: Empty groups after retention since they became Empty; simple groups since the commit', () => {
  const day = 24 * 60 * 60 * 1000;
  const h = new Harness({ offsetsRetentionMs: 7 * day });
  h.run(h.coordinator.onLoaded());
  commit(h, { groupId: 'simple', parts: [['t', 0, 1n]] });
  const s = h.stableGroup('g', 1);
  assert.deepEqual(commit(h, { generationIdOrMemberEpoch: s.generation, memberId: s.leader, parts: [['t', 0, 9n], ['old', 0, 1n]] }), [0, 0]);
  // The consumer keeps heartbeating for 8 days: offsets of the Stable group stay (only "old",
  // a topic it does not subscribe to, expires); the simple group's offsets expire.
  for (let t = 0; t < 8 * day; t += 5_000) {
    h.clock.advance(5_000);
    h.heartbeat('g', s.leader, s.generation);
  }
  assert.equal(h.coordinator.groupState('simple'), null); // offsets and then the group removed
  assert.deepEqual(fetchAll(h).topics.map((t) => t.name), ['t']);
  // The member leaves: 7 days after the group became Empty, its offsets expire and it is removed.
  h.run(h.coordinator.leaveGroup(h.ctx(3), { groupId: 'g', memberId: '', members: [{ memberId: s.leader, groupInstanceId: null, reason: null }] }));
  h.clock.advance(6 * day);
  assert.equal(fetchAll(h).topics.length, 1);
  h.clock.advance(day - 600_000);
  assert.equal(fetchAll(h).topics.length, 1);
  h.clock.advance(600_000); // 7 days; the check runs every offsets.retention.check.interval.ms
  h.clock.advance(600_000);
  assert.deepEqual(fetchAll(h).topics, []);
  assert.equal(h.coordinator.groupState('g'), null);
});

test('offsets of a group retained elsewhere (an active KIP-848 group) do not expire until it is released', () => {
  const day = 24 * 60 * 60 * 1000;
  const active = new Set(['kip848']);
  const h = new Harness({ offsetsRetentionMs: 7 * day }, (id) => active.has(id));
  h.run(h.coordinator.onLoaded());
  commit(h, { groupId: 'kip848', parts: [['t', 0, 5n]] });
  commit(h, { groupId: 'plain', parts: [['t', 0, 5n]] });
  h.clock.advance(8 * day);
  assert.equal(h.coordinator.groupState('plain'), null, 'the simple group expired');
  const committed = (groupId: string) => fetchAll(h, groupId).topics.flatMap((t) => t.partitions.map((p) => p.committedOffset));
  assert.deepEqual(committed('kip848'), [5n], 'the retained group kept its offset');
  active.delete('kip848'); // its last member left
  h.clock.advance(600_000);
  assert.deepEqual(committed('kip848'), []);
});

test('an explicit retention (OffsetCommit v2-4) writes OffsetCommitValue v1 and expires at that time', () => {
  const h = new Harness();
  h.run(h.coordinator.onLoaded());
  commit(h, { version: 2, retentionTimeMs: 60_000n, parts: [['t', 0, 1n]] });
  const rec = h.log[0]!;
  assert.ok(rec.type === 'offset' && rec.value);
  assert.equal(rec.value.expireTimestamp, h.clock.now() + 60_000);
  h.clock.advance(600_000); // the next expiration check
  assert.deepEqual(fetchAll(h).topics, []);
});

test('OffsetDelete: a consumer group whose subscriptions cannot be parsed counts as subscribed to every topic', () => {
  const h = new Harness();
  h.run(h.coordinator.offsetCommit(h.ctx(8), {
    groupId: 'g', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n,
    topics: [{ name: 'x', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' }] }],
  }));
  const j = h.join('g', '', { version: 3, protocols: [{ name: 'range', metadata: Buffer.from([0xff]) }] });
  h.settle(j);
  const res = h.run(h.coordinator.offsetDelete(h.ctx(0), { groupId: 'g', topics: [{ name: 'x', partitions: [{ partitionIndex: 0 }] }] }));
  assert.equal(res.topics[0]!.partitions[0]!.errorCode, E.GROUP_SUBSCRIBED_TO_TOPIC);
});

test('a failed simple commit leaves no group behind', () => {
  const h = new Harness();
  h.failAppends = E.NOT_LEADER_OR_FOLLOWER;
  assert.deepEqual(commit(h, { parts: [['t', 0, 1n]] }), [E.NOT_COORDINATOR]);
  assert.equal(h.coordinator.groupState('g'), null);
  h.failAppends = null;
  assert.deepEqual(commit(h, { parts: [['t', 0, 1n]] }), [E.NONE]);
  assert.equal(h.coordinator.groupState('g'), 'Empty');
});

test('OffsetFetch shapes: v2-7 null topics = all; v8+ several groups, each all or specific', () => {
  const h = new Harness();
  commit(h, { groupId: 'a', parts: [['t', 0, 1n]] });
  commit(h, { groupId: 'b', parts: [['u', 2, 7n, 'x']] });
  const v2 = h.coordinator.offsetFetch(h.ctx(2), { groupId: 'a', topics: null, requireStable: false, groups: [] });
  assert.deepEqual(v2.topics.map((t) => [t.name, t.partitions.map((p) => p.committedOffset)]), [['t', [1n]]]);
  assert.deepEqual(v2.groups, []);
  const v9 = h.coordinator.offsetFetch(h.ctx(9), {
    groupId: '', topics: null, requireStable: true,
    groups: [
      { groupId: 'a', memberId: null, memberEpoch: -1, topics: null },
      { groupId: 'b', memberId: null, memberEpoch: -1, topics: [{ name: 'u', partitionIndexes: [2, 3] }] },
      { groupId: 'c', memberId: null, memberEpoch: -1, topics: null },
    ],
  });
  assert.deepEqual(v9.topics, []);
  assert.deepEqual(
    v9.groups.map((g) => [g.groupId, g.errorCode, g.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata])])]),
    [
      ['a', 0, [['t', [[0, 1n, '']]]]],
      ['b', 0, [['u', [[2, 7n, 'x'], [3, -1n, '']]]]],
      ['c', 0, []],
    ],
  );
});
