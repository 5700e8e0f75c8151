/**
 * Random interleavings of every membership and offset operation with clock advances: no
 * operation throws, every continuation is answered at most once, the group's bookkeeping stays
 * consistent, and replaying the records of the run rebuilds the durable state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../common/clock.ts';
import { GroupCoordinator } from './coordinator.ts';
import { decodeRecord, encodeRecord } from './records.ts';
import { Harness, subscription } from './test-helpers.ts';
import type { JoinGroupResponse } from '../../protocol/messages/join-group-response.generated.ts';

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RUNS = Number(process.env.GROUP_FUZZ_RUNS ?? 60);

test('random operation sequences keep the machine consistent and replayable', () => {
  for (let run = 0; run < RUNS; run++) {
    const seed = 1000 + run;
    const r = rng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const h = new Harness({ maxGroupSize: 4 });
    h.run(h.coordinator.onLoaded());
    const groups = ['g1', 'g2'];
    type Known = { memberId: string; instance: string | null; generation: number; join?: { response: JoinGroupResponse | undefined } };
    const known = new Map<string, Known[]>(groups.map((g) => [g, []]));
    const newJoins: { g: string; instance: string | null; p: { response: JoinGroupResponse | undefined } }[] = [];
    const counters: { calls: number }[] = [];
    const track = <T extends { calls: number; response: unknown }>(p: T): T => (counters.push(p), p);
    const topicsFor = () => pick([['t'], ['t', 'u'], ['u']]);
    try {
      for (let step = 0; step < 150; step++) {
        // Learn member ids and generations from answers that arrived meanwhile.
        for (const nj of newJoins.splice(0)) {
          const res = nj.p.response;
          if (!res) newJoins.push(nj);
          else if (res.errorCode === 0 || res.errorCode === 79) known.get(nj.g)!.push({ memberId: res.memberId, instance: nj.instance, generation: res.generationId, join: nj.p });
        }
        for (const list of known.values()) {
          for (const k of list) if (k.join?.response?.errorCode === 0) k.generation = k.join.response.generationId;
        }
        const g = pick(groups);
        const ms = known.get(g)!;
        const leader = h.coordinator.snapshot().find((s) => s.groupId === g)?.leaderId;
        const m = ms.length > 0 && r() < 0.8 ? (r() < 0.4 ? (ms.find((k) => k.memberId === leader) ?? pick(ms)) : pick(ms)) : null;
        const op = Math.floor(r() * 11);
        switch (op) {
          case 0: {
            const instance = r() < 0.3 ? pick(['i1', 'i2']) : null;
            const p = track(h.join(g, '', { groupInstanceId: instance, version: pick([3, 5, 9]), topics: topicsFor() }));
            newJoins.push({ g, instance, p });
            break;
          }
          case 1:
          case 2:
            if (m) {
              m.join = track(h.join(g, m.memberId, { groupInstanceId: m.instance, topics: r() < 0.7 ? ['t'] : topicsFor() }));
            }
            break;
          case 3:
            if (m) {
              const desc = h.coordinator.describeGroups([g])[0]!;
              const assignments = r() < 0.5 ? desc.members.map((x) => ({ memberId: x.memberId, assignment: Buffer.from(x.memberId) })) : [];
              track(h.sync(g, m.memberId, m.generation, assignments, { groupInstanceId: m.instance }));
            }
            break;
          case 4:
            if (m) h.heartbeat(g, m.memberId, m.generation, m.instance);
            break;
          case 5:
            if (m) {
              h.run(h.coordinator.leaveGroup(h.ctx(pick([1, 3, 5])), {
                groupId: g,
                memberId: m.memberId,
                members: [{ memberId: r() < 0.2 ? '' : m.memberId, groupInstanceId: m.instance, reason: null }],
              }));
            }
            break;
          case 6:
            h.run(h.coordinator.offsetCommit(h.ctx(8), {
              groupId: g,
              generationIdOrMemberEpoch: m ? m.generation : -1,
              memberId: m ? m.memberId : '',
              groupInstanceId: m ? m.instance : null,
              retentionTimeMs: -1n,
              topics: [{ name: pick(['t', 'u', 'v']), partitions: [{ partitionIndex: pick([0, 1]), committedOffset: BigInt(step), committedLeaderEpoch: 1, commitTimestamp: -1n, committedMetadata: `s${step}` }] }],
            }));
            break;
          case 7:
            h.run(h.coordinator.offsetDelete(h.ctx(0), { groupId: g, topics: [{ name: pick(['t', 'u', 'v']), partitions: [{ partitionIndex: 0 }] }] }));
            break;
          case 8:
            if (r() < 0.2) h.run(h.coordinator.deleteGroups([g]));
            break;
          case 9:
            if (r() < 0.1) {
              h.failAppends = pick([6, 7, 56] as const);
              if (m) track(h.sync(g, m.memberId, m.generation, [], { groupInstanceId: m.instance }));
              else track(h.join(g, '', { version: 3 }));
              h.failAppends = null;
            }
            break;
          default:
            h.clock.advance(pick([100, 500, 1_000, 3_000, 3_000, 6_000, 11_000, 31_000]));
        }
        checkInvariants(h);
      }
    } catch (err) {
      throw new Error(`seed ${seed}: ${(err as Error).stack}`);
    }
    for (const c of counters) assert.ok(c.calls <= 1, `seed ${seed}: a continuation was called ${c.calls} times`);
    // Quiesce: every session and rebalance ends; groups end Empty (or gone).
    h.clock.advance(3_600_000);
    for (const c of counters) assert.ok(c.calls <= 1, `seed ${seed}: a continuation was called ${c.calls} times`);
    for (const s of h.coordinator.snapshot()) assert.equal(s.state, 'Empty', `seed ${seed}: ${s.groupId} is ${s.state}`);
    const fresh = new GroupCoordinator({ clock: new ManualClock() });
    for (const rec of h.log) {
      const { key, value } = encodeRecord(rec);
      fresh.replay(decodeRecord(key, value));
    }
    assert.deepEqual(fresh.snapshot(), h.coordinator.snapshot(), `seed ${seed}: replay differs`);
  }
});

function checkInvariants(h: Harness): void {
  // Reach into the groups through describe + snapshot (public views) for bookkeeping checks.
  for (const s of h.coordinator.snapshot()) {
    const ids = s.members.map((m) => m.memberId);
    assert.equal(new Set(ids).size, ids.length, `${s.groupId}: duplicate member ids`);
    if (s.members.length > 0 && s.state !== 'Dead') assert.ok(s.leaderId !== null && ids.includes(s.leaderId), `${s.groupId}: leader ${s.leaderId} not a member`);
    const instances = s.members.map((m) => m.groupInstanceId).filter((x) => x !== null);
    assert.equal(new Set(instances).size, instances.length, `${s.groupId}: duplicate instance ids`);
    if (s.state === 'Empty') assert.equal(s.members.length, 0, `${s.groupId}: Empty with members`);
    if (s.state === 'Stable' || s.state === 'CompletingRebalance') assert.ok(s.protocolName !== null, `${s.groupId}: no protocol`);
  }
  void subscription;
}
