import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../common/errors.ts';
import { Harness } from './test-helpers.ts';
import { MemberState } from './records.ts';

const E = ErrorCode;

test('a first member joins: group epoch 1, the whole topic, Stable', () => {
  const h = new Harness();
  h.addTopic('t', 3);
  const r = h.join('a', ['t']);
  assert.equal(r.errorCode, E.NONE);
  assert.equal(r.memberId, 'a');
  assert.equal(r.memberEpoch, 1);
  assert.equal(r.heartbeatIntervalMs, 5000);
  assert.deepEqual(h.named(r.assignment), { t: [0, 1, 2] });
  assert.equal(h.coordinator.groupState('g'), 'Stable');
  assert.deepEqual(h.log.map((x) => x.type), ['cg-member', 'cg-partition-metadata', 'cg-metadata', 'cg-target-member', 'cg-target-metadata', 'cg-current-assignment']);
  // A heartbeat with nothing new: same epoch, no assignment, no records.
  const n = h.log.length;
  const r2 = h.hb({ memberId: 'a', memberEpoch: 1 });
  assert.deepEqual([r2.errorCode, r2.memberEpoch, r2.assignment], [E.NONE, 1, null]);
  assert.equal(h.log.length, n);
  // A full request (rebalance timeout, subscription and owned partitions) gets the assignment.
  const r3 = h.hb({ memberId: 'a', memberEpoch: 1, rebalanceTimeoutMs: 30_000, subscribedTopicNames: ['t'], topicPartitions: h.owned({ t: [0, 1, 2] }) });
  assert.deepEqual(h.named(r3.assignment), { t: [0, 1, 2] });
});

test('a partition moves to a new member only after its owner revoked it', () => {
  const h = new Harness();
  h.addTopic('t', 4);
  h.join('a', ['t']);
  const b = h.join('b', ['t']);
  assert.equal(b.memberEpoch, 2);
  assert.deepEqual(h.named(b.assignment), {}); // t-2, t-3 are still a's
  assert.equal(h.coordinator.groups.get('g')!.members.get('b')!.state, MemberState.UNRELEASED_PARTITIONS);
  assert.equal(h.coordinator.groupState('g'), 'Reconciling');
  // a learns it must revoke: it stays at epoch 1, UNREVOKED_PARTITIONS.
  const a1 = h.hb({ memberId: 'a', memberEpoch: 1 });
  assert.equal(a1.memberEpoch, 1);
  assert.deepEqual(h.named(a1.assignment), { t: [0, 1] });
  const a = h.coordinator.groups.get('g')!.members.get('a')!;
  assert.equal(a.state, MemberState.UNREVOKED_PARTITIONS);
  assert.deepEqual(h.named(a.pendingRevocation), { t: [2, 3] });
  assert.ok(h.coordinator.hasTimer('rebalance', 'g', 'a'));
  // b still gets nothing while a has not acknowledged.
  assert.deepEqual(h.hb({ memberId: 'b', memberEpoch: 2 }).assignment, null);
  // a heartbeats still owning t-2: nothing changes.
  assert.equal(h.hb({ memberId: 'a', memberEpoch: 1, topicPartitions: h.owned({ t: [0, 1, 2] }) }).memberEpoch, 1);
  // a acknowledges (owned partitions no longer contain them): epoch 2, Stable.
  const a2 = h.hb({ memberId: 'a', memberEpoch: 1, topicPartitions: h.owned({ t: [0, 1] }) });
  assert.equal(a2.memberEpoch, 2);
  assert.ok(!h.coordinator.hasTimer('rebalance', 'g', 'a'));
  const b2 = h.hb({ memberId: 'b', memberEpoch: 2 });
  assert.deepEqual(h.named(b2.assignment), { t: [2, 3] });
  assert.equal(h.coordinator.groupState('g'), 'Stable');
});

test('owned partitions omitted (null) count as not yet revoked', () => {
  const h = new Harness();
  h.addTopic('t', 2);
  h.join('a', ['t']);
  h.join('b', ['t']);
  h.hb({ memberId: 'a', memberEpoch: 1 });
  assert.equal(h.hb({ memberId: 'a', memberEpoch: 1 }).memberEpoch, 1);
  assert.equal(h.hb({ memberId: 'a', memberEpoch: 1, topicPartitions: [] }).memberEpoch, 2);
});

