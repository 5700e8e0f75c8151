import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../common/errors.ts';
import { ManualClock } from '../../common/clock.ts';
import { GroupCoordinator } from './coordinator.ts';
import { ClassicGroup } from './group.ts';
import { decodeRecord, encodeRecord } from './records.ts';
import { Harness } from './test-helpers.ts';
import { CLASSIC_GROUP_STATES, type ClassicGroupState } from './types.ts';

const E = ErrorCode;

function commit(h: Harness, groupId: string, generation: number, memberId: string, topic: string, partition: number, offset: bigint) {
  return h.run(h.coordinator.offsetCommit(h.ctx(8), {
    groupId, generationIdOrMemberEpoch: generation, memberId, groupInstanceId: null, retentionTimeMs: -1n,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, committedOffset: offset, committedLeaderEpoch: 3, commitTimestamp: -1n, committedMetadata: `m${offset}` }] }],
  }));
}

/** A scenario touching every record kind; every group ends Stable or Empty. */
function scenario(): Harness {
  const h = new Harness();
  h.joinDefaults = { sessionTimeoutMs: 60_000 };
  const a = h.stableGroup('a', 3, ['t', 'u']);
  commit(h, 'a', a.generation, a.leader, 't', 0, 10n);
  commit(h, 'a', a.generation, a.leader, 't', 1, 11n);
  commit(h, 'a', a.generation, a.leader, 't', 0, 12n); // overwritten
  // A member of "a" leaves; the rest rebalance to generation 2 and become Stable again.
  const [, b1, b2] = a.ids as [string, string, string];
  h.run(h.coordinator.leaveGroup(h.ctx(3), { groupId: 'a', memberId: '', members: [{ memberId: a.leader, groupInstanceId: null, reason: null }] }));
  const j1 = h.join('a', b1);
  h.join('a', b2);
  const gen2 = j1.response!.generationId;
  h.sync('a', b2, gen2);
  h.sync('a', b1, gen2, [{ memberId: b1, assignment: Buffer.from('x') }, { memberId: b2, assignment: Buffer.from('y') }]);
  // A static group whose member restarts (member id replaced without rebalance).
  const sj = h.join('s', '', { groupInstanceId: 'inst', clientId: 'sc' });
  h.settle(sj);
  h.sync('s', sj.response!.memberId, 1, [{ memberId: sj.response!.memberId, assignment: Buffer.from('s') }], { groupInstanceId: 'inst' });
  h.join('s', '', { groupInstanceId: 'inst' });
  // A simple group, a deleted group, an offset deletion, and a group emptied by session expiry.
  commit(h, 'simple', -1, '', 'v', 0, 1n);
  commit(h, 'gone', -1, '', 'v', 0, 1n);
  h.run(h.coordinator.deleteGroups(['gone']));
  commit(h, 'simple', -1, '', 'w', 0, 2n);
  h.run(h.coordinator.offsetDelete(h.ctx(0), { groupId: 'simple', topics: [{ name: 'w', partitions: [{ partitionIndex: 0 }] }] }));
  h.joinDefaults = { sessionTimeoutMs: 10_000 };
  const e = h.stableGroup('expired', 1);
  commit(h, 'expired', e.generation, e.leader, 't', 0, 5n);
  for (let t = 0; t < 30_000; t += 5_000) {
    h.clock.advance(5_000);
    h.heartbeat('a', b1, gen2);
    h.heartbeat('a', b2, gen2);
    h.heartbeat('s', h.coordinator.describeGroups(['s'])[0]!.members[0]!.memberId, 1, 'inst');
  }
  assert.equal(h.coordinator.groupState('expired'), 'Empty');
  return h;
}

test('replaying the records of a scenario rebuilds the same durable state', () => {
  const h = scenario();
  const fresh = new GroupCoordinator({ clock: new ManualClock() });
  // Through the byte format, as they would be read back from __consumer_offsets.
  for (const r of h.log) {
    const { key, value } = encodeRecord(r);
    fresh.replay(decodeRecord(key, value));
  }
  const live = h.coordinator.snapshot();
  assert.deepEqual(fresh.snapshot(), live);
  assert.deepEqual(live.map((g) => [g.groupId, g.state]), [['a', 'Stable'], ['expired', 'Empty'], ['s', 'Stable'], ['simple', 'Empty']]);
  assert.equal(live.find((g) => g.groupId === 'a')!.offsets.find((o) => o.partition === 0)!.offset.offset, 12n);
});

