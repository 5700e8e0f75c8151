import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createLogger } from '../common/logger.ts';
import { decodeRecords } from '../protocol/records.ts';
import { setBatchBaseOffset } from '../protocol/record-batch.ts';
import { LogCorruptionError } from './recovery.ts';
import { batch, filesWith, harness, type Harness } from './test-util.ts';

const SEG0 = '00000000000000000000';

/** Writes `count` batches of 2 records and closes the log; returns the bytes of the log. */
async function populate(h: Harness, count: number, cfg = {}): Promise<{ bases: number[]; bytes: Buffer; leo: number }> {
  const log = await h.open(cfg);
  for (let i = 0; i < count; i++) await log.append(batch(2, { prefix: `b${i}` }), { leaderEpoch: 0 });
  const bases = log.segmentBaseOffsets;
  const leo = log.logEndOffset;
  let bytes = Buffer.alloc(0);
  let next = 0;
  while (next < leo) {
    const r = Buffer.concat((await log.read(next, 1 << 20)).records);
    bytes = Buffer.concat([bytes, r]);
    next = decodeRecords(r).at(-1)!.offset + 1;
  }
  await log.close();
  return { bases, bytes, leo };
}

function lastSegmentPath(h: Harness, bases: number[]): string {
  return path.join(h.dir, `${String(bases.at(-1)).padStart(20, '0')}.log`);
}

function capture(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, logger: createLogger('debug', (l) => lines.push(l)) };
}

async function readAll(log: Awaited<ReturnType<Harness['open']>>): Promise<number[]> {
  const out: number[] = [];
  let next = log.logStartOffset;
  while (next < log.logEndOffset) {
    const recs = decodeRecords(Buffer.concat((await log.read(next, 1 << 20)).records));
    out.push(...recs.map((r) => r.offset));
    next = recs.at(-1)!.offset + 1;
  }
  return out;
}