test('request validation: INVALID_REQUEST and UNSUPPORTED_ASSIGNOR', () => {
  const h = new Harness();
  h.addTopic('t', 1);
  const cases: [Parameters<Harness['hb']>[0], number, string][] = [
    [{ memberId: '', memberEpoch: 0, rebalanceTimeoutMs: 1, subscribedTopicNames: ['t'], topicPartitions: [] }, 1, "MemberId can't be empty."],
    [{ groupId: '', memberId: 'm', memberEpoch: 1 }, 1, "GroupId can't be empty."],
    [{ memberId: 'm', memberEpoch: 1, instanceId: '' }, 1, "InstanceId can't be empty."],
    [{ groupId: '', memberId: '', memberEpoch: 0 }, 1, "MemberId can't be empty."], // member id first
    [{ memberId: 'm', memberEpoch: 1, rackId: '' }, 1, "RackId can't be empty."],
    [{ memberId: 'm', memberEpoch: 0, subscribedTopicNames: ['t'], topicPartitions: [] }, 1, 'RebalanceTimeoutMs must be provided in first request.'],
    [{ memberId: 'm', memberEpoch: 0, rebalanceTimeoutMs: 1, subscribedTopicNames: ['t'] }, 1, 'TopicPartitions must be empty when (re-)joining.'],
    [{ memberId: 'm', memberEpoch: 0, rebalanceTimeoutMs: 1, subscribedTopicNames: ['t'], topicPartitions: h.owned({ t: [0] }) }, 1, 'TopicPartitions must be empty when (re-)joining.'],
    [{ memberId: 'm', memberEpoch: 0, rebalanceTimeoutMs: 1, topicPartitions: [] }, 1, 'Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.'],
    [{ memberId: '', memberEpoch: 1 }, 0, "MemberId can't be empty."],
    [{ memberId: '', memberEpoch: -1 }, 0, "MemberId can't be empty."],
    [{ memberId: 'm', memberEpoch: -2 }, 0, "InstanceId can't be null."],
    [{ memberId: 'm', memberEpoch: -3 }, 0, 'MemberEpoch is invalid.'],
  ];
  for (const [req, v, msg] of cases) {
    const r = h.hb(req, v);
    assert.equal(r.errorCode, E.INVALID_REQUEST, msg);
    assert.equal(r.errorMessage, msg);
    assert.equal(r.memberId, null);
  }
  const u = h.join('m', ['t'], { serverAssignor: 'sticky' });
  assert.equal(u.errorCode, E.UNSUPPORTED_ASSIGNOR);
  assert.match(u.errorMessage!, /Supported assignors: uniform, range\./);
  assert.deepEqual(h.coordinator.groupIds(), []);
  assert.equal(h.log.length, 0);
});

test('v0: the coordinator generates the member id; v1: the client does', () => {
  const h = new Harness();
  h.addTopic('t', 1);
  const r = h.hb({ memberId: '', memberEpoch: 0, rebalanceTimeoutMs: 1000, subscribedTopicNames: ['t'], topicPartitions: [] }, 0);
  assert.equal(r.memberId, 'srv-1');
  assert.equal(r.memberEpoch, 1);
});

test('unknown groups and members; FENCED_MEMBER_EPOCH; the previous epoch may be retried', () => {
  const h = new Harness();
  h.addTopic('t', 2);
  assert.equal(h.hb({ memberId: 'a', memberEpoch: 1 }).errorCode, E.GROUP_ID_NOT_FOUND);
  assert.equal(h.hb({ memberId: 'a', memberEpoch: -1 }).errorCode, E.GROUP_ID_NOT_FOUND);
  h.join('a', ['t']);
  assert.equal(h.hb({ memberId: 'x', memberEpoch: 1 }).errorCode, E.UNKNOWN_MEMBER_ID);
  assert.equal(h.hb({ memberId: 'x', memberEpoch: -1 }).errorCode, E.UNKNOWN_MEMBER_ID);
  assert.equal(h.hb({ memberId: 'a', memberEpoch: 2 }).errorCode, E.FENCED_MEMBER_EPOCH);
  // b joins (epoch 2); a moves 1 → 2 after revoking. a may retry with 1 (lost response) if it
  // owns only partitions of its assignment, but not with an unknown older epoch.
  h.join('b', ['t']);
  h.hb({ memberId: 'a', memberEpoch: 1 });
  assert.equal(h.hb({ memberId: 'a', memberEpoch: 1, topicPartitions: h.owned({ t: [0] }) }).memberEpoch, 2);
  const retry = h.hb({ memberId: 'a', memberEpoch: 1, topicPartitions: h.owned({ t: [0] }) });
  assert.deepEqual([retry.errorCode, retry.memberEpoch], [E.NONE, 2]);
  assert.equal(h.hb({ memberId: 'a', memberEpoch: 1, topicPartitions: h.owned({ t: [0, 1] }) }).errorCode, E.FENCED_MEMBER_EPOCH);
  assert.equal(h.hb({ memberId: 'a', memberEpoch: 1 }).errorCode, E.FENCED_MEMBER_EPOCH); // owned not given
  assert.equal(h.hb({ memberId: 'a', memberEpoch: 0, rebalanceTimeoutMs: 1, subscribedTopicNames: ['t'], topicPartitions: [] }).errorCode, E.FENCED_MEMBER_EPOCH);
  // An error changes nothing.
  assert.equal(h.coordinator.groups.get('g')!.members.get('a')!.memberEpoch, 2);
});

