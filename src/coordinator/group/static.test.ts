import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../common/errors.ts';
import { Harness, subscription } from './test-helpers.ts';

const E = ErrorCode;
const meta = subscription(['t']);
const rangeSticky = [{ name: 'range', metadata: meta }, { name: 'sticky', metadata: meta }];

/** A Stable group of static members i0..i(n-1). */
function staticGroup(h: Harness, n: number) {
  const joins = Array.from({ length: n }, (_, i) => h.join('g', '', { groupInstanceId: `i${i}`, clientId: `c${i}`, protocols: rangeSticky }));
  const first = h.settle(joins[0]!);
  const ids = joins.map((j) => j.response!.memberId);
  const gen = first.generationId;
  const followers = ids.slice(1).map((id, i) => h.sync('g', id, gen, [], { groupInstanceId: `i${i + 1}` }));
  h.sync('g', ids[0]!, gen, ids.map((id) => ({ memberId: id, assignment: Buffer.from(`A-${id}`) })), { groupInstanceId: 'i0' });
  for (const f of followers) assert.equal(f.response!.errorCode, E.NONE);
  assert.equal(h.coordinator.groupState('g'), 'Stable');
  return { ids, gen };
}

test('a static member joins without MEMBER_ID_REQUIRED and gets "<group.instance.id>-<uuid>"', () => {
  const h = new Harness();
  const { ids } = staticGroup(h, 2);
  assert.deepEqual(ids, ['i0-uuid1', 'i1-uuid2']);
});

test('a static member restarting with unchanged protocols replaces its member id without a rebalance', () => {
  const h = new Harness();
  const { ids, gen } = staticGroup(h, 2);
  const before = h.log.length;
  const r = h.join('g', '', { groupInstanceId: 'i1', protocols: rangeSticky, version: 8 });
  assert.equal(r.response!.errorCode, E.NONE);
  const newId = r.response!.memberId;
  assert.equal(newId, 'i1-uuid3');
  assert.equal(r.response!.generationId, gen);
  assert.equal(r.response!.leader, ids[0]);
  assert.equal(r.response!.members.length, 0);
  assert.equal(h.coordinator.groupState('g'), 'Stable');
  // The new member id is persisted.
  const rec = h.log.slice(before).at(-1)!;
  assert.ok(rec.type === 'group' && rec.value);
  assert.deepEqual(rec.value.members.map((m) => m.memberId), [ids[0], newId]);
  // The old member id is fenced; the new one keeps the assignment.
  assert.equal(h.heartbeat('g', ids[1]!, gen, 'i1'), E.FENCED_INSTANCE_ID);
  assert.equal(h.heartbeat('g', newId, gen, 'i1'), E.NONE);
  assert.equal(h.sync('g', ids[1]!, gen, [], { groupInstanceId: 'i1' }).response!.errorCode, E.FENCED_INSTANCE_ID);
  assert.equal(h.sync('g', newId, gen, [], { groupInstanceId: 'i1' }).response!.assignment.toString(), `A-${ids[1]}`);
  assert.equal(h.join('g', ids[1]!, { groupInstanceId: 'i1', protocols: rangeSticky }).response!.errorCode, E.FENCED_INSTANCE_ID);
});

test('static leader restart at JoinGroup v9: skipAssignment with the member list; below v9 the old leader id', () => {
  const h = new Harness();
  const { ids, gen } = staticGroup(h, 2);
  const r = h.join('g', '', { groupInstanceId: 'i0', protocols: rangeSticky, version: 9 });
  assert.equal(r.response!.skipAssignment, true);
  assert.equal(r.response!.leader, r.response!.memberId);
  assert.equal(r.response!.members.length, 2);
  assert.equal(r.response!.generationId, gen);
  const r8 = h.join('g', '', { groupInstanceId: 'i0', protocols: rangeSticky, version: 8 });
  assert.equal(r8.response!.skipAssignment, false);
  assert.equal(r8.response!.leader, r.response!.memberId); // the leader before this join
  assert.equal(r8.response!.members.length, 0);
  assert.notEqual(r8.response!.memberId, ids[0]);
});

