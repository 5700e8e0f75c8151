/**
 * All partition logs of one data directory: `<dataDir>/<topic>-<partition>/`. Opens (and
 * recovers) them at start, creates and deletes them, and runs retention and the log cleaner
 * (compaction) periodically.
 *
 * Directory names: the partition is parsed after the LAST '-', so topics may contain '-'.
 * A directory `<topic>-<partition>.<uuid>-delete` is a deletion in progress (Kafka's naming);
 * loadAll finishes removing it. Other entries (the metadata folder, `.lock`) are ignored.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../common/clock.ts';
import type { Logger } from '../common/logger.ts';
import type { LogConfig } from './log-config.ts';
import { fsyncDir } from './atomic-file.ts';
import { PartitionLog } from './partition-log.ts';
import type { SegmentIo } from './segment.ts';
import { SyncScheduler } from './sync-scheduler.ts';

const PARTITION_DIR = /^(.+)-(\d+)$/;
const DELETE_DIR = /^.+-\d+\.[0-9a-f]+-delete$/;
/** Partitions opened in parallel at start. */
const OPEN_CONCURRENCY = 8;

/** `<topic>-<partition>` → { topic, partition }, or null for any other name. */
export function parsePartitionDir(name: string): { topic: string; partition: number } | null {
  const m = PARTITION_DIR.exec(name);
  if (!m) return null;
  const partition = Number(m[2]);
  if (!Number.isSafeInteger(partition) || partition > 0x7fff_ffff) return null;
  return { topic: m[1]!, partition };
}

export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export interface LoadResult {
  loaded: PartitionLog[];
  failed: { topic: string; partition: number; error: Error }[];
}

export class LogManager {
  readonly dataDir: string;
  readonly syncer: SyncScheduler;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #retentionCheckIntervalMs: number;
  readonly #io: SegmentIo | undefined;
  readonly #logs = new Map<string, PartitionLog>();
  /** Creations in progress, so concurrent create() calls share one open. */
  readonly #creating = new Map<string, Promise<PartitionLog>>();
  #cancelRetention: (() => void) | null = null;
  #retentionRun: Promise<void> | null = null;
  readonly #cleanerBackoffMs: number;
  readonly #cleanerEnabled: boolean;
  #cancelCleaner: (() => void) | null = null;
  #cleanerRun: Promise<number> | null = null;
  #closed = false;
  readonly #producerIdExpirationMs: number;

  constructor(opts: {
    dataDir: string;
    clock: Clock;
    logger: Logger;
    syncer?: SyncScheduler;
    retentionCheckIntervalMs?: number;
    /** log.cleaner.backoff.ms: pause between two cleaner rounds over the compacted logs. */
    cleanerBackoffMs?: number;
    /** log.cleaner.enable: false leaves compacted topics uncompacted, as in Kafka. */
    cleanerEnabled?: boolean;
    /** Low-level writes for every log (tests inject failures). */
    io?: SegmentIo;
    /** producer.id.expiration.ms: idle producers without an open transaction are forgotten (at retention checks). */
    producerIdExpirationMs?: number;
  }) {
    this.dataDir = opts.dataDir;
    this.#clock = opts.clock;
    this.#logger = opts.logger;
    this.syncer = opts.syncer ?? new SyncScheduler({ logger: opts.logger });
    this.#retentionCheckIntervalMs = opts.retentionCheckIntervalMs ?? 300_000;
    this.#io = opts.io;
    this.#cleanerBackoffMs = opts.cleanerBackoffMs ?? 15_000;
    this.#cleanerEnabled = opts.cleanerEnabled ?? true;
    this.#producerIdExpirationMs = opts.producerIdExpirationMs ?? 86_400_000;
  }

