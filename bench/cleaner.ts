/**
 * Log cleaner throughput, in-process (not part of the `npm run bench` matrix, which compares
 * brokers): writes 200,000 records of 1 KiB (half random bytes) over 10,000 keys to one
 * compacted partition log with 16 MiB segments, in batches of 100 with the given codec
 * (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd), then times one forced cleaner pass.
 *
 *   node bench/cleaner.ts [codec]      # prints one JSON line
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '../src/common/clock.ts';
import { silentLogger } from '../src/common/logger.ts';
import { buildRecordBatch } from '../src/protocol/records.ts';
import { logConfig } from '../src/storage/log-config.ts';
import { PartitionLog } from '../src/storage/partition-log.ts';
import { SyncScheduler } from '../src/storage/sync-scheduler.ts';

const codec = Number(process.argv[2] ?? 0);
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'clean-bench-'));
const log = await PartitionLog.open({ dir: path.join(dir, 't-0'), topic: 't', partition: 0, config: logConfig({ compact: true, segmentBytes: 16 << 20, retentionMs: -1, durability: 'pagecache' }), clock: systemClock, syncer: new SyncScheduler(), logger: silentLogger, createIfMissing: true });
const pool = (await import('node:crypto')).randomBytes(1 << 22);
const value = () => { const at = Math.floor(Math.random() * ((1 << 22) - 500)); return Buffer.concat([pool.subarray(at, at + 500), Buffer.alloc(500, 'x')]); };
let n = 0;
const t0 = performance.now();
for (let b = 0; b < 2000; b++) {
  const records = Array.from({ length: 100 }, () => ({ key: Buffer.from(`key-${(n++ * 7919) % 10000}`), value: value() }));
  await log.append(buildRecordBatch({ compression: codec, baseTimestamp: Date.now(), records }), { leaderEpoch: 0 });
}
const t1 = performance.now();
const size = log.sizeInBytes;
const stats = await log.clean({ force: true });
if (!stats) throw new Error('nothing was cleanable');
const t2 = performance.now();
console.log(JSON.stringify({ codec, records: n, logMB: +(size / 1e6).toFixed(1), appendS: +((t1 - t0) / 1000).toFixed(2), cleanS: +((t2 - t1) / 1000).toFixed(2), cleanMBps: +((stats.bytesRead / 1e6) / ((t2 - t1) / 1000)).toFixed(0), bytesRead: stats.bytesRead, bytesWritten: stats.bytesWritten, removed: stats.recordsRemoved, segments: log.segmentCount }));
await log.close();
await fs.rm(dir, { recursive: true, force: true });
