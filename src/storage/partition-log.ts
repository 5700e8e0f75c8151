/**
 * The log of one partition: a directory of segments, an append queue, reads, ListOffsets and
 * OffsetForLeaderEpoch lookups, retention; helpers in append-plan, log-lookups, log-maintenance,
 * log-open and segment-syncs.ts. See README.md for the ordering, durability and failure rules.
 *
 * Two views of the tail are kept:
 * - assigned: offsets and bytes handed out synchronously by `append` (`logEndOffset`);
 * - written: what the OS has accepted (`highWatermark`, and each Segment's fields).
 * Reads, indexes and lookups only ever see the written view.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../common/clock.ts';
import type { Logger } from '../common/logger.ts';
import { ErrorCode, KafkaError } from '../common/errors.ts';
import type { LogConfig } from './log-config.ts';
import { fsyncDir, writeFileAtomic, writeFilesAtomic } from './atomic-file.ts';
import { SegmentSyncs } from './segment-syncs.ts';
import { OffsetIndex } from './offset-index.ts';
import { TimeIndex } from './time-index.ts';
import { appendBatches, assignOffsets, rollReason, type AppendResult, type PlannedBatch } from './append-plan.ts';
import { Segment, defaultSegmentIo, type AppendBatchInfo, type SegmentIo } from './segment.ts';
import type { ReadResult } from './log-reads.ts';
import { maxTimestampOffset, offsetForTimestamp, readLog, type LogReadView } from './log-lookups.ts';
import { recoverLog, type PartitionLogOptions } from './log-open.ts';
import { TaskQueue } from './task-queue.ts';
import { LEADER_EPOCH_CHECKPOINT, type LeaderEpochCache } from './leader-epoch-cache.ts';
import type { CleanStats } from './cleaner.ts';
import { LogMaintenance } from './log-maintenance.ts';
import type { SwapStepHook } from './segment-swap.ts';
import type { AbortedTxn, AppendOrigin, ProducerEntry } from './producer-state.ts';
import { LogProducers } from './log-producers.ts';

export type { ReadResult } from './log-reads.ts';
export type { AppendBatchInfo } from './segment.ts';
export type { AppendResult } from './append-plan.ts';
export type { PartitionLogOptions } from './log-open.ts';

interface WriteTask {
  kind: 'write';
  segment: Segment;
  buffer: Buffer;
  batches: PlannedBatch[];
  result: AppendResult;
  resolve: (r: AppendResult) => void;
  reject: (err: Error) => void;
}

type Task = WriteTask | { kind: 'roll'; old: Segment; segment: Segment } | { kind: 'checkpoint' };

/** At most this many appends are coalesced into one writev. */
const MAX_GROUP = 512;

