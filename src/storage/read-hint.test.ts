/**
 * Fetch reads that start where the previous read ended (`Segment.readHint`, log-reads.ts
 * readSegment/readFrom). The hint is a guess: every read must return exactly the batches from
 * the one holding the offset asked for, whatever the hint says. Read buffers come from the
 * shared pool; these tests copy each result and give the buffers back, as Fetch does, so a
 * later read may reuse them.
 *
 * Segments are reached without touching production code: Segment.prototype.withReader is
 * wrapped to remember the segments PartitionLog.read goes through, and findBatch to count
 * header scans (a read that follows the hint does not scan).
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { largeBuffers } from '../common/buffer-pool.ts';
import { batchBaseOffset, batchLastOffsetDelta, batchSize } from '../protocol/record-batch.ts';
import { buildRecordBatch, decodeRecords } from '../protocol/records.ts';
import type { PartitionLog } from './partition-log.ts';
import { Segment } from './segment.ts';
import { T0, batch, harness } from './test-util.ts';

const seen = new Set<Segment>();
let scans = 0;
const originalWithReader = Segment.prototype.withReader;
const originalFindBatch = Segment.prototype.findBatch;

before(() => {
  Segment.prototype.withReader = function (this: Segment, fn) {
    seen.add(this);
    return originalWithReader.call(this, fn);
  } as typeof originalWithReader;
  Segment.prototype.findBatch = function (this: Segment, ...args) {
    scans++;
    return originalFindBatch.apply(this, args);
  } as typeof originalFindBatch;
});
after(() => {
  Segment.prototype.withReader = originalWithReader;
  Segment.prototype.findBatch = originalFindBatch;
});
beforeEach(() => {
  seen.clear();
  scans = 0;
});

interface Stored {
  bytes: Buffer;
  base: number;
  last: number;
}

/** Appends batches (each after the previous one is written), returning them with their offsets. */
async function appendAll(log: PartitionLog, batches: Buffer[]): Promise<Stored[]> {
  const out: Stored[] = [];
  for (const b of batches) {
    const r = await log.append(b, { leaderEpoch: 0 });
    out.push({ bytes: b, base: r.baseOffset, last: r.lastOffset });
  }
  return out;
}

/** A log read, copied out of its (pooled) buffers, which then go back to the pool. */
async function read(log: PartitionLog, offset: number, maxBytes: number, opts: { minOneBatch?: boolean } = {}): Promise<Buffer> {
  const r = await log.read(offset, maxBytes, opts);
  const copy = Buffer.from(Buffer.concat(r.records));
  assert.equal(copy.length, r.bytes);
  for (const b of r.records) largeBuffers.release(b);
  return copy;
}

/**
 * Asserts equal bytes. (assert.deepEqual on buffers of ~100 KB that differ spends minutes
 * computing its diff; this names the batches instead.)
 */
function sameBytes(got: Buffer, want: Buffer, what = 'read'): void {
  if (got.equals(want)) return;
  const show = (b: Buffer) => {
    try {
      return JSON.stringify(ranges(b));
    } catch {
      return '(not whole batches)';
    }
  };
  assert.fail(`${what}: got ${got.length} bytes, batches ${show(got)}; want ${want.length} bytes, batches ${show(want)}`);
}

/** The batches of a record set, as [baseOffset, lastOffset] pairs. */
function ranges(set: Buffer): [number, number][] {
  const out: [number, number][] = [];
  for (let pos = 0; pos < set.length; pos += batchSize(set, pos)) {
    const base = batchBaseOffset(set, pos);
    out.push([base, base + batchLastOffsetDelta(set, pos)]);
  }
  return out;
}

/** The stored batch holding `offset`. */
function holding(stored: Stored[], offset: number): number {
  const i = stored.findIndex((s) => s.base <= offset && offset <= s.last);
  assert.ok(i >= 0, `no batch holds ${offset}`);
  return i;
}

/** Asserts that a read of `offset` returned whole stored batches from the one holding it. */
function assertReadAt(stored: Stored[], offset: number, got: Buffer, minBatches = 1): number {
  const i = holding(stored, offset);
  const n = ranges(got).length;
  assert.ok(n >= minBatches, `read of ${offset} returned ${n} batches`);
  sameBytes(got, Buffer.concat(stored.slice(i, i + n).map((s) => s.bytes)), `read of ${offset}`);
  return i + n;
}

