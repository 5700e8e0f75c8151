import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../common/errors.ts';
import { Harness, subscription } from './test-helpers.ts';

const E = ErrorCode;

test('first join without member id from v4: MEMBER_ID_REQUIRED with clientId-uuid, the member is pending', () => {
  const h = new Harness();
  const r = h.join('g', '', { clientId: 'app' });
  assert.equal(r.calls, 1);
  assert.equal(r.response!.errorCode, E.MEMBER_ID_REQUIRED);
  assert.equal(r.response!.memberId, 'app-uuid1');
  assert.equal(h.coordinator.groupState('g'), 'Empty');
  // The new group was made durable with an empty GroupMetadata record.
  assert.deepEqual(h.log.map((x) => x.type), ['group']);
});

test('join below v4 gets a member id at once; the initial rebalance delay then completes the join', () => {
  const h = new Harness();
  const r = h.join('g', '', { version: 3, clientId: 'old' });
  assert.equal(r.response, undefined); // parked
  assert.equal(h.coordinator.groupState('g'), 'PreparingRebalance');
  h.clock.advance(2999);
  assert.equal(r.response, undefined);
  h.clock.advance(1);
  assert.equal(r.response!.errorCode, E.NONE);
  assert.equal(r.response!.memberId, 'old-uuid1');
  assert.equal(r.response!.generationId, 1);
  assert.equal(r.response!.leader, 'old-uuid1');
  assert.equal(r.response!.protocolName, 'range');
  assert.equal(r.response!.members.length, 1);
  assert.equal(h.coordinator.groupState('g'), 'CompletingRebalance');
});

test('JoinGroup below v7 answers protocolName "" instead of null', () => {
  const h = new Harness();
  const r = h.join('g', 'nobody', { version: 5 });
  assert.equal(r.response!.errorCode, E.UNKNOWN_MEMBER_ID);
  assert.equal(r.response!.protocolName, '');
  const r7 = h.join('g', 'nobody', { version: 7 });
  assert.equal(r7.response!.protocolName, null);
});

test('initial delay is extended while members keep joining, bounded by the rebalance timeout', () => {
  const h = new Harness({ initialRebalanceDelayMs: 3000 });
  const a = h.memberId('g');
  const ja = h.join('g', a, { rebalanceTimeoutMs: 10_000 });
  h.clock.advance(2000);
  const b = h.memberId('g');
  const jb = h.join('g', b, { rebalanceTimeoutMs: 10_000 });
  h.clock.advance(1000); // first delay ends: a member was added → wait again
  assert.equal(ja.response, undefined);
  h.clock.advance(2999);
  assert.equal(ja.response, undefined);
  h.clock.advance(1);
  assert.equal(ja.response!.errorCode, E.NONE);
  assert.equal(jb.response!.errorCode, E.NONE);
  assert.equal(ja.response!.generationId, 1);
  assert.equal(ja.response!.leader, a);
  assert.equal(ja.response!.members.length, 2); // leader gets the members
  assert.equal(jb.response!.members.length, 0);
});

test('a pending member (MEMBER_ID_REQUIRED) holds the join phase until it joins or its session expires', () => {
  const h = new Harness();
  const s = h.stableGroup('g', 1);
  const p = h.join('g', '', { clientId: 'late' }); // pending member
  assert.equal(p.response!.errorCode, E.MEMBER_ID_REQUIRED);
  // The leader rejoins: rebalance, but the pending member has not joined yet.
  const jl = h.join('g', s.leader);
  assert.equal(h.coordinator.groupState('g'), 'PreparingRebalance');
  assert.equal(jl.response, undefined);
  h.clock.advance(10_000); // the pending member's session timeout
  assert.equal(jl.response!.errorCode, E.NONE);
  assert.equal(jl.response!.generationId, s.generation + 1);
});

