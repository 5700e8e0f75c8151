// Background writeback: a segment that took WRITEBACK_BYTES (4 MiB) of appends without anyone
// asking for a sync gets an fdatasync nobody waits for, in both durability modes, so dirty
// pages never pile up into one long writeback burst (see SegmentSyncs.backgroundWriteback in segment-syncs.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SyncScheduler } from './sync-scheduler.ts';
import { batch, harness, until } from './test-util.ts';

const KIB = 1024;

for (const durability of ['fsync', 'pagecache'] as const) {
  describe(`background writeback (${durability})`, () => {
    it('no fdatasync below 4 MiB of unsynced appends, one started (not awaited) past it', async (t) => {
      const h = await harness(t);
      const synced: number[] = [];
      const syncer = new SyncScheduler({ fdatasync: async (handle) => void synced.push(handle.fd) });
      const log = await h.open({ durability }, { syncer });
      const big = batch(1, { valueSize: 256 * KIB });
      for (let i = 0; i < 15; i++) await log.append(Buffer.from(big), { leaderEpoch: 0 });
      await new Promise((r) => setImmediate(r));
      assert.equal(synced.length, 0, 'under 4 MiB written: nothing synced yet');
      for (let i = 0; i < 2; i++) await log.append(Buffer.from(big), { leaderEpoch: 0 });
      await until(() => synced.length === 1);
      // the next 4 MiB starts the next one
      for (let i = 0; i < 17; i++) await log.append(Buffer.from(big), { leaderEpoch: 0 });
      await until(() => synced.length === 2);
      assert.equal(syncer.fsyncs, 2);
    });

    it('a failed background fdatasync takes the log offline: later appends fail', async (t) => {
      const h = await harness(t);
      const syncer = new SyncScheduler({ fdatasync: async () => { throw new Error('EIO (injected)'); } });
      const log = await h.open({ durability }, { syncer });
      const big = batch(1, { valueSize: 512 * KIB });
      for (let i = 0; i < 9; i++) await log.append(Buffer.from(big), { leaderEpoch: 0 });
      await until(() => syncer.fsyncs === 1);
      await assert.rejects(
        async () => {
          for (let i = 0; i < 50; i++) await log.append(Buffer.from(batch(1)), { leaderEpoch: 0 });
        },
        (err: Error & { code?: number }) => /offline|fdatasync/i.test(err.message),
      );
    });
  });
}
