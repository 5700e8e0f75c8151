/**
 * Assignments as plain data: topic id → sorted partition numbers. Plain objects keep the
 * state easy to clone, compare (assert.deepEqual) and encode deterministically.
 */
export type Assignment = Record<string, number[]>;

/** Topic ids in sorted order, only those with at least one partition. */
export function topicIdsOf(a: Assignment): string[] {
  return Object.keys(a).filter((t) => a[t]!.length > 0).sort();
}

/** A canonical copy: sorted partitions, no empty topics, keys inserted in sorted order. */
export function normalize(a: Assignment): Assignment {
  const out: Assignment = {};
  for (const t of topicIdsOf(a)) out[t] = [...new Set(a[t]!)].sort((x, y) => x - y);
  return out;
}

export function fromSets(m: Map<string, Set<number>>): Assignment {
  const out: Assignment = {};
  for (const t of [...m.keys()].sort()) {
    const s = m.get(t)!;
    if (s.size > 0) out[t] = [...s].sort((x, y) => x - y);
  }
  return out;
}

export function toSets(a: Assignment): Map<string, Set<number>> {
  const m = new Map<string, Set<number>>();
  for (const t of Object.keys(a)) m.set(t, new Set(a[t]));
  return m;
}

export function equalAssignments(a: Assignment, b: Assignment): boolean {
  const ta = topicIdsOf(a);
  const tb = topicIdsOf(b);
  if (ta.length !== tb.length) return false;
  for (let i = 0; i < ta.length; i++) {
    if (ta[i] !== tb[i]) return false;
    const pa = [...a[ta[i]!]!].sort((x, y) => x - y);
    const pb = [...b[tb[i]!]!].sort((x, y) => x - y);
    if (pa.length !== pb.length || pa.some((p, j) => p !== pb[j])) return false;
  }
  return true;
}

export function isEmptyAssignment(a: Assignment): boolean {
  return topicIdsOf(a).length === 0;
}

export function countPartitions(a: Assignment): number {
  let n = 0;
  for (const t of Object.keys(a)) n += a[t]!.length;
  return n;
}

export function contains(a: Assignment, topicId: string, partition: number): boolean {
  return a[topicId]?.includes(partition) ?? false;
}

/** The request/response wire shape: [{ topicId, partitions }] sorted by topic id. */
export function toTopicPartitions(a: Assignment): { topicId: string; partitions: number[] }[] {
  return topicIdsOf(a).map((t) => ({ topicId: t, partitions: [...a[t]!].sort((x, y) => x - y) }));
}

export function fromTopicPartitions(list: readonly { topicId: string; partitions: readonly number[] }[]): Assignment {
  const m = new Map<string, Set<number>>();
  for (const tp of list) {
    let s = m.get(tp.topicId);
    if (!s) m.set(tp.topicId, (s = new Set()));
    for (const p of tp.partitions) s.add(p);
  }
  return fromSets(m);
}