/** Batches of varied sizes: 1-5 records of 1 B to ~80 KB values (some reads go through the pool). */
function variedBatches(n: number, prefix = 'b'): Buffer[] {
  const sizes = [0, 3_000, 70_000, 200, 12, 20_000, 1_500, 90_000];
  return Array.from({ length: n }, (_, i) =>
    batch(1 + ((i * 3) % 5), { prefix: `${prefix}${i}`, valueSize: Math.floor(sizes[i % sizes.length]! / (1 + ((i * 3) % 5))) }),
  );
}

function onlySegment(): Segment {
  assert.equal(seen.size, 1, `expected reads of one segment, saw ${seen.size}`);
  return [...seen][0]!;
}

describe('Fetch read hints', () => {
  it('sequential reads with small maxBytes follow the batches exactly, without header scans', async (t) => {
    const h = await harness(t);
    const log = await h.open();
    const stored = await appendAll(log, variedBatches(24));
    let next = 0;
    let i = 0;
    let k = 0;
    while (i < stored.length) {
      // exactly 1, 2 or 3 whole batches fit (plus a few bytes, less than any batch)
      const want = 1 + (k++ % 3);
      const fit = stored.slice(i, i + want);
      const got = await read(log, next, fit.reduce((n, s) => n + s.bytes.length, 0) + 5, { minOneBatch: false });
      assert.equal(batchBaseOffset(got), next, 'the read starts at the offset asked for');
      sameBytes(got, Buffer.concat(fit.map((s) => s.bytes)), `read of ${next}`);
      i += fit.length;
      next = fit[fit.length - 1]!.last + 1;
    }
    assert.equal(next, log.logEndOffset);
    // only the first read (offset 0, no hint yet) may scan headers; the rest start at the hint
    assert.ok(scans <= 1, `${scans} header scans for sequential reads`);
    const seg = onlySegment();
    assert.deepEqual(seg.readHint, { offset: log.logEndOffset, pos: seg.size });

    // the log grows past the hint: the next read starts right there
    const more = await appendAll(log, variedBatches(4, 'more'));
    stored.push(...more);
    const scansBefore = scans;
    const got = await read(log, next, 1 << 20);
    sameBytes(got, Buffer.concat(more.map((s) => s.bytes)));
    assert.equal(scans, scansBefore);
  });

  it('reads from the middle of a batch, or from an offset that is not the hinted one, are right', async (t) => {
    const h = await harness(t);
    const log = await h.open();
    const stored = await appendAll(log, variedBatches(20));
    // set a hint somewhere in the middle
    const mid = stored[8]!;
    assertReadAt(stored, mid.base, await read(log, mid.base, mid.bytes.length));
    const seg = onlySegment();
    assert.equal(seg.readHint?.offset, stored[9]!.base);

    for (const s of stored) {
      if (s.last > s.base) {
        // an offset inside the batch: the read starts with that whole batch
        assertReadAt(stored, s.base + 1, await read(log, s.base + 1, 200_000));
        assertReadAt(stored, s.last, await read(log, s.last, 1));
      }
      // whole batch offsets that are not the one hinted (the hint now points after s or elsewhere)
      const other = stored[(stored.indexOf(s) * 7 + 3) % stored.length]!;
      assertReadAt(stored, other.base, await read(log, other.base, 150_000));
    }

    // two consumers at different positions take turns: each read overwrites the other's hint
    let a = 0;
    let b = stored[11]!.base;
    while (a < log.logEndOffset || b < log.logEndOffset) {
      for (const [cursor, maxBytes] of [
        ['a', 50_000],
        ['b', 5_000],
      ] as const) {
        const at = cursor === 'a' ? a : b;
        if (at >= log.logEndOffset) continue;
        const got = await read(log, at, maxBytes);
        assertReadAt(stored, at, got);
        const [, last] = ranges(got).at(-1)!;
        if (cursor === 'a') a = last + 1;
        else b = last + 1;
      }
    }
  });

  it('detects a wrong hint and still reads the right batch', async (t) => {
    const h = await harness(t);
    const log = await h.open();
    const stored = await appendAll(log, variedBatches(16));
    const posOf: number[] = [];
    for (let i = 0, pos = 0; i < stored.length; pos += stored[i]!.bytes.length, i++) posOf.push(pos);
    await read(log, 0, 1);
    const seg = onlySegment();
    const size = seg.size;

    const cases: { what: string; target: number; pos: number }[] = [];
    for (const target of [2, 5, 9, 13]) {
      // a valid batch header, of another batch (before and after the one asked for)
      cases.push({ what: 'another batch before', target, pos: posOf[target - 1]! });
      cases.push({ what: 'another batch after', target, pos: posOf[target + 2]! });
      cases.push({ what: 'the first batch', target, pos: 0 });
      // not a batch boundary at all
      cases.push({ what: 'inside the batch', target, pos: posOf[target]! + 7 });
      cases.push({ what: 'inside the previous batch', target, pos: posOf[target - 1]! + 61 });
      // past what is written, or too close to its end for a header
      cases.push({ what: 'past the end', target, pos: size + 100 });
      cases.push({ what: 'at the end', target, pos: size });
      cases.push({ what: 'a few bytes before the end', target, pos: size - 10 });
      // the last batch, which ends exactly at the end
      cases.push({ what: 'the last batch', target, pos: posOf[stored.length - 1]! });
    }
    for (const { what, target, pos } of cases) {
      const s = stored[target]!;
      for (const minOneBatch of [true, false]) {
        seg.readHint = { offset: s.base, pos };
        const got = await read(log, s.base, s.bytes.length + stored[target + 1]!.bytes.length, { minOneBatch });
        sameBytes(
          got,
          Buffer.concat([s.bytes, stored[target + 1]!.bytes]),
          `hint for ${s.base} pointing at ${what} (byte ${pos}), minOneBatch ${minOneBatch}`,
        );
        // the hint was replaced by a right one: the next read follows on
        assert.deepEqual(seg.readHint, { offset: stored[target + 2]!.base, pos: posOf[target + 2] });
        assertReadAt(stored, stored[target + 2]!.base, await read(log, stored[target + 2]!.base, 1));
      }
    }

    // a hint naming an offset inside a batch, at that batch's position
    const s = stored[4]!;
    assert.ok(s.last > s.base);
    seg.readHint = { offset: s.base + 1, pos: posOf[4]! };
    assertReadAt(stored, s.base + 1, await read(log, s.base + 1, 1));
  });

  it('does not trust bytes inside a batch that look like the header of the batch asked for', async (t) => {
    const h = await harness(t);
    const log = await h.open();
    // batches 0, 1, the one carrying fake headers, then 3, 4, 5; the fakes name batch 4's offset
    const counts = [2, 3, 1, 2, 2, 1];
    const target = counts.slice(0, 4).reduce((a, b) => a + b, 0);
    const fake = (lengthField: number, magic: number) => {
      const b = Buffer.alloc(64, 0x2e);
      b.writeBigInt64BE(BigInt(target), 0); // baseOffset: the offset asked for
      b.writeInt32BE(lengthField, 8);
      b.writeInt32BE(0, 12); // partition leader epoch
      b.writeInt8(magic, 16);
      b.writeInt32BE(0, 23); // last offset delta
      return b;
    };
    const fakes = {
      'a size reaching past the end of the segment': fake(4 * 1024 * 1024, 2),
      'magic 1': fake(100, 1),
      'magic 0': fake(100, 0),
      'a size smaller than a batch header': fake(0, 2),
      'a negative size': fake(-40, 2),
    };
    const carrier = buildRecordBatch({
      baseTimestamp: T0,
      records: [{ key: null, value: Buffer.concat(Object.values(fakes).flatMap((f) => [Buffer.from('<fake>'), f])) }],
    });
    const batches = counts.map((n, i) => (i === 2 ? carrier : batch(n, { prefix: `c${i}`, valueSize: 300 })));
    const stored = await appendAll(log, batches);
    assert.equal(stored[4]!.base, target);
    const carrierPos = stored[0]!.bytes.length + stored[1]!.bytes.length;
    await read(log, 0, 1);
    const seg = onlySegment();
    for (const [what, f] of Object.entries(fakes)) {
      const pos = carrierPos + carrier.indexOf(f);
      for (const minOneBatch of [true, false]) {
        seg.readHint = { offset: target, pos };
        const got = await read(log, target, stored[4]!.bytes.length, { minOneBatch });
        sameBytes(got, stored[4]!.bytes, `hint at a fake header with ${what}, minOneBatch ${minOneBatch}`);
      }
    }
  });

  it('reads across segment rolls are right, sequentially and from any offset', async (t) => {
    const h = await harness(t);
    const log = await h.open({ segmentBytes: 6_000, indexIntervalBytes: 500 });
    const batches = Array.from({ length: 60 }, (_, i) => batch(1 + (i % 4), { prefix: `r${i}`, valueSize: [5, 300, 900, 60, 1_400][i % 5] }));
    const stored = await appendAll(log, batches);
    assert.ok(log.segmentCount >= 5, `expected several segments, got ${log.segmentCount}`);
    const bases = log.segmentBaseOffsets;

    for (const maxBytes of [1, 700, 2_500, 10_000, 1 << 20]) {
      const parts: Buffer[] = [];
      let next = 0;
      while (next < log.logEndOffset) {
        const got = await read(log, next, maxBytes);
        assert.equal(batchBaseOffset(got), next, `maxBytes ${maxBytes}: read of ${next}`);
        assertReadAt(stored, next, got);
        parts.push(got);
        next = ranges(got).at(-1)![1] + 1;
      }
      sameBytes(Buffer.concat(parts), Buffer.concat(batches), `maxBytes ${maxBytes}`);
    }
    assert.equal(seen.size, log.segmentCount);

    // at and around each segment boundary, and every offset
    for (const b of bases) {
      for (const o of [b - 1, b, b + 1]) {
        if (o < 0 || o >= log.logEndOffset) continue;
        assertReadAt(stored, o, await read(log, o, 3_000));
      }
    }
    for (let o = log.logEndOffset - 1; o >= 0; o -= 3) assertReadAt(stored, o, await read(log, o, 2_000));
  });

  it('a first batch larger than maxBytes comes whole with minOneBatch and not at all without', async (t) => {
    const h = await harness(t);
    const log = await h.open();
    const small = batch(2, { prefix: 's' });
    const big = batch(3, { prefix: 'big', valueSize: 100_000 });
    const mid = batch(1, { prefix: 'a' });
    const big2 = batch(2, { prefix: 'big2', valueSize: 40_000 });
    const stored = await appendAll(log, [small, big, mid, big2, batch(1, { prefix: 'z' })]);
    const bigBase = stored[1]!.base;

    for (const viaHint of [true, false]) {
      const label = viaHint ? 'from the hint' : 'from a scan';
      const prepare = async () => {
        if (viaHint) {
          sameBytes(await read(log, 0, small.length), small);
          assert.equal(onlySegment().readHint?.offset, bigBase);
        } else {
          await read(log, 0, 1);
          onlySegment().readHint = null;
        }
      };
      for (const maxBytes of [1, 100, small.length, big.length - 1]) {
        await prepare();
        assert.equal((await read(log, bigBase, maxBytes, { minOneBatch: false })).length, 0, `${label}, maxBytes ${maxBytes}`);
        await prepare();
        const got = await read(log, bigBase, maxBytes, { minOneBatch: true });
        sameBytes(got, big, `${label}, maxBytes ${maxBytes}: the whole big batch and nothing more`);
        assert.deepEqual(
          decodeRecords(got).map((r) => r.offset),
          [bigBase, bigBase + 1, bigBase + 2],
        );
        // and the next read follows on, from the hint the big read left (no header scan)
        const scansBefore = scans;
        sameBytes(await read(log, stored[2]!.base, mid.length), mid);
        assert.equal(scans, scansBefore, `${label}, maxBytes ${maxBytes}: the read after the big batch starts at the hint`);
      }
      // a big batch that does fit, with the next one: both
      await prepare();
      sameBytes(await read(log, bigBase, big.length + mid.length), Buffer.concat([big, mid]));
      // big2 does not fit after `mid`: the read stops before it, however it was started
      await prepare();
      sameBytes(await read(log, stored[2]!.base, mid.length + big2.length - 1), mid);
      sameBytes(await read(log, stored[3]!.base, 10, { minOneBatch: true }), big2);
      assert.equal((await read(log, stored[3]!.base, 10, { minOneBatch: false })).length, 0);
    }
  });
});