test('a member rejoining with epoch 0 after a lost first response is accepted', () => {
  const h = new Harness();
  h.addTopic('t', 1);
  h.join('a', ['t']);
  const r = h.join('a', ['t']);
  assert.deepEqual([r.errorCode, r.memberEpoch], [E.NONE, 1]);
  assert.deepEqual(h.named(r.assignment), { t: [0] });
});

test('leaving (epoch -1) bumps the group epoch and frees the partitions', () => {
  const h = new Harness();
  h.addTopic('t', 2);
  h.join('a', ['t']);
  h.join('b', ['t']);
  h.hb({ memberId: 'a', memberEpoch: 1, topicPartitions: [] });
  h.hb({ memberId: 'b', memberEpoch: 2 });
  const l = h.hb({ memberId: 'b', memberEpoch: -1 });
  assert.deepEqual([l.errorCode, l.memberId, l.memberEpoch, l.assignment], [E.NONE, 'b', -1, null]);
  const g = h.coordinator.groups.get('g')!;
  assert.equal(g.groupEpoch, 3);
  assert.ok(!g.members.has('b') && !g.targetAssignment.has('b'));
  assert.ok(!h.coordinator.hasTimer('session', 'g', 'b'));
  assert.equal(h.coordinator.groupState('g'), 'Assigning');
  const a = h.hb({ memberId: 'a', memberEpoch: 2 });
  assert.deepEqual([a.memberEpoch, h.named(a.assignment)], [3, { t: [0, 1] }]);
  h.hb({ memberId: 'a', memberEpoch: -1 });
  assert.equal(h.coordinator.groupState('g'), 'Empty');
  assert.deepEqual(h.coordinator.groups.get('g')!.subscriptionMetadata, []);
});

test('static members: temporary leave (-2), rejoin with a new id, UNRELEASED_INSTANCE_ID, FENCED_INSTANCE_ID', () => {
  const h = new Harness();
  h.addTopic('t', 2);
  h.join('a', ['t'], { instanceId: 'i1' });
  h.join('b', ['t']);
  h.hb({ memberId: 'a', memberEpoch: 1, instanceId: 'i1', topicPartitions: [] });
  h.hb({ memberId: 'b', memberEpoch: 2 });
  const before = h.coordinator.groups.get('g')!.groupEpoch;
  assert.equal(h.join('a2', ['t'], { instanceId: 'i1' }).errorCode, E.UNRELEASED_INSTANCE_ID);
  assert.equal(h.hb({ memberId: 'zz', memberEpoch: 2, instanceId: 'i1' }).errorCode, E.FENCED_INSTANCE_ID);
  assert.equal(h.hb({ memberId: 'zz', memberEpoch: 2, instanceId: 'i9' }).errorCode, E.UNKNOWN_MEMBER_ID);
  assert.equal(h.hb({ memberId: 'zz', memberEpoch: -2, instanceId: 'i1' }).errorCode, E.FENCED_INSTANCE_ID);
  const l = h.hb({ memberId: 'a', memberEpoch: -2, instanceId: 'i1' });
  assert.deepEqual([l.errorCode, l.memberEpoch], [E.NONE, -2]);
  const g = h.coordinator.groups.get('g')!;
  assert.equal(g.groupEpoch, before); // no rebalance
  assert.deepEqual(h.named(g.members.get('a')!.assigned), { t: [0] }); // still held
  // The instance comes back under a new member id and takes over the assignment.
  const r = h.join('a2', ['t'], { instanceId: 'i1' });
  assert.deepEqual([r.errorCode, r.memberEpoch, h.named(r.assignment)], [E.NONE, 2, { t: [0] }]);
  assert.ok(!g.members.has('a') && g.members.has('a2'));
  assert.equal(h.coordinator.groups.get('g')!.groupEpoch, before);
  // A static member leaving for good (-1 with its instance id).
  assert.equal(h.hb({ memberId: 'a2', memberEpoch: -1, instanceId: 'i1' }).errorCode, E.NONE);
  assert.ok(!h.coordinator.groups.get('g')!.members.has('a2'));
});

