import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../common/errors.ts';
import { fromTopicPartitions, toTopicPartitions, type Assignment } from './assignment.ts';
import { groupStateName } from './group.ts';
import { Harness } from './test-helpers.ts';

interface Client {
  memberId: string;
  instanceId: string | null;
  /** A static member that left temporarily (-2) and will rejoin under a new member id. */
  away: boolean;
  topics: string[];
  assignor: string | null;
  epoch: number;
  /** What the client consumes. */
  owned: Assignment;
  /** An assignment received but not applied yet: the client revokes/assigns before its next heartbeat. */
  received: Assignment | null;
}

function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 2 ** 32) * n);
  };
}

function keys(a: Assignment): string[] {
  return Object.keys(a).flatMap((t) => a[t]!.map((p) => `${t}:${p}`));
}

const stats = { staticJoins: 0, revocations: 0, fenced: 0 };

function run(seed: number): void {
  const rnd = rng(seed);
  const h = new Harness();
  h.addTopic('t0', 1 + rnd(8));
  h.addTopic('t1', 1 + rnd(5));
  const clients = new Map<string, Client>();
  let next = 0;
  let lastGroupEpoch = 0;
  const memberEpochs = new Map<string, number>();

  const heartbeat = (c: Client) => {
    if (c.received) {
      c.owned = c.received;
      c.received = null;
    }
    if (c.away) {
      c.away = false;
      c.memberId = `m${next++}`; // a restarted static member comes back with a new id
      c.epoch = 0;
    }
    const r = c.epoch === 0
      ? h.join(c.memberId, c.topics, { serverAssignor: c.assignor, instanceId: c.instanceId })
      : h.hb({ memberId: c.memberId, memberEpoch: c.epoch, instanceId: c.instanceId, topicPartitions: toTopicPartitions(c.owned) });
    if (r.errorCode === ErrorCode.UNRELEASED_INSTANCE_ID) {
      c.away = true; // the old incarnation is still known; try again later
      return;
    }
    if (r.errorCode === ErrorCode.FENCED_MEMBER_EPOCH || r.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
      stats.fenced++;
      c.epoch = 0; // abandon everything and rejoin (same member id, as the Java client does)
      c.owned = {};
      c.received = null;
      return;
    }
    assert.equal(r.errorCode, ErrorCode.NONE, `seed ${seed}: ${r.errorMessage}`);
    if (c.epoch === 0 && c.instanceId !== null && r.assignment && r.assignment.topicPartitions.length > 0) stats.staticJoins++;
    c.epoch = r.memberEpoch;
    if (r.assignment) c.received = fromTopicPartitions(r.assignment.topicPartitions); // applied before the next heartbeat
  };

  const check = () => {
    const g = h.coordinator.groups.get('g');
    if (!g) return;
    assert.ok(g.groupEpoch >= lastGroupEpoch, 'group epoch went back');
    lastGroupEpoch = g.groupEpoch;
    assert.ok(g.assignmentEpoch <= g.groupEpoch);
    // Server side: a partition is owned (assigned or pending revocation) by at most one member.
    const owner = new Map<string, string>();
    for (const m of g.members.values()) {
      for (const k of [...keys(m.assigned), ...keys(m.pendingRevocation)]) {
        assert.ok(!owner.has(k), `seed ${seed}: ${k} owned by ${owner.get(k)} and ${m.memberId}`);
        owner.set(k, m.memberId);
      }
      const prev = m.memberEpoch === -2 ? undefined : memberEpochs.get(m.memberId); // -2: left temporarily
      if (prev !== undefined) assert.ok(m.memberEpoch >= prev, `seed ${seed}: member epoch of ${m.memberId} went back`);
      if (m.memberEpoch !== -2) memberEpochs.set(m.memberId, m.memberEpoch);
      assert.ok(m.memberEpoch <= g.assignmentEpoch);
    }
    for (const id of memberEpochs.keys()) if (!g.members.has(id)) memberEpochs.delete(id);
    // Client side: what the clients the group still knows consume is disjoint, and within
    // what the coordinator counts as theirs.
    const seen = new Set<string>();
    for (const c of clients.values()) {
      const m = g.members.get(c.memberId);
      if (!m || c.epoch === 0 || c.away) continue;
      if (Object.keys(m.pendingRevocation).length > 0) stats.revocations++;
      const serverOwned = new Set([...keys(m.assigned), ...keys(m.pendingRevocation)]);
      for (const k of keys(c.owned)) {
        assert.ok(!seen.has(k), `seed ${seed}: ${k} consumed twice`);
        seen.add(k);
        assert.ok(serverOwned.has(k), `seed ${seed}: ${c.memberId} consumes ${k} the coordinator does not count as its own`);
      }
    }
  };

  for (let step = 0; step < 400; step++) {
    const op = rnd(20);
    const alive = [...clients.values()];
    if (op < 3 && clients.size < 6) {
      const topics = [['t0'], ['t1'], ['t0', 't1']][rnd(3)]!;
      const c: Client = { memberId: `m${next++}`, instanceId: rnd(3) === 0 ? `i${next}` : null, away: false, topics, assignor: [null, 'uniform', 'range'][rnd(3)]!, epoch: 0, owned: {}, received: null };
      clients.set(c.memberId, c);
      heartbeat(c);
    } else if (op === 3 && alive.length > 0) {
      const c = alive[rnd(alive.length)]!;
      clients.delete(c.memberId);
      if (c.epoch > 0 && !c.away) h.hb({ memberId: c.memberId, memberEpoch: -1, instanceId: c.instanceId });
    } else if (op === 6 && alive.length > 0) {
      const c = alive[rnd(alive.length)]!;
      if (c.instanceId !== null && c.epoch > 0 && !c.away) {
        h.hb({ memberId: c.memberId, memberEpoch: -2, instanceId: c.instanceId });
        c.owned = {};
        c.received = null;
        c.away = true;
      }
    } else if (op === 4 && alive.length > 0) {
      clients.delete(alive[rnd(alive.length)]!.memberId); // killed: its session expires later
    } else if (op === 5 && rnd(4) === 0) {
      const t = ['t0', 't1'][rnd(2)]!;
      const md = h.topics.get(t)!;
      h.topics.set(t, { ...md, partitions: md.partitions + 1 + rnd(2) });
    } else if (op < 9) {
      h.clock.advance(rnd(4000));
    } else if (alive.length > 0) {
      heartbeat(alive[rnd(alive.length)]!);
    }
    check();
  }

  // Quiesce: everyone heartbeats until the group is Stable.
  for (let round = 0; round < 50; round++) {
    h.clock.advance(1000);
    for (const c of clients.values()) heartbeat(c);
    check();
    const g = h.coordinator.groups.get('g');
    if (g && groupStateName(g) === 'Stable' && [...clients.values()].every((c) => g.members.has(c.memberId) && g.members.size === clients.size)) break;
  }
  h.clock.advance(60_000); // killed members' sessions expire; the live ones heartbeat again
  for (let round = 0; round < 20; round++) {
    for (const c of clients.values()) heartbeat(c);
    check();
  }
  const g = h.coordinator.groups.get('g');
  if (clients.size === 0) return;
  assert.ok(g);
  assert.equal(groupStateName(g), 'Stable', `seed ${seed}`);
  assert.equal(g.members.size, clients.size);
  const subscribed = new Set([...clients.values()].flatMap((c) => c.topics));
  const assigned = new Set([...clients.values()].flatMap((c) => keys(c.owned)));
  for (const t of subscribed) {
    const md = h.topics.get(t)!;
    for (let p = 0; p < md.partitions; p++) assert.ok(assigned.has(`${md.id}:${p}`), `seed ${seed}: ${t}-${p} never assigned`);
  }
  for (const c of clients.values()) assert.deepEqual(c.received ?? c.owned, g.members.get(c.memberId)!.assigned);
}

test('random joins, leaves, kills, heartbeats and partition changes keep ownership exclusive and converge', () => {
  for (let seed = 1; seed <= 60; seed++) run(seed);
  // The scenarios do exercise what they are meant to.
  assert.ok(stats.staticJoins > 10 && stats.revocations > 100 && stats.fenced > 10, JSON.stringify(stats));
});
