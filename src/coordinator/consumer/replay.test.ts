import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsumerGroupCoordinator } from './coordinator.ts';
import { decodeRecord, encodeRecord, MemberState } from './records.ts';
import { Harness } from './test-helpers.ts';
import { deleteConsumerGroup } from './admin.ts';

/** A scenario touching every record kind, leaving members mid-reconciliation. */
function scenario(): Harness {
  const h = new Harness({ sessionTimeoutMs: 20_000 });
  h.addTopic('t', 4);
  h.addTopic('u', 2);
  h.join('a', ['t', 'u'], { instanceId: 'ia', rackId: 'r1' });
  h.join('b', ['t'], { serverAssignor: 'range' });
  h.hb({ memberId: 'a', memberEpoch: 1, instanceId: 'ia', topicPartitions: h.owned({ t: [0, 1, 2, 3], u: [0, 1] }) });
  h.join('c', ['t', 'u']);
  h.hb({ memberId: 'b', memberEpoch: 2 });
  h.hb({ memberId: 'a', memberEpoch: -2, instanceId: 'ia' });
  h.join('a2', ['t', 'u'], { instanceId: 'ia' });
  h.topics.set('t', { id: h.id('t'), partitions: 6 });
  h.hb({ memberId: 'c', memberEpoch: 3 });
  // A second group emptied by a session timeout, a third deleted.
  h.join('x', ['u'], { groupId: 'g2' });
  h.join('y', ['u'], { groupId: 'g3' });
  h.hb({ memberId: 'y', memberEpoch: -1, groupId: 'g3' });
  h.run(deleteConsumerGroup(h.coordinator, 'g3')!);
  for (let i = 0; i < 5; i++) {
    h.clock.advance(5_000);
    for (const id of ['a2', 'b', 'c']) {
      const m = h.coordinator.groups.get('g')!.members.get(id)!;
      h.hb({ memberId: id, memberEpoch: m.memberEpoch, instanceId: id === 'a2' ? 'ia' : null, topicPartitions: m.state === MemberState.UNREVOKED_PARTITIONS ? null : h.owned(h.named(m.assigned)!) });
    }
  }
  return h;
}

test('replaying the records of a scenario rebuilds the same state', () => {
  const h = scenario();
  assert.equal(h.coordinator.groupState('g2'), 'Empty');
  assert.equal(h.coordinator.groupState('g3'), 'Dead');
  const fresh = new ConsumerGroupCoordinator({ clock: h.clock, metadata: (t) => h.topics.get(t) });
  for (const r of h.log) {
    const e = encodeRecord(r);
    fresh.replay(decodeRecord(e.key, e.value)!);
  }
  assert.deepEqual(fresh.snapshot(), h.coordinator.snapshot());
  fresh.onLoaded();
  assert.ok(fresh.hasTimer('session', 'g', 'b'));
  // The rebuilt machine carries on: the members keep heartbeating at their epochs.
  const b = h.coordinator.groups.get('g')!.members.get('b')!;
  const r = fresh.heartbeat({ clientId: 'c', clientHost: '/127.0.0.1', apiVersion: 1 }, {
    groupId: 'g', memberId: 'b', memberEpoch: b.memberEpoch, instanceId: null, rackId: null, rebalanceTimeoutMs: -1,
    subscribedTopicNames: null, subscribedTopicRegex: null, serverAssignor: null, topicPartitions: null,
  }).complete(null);
  assert.equal(r.errorCode, 0);
});

test('after loading, a member that was revoking is fenced by its rebalance timeout; regex members replay too', () => {
  const h: Harness = new Harness({}, (): string[] => [...h.topics.keys()]);
  h.addTopic('t', 2);
  h.hb({ memberId: 'a', memberEpoch: 0, rebalanceTimeoutMs: 10_000, subscribedTopicRegex: 't|u', topicPartitions: [] });
  h.join('b', ['t']);
  h.hb({ memberId: 'a', memberEpoch: 1 }); // a must revoke t-1
  const fresh = new ConsumerGroupCoordinator({ clock: h.clock, metadata: (t) => h.topics.get(t), listTopics: () => [...h.topics.keys()] });
  for (const r of h.log) {
    const e = encodeRecord(r);
    fresh.replay(decodeRecord(e.key, e.value)!);
  }
  assert.deepEqual(fresh.snapshot(), h.coordinator.snapshot());
  assert.equal(fresh.groups.get('g')!.members.get('a')!.subscribedTopicRegex, 't|u');
  fresh.onLoaded();
  assert.ok(fresh.hasTimer('rebalance', 'g', 'a'));
  h.clock.advance(10_000);
  assert.ok(!fresh.groups.get('g')!.members.has('a'));
});
