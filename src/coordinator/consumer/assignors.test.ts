import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countPartitions, type Assignment } from './assignment.ts';
import { rangeAssignor, uniformAssignor, type AssignorInput, type AssignorMember } from './assignors.ts';

const m = (memberId: string, ...topics: string[]): AssignorMember => ({ memberId, subscribedTopicIds: topics, rackId: null });

function input(members: AssignorMember[], topics: Record<string, number>, previous: Record<string, Assignment> = {}): AssignorInput {
  return { members, topics: new Map(Object.entries(topics)), previous: new Map(Object.entries(previous)) };
}

function asObject(r: Map<string, Assignment>): Record<string, Assignment> {
  return Object.fromEntries([...r].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}

/** Every partition of a topic with subscribers assigned exactly once, to a subscriber. */
function checkComplete(inp: AssignorInput, r: Map<string, Assignment>): void {
  const seen = new Set<string>();
  for (const [memberId, a] of r) {
    const member = inp.members.find((x) => x.memberId === memberId)!;
    for (const t of Object.keys(a)) {
      assert.ok(member.subscribedTopicIds.includes(t), `${memberId} got unsubscribed ${t}`);
      for (const p of a[t]!) {
        assert.ok(!seen.has(`${t}:${p}`), `${t}:${p} assigned twice`);
        seen.add(`${t}:${p}`);
      }
    }
  }
  for (const [t, n] of inp.topics) {
    if (!inp.members.some((x) => x.subscribedTopicIds.includes(t))) continue;
    for (let p = 0; p < n; p++) assert.ok(seen.has(`${t}:${p}`), `${t}:${p} unassigned`);
  }
}

test('range: contiguous ranges per topic, members sorted, the first get one more', () => {
  const r = rangeAssignor.assign(input([m('b', 'x', 'y'), m('a', 'x', 'y'), m('c', 'x')], { x: 7, y: 3 }));
  assert.deepEqual(asObject(r), {
    a: { x: [0, 1, 2], y: [0, 1] },
    b: { x: [3, 4], y: [2] },
    c: { x: [5, 6] },
  });
  assert.deepEqual(asObject(rangeAssignor.assign(input([m('a', 'x'), m('b', 'x')], { x: 1 }))), { a: { x: [0] }, b: {} });
});

test('uniform: balanced with identical subscriptions, deterministic', () => {
  const inp = input([m('c', 'x', 'y'), m('a', 'x', 'y'), m('b', 'x', 'y')], { x: 5, y: 3 });
  const r = uniformAssignor.assign(inp);
  checkComplete(inp, r);
  const counts = [...r.values()].map(countPartitions).sort();
  assert.deepEqual(counts, [2, 3, 3]);
  assert.deepEqual(asObject(uniformAssignor.assign(inp)), asObject(r));
});

test('uniform: sticky — a new member takes only the excess', () => {
  const prev = { a: { x: [0, 1, 2] }, b: { x: [3, 4, 5] } };
  const inp = input([m('a', 'x'), m('b', 'x'), m('c', 'x')], { x: 6 }, prev);
  const r = uniformAssignor.assign(inp);
  checkComplete(inp, r);
  for (const id of ['a', 'b']) {
    const kept = r.get(id)!.x!.filter((p) => prev[id as 'a' | 'b'].x.includes(p));
    assert.equal(kept.length, 2, `${id} keeps two of its partitions`);
  }
  assert.equal(countPartitions(r.get('c')!), 2);
  // A member leaving: the others keep everything and share its partitions.
  const r2 = uniformAssignor.assign(input([m('a', 'x'), m('c', 'x')], { x: 6 }, asObject(r)));
  assert.ok(r.get('a')!.x!.every((p) => r2.get('a')!.x!.includes(p)));
  assert.ok(r.get('c')!.x!.every((p) => r2.get('c')!.x!.includes(p)));
  assert.equal(countPartitions(r2.get('a')!), 3);
});

test('uniform: different subscriptions respect eligibility and balance', () => {
  const inp = input([m('a', 'x'), m('b', 'x', 'y'), m('c', 'y', 'z')], { x: 4, y: 4, z: 1 });
  const r = uniformAssignor.assign(inp);
  checkComplete(inp, r);
  const counts = [...r.values()].map(countPartitions);
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, JSON.stringify(asObject(r)));
  // Previous assignments of topics no longer subscribed or partitions gone are dropped.
  const r2 = uniformAssignor.assign(input([m('a', 'y')], { y: 2 }, { a: { x: [0], y: [0, 5] } }));
  assert.deepEqual(asObject(r2), { a: { y: [0, 1] } });
});

test('uniform and range: no members, no topics', () => {
  for (const a of [uniformAssignor, rangeAssignor]) {
    assert.deepEqual(asObject(a.assign(input([], { x: 3 }))), {});
    assert.deepEqual(asObject(a.assign(input([m('a', 'x')], {}))), { a: {} });
  }
});

test('uniform: random inputs are complete, and balanced for identical subscriptions', () => {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let iter = 0; iter < 200; iter++) {
    const topics: Record<string, number> = {};
    const nt = 1 + rnd(4);
    for (let i = 0; i < nt; i++) topics[`t${i}`] = rnd(9);
    const homogeneous = rnd(2) === 0;
    const names = Object.keys(topics);
    const members: AssignorMember[] = [];
    const nm = 1 + rnd(6);
    for (let i = 0; i < nm; i++) members.push(m(`m${i}`, ...(homogeneous ? names : names.filter(() => rnd(2) === 0))));
    const prev: Record<string, Assignment> = {};
    for (const x of members) prev[x.memberId] = { t0: [rnd(9), rnd(9)] };
    const inp = input(members, topics, prev);
    const r = uniformAssignor.assign(inp);
    checkComplete(inp, r);
    if (homogeneous) {
      const counts = [...r.values()].map(countPartitions);
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1);
    }
  }
});