test('a static member that left temporarily is removed after the session timeout', () => {
  const h = new Harness();
  h.addTopic('t', 1);
  h.join('a', ['t'], { instanceId: 'i1' });
  h.hb({ memberId: 'a', memberEpoch: -2, instanceId: 'i1' });
  h.clock.advance(45_000);
  assert.equal(h.coordinator.groupState('g'), 'Empty');
});

test('session timeout fences a silent member; heartbeats extend the session', () => {
  const h = new Harness({ sessionTimeoutMs: 10_000 });
  h.addTopic('t', 2);
  h.join('a', ['t']);
  h.join('b', ['t']);
  for (let i = 0; i < 5; i++) {
    h.clock.advance(6_000);
    h.hb({ memberId: 'a', memberEpoch: h.coordinator.groups.get('g')!.members.get('a')!.memberEpoch, topicPartitions: [] });
  }
  const g = h.coordinator.groups.get('g')!;
  assert.ok(!g.members.has('b'));
  assert.equal(h.hb({ memberId: 'b', memberEpoch: 2 }).errorCode, E.UNKNOWN_MEMBER_ID);
  assert.deepEqual(h.named(g.members.get('a')!.assigned), { t: [0, 1] });
});

test('rebalance timeout fences a member that does not revoke in time', () => {
  const h = new Harness();
  h.addTopic('t', 2);
  h.join('a', ['t'], { rebalanceTimeoutMs: 20_000 });
  h.join('b', ['t']);
  h.hb({ memberId: 'a', memberEpoch: 1 }); // UNREVOKED_PARTITIONS, timer started
  for (let i = 0; i < 4; i++) {
    h.clock.advance(6_000);
    h.hb({ memberId: 'a', memberEpoch: 1, topicPartitions: h.owned({ t: [0, 1] }) }); // keeps t-1
    h.hb({ memberId: 'b', memberEpoch: 2 });
  }
  const g = h.coordinator.groups.get('g')!;
  assert.ok(!g.members.has('a'));
  assert.equal(h.hb({ memberId: 'a', memberEpoch: 1 }).errorCode, E.UNKNOWN_MEMBER_ID);
  const b = g.members.get('b')!;
  assert.deepEqual([b.memberEpoch, h.named(b.assigned)], [3, { t: [0, 1] }]);
});

test('GROUP_MAX_SIZE_REACHED for a new member of a full group', () => {
  const h = new Harness({ maxGroupSize: 1 });
  h.addTopic('t', 1);
  h.join('a', ['t']);
  assert.equal(h.join('b', ['t']).errorCode, E.GROUP_MAX_SIZE_REACHED);
  assert.equal(h.hb({ memberId: 'a', memberEpoch: 1 }).errorCode, E.NONE);
});

test('metadata changes (partitions added, topic created later) bump the epoch and reassign', () => {
  const h = new Harness();
  h.addTopic('t', 1);
  h.join('a', ['t', 'later']);
  h.join('b', ['t', 'later']);
  h.hb({ memberId: 'a', memberEpoch: 1, topicPartitions: h.owned({ t: [0] }) });
  h.topics.set('t', { id: h.id('t'), partitions: 2 });
  const a = h.hb({ memberId: 'a', memberEpoch: 2 });
  assert.equal(a.memberEpoch, 3);
  h.addTopic('later', 2);
  const a2 = h.hb({ memberId: 'a', memberEpoch: 3 });
  assert.equal(a2.memberEpoch, 4);
  const b = h.hb({ memberId: 'b', memberEpoch: 2 });
  assert.equal(b.memberEpoch, 4);
  const all = [...h.coordinator.groups.get('g')!.members.values()].map((m) => h.named(m.assigned));
  assert.deepEqual(all.flatMap((x) => Object.entries(x!).flatMap(([t, ps]) => ps.map((p) => `${t}-${p}`))).sort(), ['later-0', 'later-1', 't-0', 't-1']);
});