  #key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  #options(topic: string, partition: number, config: LogConfig, createIfMissing: boolean) {
    return {
      dir: path.join(this.dataDir, partitionDirName(topic, partition)),
      topic,
      partition,
      config,
      clock: this.#clock,
      syncer: this.syncer,
      logger: this.#logger,
      createIfMissing,
      io: this.#io,
    };
  }

  /**
   * Opens every partition directory of the data dir. A partition whose log cannot be
   * recovered (LogCorruptionError, or an I/O error) is reported in `failed` and not opened.
   */
  async loadAll(configFor: (topic: string) => LogConfig): Promise<LoadResult> {
    await fs.mkdir(this.dataDir, { recursive: true });
    const entries = await fs.readdir(this.dataDir, { withFileTypes: true });
    const todo: { topic: string; partition: number }[] = [];
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      if (DELETE_DIR.test(e.name)) {
        this.#logger.info('removing a partially deleted partition directory', { dir: e.name });
        await fs.rm(path.join(this.dataDir, e.name), { recursive: true, force: true });
        continue;
      }
      const parsed = parsePartitionDir(e.name);
      if (!parsed || this.#logs.has(this.#key(parsed.topic, parsed.partition))) continue;
      todo.push(parsed);
    }
    const result: LoadResult = { loaded: [], failed: [] };
    let next = 0;
    const worker = async () => {
      while (next < todo.length) {
        const { topic, partition } = todo[next++]!;
        try {
          const log = await PartitionLog.open(this.#options(topic, partition, configFor(topic), false));
          this.#logs.set(this.#key(topic, partition), log);
          result.loaded.push(log);
        } catch (err) {
          this.#logger.error('could not open a partition log', { topic, partition, error: err as Error });
          result.failed.push({ topic, partition, error: err as Error });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, todo.length) }, worker));
    result.loaded.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    this.#logger.info('logs loaded', { partitions: result.loaded.length, failed: result.failed.length });
    return result;
  }

  get(topic: string, partition: number): PartitionLog | undefined {
    return this.#logs.get(this.#key(topic, partition));
  }

  /** Every open log. */
  all(): PartitionLog[] {
    return [...this.#logs.values()];
  }

  /** Creates (or returns the existing) log of a partition. */
  create(topic: string, partition: number, config: LogConfig): Promise<PartitionLog> {
    const key = this.#key(topic, partition);
    const existing = this.#logs.get(key);
    if (existing) return Promise.resolve(existing);
    let pending = this.#creating.get(key);
    if (!pending) {
      pending = (async () => {
        try {
          if (this.#closed) throw new Error('log manager is closed');
          await fs.mkdir(this.dataDir, { recursive: true });
          const log = await PartitionLog.open(this.#options(topic, partition, config, true));
          this.#logs.set(key, log);
          return log;
        } finally {
          this.#creating.delete(key);
        }
      })();
      this.#creating.set(key, pending);
    }
    return pending;
  }

  /**
   * Deletes every partition log of `topic`, open or not (a partition refused at load still
   * has its directory): each directory is renamed to `<name>.<uuid>-delete`, then removed.
   */
  async deleteTopic(topic: string): Promise<void> {
    const logs = [...this.#logs.entries()].filter(([, l]) => l.topic === topic);
    for (const [key] of logs) this.#logs.delete(key);
    await Promise.all(logs.map(([, l]) => l.delete()));
    let entries: string[] = [];
    try {
      entries = await fs.readdir(this.dataDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    let renamed = false;
    for (const name of entries) {
      if (parsePartitionDir(name)?.topic !== topic) continue;
      const dir = path.join(this.dataDir, name);
      if (!(await fs.stat(dir)).isDirectory()) continue;
      const doomed = `${dir}.${randomUUID().replaceAll('-', '')}-delete`;
      await fs.rename(dir, doomed);
      renamed = true;
      await fs.rm(doomed, { recursive: true, force: true });
    }
    if (renamed) await fsyncDir(this.dataDir);
    if (logs.length > 0) this.#logger.info('deleted topic logs', { topic, partitions: logs.length });
  }

  /** Runs retention on every log now; resolves with the number of segments deleted. */
  async runRetention(): Promise<number> {
    let deleted = 0;
    for (const log of this.#logs.values()) {
      try {
        deleted += await log.applyRetention();
        log.expireProducers(this.#clock.now(), this.#producerIdExpirationMs);
      } catch (err) {
        this.#logger.error('retention failed', { topic: log.topic, partition: log.partition, error: err as Error });
      }
    }
    return deleted;
  }

  /**
   * Periodic retention every retentionCheckIntervalMs, driven by the clock (fixed rate, like
   * Kafka's scheduler; a check still running when the next is due makes that one a no-op).
   */
  startRetention(): void {
    if (this.#cancelRetention || this.#closed) return;
    const tick = () => {
      if (this.#closed) return;
      this.#cancelRetention = this.#clock.setTimeout(tick, this.#retentionCheckIntervalMs);
      this.#retentionRun ??= this.runRetention()
        .then(() => {})
        .finally(() => {
          this.#retentionRun = null;
        });
    };
    this.#cancelRetention = this.#clock.setTimeout(tick, this.#retentionCheckIntervalMs);
  }

  /** Resolves when the periodic retention check in progress (if any) has finished. */
  async retentionSettled(): Promise<void> {
    await this.#retentionRun;
  }

  /**
   * One cleaner round: a pass over every compacted log that is due (PartitionLog.clean), one
   * log at a time, as Kafka's single default cleaner thread. A log whose pass fails (say, a
   * full disk) is logged and tried again next round; appends and reads never wait for it.
   * Resolves with the number of logs cleaned.
   */
  async runCleaner(): Promise<number> {
    let cleaned = 0;
    for (const log of this.#logs.values()) {
      if (this.#closed) break;
      if (!log.config.compact || log.offline) continue;
      try {
        if (await log.clean()) cleaned++;
      } catch (err) {
        this.#logger.error('log cleaning failed; will retry', { topic: log.topic, partition: log.partition, error: err as Error });
      }
    }
    return cleaned;
  }

  /** Cleaner rounds every log.cleaner.backoff.ms (no-op when log.cleaner.enable is false). */
  startCleaner(): void {
    if (!this.#cleanerEnabled || this.#cancelCleaner || this.#closed) return;
    const tick = () => {
      if (this.#closed) return;
      this.#cleanerRun = this.runCleaner().finally(() => {
        this.#cleanerRun = null;
        if (!this.#closed) this.#cancelCleaner = this.#clock.setTimeout(tick, this.#cleanerBackoffMs);
      });
    };
    this.#cancelCleaner = this.#clock.setTimeout(tick, this.#cleanerBackoffMs);
  }

  /** Resolves when the cleaner round in progress (if any) has finished. */
  async cleanerSettled(): Promise<void> {
    await this.#cleanerRun;
  }

  /** Stops retention and the cleaner, finishes writes, syncs and closes every log. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#cancelRetention?.();
    this.#cancelRetention = null;
    this.#cancelCleaner?.();
    this.#cancelCleaner = null;
    await this.#retentionRun;
    // Closing the logs (below) stops a pass in progress at its next batch.
    const cleaning = this.#cleanerRun;
    await Promise.allSettled([...this.#creating.values()]);
    const logs = [...this.#logs.values()];
    this.#logs.clear();
    await Promise.all(logs.map((l) => l.close()));
    await cleaning;
  }
}