test('a static member restarting with protocols that change the selected protocol triggers a rebalance', () => {
  const h = new Harness();
  staticGroup(h, 1);
  const r = h.join('g', '', { groupInstanceId: 'i0', protocols: [rangeSticky[1]!, rangeSticky[0]!] });
  assert.equal(h.coordinator.groupState('g'), 'CompletingRebalance'); // the only member rejoined at once
  assert.equal(r.response!.protocolName, 'sticky');
  assert.equal(r.response!.generationId, 2);
});

test('a static member restarting during CompletingRebalance fences the old id and rebalances', () => {
  const h = new Harness();
  const j0 = h.join('g', '', { groupInstanceId: 'i0', protocols: rangeSticky });
  const j1 = h.join('g', '', { groupInstanceId: 'i1', protocols: rangeSticky });
  h.settle(j0);
  const oldId = j1.response!.memberId;
  const parked = h.sync('g', oldId, 1, [], { groupInstanceId: 'i1' });
  assert.equal(parked.response, undefined);
  const r = h.join('g', '', { groupInstanceId: 'i1', protocols: rangeSticky });
  assert.equal(parked.response!.errorCode, E.FENCED_INSTANCE_ID);
  assert.equal(h.coordinator.groupState('g'), 'PreparingRebalance');
  h.join('g', j0.response!.memberId, { groupInstanceId: 'i0', protocols: rangeSticky });
  assert.equal(r.response!.generationId, 2);
});

test('static members that do not rejoin stay in the group across a rebalance', () => {
  const h = new Harness();
  const { ids, gen } = staticGroup(h, 2);
  const r = h.join('g', ids[1]!, { groupInstanceId: 'i1', protocols: [{ name: 'range', metadata: subscription(['u']) }, rangeSticky[1]!] });
  // i0 (leader) keeps heartbeating but does not rejoin.
  for (let t = 0; t < 30_000; t += 5_000) {
    h.clock.advance(5_000);
    h.heartbeat('g', ids[0]!, gen, 'i0');
  }
  assert.equal(r.response!.generationId, gen + 1);
  assert.equal(r.response!.leader, ids[1]); // the rejoined member leads
  assert.equal(h.coordinator.describeGroups(['g'])[0]!.members.length, 2);
});

test('FENCED_INSTANCE_ID and UNKNOWN_MEMBER_ID from validateMember; LeaveGroup by group.instance.id', () => {
  const h = new Harness();
  const { ids, gen } = staticGroup(h, 2);
  assert.equal(h.heartbeat('g', ids[0]!, gen, 'i1'), E.FENCED_INSTANCE_ID);
  assert.equal(h.heartbeat('g', ids[0]!, gen, 'unknown'), E.UNKNOWN_MEMBER_ID);
  const res = h.run(
    h.coordinator.leaveGroup(h.ctx(4), {
      groupId: 'g',
      memberId: '',
      members: [
        { memberId: '', groupInstanceId: 'i1', reason: 'admin' },
        { memberId: 'wrong', groupInstanceId: 'i0', reason: null },
      ],
    }),
  );
  assert.deepEqual(res.members.map((m) => m.errorCode), [E.NONE, E.FENCED_INSTANCE_ID]);
  assert.equal(h.coordinator.groupState('g'), 'PreparingRebalance');
  assert.equal(h.heartbeat('g', ids[1]!, gen, 'i1'), E.UNKNOWN_MEMBER_ID);
});

test('a failed store of a static member replacement reverts to the old member id', () => {
  const h = new Harness();
  const { ids, gen } = staticGroup(h, 2);
  h.failAppends = E.REQUEST_TIMED_OUT;
  const r = h.join('g', '', { groupInstanceId: 'i1', protocols: rangeSticky });
  h.failAppends = null;
  assert.equal(r.response!.errorCode, E.COORDINATOR_NOT_AVAILABLE);
  assert.equal(r.response!.memberId, '');
  assert.equal(h.heartbeat('g', ids[1]!, gen, 'i1'), E.NONE);
});

test('a static member whose session expires is removed', () => {
  const h = new Harness();
  const { ids, gen } = staticGroup(h, 2);
  for (let t = 0; t < 10_000; t += 5_000) {
    h.clock.advance(5_000);
    h.heartbeat('g', ids[0]!, gen, 'i0');
  }
  assert.equal(h.coordinator.groupState('g'), 'PreparingRebalance');
  assert.equal(h.heartbeat('g', ids[1]!, gen, 'i1'), E.UNKNOWN_MEMBER_ID);
});
