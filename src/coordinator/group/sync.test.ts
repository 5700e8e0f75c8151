import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../common/errors.ts';
import { Harness } from './test-helpers.ts';

const E = ErrorCode;

function completing(h: Harness) {
  const a = h.memberId('g', 'a');
  const b = h.memberId('g', 'b');
  const ja = h.join('g', a, { clientId: 'a' });
  h.join('g', b, { clientId: 'b' });
  h.settle(ja);
  assert.equal(h.coordinator.groupState('g'), 'CompletingRebalance');
  return { a, b, gen: ja.response!.generationId };
}

test("followers wait for the leader's assignment, which is stored and then sent to everyone", () => {
  const h = new Harness();
  const { a, b, gen } = completing(h);
  const before = h.log.length;
  const sb = h.sync('g', b, gen);
  assert.equal(sb.response, undefined);
  const sa = h.sync('g', a, gen, [
    { memberId: a, assignment: Buffer.from('A') },
    { memberId: b, assignment: Buffer.from('B') },
    { memberId: 'stranger', assignment: Buffer.from('X') },
  ]);
  assert.equal(sa.response!.errorCode, E.NONE);
  assert.equal(sa.response!.assignment.toString(), 'A');
  assert.equal(sa.response!.protocolType, 'consumer');
  assert.equal(sa.response!.protocolName, 'range');
  assert.equal(sb.response!.assignment.toString(), 'B');
  assert.equal(sb.calls, 1);
  assert.equal(h.coordinator.groupState('g'), 'Stable');
  // One GroupMetadata record with both members' assignments.
  const written = h.log.slice(before);
  assert.equal(written.length, 1);
  const rec = written[0]!;
  assert.ok(rec.type === 'group' && rec.value);
  assert.deepEqual(rec.value.members.map((m) => [m.memberId, m.assignment.toString()]), [[a, 'A'], [b, 'B']]);
  assert.equal(rec.value.generation, gen);
  assert.equal(rec.value.leader, a);
  // In Stable, SyncGroup returns the member's current assignment.
  assert.equal(h.sync('g', b, gen).response!.assignment.toString(), 'B');
});

test('a member the leader did not assign gets an empty assignment', () => {
  const h = new Harness();
  const { a, b, gen } = completing(h);
  const sb = h.sync('g', b, gen);
  h.sync('g', a, gen, [{ memberId: a, assignment: Buffer.from('A') }]);
  assert.equal(sb.response!.errorCode, E.NONE);
  assert.equal(sb.response!.assignment.length, 0);
});

test('SyncGroup errors: UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, INCONSISTENT_GROUP_PROTOCOL, REBALANCE_IN_PROGRESS, INVALID_GROUP_ID', () => {
  const h = new Harness();
  assert.equal(h.sync('nope', 'm', 1).response!.errorCode, E.UNKNOWN_MEMBER_ID);
  const { a, b, gen } = completing(h);
  assert.equal(h.sync('g', 'stranger', gen).response!.errorCode, E.UNKNOWN_MEMBER_ID);
  assert.equal(h.sync('g', b, gen + 1).response!.errorCode, E.ILLEGAL_GENERATION);
  assert.equal(h.sync('g', b, gen, [], { protocolType: 'connect' }).response!.errorCode, E.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal(h.sync('g', b, gen, [], { protocolName: 'roundrobin' }).response!.errorCode, E.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal(h.sync('', b, gen).response!.errorCode, E.INVALID_GROUP_ID);
  // Matching protocol type and name (v5) are accepted.
  const ok = h.sync('g', b, gen, [], { protocolType: 'consumer', protocolName: 'range' });
  assert.equal(ok.response, undefined);
  // A new member triggers a rebalance: the parked follower gets REBALANCE_IN_PROGRESS.
  h.join('g', '', { version: 3 });
  assert.equal(ok.response!.errorCode, E.REBALANCE_IN_PROGRESS);
  assert.equal(h.coordinator.groupState('g'), 'PreparingRebalance');
  assert.equal(h.sync('g', a, gen).response!.errorCode, E.REBALANCE_IN_PROGRESS);
});

test('members that do not send SyncGroup within the rebalance timeout are removed', () => {
  const h = new Harness();
  const { a, b, gen } = completing(h);
  const sa = h.sync('g', a, gen, []); // the leader syncs
  assert.equal(sa.response!.errorCode, E.NONE);
  assert.equal(h.coordinator.groupState('g'), 'Stable');
  // a keeps heartbeating; b never syncs nor heartbeats but b's session (10 s) expires first.
  h.clock.advance(5_000);
  assert.equal(h.heartbeat('g', a, gen), E.NONE);
  h.clock.advance(5_000);
  assert.equal(h.coordinator.groupState('g'), 'PreparingRebalance');
  assert.equal(h.heartbeat('g', b, gen), E.UNKNOWN_MEMBER_ID);
});

test('pending-sync expiry removes members that heartbeat but never sync', () => {
  const h = new Harness();
  const { a, b, gen } = completing(h);
  // Both heartbeat, nobody syncs within the rebalance timeout (30 s).
  for (let t = 0; t < 30_000; t += 5_000) {
    h.clock.advance(5_000);
    if (t + 5_000 < 30_000) {
      assert.equal(h.heartbeat('g', a, gen), E.NONE);
      assert.equal(h.heartbeat('g', b, gen), E.NONE);
    }
  }
  assert.equal(h.coordinator.groupState('g'), 'Empty');
  assert.equal(h.heartbeat('g', a, gen), E.UNKNOWN_MEMBER_ID);
});

test('a failed store of the assignment answers the mapped error and rebalances', () => {
  const h = new Harness();
  const { a, b, gen } = completing(h);
  const sb = h.sync('g', b, gen);
  h.failAppends = E.NOT_LEADER_OR_FOLLOWER;
  const sa = h.sync('g', a, gen, [{ memberId: a, assignment: Buffer.from('A') }]);
  assert.equal(sa.response!.errorCode, E.NOT_COORDINATOR);
  assert.equal(sb.response!.errorCode, E.NOT_COORDINATOR);
  assert.equal(h.coordinator.groupState('g'), 'PreparingRebalance');
});

test('the assignment is dropped if the group moved on while it was being stored', () => {
  const h = new Harness();
  const { a, b, gen } = completing(h);
  const result = h.coordinator.syncGroup(h.ctx(5), { groupId: 'g', generationId: gen, memberId: a, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }, () => {});
  // Before the append completes, b leaves: the group rebalances.
  h.run(h.coordinator.leaveGroup(h.ctx(3), { groupId: 'g', memberId: '', members: [{ memberId: b, groupInstanceId: null, reason: null }] }));
  result.complete(null);
  assert.notEqual(h.coordinator.groupState('g'), 'Stable');
});
