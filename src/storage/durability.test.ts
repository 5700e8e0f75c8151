import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { decodeRecords } from '../protocol/records.ts';
import { SyncScheduler } from './sync-scheduler.ts';
import { defaultSegmentIo, type SegmentIo } from './segment.ts';
import { batch, harness, until } from './test-util.ts';
import { PartitionLog } from './partition-log.ts';

const storageError = (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.KAFKA_STORAGE_ERROR;

/** Gates still closed when a test ends are opened, so a failed test cannot hang its cleanup. */
const openGates = new Set<() => void>();
afterEach(() => {
  for (const open of openGates) open();
  openGates.clear();
});

/** An fdatasync that counts calls and holds each round until released. */
function gatedFsync() {
  const calls: FileHandle[] = [];
  let open: (() => void) | null = null;
  let gate = new Promise<void>((r) => (open = r));
  openGates.add(() => {
    open!();
    gate = Promise.resolve();
  });
  return {
    calls,
    fn: async (h: FileHandle) => {
      calls.push(h);
      await gate;
      await h.datasync();
    },
    release() {
      open!();
      gate = new Promise<void>((r) => (open = r));
    },
    releaseAll() {
      open!();
      gate = Promise.resolve();
    },
  };
}

describe('SyncScheduler', () => {
  it('coalesces concurrent requests: one fdatasync per dirty file per round', async (t) => {
    const h = await harness(t);
    const fsync = gatedFsync();
    const syncer = new SyncScheduler({ fdatasync: fsync.fn });
    const logs: PartitionLog[] = [];
    for (let p = 0; p < 4; p++) {
      logs.push(await h.open({}, { dir: path.join(h.root, `t-${p}`), partition: p, syncer }));
    }
    const appendAll = () => Promise.all(logs.flatMap((log) => Array.from({ length: 25 }, () => log.append(batch(1), { leaderEpoch: 0 }))));
    await appendAll();
    // 100 concurrent sync() calls (25 per log): one round, one fdatasync per log's file
    const first = logs.flatMap((log) => Array.from({ length: 25 }, () => log.sync()));
    await until(() => fsync.calls.length === 4);
    // more appends and syncs while that round is running wait for the next round
    await appendAll();
    const second = logs.flatMap((log) => Array.from({ length: 25 }, () => log.sync()));
    await new Promise((r) => setImmediate(r));
    assert.equal(fsync.calls.length, 4);
    fsync.releaseAll();
    await Promise.all([...first, ...second]);
    assert.equal(fsync.calls.length, 8, '200 syncs, two rounds of 4 fdatasyncs');
    assert.equal(syncer.rounds, 2);
    assert.equal(syncer.fsyncs, 8);
    // a sync with nothing new written needs no fdatasync
    const before = fsync.calls.length;
    await Promise.all(logs.map((l) => l.sync()));
    assert.equal(fsync.calls.length, before);
  });

  it('a request made during a round is served by the next round, not the running one', async () => {
    const fsync = gatedFsync();
    const syncer = new SyncScheduler({ fdatasync: async (h) => fsync.fn(h).catch(() => {}) });
    const fake = { datasync: async () => {} } as unknown as FileHandle;
    const first = syncer.request(fake);
    await until(() => fsync.calls.length === 1);
    let secondDone = false;
    const second = syncer.request(fake).then(() => (secondDone = true));
    fsync.release();
    await first;
    assert.equal(secondDone, false);
    await until(() => fsync.calls.length === 2);
    fsync.release();
    await second;
    assert.equal(syncer.rounds, 2);
  });

  it('a failed fdatasync rejects the waiters of that file and takes its log offline, others stay up', async (t) => {
    const h = await harness(t);
    let failing = false;
    const syncer = new SyncScheduler({
      fdatasync: async (handle) => {
        const file = await fs.readlink(`/proc/self/fd/${handle.fd}`);
        if (failing && file.includes(`${path.sep}bad-0${path.sep}`)) {
          throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
        }
        await handle.datasync();
      },
    });
    const good = await h.open({}, { dir: path.join(h.root, 'good-0'), topic: 'good', syncer });
    const bad = await h.open({}, { dir: path.join(h.root, 'bad-0'), topic: 'bad', syncer });
    await bad.append(batch(1), { leaderEpoch: 0 });
    await bad.sync();
    failing = true;
    await bad.append(batch(1), { leaderEpoch: 0 });
    await good.append(batch(1), { leaderEpoch: 0 });
    const waiters = [bad.sync(), bad.sync(), bad.sync()];
    const goodSync = good.sync();
    for (const w of waiters) await assert.rejects(w, storageError);
    await goodSync;
    assert.equal(bad.offline, true);
    assert.equal(good.offline, false);
    await assert.rejects(bad.append(batch(1), { leaderEpoch: 0 }), storageError);
    await assert.rejects(bad.sync(), storageError);
    await assert.rejects(bad.read(0, 100), storageError);
    await good.append(batch(1), { leaderEpoch: 0 });
    await good.sync();
  });

  it('pagecache durability resolves sync() without fdatasync', async (t) => {
    const h = await harness(t);
    const fsync = gatedFsync();
    const syncer = new SyncScheduler({ fdatasync: fsync.fn });
    const log = await h.open({ durability: 'pagecache' }, { syncer });
    await log.append(batch(1), { leaderEpoch: 0 });
    await log.sync();
    assert.equal(fsync.calls.length, 0);
    fsync.releaseAll();
  });
});

describe('write failures (disk full)', () => {
  /** An io whose writev fails (optionally after writing part of the data) while `full` is set. */
  function flakyIo() {
    const state = { full: false, partial: false, failures: 0 };
    const io: SegmentIo = {
      async writev(handle, buffers, position) {
        if (!state.full) return defaultSegmentIo.writev(handle, buffers, position);
        state.failures++;
        if (state.partial) {
          const all = Buffer.concat(buffers);
          const { bytesWritten } = await handle.write(all, 0, Math.floor(all.length / 2), position);
          return bytesWritten; // a short write, as write(2) reports on ENOSPC
        }
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      },
      truncate: defaultSegmentIo.truncate,
    };
    return { state, io };
  }

  for (const partial of [false, true]) {
    it(`fails the append and the ones queued after it, and rolls back (${partial ? 'short write' : 'ENOSPC'})`, async (t) => {
      const h = await harness(t);
      const { state, io } = flakyIo();
      const log = await h.open({}, { io });
      await log.append(batch(2, { prefix: 'a' }), { leaderEpoch: 0 });
      const goodSize = (await fs.stat(path.join(h.dir, '00000000000000000000.log'))).size;
      state.full = true;
      state.partial = partial;
      const b = log.append(batch(2, { prefix: 'b' }), { leaderEpoch: 0 });
      const c = log.append(batch(2, { prefix: 'c' }), { leaderEpoch: 0 });
      assert.equal(log.logEndOffset, 6);
      await assert.rejects(b, storageError);
      await assert.rejects(c, storageError);
      assert.equal(log.logEndOffset, 2);
      assert.equal(log.highWatermark, 2);
      assert.equal(log.offline, false);
      assert.equal((await fs.stat(path.join(h.dir, '00000000000000000000.log'))).size, goodSize);
      assert.equal((await log.read(2, 1000)).bytes, 0);
      // the disk has room again: appends continue after the last good offset
      state.full = false;
      assert.equal((await log.append(batch(1, { prefix: 'd' }), { leaderEpoch: 0 })).baseOffset, 2);
      await log.sync();
      const recs = decodeRecords(Buffer.concat((await log.read(0, 1 << 20)).records));
      assert.deepEqual(recs.map((r) => `${r.offset}:${r.value}`), ['0:a-0', '1:a-1', '2:d-0']);
      await log.close();
      const again = await h.open();
      assert.equal(again.logEndOffset, 3);
    });
  }

  it('drops a queued roll and its segment when a write before it fails', async (t) => {
    const h = await harness(t);
    const { state, io } = flakyIo();
    const size = batch(1).length;
    const log = await h.open({ segmentBytes: size * 2 }, { io });
    await log.append(batch(1), { leaderEpoch: 0 });
    state.full = true;
    const p1 = log.append(batch(1), { leaderEpoch: 0 });
    const p2 = log.append(batch(1), { leaderEpoch: 0 }); // rolls to a segment at offset 2
    assert.deepEqual(log.segmentBaseOffsets, [0, 2]);
    await assert.rejects(p1, storageError);
    await assert.rejects(p2, storageError);
    assert.deepEqual(log.segmentBaseOffsets, [0]);
    state.full = false;
    await log.append(batch(1), { leaderEpoch: 0 });
    await log.append(batch(1), { leaderEpoch: 0 });
    assert.deepEqual(log.segmentBaseOffsets, [0, 2]);
    assert.equal(log.logEndOffset, 3);
  });
});

describe('ordering and visibility', () => {
  /** An io whose writes wait until released. */
  function gatedIo() {
    let open: (() => void) | null = null;
    let gate = new Promise<void>((r) => (open = r));
    openGates.add(() => {
      open!();
      gate = Promise.resolve();
    });
    const writes: number[] = [];
    const io: SegmentIo = {
      async writev(handle, buffers, position) {
        writes.push(buffers.length);
        await gate;
        return defaultSegmentIo.writev(handle, buffers, position);
      },
      truncate: defaultSegmentIo.truncate,
    };
    return { io, writes, release: () => (open!(), (gate = Promise.resolve())) };
  }

  it('never exposes appended bytes before they are written; queued appends share one writev', async (t) => {
    const h = await harness(t);
    const gated = gatedIo();
    const log = await h.open({}, { io: gated.io });
    const first = log.append(batch(2), { leaderEpoch: 0 });
    await until(() => gated.writes.length === 1);
    const rest = [log.append(batch(2), { leaderEpoch: 0 }), log.append(batch(2), { leaderEpoch: 0 })];
    assert.equal(log.logEndOffset, 6);
    assert.equal(log.highWatermark, 0);
    assert.equal(log.sizeInBytes, 0);
    assert.deepEqual(await log.read(0, 1 << 20), { records: [], bytes: 0 });
    assert.deepEqual(await log.read(0, 1 << 20, { maxOffset: 6 }), { records: [], bytes: 0 });
    assert.equal(await log.offsetForTimestamp(0), null);
    assert.equal(await log.maxTimestampOffset(), null);
    gated.release();
    await first;
    await Promise.all(rest);
    assert.deepEqual(gated.writes, [1, 2], 'the two queued appends went out in one writev');
    assert.equal(log.highWatermark, 6);
    assert.equal(decodeRecords(Buffer.concat((await log.read(0, 1 << 20)).records)).length, 6);
  });

  it('close() finishes queued writes and makes them durable', async (t) => {
    const h = await harness(t);
    let fsyncs = 0;
    const syncer = new SyncScheduler({ fdatasync: async (fh) => (fsyncs++, fh.datasync()) });
    const log = await h.open({ durability: 'pagecache' }, { syncer });
    const pending = Array.from({ length: 20 }, () => log.append(batch(1), { leaderEpoch: 0 }));
    await log.close();
    assert.equal((await Promise.all(pending)).at(-1)!.lastOffset, 19);
    assert.equal(fsyncs, 1);
    const again = await h.open();
    assert.equal(again.logEndOffset, 20);
  });

  it('a roll syncs the old segment before the new segment file exists', async (t) => {
    const h = await harness(t);
    const fsync = gatedFsync();
    const syncer = new SyncScheduler({ fdatasync: fsync.fn });
    const size = batch(1).length;
    const log = await h.open({ segmentBytes: size, durability: 'pagecache' }, { syncer });
    await log.append(batch(1), { leaderEpoch: 0 });
    const second = log.append(batch(1), { leaderEpoch: 0 });
    await until(() => fsync.calls.length === 1);
    const names = await fs.readdir(h.dir);
    assert.ok(!names.includes('00000000000000000001.log'), names.join(','));
    assert.ok(!names.includes('00000000000000000000.index'));
    fsync.releaseAll();
    assert.equal((await second).baseOffset, 1);
    const after = await fs.readdir(h.dir);
    assert.ok(after.includes('00000000000000000001.log') && after.includes('00000000000000000000.index'));
  });
});