export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly dir: string;
  config: LogConfig;

  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #io: SegmentIo;
  /** Oldest first; the last one is active. Replaced, never mutated, so readers can hold a snapshot. */
  #segments: Segment[];
  readonly #epochs: LeaderEpochCache;
  #epochCheckpointDirty = false;

  #nextOffset: number;
  #writtenOffset: number;
  /** At or after the first segment's base offset: DeleteRecords can move it inside a segment. */
  #logStartOffset: number;
  #offline = false;
  #offlineReason = '';
  #closing: Promise<void> | null = null;
  /** Idempotent and transactional producers (log-producers.ts); rebuilt from a snapshot and the log on open. */
  readonly #producerLog: LogProducers;
  /** This log's segments and offsets, read live (log-lookups.ts); the other helpers' hosts start from it. */
  readonly #view: LogReadView;
  /** Retention, DeleteRecords and cleaning, one at a time (log-maintenance.ts). */
  readonly #maintenance: LogMaintenance;

  readonly #queue = new TaskQueue<Task>({
    run: (group) => this.#runTasks(group),
    joins: (first, next) => first.kind === 'write' && next.kind === 'write' && next.segment === first.segment,
    maxGroup: MAX_GROUP,
  });
  /** The segments' fdatasyncs: which have unsynced writes, syncing them (segment-syncs.ts). */
  readonly #syncs: SegmentSyncs;

  private constructor(opts: PartitionLogOptions, segments: Segment[], epochs: LeaderEpochCache, logStartOffset: number) {
    this.topic = opts.topic;
    this.partition = opts.partition;
    this.dir = opts.dir;
    this.config = opts.config;
    this.#clock = opts.clock;
    this.#logger = opts.logger;
    this.#io = opts.io ?? defaultSegmentIo;
    this.#segments = segments;
    this.#epochs = epochs;
    this.#nextOffset = segments[segments.length - 1]!.nextOffset;
    this.#writtenOffset = this.#nextOffset;
    this.#logStartOffset = logStartOffset;
    this.#view = {
      where: `${opts.topic}-${opts.partition}`,
      logger: opts.logger,
      segments: () => this.#segments,
      logStartOffset: () => this.#logStartOffset,
      nextOffset: () => this.#nextOffset,
      writtenOffset: () => this.#writtenOffset,
    };
    this.#syncs = new SegmentSyncs({
      syncer: opts.syncer,
      offline: () => this.#offline,
      storageError: () => this.#storageError(),
      goOffline: (reason) => this.#goOffline(reason),
    });
    this.#producerLog = new LogProducers({
      ...this.#view,
      dir: opts.dir,
      read: (offset, maxBytes, o) => this.read(offset, maxBytes, o),
      barrier: () => this.#queue.barrier(),
      offline: () => this.#offline,
      goOffline: (reason) => this.#goOffline(reason),
    });
    this.#maintenance = new LogMaintenance({
      ...this.#view,
      dir: opts.dir,
      topic: opts.topic,
      partition: opts.partition,
      config: () => this.config,
      io: this.#io,
      producers: this.#producerLog,
      now: () => this.#clock.now(),
      setSegments: (segments) => {
        this.#segments = segments;
      },
      setLogStartOffset: (offset) => {
        this.#logStartOffset = offset;
      },
      lastStableOffset: () => this.lastStableOffset,
      offline: () => this.#offline,
      closing: () => this.#closing !== null,
      unusable: () => this.#unusable(),
      goOffline: (reason) => this.#goOffline(reason),
      forgetUnsynced: (segment) => this.#syncs.delete(segment),
      truncateEpochsFromStart: (offset) => {
        if (this.#epochs.truncateFromStart(offset)) this.#enqueueCheckpoint();
      },
    });
    for (const s of segments) s.assignedSize = s.size;
    // The recovered tail may exist only in the page cache (the previous process died before
    // syncing it): the first sync() or roll fdatasyncs it before it counts as durable.
    const last = segments[segments.length - 1]!;
    if (last.size > 0) {
      last.writeSeq = 1;
      this.#syncs.add(last);
    }
  }

  /** Opens (creating with `createIfMissing`) and recovers a partition directory (log-open.ts). */
  static async open(opts: PartitionLogOptions): Promise<PartitionLog> {
    const { segments, epochs, logStartOffset } = await recoverLog(opts);
    const log = new PartitionLog(opts, segments, epochs, logStartOffset);
    try {
      await log.#producerLog.load();
    } catch (err) {
      await log.close().catch(() => {});
      throw err;
    }
    opts.logger.debug('opened log', {
      topic: log.topic,
      partition: log.partition,
      segments: segments.length,
      logStartOffset: log.logStartOffset,
      logEndOffset: log.logEndOffset,
    });
    return log;
  }

  get logStartOffset(): number {
    return this.#logStartOffset;
  }

  /** Kafka's local log start offset (ListOffsets -4): the same without tiered storage. */
  get localLogStartOffset(): number {
    return this.#logStartOffset;
  }

  /** The next offset to assign (includes appends whose write is still queued). */
  get logEndOffset(): number {
    return this.#nextOffset;
  }

  /** Single node: the end of what has been written to the OS. */
  get highWatermark(): number {
    return this.#writtenOffset;
  }

  /**
   * The last stable offset: the high watermark, or the first offset of the earliest transaction
   * that is open (or whose marker is not written yet) if that is lower. read_committed
   * consumers read up to here.
   */
  get lastStableOffset(): number {
    return this.#producerLog.lastStableOffset(this.#writtenOffset);
  }

  /** Aborted transactions with data in [from, to) (for read_committed fetches). */
  abortedTransactions(from: number, to: number): AbortedTxn[] {
    return this.#producerLog.state.abortedBetween(from, to);
  }

  /** The producers with state in this partition (DescribeProducers). */
  get activeProducers(): readonly ProducerEntry[] {
    return [...this.#producerLog.state.producers.values()];
  }

  /** Forgets producers idle for `expirationMs` without an open transaction (producer.id.expiration.ms). */
  expireProducers(now: number, expirationMs: number): void {
    const n = this.#producerLog.state.expire(now, expirationMs);
    if (n > 0) this.#logger.debug('expired idle producers', { topic: this.topic, partition: this.partition, producers: n });
  }

  /** True if the producer has written to a transaction here that has no marker yet. */
  hasOngoingTransaction(producerId: number): boolean {
    return this.#producerLog.state.hasOngoingTransaction(producerId);
  }

  get offline(): boolean {
    return this.#offline;
  }

  /** Bytes written, over all segments. */
  get sizeInBytes(): number {
    let n = 0;
    for (const s of this.#segments) n += s.size;
    return n;
  }

  get segmentCount(): number {
    return this.#segments.length;
  }

  /** Base offsets of the segments, oldest first (for tools and tests). */
  get segmentBaseOffsets(): number[] {
    return this.#segments.map((s) => s.baseOffset);
  }

  get leaderEpochEntries(): readonly { epoch: number; startOffset: number }[] {
    return this.#epochs.entries;
  }

  #storageError(): KafkaError {
    return new KafkaError(
      ErrorCode.KAFKA_STORAGE_ERROR,
      `log ${this.topic}-${this.partition} is offline: ${this.#offlineReason}`,
    );
  }

  /** The error of an offline log, or of a closed one; null while the log is usable. */
  #unusable(): KafkaError | null {
    if (this.#offline) return this.#storageError();
    if (this.#closing) return new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log ${this.topic}-${this.partition} is closed`);
    return null;
  }

  /**
   * This replica leads the partition from `epoch` on, starting at the current log end (Kafka's
   * leader does this on election, before any data arrives, so OffsetForLeaderEpoch can answer
   * for an empty partition). No-op when the epoch is already known.
   */
  assignLeaderEpoch(epoch: number): void {
    if (this.#epochs.assign(epoch, this.#nextOffset)) this.#enqueueCheckpoint();
  }

  // ---- append ---------------------------------------------------------------------------

  /**
   * Appends a record set, assigning offsets now (in call order). Batches with a producer id go
   * through the producer state first (`origin`, default 'client'): a duplicate of one of the
   * producer's last five batches resolves with the original's offsets and appends nothing; a
   * bad epoch or sequence rejects with Kafka's error. Such a record set must be one batch (as
   * Produce v3+ sends and the coordinators write).
   */
  append(
    records: Buffer,
    opts: { leaderEpoch: number; logAppendTime?: number; batches?: AppendBatchInfo[]; origin?: AppendOrigin },
  ): Promise<AppendResult> {
    const unusable = this.#unusable();
    if (unusable) return Promise.reject(unusable);
    const checked = appendBatches(records, opts.batches);
    if (checked instanceof KafkaError) return Promise.reject(checked);
    const { batches, producerBatch } = checked;
    if (producerBatch) {
      const early = this.#producerLog.check(producerBatch, opts.origin ?? 'client');
      if (early) return early;
    }
    let offsets = 0;
    for (const b of batches) offsets += b.lastOffsetDelta + 1;
    this.#maybeRoll(records.length, batches.length, offsets);

    const segment = this.#segments[this.#segments.length - 1]!;
    const stamp = opts.logAppendTime;
    const baseOffset = this.#nextOffset;
    const planned = assignOffsets(records, batches, baseOffset, opts.leaderEpoch, stamp);
    const offset = baseOffset + offsets;
    this.#nextOffset = offset;
    if (producerBatch) this.#producerLog.state.apply(producerBatch, baseOffset, offset - 1);
    segment.assignedSize += records.length;
    segment.pendingBatches += batches.length;
    segment.rollBaseMs ??= this.#clock.now();
    if (this.#epochs.assign(opts.leaderEpoch, baseOffset)) this.#enqueueCheckpoint();

    const result: AppendResult = {
      baseOffset,
      lastOffset: offset - 1,
      logAppendTime: stamp ?? -1,
      logStartOffset: -1,
    };
    return new Promise<AppendResult>((resolve, reject) => {
      this.#queue.push({ kind: 'write', segment, buffer: records, batches: planned, result, resolve, reject });
    });
  }

  /** Rolls to a new segment when the append would not fit the active one (Kafka's shouldRoll). */
  #maybeRoll(bytes: number, batches: number, offsets: number): void {
    const seg = this.#segments[this.#segments.length - 1]!;
    if (seg.assignedSize === 0) return;
    const c = this.config;
    const append = { bytes, batches, offsets, nextOffset: this.#nextOffset };
    const reason = rollReason(seg, c, append, this.#clock.now());
    if (reason === null) return;
    const next = new Segment(this.dir, this.#nextOffset, {
      offset: OffsetIndex.maxEntriesFor(c.segmentIndexBytes),
      time: TimeIndex.maxEntriesFor(c.segmentIndexBytes),
    });
    this.#segments = [...this.#segments, next];
    this.#logger.debug('rolling segment', { topic: this.topic, partition: this.partition, baseOffset: next.baseOffset, reason });
    this.#queue.push({ kind: 'roll', old: seg, segment: next });
  }

  #enqueueCheckpoint(): void {
    if (this.#queue.some((t) => t.kind === 'checkpoint')) return;
    this.#queue.push({ kind: 'checkpoint' });
  }

  /** Runs one group of the queue: consecutive appends to one segment, or a single task. */
  async #runTasks(group: Task[]): Promise<void> {
    const task = group[0]!;
    if (task.kind === 'roll') return this.#roll(task.old, task.segment);
    if (task.kind === 'checkpoint') return this.#writeCheckpoint();
    const writes = group as WriteTask[];
    try {
      await this.#writeGroup(writes);
    } catch (err) {
      await this.#writeFailed(writes, err as Error);
    }
  }

  async #writeGroup(group: WriteTask[]): Promise<void> {
    const seg = group[0]!.segment;
    if (!seg.handle) throw new Error(`segment ${seg.logPath} is not open`);
    const buffers = group.map((t) => t.buffer);
    let total = 0;
    for (const b of buffers) total += b.length;
    const position = seg.size;
    const written = await this.#io.writev(seg.handle, buffers, position);
    if (written !== total) throw new Error(`short write: ${written} of ${total} bytes (disk full?)`);
    const interval = this.config.indexIntervalBytes;
    let at = position;
    for (const t of group) {
      for (const b of t.batches) seg.addBatch(at + b.pos, b.size, b.lastOffset, b.maxTimestamp, interval);
      at += t.buffer.length;
      seg.pendingBatches -= t.batches.length;
    }
    seg.size = at;
    seg.writeSeq++;
    this.#syncs.add(seg);
    this.#writtenOffset = group[group.length - 1]!.result.lastOffset + 1;
    const logStartOffset = this.logStartOffset;
    for (const t of group) {
      t.result.logStartOffset = logStartOffset;
      t.resolve(t.result);
    }
    this.#syncs.backgroundWriteback(seg, total);
  }

  /**
   * A write failed (e.g. ENOSPC). The failed appends and every append queued after them fail
   * with KAFKA_STORAGE_ERROR; the assigned tail rolls back to the written tail (offsets are
   * reassigned to later appends) and the file is cut back to its last good byte.
   */
  async #writeFailed(group: WriteTask[], err: Error): Promise<void> {
    const seg = group[0]!.segment;
    const error = new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `write to ${seg.logPath} failed: ${err.message}`);
    // Roll back now (appends made meanwhile get the offsets again), but answer the failed
    // appends only once the file is cut back, so a producer that sees the error and retries
    // never races with the partial bytes.
    // The producer state applied these appends (and any queued after them): from now until it is
    // rebuilt, appends with a producer id are refused — before anything else can be appended.
    this.#producerLog.rebuild();
    const failed = [...group, ...this.#dropQueue(error, false)];
    this.#logger.error('log write failed; failing this append and the ones queued after it', {
      topic: this.topic,
      partition: this.partition,
      error: err,
      failedAppends: failed.length,
      rollbackTo: this.#writtenOffset,
    });
    this.#rollbackTail();
    if (seg.handle) {
      try {
        await this.#io.truncate(seg.handle, seg.size);
      } catch (e) {
        this.#goOffline(`could not truncate ${seg.logPath} after a failed write: ${(e as Error).message}`);
      }
    }
    for (const t of failed) t.reject(error);
  }

  /**
   * Empties the queue (rolls and checkpoints are dropped) and returns the dropped appends,
   * rejecting them with `error` unless `reject` is false (the caller rejects them later).
   */
  #dropQueue(error: Error, reject = true): WriteTask[] {
    const writes = this.#queue.drop().filter((t): t is WriteTask => t.kind === 'write');
    if (reject) for (const t of writes) t.reject(error);
    return writes;
  }

  /** Makes the assigned view equal to the written view again. */
  #rollbackTail(): void {
    this.#nextOffset = this.#writtenOffset;
    const kept = this.#segments.filter((s) => s.handle !== null);
    for (const s of this.#segments) {
      if (s.handle === null) void s.close();
    }
    this.#segments = kept;
    for (const s of kept) {
      s.assignedSize = s.size;
      s.pendingBatches = 0;
      if (s.size === 0) s.rollBaseMs = null;
    }
    if (this.#epochs.truncateFromEnd(this.#nextOffset)) this.#enqueueCheckpoint();
  }

  /**
   * Closes `old` and opens `segment`: fdatasync old's data, write its index files atomically,
   * create the new file and fsync the directory — in that order, before the new segment
   * receives a byte, so only the last segment can ever have a torn tail.
   */
  async #roll(old: Segment, segment: Segment): Promise<void> {
    try {
      await this.#syncs.sync(old);
    } catch {
      return; // the failed sync took the log offline and failed the queue
    }
    try {
      await writeFilesAtomic(old.indexFiles());
    } catch (err) {
      // The data is safe; recovery rebuilds missing index files.
      this.#logger.warn('could not write index files of a closed segment', { segment: old.logPath, error: err as Error });
    }
    old.sealed = true;
    if (this.#epochCheckpointDirty) await this.#writeCheckpoint();
    await this.#producerLog.snapshot();
    try {
      await segment.create();
      await fsyncDir(this.dir);
    } catch (err) {
      this.#producerLog.rebuild(); // the appends queued after the roll are dropped below
      const error = new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `cannot create segment ${segment.logPath}: ${(err as Error).message}`);
      this.#logger.error('segment roll failed; failing the appends queued after it', { error: err as Error });
      if (segment.handle) {
        await segment.close().catch(() => {});
        await fs.rm(segment.logPath, { force: true }).catch(() => {});
      }
      this.#dropQueue(error);
      this.#rollbackTail();
    }
  }

  async #writeCheckpoint(): Promise<void> {
    try {
      await writeFileAtomic(path.join(this.dir, LEADER_EPOCH_CHECKPOINT), this.#epochs.serialize());
      this.#epochCheckpointDirty = false;
    } catch (err) {
      this.#epochCheckpointDirty = true;
      this.#logger.warn('could not write the leader-epoch checkpoint; will retry', { dir: this.dir, error: err as Error });
    }
  }

  #goOffline(reason: string): void {
    if (this.#offline) return;
    this.#offline = true;
    this.#offlineReason = reason;
    this.#logger.error('log is offline after an I/O failure; nothing more is acknowledged', {
      topic: this.topic,
      partition: this.partition,
      reason,
    });
    this.#dropQueue(this.#storageError());
  }

  // ---- durability -----------------------------------------------------------------------

  /**
   * Resolves when everything appended before the call is on disk (fdatasync, group-committed
   * through the SyncScheduler). 'pagecache' durability resolves at once.
   */
  async sync(): Promise<void> {
    if (this.#offline) throw this.#storageError();
    if (this.config.durability === 'pagecache') return;
    await this.#queue.barrier();
    if (this.#offline) throw this.#storageError();
    await this.#syncs.syncAll();
  }

  // ---- reads ----------------------------------------------------------------------------

  /**
   * Whole batches from the batch holding `fetchOffset`, up to `maxBytes` (the first batch whole
   * when `minOneBatch`, the default), from one segment, never at or past `maxOffset`
   * (exclusive, default and at most the high watermark).
   */
  read(fetchOffset: number, maxBytes: number, opts: { minOneBatch?: boolean; maxOffset?: number } = {}): Promise<ReadResult> {
    const unusable = this.#unusable();
    if (unusable) return Promise.reject(unusable);
    return readLog(this.#view, fetchOffset, maxBytes, opts);
  }

  // ---- ListOffsets and OffsetForLeaderEpoch ---------------------------------------------

  /**
   * ListOffsets by timestamp: the first offset whose record timestamp is >= `timestampMs`,
   * with that timestamp, or null (see log-reads.ts for precision).
   */
  offsetForTimestamp(timestampMs: number): Promise<{ offset: number; timestamp: number } | null> {
    if (this.#offline) return Promise.reject(this.#storageError());
    return offsetForTimestamp(this.#view, timestampMs);
  }

  /**
   * ListOffsets MAX_TIMESTAMP (-3): the first record carrying the log's largest timestamp, or
   * null when no batch has a timestamp (see log-reads.ts for precision).
   */
  maxTimestampOffset(): Promise<{ offset: number; timestamp: number } | null> {
    return maxTimestampOffset(this.#view);
  }

  endOffsetForEpoch(epoch: number): { leaderEpoch: number; endOffset: number } {
    return this.#epochs.endOffsetFor(epoch, this.#nextOffset);
  }

  // ---- retention and lifecycle ----------------------------------------------------------

  /**
   * Deletes closed segments past retention.ms / retention.bytes (never the active segment) and
   * advances the log start offset. Returns how many segments were deleted.
   */
  applyRetention(): Promise<number> {
    return this.#maintenance.applyRetention();
  }

  /**
   * DeleteRecords: moves the log start offset to `offset` (-1: the high watermark), persisted
   * before it takes effect, and deletes the segments wholly below it. Resolves with the new log
   * start offset (the response's low watermark). An offset past the high watermark is
   * OFFSET_OUT_OF_RANGE; one at or below the current start changes nothing.
   */
  deleteRecords(offset: number): Promise<number> {
    return this.#maintenance.deleteRecords(offset);
  }

  /**
   * One log-cleaner pass (cleaner.ts) if the log is compacted and due, or `force`d: closed
   * segments are rewritten with the latest record per key, swapped in crash-safely, while
   * appends and reads go on. Returns what it did, or null. A failure while writing the cleaned
   * data (e.g. a full disk) leaves the log as it was and rejects; a failure after a swap was
   * committed takes the log offline (a restart completes the swap).
   */
  clean(opts: { force?: boolean; maxMapKeys?: number; hook?: SwapStepHook } = {}): Promise<CleanStats | null> {
    return this.#maintenance.clean(opts);
  }

  /** Finishes queued writes, syncs (in both durability modes) and closes the files. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.#maintenance.settled();
    await this.#queue.barrier();
    if (!this.#offline) {
      try {
        await this.#syncs.syncAll();
        if (this.#epochCheckpointDirty) await this.#writeCheckpoint();
        await this.#producerLog.snapshot();
      } catch (err) {
        this.#logger.error('final sync on close failed', { topic: this.topic, partition: this.partition, error: err as Error });
      }
    }
    await Promise.all(
      this.#segments.map(async (s) => {
        await s.readersDone();
        await s.close();
      }),
    );
  }

  /** Closes the log and removes its directory (rename to `<dir>.<uuid>-delete`, then remove). */
  async delete(): Promise<void> {
    await this.close();
    const doomed = `${this.dir}.${randomUUID().replaceAll('-', '')}-delete`;
    await fs.rename(this.dir, doomed);
    await fsyncDir(path.dirname(this.dir));
    await fs.rm(doomed, { recursive: true, force: true });
  }
}
