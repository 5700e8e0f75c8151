/** Helpers shared by the storage tests (not used by production code). */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { ManualClock } from '../common/clock.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { buildRecordBatch } from '../protocol/records.ts';
import { BATCH_HEADER_SIZE, computeBatchCrc } from '../protocol/record-batch.ts';
import { logConfig, type LogConfig } from './log-config.ts';
import { PartitionLog, type PartitionLogOptions } from './partition-log.ts';
import { SyncScheduler } from './sync-scheduler.ts';

export const T0 = 1_700_000_000_000;

/** A fresh temp directory removed after the test. */
export async function tempDir(t: TestContext): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tributary-storage-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** An uncompressed batch of `count` records with values `${prefix}-${i}`. */
export function batch(count: number, opts: { prefix?: string; timestamp?: number; valueSize?: number } = {}): Buffer {
  const prefix = opts.prefix ?? 'v';
  const ts = opts.timestamp ?? T0;
  return buildRecordBatch({
    baseTimestamp: ts,
    records: Array.from({ length: count }, (_, i) => ({
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`${prefix}-${i}`.padEnd(opts.valueSize ?? 0, '.')),
      timestamp: ts + i,
    })),
  });
}

export interface Harness {
  root: string;
  dir: string;
  clock: ManualClock;
  syncer: SyncScheduler;
  options(overrides?: Partial<LogConfig>, extra?: Partial<PartitionLogOptions>): PartitionLogOptions;
  open(overrides?: Partial<LogConfig>, extra?: Partial<PartitionLogOptions>): Promise<PartitionLog>;
}

/** A partition directory `t-0` in a temp dir, with a manual clock; logs are closed after the test. */
export async function harness(t: TestContext, logger: Logger = silentLogger): Promise<Harness> {
  const root = await tempDir(t);
  const dir = path.join(root, 't-0');
  const clock = new ManualClock(T0);
  const syncer = new SyncScheduler();
  const opened: PartitionLog[] = [];
  t.after(() => Promise.allSettled(opened.map((l) => l.close())));
  const h: Harness = {
    root,
    dir,
    clock,
    syncer,
    options: (overrides = {}, extra = {}) => ({
      dir,
      topic: 't',
      partition: 0,
      config: logConfig(overrides),
      clock,
      syncer,
      logger,
      createIfMissing: true,
      ...extra,
    }),
    async open(overrides = {}, extra = {}) {
      const log = await PartitionLog.open(h.options(overrides, extra));
      opened.push(log);
      return log;
    },
  };
  return h;
}

/** Base offsets of the files of one suffix in a directory. */
export async function filesWith(dir: string, suffix: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((f) => f.endsWith(suffix)).sort();
}

/** Waits (yielding to the event loop, no timers) until `cond` holds; gives up after ~10 s. */
export async function until(cond: () => boolean): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setImmediate(r));
  }
}

/** Re-encodes an uncompressed batch with `codec` (its records section compressed by `compress`). */
export function compressBatch(plain: Buffer, codec: number, compress: (b: Buffer) => Buffer): Buffer {
  const records = compress(plain.subarray(BATCH_HEADER_SIZE));
  const out = Buffer.concat([plain.subarray(0, BATCH_HEADER_SIZE), records]);
  out.writeInt32BE(out.length - 12, 8);
  out.writeInt16BE((out.readInt16BE(21) & ~7) | codec, 21);
  out.writeUInt32BE(computeBatchCrc(out), 17);
  return out;
}
