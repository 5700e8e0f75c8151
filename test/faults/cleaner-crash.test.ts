/**
 * Crash safety of compaction: a child process runs a cleaner pass and is killed with SIGKILL
 * at each step of the segment swap (segment-swap.ts), including part-way through writing the
 * cleaned file and after only some replaced segments were renamed. After each kill the log is
 * opened again (recovery completes or discards the swap) and must be a correct compaction of
 * the original: the same records at the same offsets (a subsequence of the original), at
 * least every record a complete pass keeps, no leftover files, and a pass run afterwards
 * gives exactly the fully compacted log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../../src/common/clock.ts';
import { silentLogger } from '../../src/common/logger.ts';
import { Compression } from '../../src/protocol/record-batch.ts';
import { CleanerModel, appendKeyed, readAll } from '../../src/storage/cleaner-model.ts';
import { logConfig } from '../../src/storage/log-config.ts';
import { PartitionLog } from '../../src/storage/partition-log.ts';
import { SyncScheduler } from '../../src/storage/sync-scheduler.ts';
import type { SwapStep } from '../../src/storage/segment-swap.ts';
import { CRASH_CONFIG, CRASH_T0, WRITE_SEGMENT_BYTES } from './cleaner-crash-config.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cleaner-crash-child.ts');
const STEPS: [SwapStep, number][] = [
  ['cleaned-partial', 1],
  ['cleaned-written', 1],
  ['swap-renamed', 1],
  ['first-old-renamed', 1],
  ['old-renamed', 1],
  ['swap-installed', 1],
  ['indexes-written', 1],
  ['swap-renamed', 2], // the second group: the first one is already swapped in
  ['first-old-renamed', 2],
  ['indexes-written', 2],
];

function open(dir: string, verifyAll = false) {
  return PartitionLog.open({
    verifyAll,
    dir,
    topic: 't',
    partition: 0,
    config: logConfig(CRASH_CONFIG),
    clock: new ManualClock(CRASH_T0),
    syncer: new SyncScheduler(),
    logger: silentLogger,
  });
}

test('a kill at any step of a segment swap leaves a log that recovers to a correct compaction', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'tributary-cleaner-crash-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const original = path.join(root, 'original', 't-0');
  const model = new CleanerModel();
  const log = await PartitionLog.open({
    dir: original,
    topic: 't',
    partition: 0,
    config: logConfig({ ...CRASH_CONFIG, segmentBytes: WRITE_SEGMENT_BYTES }),
    clock: new ManualClock(CRASH_T0),
    syncer: new SyncScheduler(),
    logger: silentLogger,
    createIfMissing: true,
  });
  const codecs = [Compression.NONE, Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD];
  const append = async (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      // one key written once (it survives every pass), two hot keys, some tombstones
      const rows = [0, 1, 2].map((j) => ({
        key: j === 0 ? `unique-${i}` : `hot-${(i * 2 + j) % 5}`,
        value: j === 2 && i % 5 === 0 ? null : `v${i}.${j}`.padEnd(50, '='),
      }));
      const ts = CRASH_T0 + i;
      model.append(await appendKeyed(log, rows, { codec: codecs[i % codecs.length], timestamp: ts }), rows, codecs[i % codecs.length]!, ts);
    }
  };
  await append(0, 60);
  await log.clean({ force: true });
  model.clean(log.segmentBaseOffsets.at(-1)!, CRASH_T0, CRASH_CONFIG.deleteRetentionMs!);
  await append(60, 120);
  const before = (await readAll(log)).records;
  const segments = log.segmentCount;
  const activeBase = log.segmentBaseOffsets.at(-1)!;
  await log.close();
  assert.ok(segments >= 12, `enough segments for several groups (${segments})`);
  const complete = new CleanerModel();
  complete.records = model.records.map((r) => ({ ...r }));
  complete.clean(activeBase, CRASH_T0, CRASH_CONFIG.deleteRetentionMs!);
  const mustKeep = new Set(complete.records.map((r) => r.offset));
  const byOffset = new Map(before.map((r) => [r.offset, r]));

  for (const [step, nth] of STEPS) {
    await t.test(`killed at ${step} #${nth}`, async () => {
      const dir = path.join(root, `${step}-${nth}`, 't-0');
      await fs.cp(original, dir, { recursive: true });
      const child = spawnSync(process.execPath, [CHILD, dir, step, String(nth)], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(child.signal, 'SIGKILL', `the child reached ${step} #${nth} (status ${child.status}, ${child.stderr})`);

      // A thorough open first: every segment scanned, offsets inside their segment's range.
      await (await open(dir, true)).close();
      const recovered = await open(dir);
      const got = (await readAll(recovered)).records;
      for (let i = 1; i < got.length; i++) assert.ok(got[i]!.offset > got[i - 1]!.offset, 'offsets increase');
      for (const r of got) assert.deepEqual(r, byOffset.get(r.offset), `record ${r.offset} is an original record, unchanged`);
      const present = new Set(got.map((r) => r.offset));
      for (const o of mustKeep) assert.ok(present.has(o), `record ${o}, kept by a complete pass, survived`);
      const leftovers = (await fs.readdir(dir)).filter((f) => /\.(cleaned|swap|deleted|tmp)$/.test(f));
      assert.deepEqual(leftovers, []);

      await recovered.clean({ force: true });
      assert.deepEqual(
        (await readAll(recovered)).records.map((r) => [r.offset, r.key, r.value]),
        complete.records.map((r) => [r.offset, r.key, r.value]),
        'a pass after recovery gives the fully compacted log',
      );
      await recovered.close();
    });
  }
});