test('protocol selection: the common protocol with most votes; INCONSISTENT_GROUP_PROTOCOL otherwise', () => {
  const h = new Harness();
  const a = h.memberId('g');
  const b = h.memberId('g');
  const c = h.memberId('g');
  const meta = subscription(['t']);
  const ja = h.join('g', a, { protocols: [{ name: 'range', metadata: meta }, { name: 'sticky', metadata: meta }] });
  h.join('g', b, { protocols: [{ name: 'sticky', metadata: meta }, { name: 'range', metadata: meta }] });
  h.join('g', c, { protocols: [{ name: 'roundrobin', metadata: meta }, { name: 'sticky', metadata: meta }, { name: 'range', metadata: meta }] });
  // A member supporting none of the common protocols is refused.
  const d = h.memberId('g');
  const jd = h.join('g', d, { protocols: [{ name: 'other', metadata: meta }] });
  assert.equal(jd.response!.errorCode, E.INCONSISTENT_GROUP_PROTOCOL);
  // A different protocol type is refused too.
  const je = h.join('g', '', { protocolType: 'connect' });
  assert.equal(je.response!.errorCode, E.INCONSISTENT_GROUP_PROTOCOL);
  h.settle(ja);
  // Votes: a → range, b → sticky, c → sticky (roundrobin is not common).
  assert.equal(ja.response!.protocolName, 'sticky');
  assert.equal(ja.response!.protocolType, 'consumer');
  // An empty protocol type or list is refused for an Empty group.
  const h2 = new Harness();
  assert.equal(h2.join('g', '', { protocolType: '' }).response!.errorCode, E.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal(h2.join('g', '', { protocols: [] }).response!.errorCode, E.INCONSISTENT_GROUP_PROTOCOL);
});

test('INVALID_SESSION_TIMEOUT, INVALID_GROUP_ID and UNKNOWN_MEMBER_ID for a member id in an unknown group', () => {
  const h = new Harness();
  assert.equal(h.join('g', '', { sessionTimeoutMs: 5999 }).response!.errorCode, E.INVALID_SESSION_TIMEOUT);
  assert.equal(h.join('g', '', { sessionTimeoutMs: 1_800_001 }).response!.errorCode, E.INVALID_SESSION_TIMEOUT);
  assert.equal(h.join('g', '', { sessionTimeoutMs: 6000 }).response!.errorCode, E.MEMBER_ID_REQUIRED);
  assert.equal(h.join('', '').response!.errorCode, E.INVALID_GROUP_ID);
  const r = h.join('unknown', 'm-1');
  assert.equal(r.response!.errorCode, E.UNKNOWN_MEMBER_ID);
  assert.equal(r.response!.memberId, 'm-1');
  assert.equal(h.coordinator.groupState('unknown'), null);
  // A made-up member id in an existing group.
  assert.equal(h.join('g', 'made-up').response!.errorCode, E.UNKNOWN_MEMBER_ID);
});

test('GROUP_MAX_SIZE_REACHED: new members beyond group.max.size are refused', () => {
  const h = new Harness({ maxGroupSize: 2 });
  const s = h.stableGroup('g', 2);
  const c = h.join('g', '', { version: 3 });
  assert.equal(c.response!.errorCode, E.GROUP_MAX_SIZE_REACHED);
  assert.equal(c.response!.memberId, '');
  // Existing members may still rejoin.
  const r = h.join('g', s.leader);
  assert.equal(r.calls, 0);
  assert.equal(h.coordinator.groupState('g'), 'PreparingRebalance');
  // While rebalancing, a third new member is refused only once two are awaiting join.
  const other = s.ids.find((id) => id !== s.leader)!;
  h.join('g', other);
  assert.equal(h.join('g', '', { version: 3 }).response!.errorCode, E.GROUP_MAX_SIZE_REACHED);
});

test('rebalance timeout: members that do not rejoin are removed, generation increments', () => {
  const h = new Harness();
  const s = h.stableGroup('g', 3);
  assert.equal(s.generation, 1);
  const [a, b, c] = s.ids as [string, string, string];
  const ja = h.join('g', a, { rebalanceTimeoutMs: 30_000 }); // leader rejoins → rebalance
  assert.equal(h.coordinator.groupState('g'), 'PreparingRebalance');
  // b keeps heartbeating (REBALANCE_IN_PROGRESS) but never rejoins; c rejoins late.
  assert.equal(h.heartbeat('g', b, 1), E.REBALANCE_IN_PROGRESS);
  let jc;
  for (let i = 1; i <= 5; i++) {
    h.clock.advance(5_000);
    assert.equal(h.heartbeat('g', b, 1), E.REBALANCE_IN_PROGRESS);
    if (i === 1) jc = h.join('g', c);
  }
  h.clock.advance(4_999);
  assert.equal(ja.response, undefined);
  h.clock.advance(1);
  assert.equal(ja.response!.errorCode, E.NONE);
  assert.equal(ja.response!.generationId, 2);
  assert.deepEqual(ja.response!.members.map((m) => m.memberId), [a, c]);
  assert.equal(jc!.response!.generationId, 2);
  assert.equal(h.heartbeat('g', b, 1), E.UNKNOWN_MEMBER_ID);
});

test('the leader is re-elected among rejoined members when it does not rejoin', () => {
  const h = new Harness();
  const s = h.stableGroup('g', 2);
  const follower = s.ids.find((id) => id !== s.leader)!;
  const jf = h.join('g', follower, { topics: ['t', 'u'] }); // new metadata → rebalance
  h.clock.advance(30_000);
  assert.equal(jf.response!.leader, follower);
  assert.equal(jf.response!.members.length, 1);
});

test('rejoin with the same metadata in CompletingRebalance or Stable answers the current generation', () => {
  const h = new Harness();
  const a = h.memberId('g');
  const b = h.memberId('g');
  const ja = h.join('g', a);
  h.join('g', b);
  h.settle(ja);
  assert.equal(h.coordinator.groupState('g'), 'CompletingRebalance');
  const again = h.join('g', a);
  assert.equal(again.response!.generationId, 1);
  assert.equal(again.response!.members.length, 2); // the leader gets the members again
  assert.equal(h.coordinator.groupState('g'), 'CompletingRebalance');
  // Changed metadata during CompletingRebalance forces a rebalance.
  const changed = h.join('g', b, { topics: ['other'] });
  assert.equal(changed.calls, 0);
  assert.equal(h.coordinator.groupState('g'), 'PreparingRebalance');
  h.join('g', a);
  assert.equal(changed.response!.generationId, 2);
  const sync = h.sync('g', b, 2);
  h.sync('g', a, 2, []);
  assert.equal(sync.response!.errorCode, E.NONE);
  assert.equal(h.coordinator.groupState('g'), 'Stable');
  // Stable: a follower with the same metadata just gets the generation; no rebalance.
  const f = h.join('g', b, { topics: ['other'] });
  assert.equal(f.response!.generationId, 2);
  assert.equal(f.response!.members.length, 0);
  assert.equal(h.coordinator.groupState('g'), 'Stable');
  // The leader rejoining forces a rebalance even with the same metadata.
  h.join('g', a);
  assert.equal(h.coordinator.groupState('g'), 'PreparingRebalance');
});

test('a new member joining a Stable group triggers a rebalance with no initial delay', () => {
  const h = new Harness();
  const s = h.stableGroup('g', 2);
  const n = h.memberId('g', 'new');
  const jn = h.join('g', n, { clientId: 'new' });
  assert.equal(h.coordinator.groupState('g'), 'PreparingRebalance');
  const joins = s.ids.map((id) => h.join('g', id));
  // All members rejoined: the join phase completes at once.
  assert.equal(jn.response!.generationId, 2);
  for (const j of joins) assert.equal(j.response!.generationId, 2);
  assert.equal(h.coordinator.groupState('g'), 'CompletingRebalance');
});

test("a new member's parked join expires after the new-member join timeout", () => {
  const h = new Harness({ newMemberJoinTimeoutMs: 300_000 });
  const s = h.stableGroup('g', 1);
  const n = h.memberId('g', 'new');
  const jn = h.join('g', n, { rebalanceTimeoutMs: 600_000 });
  // The old member never rejoins but keeps heartbeating.
  for (let t = 0; t < 300_000; t += 5_000) {
    h.clock.advance(5_000);
    h.heartbeat('g', s.leader, 1);
  }
  assert.equal(jn.response!.errorCode, E.UNKNOWN_MEMBER_ID);
  assert.equal(jn.response!.memberId, '');
});

test('a member in an Empty group with a member id: UNKNOWN_MEMBER_ID', () => {
  const h = new Harness();
  const s = h.stableGroup('g', 1);
  h.run(h.coordinator.leaveGroup(h.ctx(3), { groupId: 'g', memberId: '', members: [{ memberId: s.leader, groupInstanceId: null, reason: null }] }));
  assert.equal(h.coordinator.groupState('g'), 'Empty');
  assert.equal(h.join('g', s.leader).response!.errorCode, E.UNKNOWN_MEMBER_ID);
});

test('a new group whose record fails to append is gone; each continuation is called once', () => {
  const h = new Harness();
  h.failAppends = E.NOT_LEADER_OR_FOLLOWER;
  const r = h.join('g', '', { clientId: 'x' });
  assert.equal(r.calls, 1);
  assert.equal(r.response!.errorCode, E.MEMBER_ID_REQUIRED); // answered first; the failure is not sent twice
  assert.equal(h.coordinator.groupState('g'), null);
  const parked = h.join('g2', '', { version: 3 });
  assert.equal(parked.calls, 1);
  assert.equal(parked.response!.errorCode, E.NOT_COORDINATOR);
  assert.equal(h.coordinator.groupState('g2'), null);
  h.failAppends = null;
  h.clock.advance(10_000); // no timers left behind
  assert.equal(parked.calls, 1);
});
