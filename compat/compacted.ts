/**
 * A compacted changelog for the real-client tests of log compaction (Java, kcat, kafkajs): the
 * topic configs that make a cleaner run soon (valid on Kafka 4.x, where segment.bytes may not be
 * below 1 MiB, so segments roll by segment.ms), the records to write in rounds, and the check of
 * what a consumer reading from the beginning sees. No client code here: only data and assertions,
 * so test/integration can use it too.
 */
import assert from 'node:assert/strict';

/** Topic configs that make a compacted topic's cleaner run soon. */
export const COMPACTED_TOPIC_CONFIG: Record<string, string> = {
  'cleanup.policy': 'compact',
  'segment.ms': '100',
  'min.cleanable.dirty.ratio': '0.01',
  'delete.retention.ms': '100',
  'min.compaction.lag.ms': '0',
};

export interface CompactedRound {
  /** keyed records of this round (value null = tombstone), produced together */
  recs: Array<{ key: string; value: string | null }>;
}

/**
 * The data of a compacted changelog: KEYS keys, ROUNDS rounds of overwrites, then tombstones
 * for every fifth key, each round produced separately (≥ segment.ms apart, so several segments),
 * and last a `roll` round of fresh keys that starts the active segment, which is never cleaned.
 */
export function compactedPlan(tag: string, keys = 20, rounds = 3): { rounds: CompactedRound[]; roll: CompactedRound } {
  const out: CompactedRound[] = [];
  for (let r = 0; r < rounds; r++) {
    out.push({ recs: Array.from({ length: keys }, (_, k) => ({ key: `${tag}-k${String(k).padStart(2, '0')}`, value: `v${r}-${k}-${'x'.repeat(k)}` })) });
  }
  out.push({ recs: Array.from({ length: keys }, (_, k) => k).filter((k) => k % 5 === 0)
    .map((k) => ({ key: `${tag}-k${String(k).padStart(2, '0')}`, value: null })) });
  // an overwrite after a tombstone: the key is alive again
  out.push({ recs: [{ key: `${tag}-k05`, value: 'revived' }] });
  return { rounds: out, roll: { recs: [{ key: `${tag}-roll`, value: 'active segment' }] } };
}

export interface SeenRecord { offset: number; key: string | null; value: string | null }

/**
 * Has compaction happened, and is its result right? `written` lists every record produced, in
 * offset order starting at 0 (single partition); `seen` what a consumer read from the beginning.
 * Returns undefined while some key still appears more than once (not compacted yet); otherwise
 * asserts: offsets strictly increasing and a subset of the written ones, each record identical
 * to the one written at its offset, for every key exactly its latest write (a tombstone may be
 * kept as null until delete.retention.ms after cleaning, or removed), the last record (the
 * active segment) present; returns the state map key → value.
 */
export function checkCompacted(who: string, written: Array<{ key: string; value: string | null }>, seen: SeenRecord[])
  : Map<string, string> | undefined {
  const keys = seen.map((r) => r.key);
  if (new Set(keys).size !== keys.length) return undefined;
  for (let i = 1; i < seen.length; i++) {
    assert.ok(seen[i]!.offset > seen[i - 1]!.offset, `${who}: offsets increase (${seen[i - 1]!.offset} then ${seen[i]!.offset})`);
  }
  const latest = new Map<string, number>();
  written.forEach((w, o) => latest.set(w.key, o));
  const at = new Map(seen.map((r) => [r.offset, r]));
  for (const r of seen) {
    const w = written[r.offset];
    assert.ok(w, `${who}: offset ${r.offset} was never written (end ${written.length})`);
    assert.deepEqual({ key: r.key, value: r.value }, w, `${who}: the record at offset ${r.offset} is the one written there`);
    assert.equal(latest.get(w.key), r.offset, `${who}: key ${w.key} kept at its latest write (${latest.get(w.key)}), not at ${r.offset}`);
  }
  for (const [key, o] of latest) {
    if (written[o]!.value === null) continue; // tombstone: kept (null) or removed, both right
    assert.ok(at.has(o), `${who}: key ${key}: its latest value (offset ${o}) is missing`);
  }
  assert.ok(at.has(written.length - 1), `${who}: the last record (active segment) is there`);
  const state = new Map<string, string>();
  for (const r of seen) {
    if (r.value === null) state.delete(r.key!);
    else state.set(r.key!, r.value);
  }
  return state;
}

/** The state a changelog consumer must rebuild from `written`: latest value per key, tombstoned keys absent. */
export function expectedState(written: Array<{ key: string; value: string | null }>): Map<string, string> {
  const m = new Map<string, string>();
  for (const w of written) {
    if (w.value === null) m.delete(w.key);
    else m.set(w.key, w.value);
  }
  return m;
}

/**
 * Read the topic with `read` (from the beginning) every second until `checkCompacted` sees it
 * compacted, at most `waitMs`; a wrong compaction result fails at once, no compaction in time
 * fails with what the last read saw.
 */
export async function untilCompacted(who: string, written: Array<{ key: string; value: string | null }>, waitMs: number,
  read: () => Promise<SeenRecord[]>): Promise<Map<string, string>> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const seen = await read();
    const state = checkCompacted(who, written, seen);
    if (state) return state;
    if (Date.now() > deadline) {
      assert.fail(`${who}: not compacted within ${waitMs} ms: ${written.length} records written, the last read saw `
        + `${seen.length}, keys repeated: ${JSON.stringify(seen.filter((r, i) => seen.findIndex((x) => x.key === r.key) !== i).slice(0, 5))}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
