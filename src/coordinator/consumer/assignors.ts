/**
 * Server-side assignors (KIP-848): pure, deterministic functions from the group's members,
 * their subscriptions and the subscribed topics' metadata (plus the previous target
 * assignment, for stickiness) to the new target assignment of every member.
 *
 * - `uniform` (the default, as Kafka's `group.consumer.assignors` starts with it): spreads all
 *   partitions of the subscribed topics evenly over the members subscribed to each topic.
 *   Sticky: a member keeps the partitions of its previous target assignment that are still
 *   valid, unless it holds more than its share; only the excess moves. With identical
 *   subscriptions every member ends with floor(P/N) or ceil(P/N) partitions. With different
 *   subscriptions, partitions are placed on the least-loaded eligible member (topics with the
 *   fewest eligible members first) and then moved one by one from a member to an eligible one
 *   with at least two fewer partitions until no such move exists.
 * - `range`: per topic, the members subscribed to it sorted by member id get contiguous ranges
 *   of the partitions; the first (P mod N) members get one more. Not sticky.
 */
import type { Assignment } from './assignment.ts';

export interface AssignorMember {
  memberId: string;
  /** The ids of the topics the member subscribes to that exist (others are ignored). */
  subscribedTopicIds: readonly string[];
  rackId: string | null;
}

export interface AssignorInput {
  members: readonly AssignorMember[];
  /** Topic id → partition count, for the subscribed topics that exist. */
  topics: ReadonlyMap<string, number>;
  /** memberId → its previous target assignment (may be missing for new members). */
  previous: ReadonlyMap<string, Assignment>;
}

export type AssignorFn = (input: AssignorInput) => Map<string, Assignment>;

export interface Assignor {
  name: string;
  assign: AssignorFn;
}