test('after loading, members must heartbeat within their session; the loaded generation is accepted', () => {
  const h = new Harness();
  const s = h.stableGroup('g', 2);
  const h2 = new Harness();
  for (const r of h.log) h2.coordinator.replay(r);
  h2.run(h2.coordinator.onLoaded());
  assert.equal(h2.coordinator.groupState('g'), 'Stable');
  assert.equal(h2.heartbeat('g', s.leader, s.generation), E.NONE);
  assert.equal(h2.sync('g', s.ids[1]!, s.generation).response!.assignment.toString(), `assignment-${s.ids[1]}`);
  // Only the leader keeps heartbeating: the other member expires.
  for (let t = 0; t < 10_000; t += 5_000) {
    h2.clock.advance(5_000);
    h2.heartbeat('g', s.leader, s.generation);
  }
  assert.equal(h2.coordinator.groupState('g'), 'PreparingRebalance');
});

test('a loaded group over group.max.size rebalances', () => {
  const h = new Harness();
  h.stableGroup('g', 3);
  const h2 = new Harness({ maxGroupSize: 2 });
  for (const r of h.log) h2.coordinator.replay(r);
  h2.run(h2.coordinator.onLoaded());
  assert.equal(h2.coordinator.groupState('g'), 'PreparingRebalance');
});

test('every legal state transition, and illegal ones refused', () => {
  const legal: [ClassicGroupState, ClassicGroupState][] = [
    ['Empty', 'PreparingRebalance'],
    ['PreparingRebalance', 'Empty'],
    ['PreparingRebalance', 'CompletingRebalance'],
    ['CompletingRebalance', 'Stable'],
    ['CompletingRebalance', 'PreparingRebalance'],
    ['Stable', 'PreparingRebalance'],
    ['Empty', 'Dead'],
    ['PreparingRebalance', 'Dead'],
    ['CompletingRebalance', 'Dead'],
    ['Stable', 'Dead'],
    ['Dead', 'Dead'],
  ];
  const clock = new ManualClock();
  for (const from of CLASSIC_GROUP_STATES) {
    for (const to of CLASSIC_GROUP_STATES) {
      const g = new ClassicGroup('g', clock);
      g.state = from;
      const ok = legal.some(([f, t]) => f === from && t === to);
      if (ok) {
        g.transitionTo(to);
        assert.equal(g.state, to);
        assert.equal(g.previousState, from);
      } else {
        assert.throws(() => g.transitionTo(to), /illegal transition/, `${from} → ${to}`);
      }
    }
  }
});

test('the state machine walks every transition through the API', () => {
  const h = new Harness();
  const seen: string[] = [];
  const note = () => {
    const s = h.coordinator.groupState('g') ?? 'gone';
    if (seen.at(-1) !== s) seen.push(s);
  };
  const a = h.memberId('g'); note(); // Empty
  const ja = h.join('g', a); note(); // → PreparingRebalance
  h.settle(ja); note(); // → CompletingRebalance
  h.join('g', '', { version: 3 }); note(); // new member → PreparingRebalance
  h.run(h.coordinator.leaveGroup(h.ctx(3), { groupId: 'g', memberId: '', members: [{ memberId: a, groupInstanceId: null, reason: null }] }));
  h.clock.advance(300_000); note(); // the new member's join times out → all gone → Empty
  const b = h.memberId('g');
  const jb = h.join('g', b); note(); // Empty → PreparingRebalance
  h.settle(jb); note(); // → CompletingRebalance
  h.sync('g', b, jb.response!.generationId, []); note(); // → Stable
  const jc = h.join('g', '', { version: 3 }); note(); // new member → PreparingRebalance
  const jb2 = h.join('g', b); note(); // everyone joined → CompletingRebalance
  const gen = jb2.response!.generationId;
  assert.equal(gen, jb.response!.generationId + 1);
  h.sync('g', jc.response!.memberId, gen);
  h.sync('g', b, gen, []); note(); // → Stable
  h.run(h.coordinator.leaveGroup(h.ctx(3), { groupId: 'g', memberId: '', members: [b, jc.response!.memberId].map((memberId) => ({ memberId, groupInstanceId: null, reason: null })) })); note(); // → Empty
  const del = h.coordinator.deleteGroups(['g']); note(); // → Dead
  h.run(del); note(); // removed
  assert.deepEqual(seen, [
    'Empty', 'PreparingRebalance', 'CompletingRebalance', 'PreparingRebalance', 'Empty',
    'PreparingRebalance', 'CompletingRebalance', 'Stable', 'PreparingRebalance', 'CompletingRebalance', 'Stable',
    'Empty', 'Dead', 'gone',
  ]);
});