describe('recovery', () => {
  it('truncates a torn tail (a partially written batch) and logs how many bytes', async (t) => {
    const { lines, logger } = capture();
    const h = await harness(t, logger);
    const { bases, leo } = await populate(h, 5);
    const file = lastSegmentPath(h, bases);
    const good = (await fs.stat(file)).size;
    const next = batch(3);
    setBatchBaseOffset(next, 0, leo);
    await fs.appendFile(file, next.subarray(0, next.length - 7));
    const log = await h.open();
    assert.equal(log.logEndOffset, leo);
    assert.equal((await fs.stat(file)).size, good);
    assert.ok(lines.some((l) => l.includes('torn tail') && l.includes(`truncatedBytes=${next.length - 7}`)), lines.join('\n'));
    // appends continue right after the last good batch
    assert.equal((await log.append(batch(1), { leaderEpoch: 0 })).baseOffset, leo);
    assert.equal((await readAll(log)).length, leo + 1);
  });

  it('truncates a few trailing bytes shorter than a header', async (t) => {
    const h = await harness(t);
    const { bases, leo } = await populate(h, 3);
    await fs.appendFile(lastSegmentPath(h, bases), Buffer.from([0, 0, 0, 0, 0, 1, 2]));
    const log = await h.open();
    assert.equal(log.logEndOffset, leo);
  });

  it('truncates a garbage tail', async (t) => {
    const h = await harness(t);
    const { bases, leo } = await populate(h, 4);
    const garbage = Buffer.alloc(5000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) & 0xff;
    const file = lastSegmentPath(h, bases);
    const good = (await fs.stat(file)).size;
    await fs.appendFile(file, garbage);
    const log = await h.open();
    assert.equal(log.logEndOffset, leo);
    assert.equal((await fs.stat(file)).size, good);
    assert.deepEqual(await readAll(log), Array.from({ length: leo }, (_, i) => i));
  });

  it('treats a zero-filled (preallocated) tail as torn', async (t) => {
    const { lines, logger } = capture();
    const h = await harness(t, logger);
    const { bases, leo } = await populate(h, 4);
    await fs.appendFile(lastSegmentPath(h, bases), Buffer.alloc(64 * 1024));
    const log = await h.open();
    assert.equal(log.logEndOffset, leo);
    assert.ok(lines.some((l) => l.includes('zero-filled tail')));
  });

  it('truncates a last batch whose CRC does not match when nothing valid follows', async (t) => {
    const h = await harness(t);
    const { bases, leo, bytes } = await populate(h, 4);
    const file = lastSegmentPath(h, bases);
    const buf = await fs.readFile(file);
    buf[buf.length - 3]! ^= 0xff;
    await fs.writeFile(file, buf);
    const log = await h.open();
    assert.equal(log.logEndOffset, leo - 2);
    assert.ok(bytes.length > 0);
  });

  it('refuses a corrupt batch followed by valid data (mid-log corruption)', async (t) => {
    const h = await harness(t);
    const { bases } = await populate(h, 6);
    const file = lastSegmentPath(h, bases);
    const buf = await fs.readFile(file);
    buf[70]! ^= 0x01; // inside the first batch's records: CRC mismatch
    await fs.writeFile(file, buf);
    await assert.rejects(h.open(), (err) => {
      assert.ok(err instanceof LogCorruptionError);
      assert.match(err.message, /CRC mismatch, followed by a valid batch/);
      assert.equal(err.position, 0);
      return true;
    });
    // nothing was cut
    assert.deepEqual(await fs.readFile(file), buf);
  });

  it('refuses a batch with a damaged length followed by valid data', async (t) => {
    const h = await harness(t);
    const { bases } = await populate(h, 6);
    const file = lastSegmentPath(h, bases);
    const buf = await fs.readFile(file);
    buf.writeInt32BE(3, 8); // first batch's length field
    await fs.writeFile(file, buf);
    await assert.rejects(h.open(), LogCorruptionError);
  });

  it('refuses corruption in a closed segment whose indexes must be rebuilt, or with verifyAll', async (t) => {
    const h = await harness(t);
    const { bases } = await populate(h, 20, { segmentBytes: 400 });
    assert.ok(bases.length >= 3);
    const file = path.join(h.dir, `${SEG0}.log`);
    const buf = await fs.readFile(file);
    buf[buf.length - 2]! ^= 0x10; // the closed segment's last batch
    await fs.writeFile(file, buf);
    // its index files are intact: a normal open trusts closed segments (they were fsynced)
    const trusting = await h.open({ segmentBytes: 400 });
    await trusting.close();
    await assert.rejects(h.open({ segmentBytes: 400 }, { verifyAll: true }), (err) => {
      assert.ok(err instanceof LogCorruptionError);
      assert.match(err.message, /closed segment/);
      return true;
    });
    await fs.rm(path.join(h.dir, `${SEG0}.index`));
    await assert.rejects(h.open({ segmentBytes: 400 }), LogCorruptionError);
    assert.deepEqual(await fs.readFile(file), buf);
  });

  it('rebuilds missing and inconsistent index files of closed segments', async (t) => {
    const { lines, logger } = capture();
    const h = await harness(t, logger);
    const cfg = { segmentBytes: 600, indexIntervalBytes: 50 };
    const { bases, leo } = await populate(h, 30, cfg);
    assert.ok(bases.length >= 3);
    const idx0 = await fs.readFile(path.join(h.dir, `${SEG0}.index`));
    const tidx0 = await fs.readFile(path.join(h.dir, `${SEG0}.timeindex`));
    assert.ok(idx0.length > 0);
    await fs.rm(path.join(h.dir, `${SEG0}.index`));
    const second = String(bases[1]).padStart(20, '0');
    await fs.writeFile(path.join(h.dir, `${second}.timeindex`), Buffer.from('garbage!'));
    const log = await h.open(cfg);
    assert.deepEqual(await fs.readFile(path.join(h.dir, `${SEG0}.index`)), idx0);
    assert.deepEqual(await fs.readFile(path.join(h.dir, `${SEG0}.timeindex`)), tidx0);
    assert.equal((await fs.stat(path.join(h.dir, `${second}.timeindex`))).size % 12, 0);
    assert.ok(lines.some((l) => l.includes('rebuilt the indexes')));
    assert.ok(lines.some((l) => l.includes('inconsistent')));
    assert.deepEqual(await readAll(log), Array.from({ length: leo }, (_, i) => i));
  });

  it('cleans leftovers: .deleted and .tmp files, index files without a segment', async (t) => {
    const h = await harness(t);
    await populate(h, 2);
    await fs.writeFile(path.join(h.dir, '00000000000000000099.log.deleted'), 'x');
    await fs.writeFile(path.join(h.dir, 'leader-epoch-checkpoint.abcd.tmp'), 'x');
    await fs.writeFile(path.join(h.dir, '00000000000000000500.index'), '');
    const log = await h.open();
    assert.equal(log.logEndOffset, 4);
    const names = await fs.readdir(h.dir);
    assert.ok(!names.some((n) => n.endsWith('.deleted') || n.endsWith('.tmp') || n.startsWith('00000000000000000500')));
  });

  it('recovers the epoch cache from the last segment when the checkpoint is missing', async (t) => {
    const h = await harness(t);
    const log = await h.open();
    await log.append(batch(2), { leaderEpoch: 3 });
    await log.append(batch(2), { leaderEpoch: 5 });
    await log.close();
    await fs.rm(path.join(h.dir, 'leader-epoch-checkpoint'));
    const again = await h.open();
    assert.deepEqual(again.leaderEpochEntries, [
      { epoch: 3, startOffset: 0 },
      { epoch: 5, startOffset: 2 },
    ]);
    assert.deepEqual(await filesWith(h.dir, 'checkpoint'), ['leader-epoch-checkpoint']);
  });

  it('opens an empty directory as an empty log at offset 0', async (t) => {
    const h = await harness(t);
    await fs.mkdir(h.dir, { recursive: true });
    const log = await h.open({}, { createIfMissing: false });
    assert.equal(log.logStartOffset, 0);
    assert.equal(log.logEndOffset, 0);
    assert.deepEqual(await filesWith(h.dir, '.log'), [`${SEG0}.log`]);
    await assert.rejects(h.open({}, { dir: path.join(h.root, 'missing-0'), createIfMissing: false }), /ENOENT/);
  });
});