function emptyResult(members: readonly AssignorMember[]): Map<string, Map<string, Set<number>>> {
  const out = new Map<string, Map<string, Set<number>>>();
  for (const m of [...members].sort((a, b) => cmp(a.memberId, b.memberId))) out.set(m.memberId, new Map());
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function finish(work: Map<string, Map<string, Set<number>>>): Map<string, Assignment> {
  const out = new Map<string, Assignment>();
  for (const [memberId, topics] of work) {
    const a: Assignment = {};
    for (const t of [...topics.keys()].sort()) {
      const s = topics.get(t)!;
      if (s.size > 0) a[t] = [...s].sort((x, y) => x - y);
    }
    out.set(memberId, a);
  }
  return out;
}

export const rangeAssignor: Assignor = {
  name: 'range',
  assign(input) {
    const work = emptyResult(input.members);
    for (const topicId of [...input.topics.keys()].sort()) {
      const n = input.topics.get(topicId)!;
      const subs = input.members
        .filter((m) => m.subscribedTopicIds.includes(topicId))
        .map((m) => m.memberId)
        .sort(cmp);
      if (subs.length === 0) continue;
      const base = Math.floor(n / subs.length);
      const extra = n % subs.length;
      let next = 0;
      subs.forEach((memberId, i) => {
        const count = base + (i < extra ? 1 : 0);
        if (count === 0) return;
        const s = new Set<number>();
        for (let p = next; p < next + count; p++) s.add(p);
        work.get(memberId)!.set(topicId, s);
        next += count;
      });
    }
    return finish(work);
  },
};

export const uniformAssignor: Assignor = {
  name: 'uniform',
  assign(input) {
    const work = emptyResult(input.members);
    const memberIds = [...work.keys()];
    const subscribed = new Map<string, Set<string>>();
    for (const m of input.members) subscribed.set(m.memberId, new Set(m.subscribedTopicIds.filter((t) => input.topics.has(t))));
    const count = new Map<string, number>(memberIds.map((id) => [id, 0]));
    const owner = new Map<string, string>(); // "topic:partition" → memberId
    const key = (t: string, p: number) => `${t}:${p}`;
    const add = (m: string, t: string, p: number) => {
      let s = work.get(m)!.get(t);
      if (!s) work.get(m)!.set(t, (s = new Set()));
      s.add(p);
      owner.set(key(t, p), m);
      count.set(m, count.get(m)! + 1);
    };
    const remove = (m: string, t: string, p: number) => {
      work.get(m)!.get(t)!.delete(p);
      owner.delete(key(t, p));
      count.set(m, count.get(m)! - 1);
    };
    const eligible = new Map<string, string[]>(); // topic → members subscribed
    for (const t of [...input.topics.keys()].sort()) eligible.set(t, memberIds.filter((m) => subscribed.get(m)!.has(t)));
    let total = 0;
    for (const [t, n] of input.topics) if (eligible.get(t)!.length > 0) total += n;

    // Homogeneous subscriptions: exact quotas. Otherwise an upper bound is not known up front.
    const homogeneous = memberIds.length > 0 && memberIds.every((m) => sameSet(subscribed.get(m)!, subscribed.get(memberIds[0]!)!));
    const minQuota = homogeneous ? Math.floor(total / memberIds.length) : 0;
    let extras = homogeneous ? total % memberIds.length : 0;

    // 1. Sticky: keep the previous target partitions that are still valid (within the quota).
    for (const m of memberIds) {
      const prev = input.previous.get(m) ?? {};
      const keep: [string, number][] = [];
      for (const t of Object.keys(prev).sort()) {
        const n = input.topics.get(t);
        if (n === undefined || !subscribed.get(m)!.has(t)) continue;
        for (const p of [...prev[t]!].sort((a, b) => a - b)) if (p < n && !owner.has(key(t, p))) keep.push([t, p]);
      }
      let limit = keep.length;
      if (homogeneous) {
        limit = Math.min(keep.length, minQuota);
        if (keep.length > minQuota && extras > 0) {
          limit++;
          extras--;
        }
      }
      for (let i = 0; i < limit; i++) add(m, keep[i]![0], keep[i]![1]);
    }
    // 2. Place the unassigned partitions on the least-loaded eligible member; topics with the
    //    fewest eligible members first, then by topic id and partition.
    const topicsOrdered = [...eligible.keys()]
      .filter((t) => eligible.get(t)!.length > 0)
      .sort((a, b) => eligible.get(a)!.length - eligible.get(b)!.length || cmp(a, b));
    for (const t of topicsOrdered) {
      const n = input.topics.get(t)!;
      const cands = eligible.get(t)!;
      for (let p = 0; p < n; p++) {
        if (owner.has(key(t, p))) continue;
        let best = cands[0]!;
        for (const c of cands) if (count.get(c)! < count.get(best)!) best = c;
        add(best, t, p);
      }
    }
    // 3. Balance: move a partition from a member to an eligible member with at least two fewer
    //    partitions, until no such move exists (each move lowers the sum of squares: terminates).
    for (;;) {
      let moved = false;
      const byLoad = [...memberIds].sort((a, b) => count.get(b)! - count.get(a)! || cmp(a, b));
      outer: for (const from of byLoad) {
        const topics = [...work.get(from)!.keys()].sort();
        for (const t of topics) {
          const cands = eligible.get(t)!;
          let best: string | null = null;
          for (const c of cands) if (count.get(c)! <= count.get(from)! - 2 && (best === null || count.get(c)! < count.get(best)!)) best = c;
          if (best === null) continue;
          const parts = [...work.get(from)!.get(t)!].sort((a, b) => b - a);
          if (parts.length === 0) continue;
          remove(from, t, parts[0]!);
          add(best, t, parts[0]!);
          moved = true;
          break outer;
        }
      }
      if (!moved) break;
    }
    return finish(work);
  },
};

function sameSet(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** The assignors a coordinator offers, by name; the first is the default. */
export const DEFAULT_ASSIGNORS: readonly Assignor[] = [uniformAssignor, rangeAssignor];
