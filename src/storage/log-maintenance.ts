/**
 * The operations that replace segments of one partition log while appends and reads go on:
 * retention, DeleteRecords (the log start offset) and log-cleaner passes. They run one at a
 * time per log. PartitionLog owns one of these and delegates `applyRetention`,
 * `deleteRecords` and `clean` to it; the log's state is reached through LogMaintenanceHost.
 */
import { ErrorCode, KafkaError } from '../common/errors.ts';
import type { LogConfig } from './log-config.ts';
import type { Segment, SegmentIo } from './segment.ts';
import { countDeletable } from './retention.ts';
import { writeLogStartOffset } from './log-start-checkpoint.ts';
import { CleanAborted, SwapFailed, cleanLog, readCleanerState, type CleanStats, type CleanerHost, type CleanerState } from './cleaner.ts';
import type { SwapStepHook } from './segment-swap.ts';
import type { LogProducers } from './log-producers.ts';
import type { LogReadView } from './log-lookups.ts';

/** What LogMaintenance needs of its PartitionLog, besides its segments and offsets. */
export interface LogMaintenanceHost extends LogReadView {
  readonly dir: string;
  readonly topic: string;
  readonly partition: number;
  /** The log's current config (it can change while the log is open). */
  config(): LogConfig;
  readonly io: SegmentIo;
  readonly producers: LogProducers;
  now(): number;
  /** Replaces the segment list (never mutated: readers hold snapshots). */
  setSegments(segments: Segment[]): void;
  setLogStartOffset(offset: number): void;
  lastStableOffset(): number;
  offline(): boolean;
  closing(): boolean;
  /** The error of an offline log, or of a closed one; null while the log is usable. */
  unusable(): KafkaError | null;
  goOffline(reason: string): void;
  /** A deleted segment no longer needs an fdatasync. */
  forgetUnsynced(segment: Segment): void;
  /** Drops leader-epoch entries below `offset` (checkpointing the cache if it changed). */
  truncateEpochsFromStart(offset: number): void;
}

export class LogMaintenance {
  readonly #host: LogMaintenanceHost;
  /** The retention run in progress: a second applyRetention joins it. */
  #retaining: Promise<number> | null = null;
  /** Serialises retention, DeleteRecords and cleaning: each replaces segments of the log. */
  #chain: Promise<unknown> = Promise.resolve();
  /** The cleaner's checkpoint, read on the first pass. */
  #cleanerState: CleanerState | null = null;

  constructor(host: LogMaintenanceHost) {
    this.#host = host;
  }

  /** Resolves once the retention run and the maintenance tasks queued so far have finished (for close). */
  async settled(): Promise<void> {
    await this.#retaining;
    await this.#chain;
  }

