import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ManualClock } from '../common/clock.ts';
import { silentLogger } from '../common/logger.ts';
import { writeFileAtomic, writeFilesAtomic } from './atomic-file.ts';
import { logConfig } from './log-config.ts';
import { LogManager, parsePartitionDir } from './log-manager.ts';
import { LogCorruptionError } from './recovery.ts';
import { T0, batch, tempDir } from './test-util.ts';

function manager(dataDir: string, clock = new ManualClock(T0), retentionCheckIntervalMs?: number) {
  return new LogManager({ dataDir, clock, logger: silentLogger, retentionCheckIntervalMs });
}

describe('LogManager', () => {
  it('parses partition directories from the last dash', () => {
    assert.deepEqual(parsePartitionDir('my-topic.v2_x-12'), { topic: 'my-topic.v2_x', partition: 12 });
    assert.deepEqual(parsePartitionDir('a-b-0'), { topic: 'a-b', partition: 0 });
    assert.equal(parsePartitionDir('_meta'), null);
    assert.equal(parsePartitionDir('topic-x'), null);
    assert.equal(parsePartitionDir('t-0.4f2a9c-delete'), null);
  });

  it('creates, loads, and reports partitions that fail recovery without opening them', async (t) => {
    const dataDir = await tempDir(t);
    const cfg = logConfig({ segmentBytes: 300 });
    const m1 = manager(dataDir);
    for (const [topic, p] of [['orders', 0], ['orders', 1], ['a-b-c', 0], ['broken', 0]] as const) {
      const log = await m1.create(topic, p, cfg);
      assert.equal(await m1.create(topic, p, cfg), log);
      for (let i = 0; i < 6; i++) await log.append(batch(2), { leaderEpoch: 0 });
    }
    await m1.close();
    // damage the start of broken-0's last segment (valid data follows)
    const dir = path.join(dataDir, 'broken-0');
    const last = (await fs.readdir(dir)).filter((f) => f.endsWith('.log')).sort().at(-1)!;
    const buf = await fs.readFile(path.join(dir, last));
    buf[80]! ^= 0xff;
    await fs.writeFile(path.join(dir, last), buf);
    await fs.mkdir(path.join(dataDir, '_meta'));
    await fs.writeFile(path.join(dataDir, '.lock'), '1');

    const m2 = manager(dataDir);
    t.after(() => m2.close());
    const seen: string[] = [];
    const { loaded, failed } = await m2.loadAll((topic) => {
      seen.push(topic);
      return cfg;
    });
    assert.deepEqual(
      loaded.map((l) => `${l.topic}-${l.partition}`),
      ['a-b-c-0', 'orders-0', 'orders-1'],
    );
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.topic, 'broken');
    assert.equal(failed[0]!.partition, 0);
    assert.ok(failed[0]!.error instanceof LogCorruptionError);
    assert.equal(m2.get('broken', 0), undefined);
    assert.equal(m2.get('orders', 1)!.logEndOffset, 12);
    assert.ok(!seen.includes('_meta'));
  });

  it('deletes a topic: open logs and refused partition directories', async (t) => {
    const dataDir = await tempDir(t);
    const m = manager(dataDir);
    t.after(() => m.close());
    const cfg = logConfig();
    const keep = await m.create('keep', 0, cfg);
    await keep.append(batch(1), { leaderEpoch: 0 });
    const gone = await m.create('gone', 0, cfg);
    await gone.append(batch(1), { leaderEpoch: 0 });
    await fs.mkdir(path.join(dataDir, 'gone-1')); // e.g. a partition refused at load
    await fs.mkdir(path.join(dataDir, 'gone-2.0123456789abcdef-delete')); // an interrupted delete
    await m.deleteTopic('gone');
    assert.equal(m.get('gone', 0), undefined);
    await assert.rejects(gone.append(batch(1), { leaderEpoch: 0 }));
    const names = (await fs.readdir(dataDir)).sort();
    assert.deepEqual(names, ['gone-2.0123456789abcdef-delete', 'keep-0']);
    // loadAll finishes interrupted deletes
    const m2 = manager(dataDir);
    t.after(() => m2.close());
    await m.close();
    const { loaded } = await m2.loadAll(() => cfg);
    assert.deepEqual(loaded.map((l) => l.topic), ['keep']);
    assert.deepEqual(await fs.readdir(dataDir), ['keep-0']);
  });

  it('runs retention periodically on the clock', async (t) => {
    const dataDir = await tempDir(t);
    const clock = new ManualClock(T0);
    const m = manager(dataDir, clock, 1000);
    t.after(() => m.close());
    const size = batch(1).length;
    const log = await m.create('t', 0, logConfig({ segmentBytes: size, retentionMs: 5000 }));
    for (let i = 0; i < 4; i++) await log.append(batch(1, { timestamp: clock.now() }), { leaderEpoch: 0 });
    assert.equal(log.segmentCount, 4);
    m.startRetention();
    const counts: number[] = [];
    for (let i = 0; i < 7; i++) {
      clock.advance(1000);
      await m.retentionSettled();
      counts.push(log.segmentCount);
    }
    // records are at T0..T0+3 (ms); retention.ms 5000 is exceeded from T0 + 6000 on
    assert.deepEqual(counts, [4, 4, 4, 4, 4, 1, 1]);
    assert.equal(log.logStartOffset, 3);
  });
});

describe('atomic files', () => {
  it('replaces files whole and leaves no temp files', async (t) => {
    const dir = await tempDir(t);
    const file = path.join(dir, 'meta.json');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, Buffer.from('two'));
    await writeFilesAtomic([
      { path: path.join(dir, 'a'), data: 'A' },
      { path: path.join(dir, 'b'), data: 'B' },
    ]);
    assert.equal(await fs.readFile(file, 'utf8'), 'two');
    assert.deepEqual((await fs.readdir(dir)).sort(), ['a', 'b', 'meta.json']);
    await assert.rejects(writeFileAtomic(path.join(dir, 'missing', 'x'), 'x'));
    assert.deepEqual((await fs.readdir(dir)).sort(), ['a', 'b', 'meta.json']);
  });
});
