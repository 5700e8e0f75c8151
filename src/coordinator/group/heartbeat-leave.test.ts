import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../common/errors.ts';
import { Harness } from './test-helpers.ts';

const E = ErrorCode;

function leave(h: Harness, version: number, groupId: string, members: { memberId: string; groupInstanceId?: string | null }[]) {
  return h.run(
    h.coordinator.leaveGroup(h.ctx(version), {
      groupId,
      memberId: version <= 2 ? (members[0]?.memberId ?? '') : '',
      members: members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId ?? null, reason: null })),
    }),
  );
}

test('Heartbeat: NONE when Stable, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, INVALID_GROUP_ID', () => {
  const h = new Harness();
  assert.equal(h.heartbeat('nope', 'm', 1), E.UNKNOWN_MEMBER_ID);
  const s = h.stableGroup('g', 2);
  assert.equal(h.heartbeat('g', s.leader, s.generation), E.NONE);
  assert.equal(h.heartbeat('g', 'stranger', s.generation), E.UNKNOWN_MEMBER_ID);
  assert.equal(h.heartbeat('g', s.leader, s.generation + 1), E.ILLEGAL_GENERATION);
  assert.equal(h.heartbeat('', s.leader, s.generation), E.INVALID_GROUP_ID);
  h.join('g', s.leader); // leader rejoins → rebalance
  const follower = s.ids.find((id) => id !== s.leader)!;
  assert.equal(h.heartbeat('g', follower, s.generation), E.REBALANCE_IN_PROGRESS);
});

test('Heartbeat in CompletingRebalance is accepted (clients heartbeat right after JoinGroup)', () => {
  const h = new Harness();
  const a = h.memberId('g');
  const ja = h.join('g', a);
  h.settle(ja);
  assert.equal(h.coordinator.groupState('g'), 'CompletingRebalance');
  assert.equal(h.heartbeat('g', a, 1), E.NONE);
});

test('session timeout: a member that stops heartbeating is removed and the group rebalances', () => {
  const h = new Harness();
  const s = h.stableGroup('g', 2);
  const follower = s.ids.find((id) => id !== s.leader)!;
  // Only the leader heartbeats.
  for (let i = 0; i < 3; i++) {
    h.clock.advance(4_000);
    assert.equal(h.heartbeat('g', s.leader, s.generation), i < 2 ? E.NONE : E.REBALANCE_IN_PROGRESS);
  }
  assert.equal(h.coordinator.groupState('g'), 'PreparingRebalance');
  const j = h.join('g', s.leader);
  assert.equal(j.response!.generationId, s.generation + 1);
  assert.deepEqual(j.response!.members.map((m) => m.memberId), [s.leader]);
  assert.equal(h.heartbeat('g', follower, s.generation), E.UNKNOWN_MEMBER_ID);
});

test('the last member timing out empties the group (GroupMetadata without members is written)', () => {
  const h = new Harness();
  const s = h.stableGroup('g', 1);
  const before = h.log.length;
  h.clock.advance(10_000);
  assert.equal(h.coordinator.groupState('g'), 'Empty');
  const rec = h.log.slice(before).at(-1)!;
  assert.ok(rec.type === 'group' && rec.value);
  assert.equal(rec.value.members.length, 0);
  assert.equal(rec.value.generation, s.generation + 1);
  assert.equal(rec.value.protocol, null);
  assert.equal(rec.value.protocolType, 'consumer');
});

test('LeaveGroup v0-2: one member, top-level error; leaving triggers a rebalance', () => {
  const h = new Harness();
  const s = h.stableGroup('g', 2);
  const follower = s.ids.find((id) => id !== s.leader)!;
  assert.deepEqual(leave(h, 1, 'g', [{ memberId: 'stranger' }]), { throttleTimeMs: 0, errorCode: E.UNKNOWN_MEMBER_ID, members: [] });
  assert.equal(leave(h, 2, 'g', [{ memberId: follower }]).errorCode, E.NONE);
  assert.equal(h.coordinator.groupState('g'), 'PreparingRebalance');
  assert.equal(leave(h, 0, 'nope', [{ memberId: 'm' }]).errorCode, E.UNKNOWN_MEMBER_ID);
});

test('LeaveGroup v3+: batch with per-member errors; the leader leaving re-elects; the last leaving empties', () => {
  const h = new Harness();
  const s = h.stableGroup('g', 3);
  const [a, b, c] = s.ids as [string, string, string];
  const res = leave(h, 3, 'g', [{ memberId: a }, { memberId: 'stranger' }, { memberId: '', groupInstanceId: 'unknown-instance' }]);
  assert.equal(res.errorCode, E.NONE);
  assert.deepEqual(res.members.map((m) => [m.memberId, m.errorCode]), [[a, E.NONE], ['stranger', E.UNKNOWN_MEMBER_ID], ['', E.UNKNOWN_MEMBER_ID]]);
  assert.equal(h.coordinator.groupState('g'), 'PreparingRebalance');
  const jb = h.join('g', b);
  const jc = h.join('g', c);
  assert.equal(jb.response!.leader, b); // a (leader) left: the first remaining member leads
  assert.equal(jc.response!.generationId, s.generation + 1);
  const res2 = leave(h, 4, 'g', [{ memberId: b }, { memberId: c }]);
  assert.deepEqual(res2.members.map((m) => m.errorCode), [E.NONE, E.NONE]);
  assert.equal(h.coordinator.groupState('g'), 'Empty');
  assert.equal(h.coordinator.describeGroups(['g'])[0]!.members.length, 0);
});

test('LeaveGroup of a member parked in JoinGroup answers it UNKNOWN_MEMBER_ID; a pending member can leave', () => {
  const h = new Harness();
  const s = h.stableGroup('g', 2);
  const follower = s.ids.find((id) => id !== s.leader)!;
  const jl = h.join('g', s.leader); // parked: the follower has not rejoined
  assert.equal(jl.response, undefined);
  const pending = h.memberId('g', 'p');
  assert.equal(leave(h, 3, 'g', [{ memberId: pending }]).members[0]!.errorCode, E.NONE);
  assert.equal(jl.response, undefined);
  leave(h, 3, 'g', [{ memberId: s.leader }]);
  assert.equal(jl.response!.errorCode, E.UNKNOWN_MEMBER_ID);
  // Only the follower remains, not rejoined: the join phase waits for it.
  const jf = h.join('g', follower);
  assert.equal(jf.response!.leader, follower);
});