test('subscription change bumps the epoch; unsubscribed topics are revoked', () => {
  const h = new Harness();
  h.addTopic('t', 1);
  h.addTopic('u', 1);
  h.join('a', ['t']);
  const r = h.hb({ memberId: 'a', memberEpoch: 1, subscribedTopicNames: ['u'], topicPartitions: h.owned({ t: [0] }) });
  assert.equal(r.memberEpoch, 1); // must revoke t-0 first
  assert.deepEqual(h.named(r.assignment), {});
  const r2 = h.hb({ memberId: 'a', memberEpoch: 1, topicPartitions: [] });
  assert.deepEqual([r2.memberEpoch, h.named(r2.assignment)], [2, { u: [0] }]);
});

test('the preferred assignor is the one most members ask for; range assigns contiguous ranges', () => {
  const h = new Harness();
  h.addTopic('t', 5);
  h.join('a', ['t'], { serverAssignor: 'range' });
  h.join('b', ['t'], { serverAssignor: 'range' });
  const g = h.coordinator.groups.get('g')!;
  assert.equal(h.coordinator.preferredAssignor(g).name, 'range');
  assert.deepEqual(h.named(g.targetAssignment.get('a')!), { t: [0, 1, 2] });
  assert.deepEqual(h.named(g.targetAssignment.get('b')!), { t: [3, 4] });
});

test('a failed append restores the group and answers the mapped coordinator error', () => {
  const h = new Harness();
  h.addTopic('t', 1);
  h.failAppends = E.NOT_LEADER_OR_FOLLOWER;
  const r = h.join('a', ['t']);
  assert.equal(r.errorCode, E.NOT_COORDINATOR);
  assert.deepEqual(h.coordinator.groupIds(), []);
  h.failAppends = null;
  h.join('a', ['t']);
  const snap = JSON.stringify(h.coordinator.snapshot());
  h.failAppends = E.REQUEST_TIMED_OUT;
  assert.equal(h.join('b', ['t']).errorCode, E.COORDINATOR_NOT_AVAILABLE);
  assert.equal(JSON.stringify(h.coordinator.snapshot()), snap);
});

test('regex subscriptions: full match over the listed topics, new topics picked up, invalid regex', () => {
  const h: Harness = new Harness({}, (): string[] => [...h.topics.keys()]);
  h.addTopic('orders', 2);
  h.addTopic('orders-dlq', 1);
  h.addTopic('payments', 1);
  const r = h.hb({ memberId: 'a', memberEpoch: 0, rebalanceTimeoutMs: 1000, subscribedTopicRegex: 'orders.*', topicPartitions: [] });
  assert.deepEqual(h.named(r.assignment), { orders: [0, 1], 'orders-dlq': [0] });
  // "rders" alone matches nothing: Kafka's regexes must match the whole name.
  const b = h.hb({ memberId: 'b', memberEpoch: 0, rebalanceTimeoutMs: 1000, subscribedTopicRegex: 'rders', subscribedTopicNames: ['payments'], topicPartitions: [] });
  assert.deepEqual(h.named(b.assignment), { payments: [0] });
  h.addTopic('orders-eu', 1);
  const r2 = h.hb({ memberId: 'a', memberEpoch: 1 });
  assert.equal(r2.memberEpoch, 3);
  assert.deepEqual(h.named(r2.assignment), { orders: [0, 1], 'orders-dlq': [0], 'orders-eu': [0] });
  const bad = h.hb({ memberId: 'c', memberEpoch: 0, rebalanceTimeoutMs: 1000, subscribedTopicRegex: '(', topicPartitions: [] });
  assert.equal(bad.errorCode, 128); // INVALID_REGULAR_EXPRESSION
  assert.ok(!h.coordinator.groups.get('g')!.members.has('c'));
  // Switching from the regex to names (empty regex = none).
  const r3 = h.hb({ memberId: 'a', memberEpoch: 3, subscribedTopicRegex: '', subscribedTopicNames: ['orders'], topicPartitions: h.owned({ orders: [0, 1], 'orders-dlq': [0], 'orders-eu': [0] }) });
  assert.deepEqual(h.named(r3.assignment), { orders: [0, 1] });
});

test('a member may join subscribed to nothing', () => {
  const h = new Harness();
  h.addTopic('t', 1);
  const r = h.join('a', []);
  assert.deepEqual([r.errorCode, r.memberEpoch, h.named(r.assignment)], [E.NONE, 1, {}]);
});