  /** See PartitionLog.applyRetention. */
  applyRetention(): Promise<number> {
    const h = this.#host;
    if (h.offline() || h.closing()) return Promise.resolve(0);
    this.#retaining ??= this.#retain().finally(() => {
      this.#retaining = null;
    });
    return this.#retaining;
  }

  #retain(): Promise<number> {
    return this.#exclusive(async () => {
      const h = this.#host;
      const n = await countDeletable(h.segments(), h.config(), h.now(), h.logStartOffset());
      return this.#deletePrefix(n, 'retention');
    });
  }

  /** Runs `fn` after every other maintenance task of this log (retention, DeleteRecords, cleaning). */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn);
    this.#chain = run.catch(() => {});
    return run;
  }

  /** Deletes the first `n` segments (closed ones) and moves the log start offset past them. */
  async #deletePrefix(n: number, why: string): Promise<number> {
    const h = this.#host;
    if (n === 0 || h.closing()) return 0;
    const doomed = h.segments().slice(0, n);
    h.setSegments(h.segments().slice(n));
    h.setLogStartOffset(Math.max(h.logStartOffset(), h.segments()[0]!.baseOffset));
    for (const s of doomed) h.forgetUnsynced(s);
    h.logger.info(`${why} deleted segments`, {
      topic: h.topic,
      partition: h.partition,
      segments: n,
      bytes: doomed.reduce((a, s) => a + s.size, 0),
      logStartOffset: h.logStartOffset(),
    });
    h.truncateEpochsFromStart(h.logStartOffset());
    h.producers.state.truncateHead(h.logStartOffset());
    for (const s of doomed) {
      try {
        await s.delete();
      } catch (err) {
        h.logger.error('could not delete a segment', { segment: s.logPath, error: err as Error });
      }
    }
    return n;
  }

  /** See PartitionLog.deleteRecords. */
  async deleteRecords(offset: number): Promise<number> {
    const h = this.#host;
    const unusable = h.unusable();
    if (unusable) throw unusable;
    const hw = h.writtenOffset();
    const target = offset === -1 ? hw : offset;
    if (target < 0 || target > hw) {
      throw new KafkaError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `Cannot increment the log start offset to ${offset} of partition ${h.topic}-${h.partition} since it is larger than the high watermark ${hw}`,
      );
    }
    return this.#exclusive(async () => {
      if (target <= h.logStartOffset()) return h.logStartOffset();
      try {
        await writeLogStartOffset(h.dir, target);
      } catch (err) {
        h.logger.error('could not persist the log start offset', { dir: h.dir, error: err as Error });
        throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `cannot persist the log start offset: ${(err as Error).message}`);
      }
      h.setLogStartOffset(target);
      h.producers.state.truncateHead(target);
      h.logger.info('log start offset moved by DeleteRecords', { topic: h.topic, partition: h.partition, logStartOffset: target });
      h.truncateEpochsFromStart(target);
      let n = 0;
      const segs = h.segments();
      while (n + 1 < segs.length && segs[n]!.sealed && segs[n + 1]!.baseOffset <= target) n++;
      await this.#deletePrefix(n, 'DeleteRecords');
      return h.logStartOffset();
    });
  }

  /** See PartitionLog.clean. */
  clean(opts: { force?: boolean; maxMapKeys?: number; hook?: SwapStepHook }): Promise<CleanStats | null> {
    const h = this.#host;
    if (h.offline() || h.closing() || !h.config().compact) return Promise.resolve(null);
    return this.#exclusive(async () => {
      // Not while the producer state is rebuilt: the cleaner needs it right (aborted data, the LSO).
      if (h.offline() || h.closing() || h.producers.stale) return null;
      this.#cleanerState ??= await readCleanerState(h.dir);
      try {
        const done = await cleanLog(this.#cleanerHost(), this.#cleanerState, { ...opts, now: h.now() });
        if (!done) return null;
        this.#cleanerState = done.state;
        h.truncateEpochsFromStart(h.logStartOffset());
        h.logger.info('cleaned log', { topic: h.topic, partition: h.partition, ...done.stats });
        return done.stats;
      } catch (err) {
        if (err instanceof CleanAborted) return null;
        if (err instanceof SwapFailed) h.goOffline(err.message);
        throw err;
      }
    });
  }

  #cleanerHost(): CleanerHost {
    const h = this.#host;
    return {
      dir: h.dir,
      config: h.config(),
      logger: h.logger,
      io: h.io,
      get logStartOffset() {
        return h.logStartOffset();
      },
      segments: () => h.segments(),
      stopping: () => h.closing() || h.offline(),
      get lastStableOffset() {
        return h.lastStableOffset();
      },
      txns: () => h.producers.state.cleanerView(),
      forgetAborted: (markers) => h.producers.forgetAborted(markers, h.logStartOffset()),
      replace: (old, cleaned) => {
        const segs = h.segments();
        const at = segs.indexOf(old[0]!);
        if (at < 0 || old.some((s, i) => segs[at + i] !== s)) throw new Error('cleaned segments are no longer in the log');
        h.setSegments([...segs.slice(0, at), cleaned, ...segs.slice(at + old.length)]);
      },
    };
  }
}
