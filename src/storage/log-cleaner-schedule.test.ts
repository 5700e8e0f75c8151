import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../common/clock.ts';
import { silentLogger } from '../common/logger.ts';
import { logConfig } from './log-config.ts';
import { LogManager } from './log-manager.ts';
import { T0, tempDir } from './test-util.ts';
import { appendKeyed, readAll } from './cleaner-model.ts';

const COMPACT = logConfig({ compact: true, segmentBytes: 500, retentionMs: -1 });

async function fill(m: LogManager, topic: string, config = COMPACT) {
  const log = await m.create(topic, 0, config);
  for (let i = 0; i < 12; i++) await appendKeyed(log, [{ key: `k${i % 2}`, value: `v${i}`.padEnd(60, '.') }], { timestamp: T0 + i });
  return log;
}

test('the cleaner runs every log.cleaner.backoff.ms over compacted logs only', async (t) => {
  const clock = new ManualClock(T0);
  const m = new LogManager({ dataDir: await tempDir(t), clock, logger: silentLogger, cleanerBackoffMs: 1000 });
  t.after(() => m.close());
  const compacted = await fill(m, 'changelog');
  const plain = await fill(m, 'events', logConfig({ segmentBytes: 500, retentionMs: -1 }));
  const plainBefore = await readAll(plain);
  const before = (await readAll(compacted)).records.length;
  m.startCleaner();
  clock.advance(999);
  await m.cleanerSettled();
  assert.equal((await readAll(compacted)).records.length, before, 'not before the backoff');
  clock.advance(1);
  await m.cleanerSettled();
  const after = (await readAll(compacted)).records;
  assert.ok(after.length < before, `compacted: ${before} → ${after.length} records`);
  assert.deepEqual(await readAll(plain), plainBefore, 'a delete-policy log is untouched');
  // the next round comes one backoff after the previous one ended
  for (let i = 0; i < 12; i++) await appendKeyed(compacted, [{ key: 'k0', value: `w${i}`.padEnd(60, '.') }], { timestamp: T0 + 100 + i });
  clock.advance(1000);
  await m.cleanerSettled();
  const latestK0 = (await readAll(compacted)).records.filter((r) => r.key === 'k0' && r.offset < compacted.segmentBaseOffsets.at(-1)!);
  assert.equal(latestK0.length, 1, 'a second round cleaned the new data');
});

test('log.cleaner.enable=false leaves compacted logs alone', async (t) => {
  const clock = new ManualClock(T0);
  const m = new LogManager({ dataDir: await tempDir(t), clock, logger: silentLogger, cleanerBackoffMs: 10, cleanerEnabled: false });
  t.after(() => m.close());
  const log = await fill(m, 'changelog');
  const before = await readAll(log);
  m.startCleaner();
  clock.advance(1000);
  await m.cleanerSettled();
  assert.deepEqual(await readAll(log), before);
});
