/**
 * The log of one partition: a directory of segments, an append queue, reads, ListOffsets and
 * OffsetForLeaderEpoch lookups, retention. See README.md for the ordering, durability and
 * failure rules this file implements.
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
import {
  setBatchBaseOffset,
  setBatchLeaderEpoch,
  stampLogAppendTime,
} from '../protocol/record-batch.ts';
import type { LogConfig } from './log-config.ts';
import { fsyncDir, writeFileAtomic, writeFilesAtomic } from './atomic-file.ts';
import type { SyncScheduler } from './sync-scheduler.ts';
import { OffsetIndex } from './offset-index.ts';
import { TimeIndex } from './time-index.ts';
import { Segment, coversExactly, defaultSegmentIo, walkBatches, type AppendBatchInfo, type SegmentIo } from './segment.ts';
import { EMPTY_READ, maxTimestampInSegment, readSegment, segmentIndexFor, timestampInSegment, type ReadResult } from './log-reads.ts';
import { recoverSegments } from './recovery.ts';
import { TaskQueue } from './task-queue.ts';
import { countDeletable } from './retention.ts';
import { LEADER_EPOCH_CHECKPOINT, LeaderEpochCache } from './leader-epoch-cache.ts';
import { readLogStartOffset, writeLogStartOffset } from './log-start-checkpoint.ts';
import { CleanAborted, SwapFailed, cleanLog, readCleanerState, type CleanStats, type CleanerHost, type CleanerState } from './cleaner.ts';
import type { SwapStepHook } from './segment-swap.ts';
import type { AbortedTxn, AppendOrigin, ProducerBatch, ProducerEntry } from './producer-state.ts';
import { producerBatchAt } from './producer-batches.ts';
import { LogProducers } from './log-producers.ts';

export type { ReadResult } from './log-reads.ts';

export type { AppendBatchInfo } from './segment.ts';

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** The stamped LogAppendTime, or -1. */
  logAppendTime: number;
  logStartOffset: number;
  /** The batch repeated one of its producer's last five: these are the original's offsets, nothing was appended. */
  duplicate?: boolean;
}

export interface PartitionLogOptions {
  dir: string;
  topic: string;
  partition: number;
  config: LogConfig;
  clock: Clock;
  syncer: SyncScheduler;
  logger: Logger;
  createIfMissing?: boolean;
  /** Scan and CRC-check every segment on open, not only the last one. */
  verifyAll?: boolean;
  /** Low-level writes (tests inject failures here). */
  io?: SegmentIo;
}

interface PlannedBatch {
  pos: number;
  size: number;
  lastOffset: number;
  maxTimestamp: number;
}

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

const INT32_MAX = 0x7fff_ffff;
/** At most this many appends are coalesced into one writev. */
const MAX_GROUP = 512;


/** Bytes written to a segment after which a background fdatasync starts (see #backgroundWriteback). */
const WRITEBACK_BYTES = 4 * 1024 * 1024;
export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly dir: string;
  config: LogConfig;

  readonly #clock: Clock;
  readonly #syncer: SyncScheduler;
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
  #retaining: Promise<number> | null = null;
  /** Serialises retention, DeleteRecords and cleaning: each replaces segments of the log. */
  #maintenance: Promise<unknown> = Promise.resolve();
  /** The cleaner's checkpoint, read on the first pass. */
  #cleanerState: CleanerState | null = null;
  /** Idempotent and transactional producers (log-producers.ts); rebuilt from a snapshot and the log on open. */
  readonly #producerLog: LogProducers;

  readonly #queue = new TaskQueue<Task>({
    run: (group) => this.#runTasks(group),
    joins: (first, next) => first.kind === 'write' && next.kind === 'write' && next.segment === first.segment,
    maxGroup: MAX_GROUP,
  });
  /** Segments with writes not yet covered by a completed fdatasync. */
  readonly #unsynced = new Set<Segment>();

  private constructor(opts: PartitionLogOptions, segments: Segment[], epochs: LeaderEpochCache, logStartOffset: number) {
    this.topic = opts.topic;
    this.partition = opts.partition;
    this.dir = opts.dir;
    this.config = opts.config;
    this.#clock = opts.clock;
    this.#syncer = opts.syncer;
    this.#logger = opts.logger;
    this.#io = opts.io ?? defaultSegmentIo;
    this.#segments = segments;
    this.#epochs = epochs;
    this.#nextOffset = segments[segments.length - 1]!.nextOffset;
    this.#writtenOffset = this.#nextOffset;
    this.#logStartOffset = logStartOffset;
    this.#producerLog = new LogProducers({
      dir: opts.dir,
      where: `${opts.topic}-${opts.partition}`,
      logger: opts.logger,
      nextOffset: () => this.#nextOffset,
      writtenOffset: () => this.#writtenOffset,
      logStartOffset: () => this.#logStartOffset,
      read: (offset, maxBytes, o) => this.read(offset, maxBytes, o),
      barrier: () => this.#queue.barrier(),
      offline: () => this.#offline,
      goOffline: (reason) => this.#goOffline(reason),
    });
    for (const s of segments) s.assignedSize = s.size;
    // The recovered tail may exist only in the page cache (the previous process died before
    // syncing it): the first sync() or roll fdatasyncs it before it counts as durable.
    const last = segments[segments.length - 1]!;
    if (last.size > 0) {
      last.writeSeq = 1;
      this.#unsynced.add(last);
    }
  }

  /** Opens (creating with `createIfMissing`) and recovers a partition directory. */
  static async open(opts: PartitionLogOptions): Promise<PartitionLog> {
    if (opts.createIfMissing) {
      const created = await fs.mkdir(opts.dir, { recursive: true });
      if (created !== undefined) await fsyncDir(path.dirname(opts.dir));
    } else {
      const st = await fs.stat(opts.dir);
      if (!st.isDirectory()) throw new Error(`${opts.dir} is not a directory`);
    }
    const { segments, epochs: scanned } = await recoverSegments({
      dir: opts.dir,
      config: opts.config,
      clock: opts.clock,
      logger: opts.logger,
      verifyAll: opts.verifyAll,
    });
    let epochs: LeaderEpochCache;
    let logStartOffset = segments[0]!.baseOffset;
    try {
      const end = segments[segments.length - 1]!.nextOffset;
      const saved = await readLogStartOffset(opts.dir);
      if (saved !== null && saved > logStartOffset) {
        if (saved > end) {
          opts.logger.warn('the saved log start offset is past the recovered log end; using the log end', { dir: opts.dir, saved, end });
        }
        logStartOffset = Math.min(saved, end);
      }
      epochs = await LeaderEpochCache.recover(path.join(opts.dir, LEADER_EPOCH_CHECKPOINT), {
        scanned,
        logStartOffset,
        logEndOffset: segments[segments.length - 1]!.nextOffset,
        logger: opts.logger,
      });
    } catch (err) {
      await Promise.all(segments.map((s) => s.close().catch(() => {})));
      throw err;
    }
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
    if (this.#offline) return Promise.reject(this.#storageError());
    if (this.#closing) {
      return Promise.reject(new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log ${this.topic}-${this.partition} is closed`));
    }
    const batches = opts.batches ?? walkBatches(records);
    if (typeof batches === 'string' || !coversExactly(batches, records.length)) {
      const why = typeof batches === 'string' ? batches : 'batches do not cover the record set';
      return Promise.reject(new KafkaError(ErrorCode.CORRUPT_MESSAGE, why));
    }
    let producerBatch: ProducerBatch | null = null;
    for (const b of batches) {
      const pb = producerBatchAt(records, b.pos, b.size);
      if (!pb) continue;
      if (batches.length !== 1) {
        return Promise.reject(new KafkaError(ErrorCode.INVALID_RECORD, 'a record set with a producer id must be a single batch'));
      }
      producerBatch = pb;
    }
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
    let offset = baseOffset;
    const planned: PlannedBatch[] = [];
    for (const b of batches) {
      setBatchBaseOffset(records, b.pos, offset);
      setBatchLeaderEpoch(records, b.pos, opts.leaderEpoch);
      let maxTimestamp = b.maxTimestamp;
      if (stamp !== undefined) {
        stampLogAppendTime(records, b.pos, stamp);
        maxTimestamp = stamp;
      }
      offset += b.lastOffsetDelta + 1;
      planned.push({ pos: b.pos, size: b.size, lastOffset: offset - 1, maxTimestamp });
    }
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
    const reason =
      seg.assignedSize + bytes > Math.min(c.segmentBytes, INT32_MAX) // index positions are int32
        ? 'segment.bytes'
        : seg.rollBaseMs !== null && this.#clock.now() - seg.rollBaseMs > (c.compact ? Math.min(c.segmentMs, c.maxCompactionLagMs) : c.segmentMs)
          ? 'segment.ms'
          : seg.index.entries + seg.pendingBatches + batches > OffsetIndex.maxEntriesFor(c.segmentIndexBytes) ||
              seg.timeIndex.entries + seg.pendingBatches + batches + 1 > TimeIndex.maxEntriesFor(c.segmentIndexBytes)
            ? 'index full'
            : this.#nextOffset + offsets - 1 - seg.baseOffset > INT32_MAX
              ? 'relative offset overflow'
              : null;
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
    this.#unsynced.add(seg);
    this.#writtenOffset = group[group.length - 1]!.result.lastOffset + 1;
    const logStartOffset = this.logStartOffset;
    for (const t of group) {
      t.result.logStartOffset = logStartOffset;
      t.resolve(t.result);
    }
    this.#backgroundWriteback(seg, total);
  }

  /**
   * Starts an fdatasync nobody waits for once WRITEBACK_BYTES have been written to a segment
   * without one (acks=1, or page-cache durability, never ask for it). Otherwise the dirty
   * pages pile up until the kernel writes a gigabyte back in one burst, and appends to the
   * file stall behind it for hundreds of milliseconds: at 220 MB/s, open-loop end-to-end p99
   * went from ~100 ms to ~1 s. Kafka leaves this to the kernel too; this only makes the
   * writeback steady. A failure takes the log offline, as any failed fsync does.
   */
  #backgroundWriteback(seg: Segment, bytes: number): void {
    seg.bytesSinceWriteback += bytes;
    if (seg.bytesSinceWriteback < WRITEBACK_BYTES || seg.syncing) return;
    seg.bytesSinceWriteback = 0;
    this.#syncSegment(seg).catch(() => {}); // #syncSegment already took the log offline
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
      await this.#syncSegment(old);
    } catch {
      return; // #syncSegment took the log offline and failed the queue
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
    await Promise.all([...this.#unsynced].map((s) => this.#syncSegment(s)));
  }

  #syncSegment(seg: Segment): Promise<void> {
    if (this.#offline) return Promise.reject(this.#storageError());
    if (seg.writeSeq <= seg.syncedSeq || !seg.handle) return Promise.resolve();
    if (seg.syncing && seg.syncing.seq >= seg.writeSeq) return seg.syncing.promise;
    const seq = seg.writeSeq;
    const promise: Promise<void> = this.#syncer.request(seg.handle).then(
      () => {
        if (seq > seg.syncedSeq) seg.syncedSeq = seq;
        if (seg.syncedSeq >= seg.writeSeq) this.#unsynced.delete(seg);
        if (seg.syncing?.promise === promise) seg.syncing = null;
      },
      (err: Error) => {
        this.#goOffline(`fdatasync of ${seg.logPath} failed: ${err.message}`);
        throw this.#storageError();
      },
    );
    seg.syncing = { seq, promise };
    return promise;
  }

  // ---- reads ----------------------------------------------------------------------------

  /**
   * Whole batches from the batch holding `fetchOffset`, up to `maxBytes` (the first batch whole
   * when `minOneBatch`, the default), from one segment, never at or past `maxOffset`
   * (exclusive, default and at most the high watermark).
   */
  async read(fetchOffset: number, maxBytes: number, opts: { minOneBatch?: boolean; maxOffset?: number } = {}): Promise<ReadResult> {
    if (this.#offline) throw this.#storageError();
    if (this.#closing) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log ${this.topic}-${this.partition} is closed`);
    const start = this.logStartOffset;
    const end = this.#nextOffset;
    if (fetchOffset < start || fetchOffset > end) {
      throw new KafkaError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `fetch offset ${fetchOffset} is out of range for ${this.topic}-${this.partition}: log start ${start}, log end ${end}`,
      );
    }
    const limit = Math.min(opts.maxOffset ?? this.#writtenOffset, this.#writtenOffset);
    if (fetchOffset >= limit) return EMPTY_READ;
    const minOne = opts.minOneBatch ?? true;
    const segments = this.#segments;
    for (let i = segmentIndexFor(segments, fetchOffset); i < segments.length; i++) {
      const seg = segments[i]!;
      if (seg.baseOffset >= limit) break;
      if (!seg.handle) {
        if (fetchOffset < this.logStartOffset) {
          throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `fetch offset ${fetchOffset} was deleted by retention`);
        }
        continue;
      }
      const size = seg.size;
      if (size === 0) continue;
      const got = await this.#guard(seg, () =>
        seg.withReader((handle) => readSegment(seg, handle, { fetchOffset, end: size, maxBytes, minOne, limit })),
      );
      if (got) return got;
    }
    return EMPTY_READ;
  }

  /** Turns low-level read failures into KAFKA_STORAGE_ERROR (with a log line). */
  async #guard<T>(seg: Segment, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof KafkaError) throw err;
      this.#logger.error('log read failed', { segment: seg.logPath, error: err as Error });
      throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `read of ${seg.logPath} failed: ${(err as Error).message}`);
    }
  }

  // ---- ListOffsets and OffsetForLeaderEpoch ---------------------------------------------

  /**
   * ListOffsets by timestamp: the first offset whose record timestamp is >= `timestampMs`,
   * with that timestamp, or null (see log-reads.ts for precision).
   */
  async offsetForTimestamp(timestampMs: number): Promise<{ offset: number; timestamp: number } | null> {
    if (this.#offline) throw this.#storageError();
    for (const seg of this.#segments) {
      if (seg.maxTimestamp < timestampMs || !seg.handle || seg.size === 0) continue;
      const found = await this.#guard(seg, () => timestampInSegment(seg, timestampMs));
      // Records below the log start offset (DeleteRecords) are gone: answer with the start.
      if (found) return found.offset < this.#logStartOffset ? { ...found, offset: this.#logStartOffset } : found;
    }
    return null;
  }

  /**
   * ListOffsets MAX_TIMESTAMP (-3): the first record carrying the log's largest timestamp, or
   * null when no batch has a timestamp (see log-reads.ts for precision).
   */
  async maxTimestampOffset(): Promise<{ offset: number; timestamp: number } | null> {
    let best: Segment | null = null;
    for (const s of this.#segments) if (s.maxTimestamp >= 0 && (!best || s.maxTimestamp > best.maxTimestamp)) best = s;
    if (!best) return null;
    try {
      return await maxTimestampInSegment(best);
    } catch (err) {
      this.#logger.debug('max timestamp lookup fell back to the batch level', { segment: best.logPath, error: err as Error });
      return { offset: best.offsetOfMaxTimestamp, timestamp: best.maxTimestamp };
    }
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
    if (this.#offline || this.#closing) return Promise.resolve(0);
    this.#retaining ??= this.#retain().finally(() => {
      this.#retaining = null;
    });
    return this.#retaining;
  }

  #retain(): Promise<number> {
    return this.#exclusive(async () => {
      const n = await countDeletable(this.#segments, this.config, this.#clock.now(), this.#logStartOffset);
      return this.#deletePrefix(n, 'retention');
    });
  }

  /** Runs `fn` after every other maintenance task of this log (retention, DeleteRecords, cleaning). */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#maintenance.then(fn);
    this.#maintenance = run.catch(() => {});
    return run;
  }

  /** Deletes the first `n` segments (closed ones) and moves the log start offset past them. */
  async #deletePrefix(n: number, why: string): Promise<number> {
    if (n === 0 || this.#closing) return 0;
    const doomed = this.#segments.slice(0, n);
    this.#segments = this.#segments.slice(n);
    this.#logStartOffset = Math.max(this.#logStartOffset, this.#segments[0]!.baseOffset);
    for (const s of doomed) this.#unsynced.delete(s);
    this.#logger.info(`${why} deleted segments`, {
      topic: this.topic,
      partition: this.partition,
      segments: n,
      bytes: doomed.reduce((a, s) => a + s.size, 0),
      logStartOffset: this.logStartOffset,
    });
    if (this.#epochs.truncateFromStart(this.logStartOffset)) this.#enqueueCheckpoint();
    this.#producerLog.state.truncateHead(this.logStartOffset);
    for (const s of doomed) {
      try {
        await s.delete();
      } catch (err) {
        this.#logger.error('could not delete a segment', { segment: s.logPath, error: err as Error });
      }
    }
    return n;
  }

  /**
   * DeleteRecords: moves the log start offset to `offset` (-1: the high watermark), persisted
   * before it takes effect, and deletes the segments wholly below it. Resolves with the new log
   * start offset (the response's low watermark). An offset past the high watermark is
   * OFFSET_OUT_OF_RANGE; one at or below the current start changes nothing.
   */
  async deleteRecords(offset: number): Promise<number> {
    if (this.#offline) throw this.#storageError();
    if (this.#closing) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log ${this.topic}-${this.partition} is closed`);
    const hw = this.highWatermark;
    const target = offset === -1 ? hw : offset;
    if (target < 0 || target > hw) {
      throw new KafkaError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `Cannot increment the log start offset to ${offset} of partition ${this.topic}-${this.partition} since it is larger than the high watermark ${hw}`,
      );
    }
    return this.#exclusive(async () => {
      if (target <= this.#logStartOffset) return this.#logStartOffset;
      try {
        await writeLogStartOffset(this.dir, target);
      } catch (err) {
        this.#logger.error('could not persist the log start offset', { dir: this.dir, error: err as Error });
        throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `cannot persist the log start offset: ${(err as Error).message}`);
      }
      this.#logStartOffset = target;
      this.#producerLog.state.truncateHead(target);
      this.#logger.info('log start offset moved by DeleteRecords', { topic: this.topic, partition: this.partition, logStartOffset: target });
      if (this.#epochs.truncateFromStart(target)) this.#enqueueCheckpoint();
      let n = 0;
      const segs = this.#segments;
      while (n + 1 < segs.length && segs[n]!.sealed && segs[n + 1]!.baseOffset <= target) n++;
      await this.#deletePrefix(n, 'DeleteRecords');
      return this.#logStartOffset;
    });
  }

  /**
   * One log-cleaner pass (cleaner.ts) if the log is compacted and due, or `force`d: closed
   * segments are rewritten with the latest record per key, swapped in crash-safely, while
   * appends and reads go on. Returns what it did, or null. A failure while writing the cleaned
   * data (e.g. a full disk) leaves the log as it was and rejects; a failure after a swap was
   * committed takes the log offline (a restart completes the swap).
   */
  clean(opts: { force?: boolean; maxMapKeys?: number; hook?: SwapStepHook } = {}): Promise<CleanStats | null> {
    if (this.#offline || this.#closing || !this.config.compact) return Promise.resolve(null);
    return this.#exclusive(async () => {
      // Not while the producer state is rebuilt: the cleaner needs it right (aborted data, the LSO).
      if (this.#offline || this.#closing || this.#producerLog.stale) return null;
      this.#cleanerState ??= await readCleanerState(this.dir);
      try {
        const done = await cleanLog(this.#cleanerHost(), this.#cleanerState, { ...opts, now: this.#clock.now() });
        if (!done) return null;
        this.#cleanerState = done.state;
        if (this.#epochs.truncateFromStart(this.logStartOffset)) this.#enqueueCheckpoint();
        this.#logger.info('cleaned log', { topic: this.topic, partition: this.partition, ...done.stats });
        return done.stats;
      } catch (err) {
        if (err instanceof CleanAborted) return null;
        if (err instanceof SwapFailed) this.#goOffline(err.message);
        throw err;
      }
    });
  }

  #cleanerHost(): CleanerHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const log = this;
    return {
      dir: this.dir,
      config: this.config,
      logger: this.#logger,
      io: this.#io,
      get logStartOffset() {
        return log.logStartOffset;
      },
      segments: () => this.#segments,
      stopping: () => this.#closing !== null || this.#offline,
      get lastStableOffset() {
        return log.lastStableOffset;
      },
      txns: () => this.#producerLog.state.cleanerView(),
      forgetAborted: (markers) => this.#producerLog.forgetAborted(markers, this.#logStartOffset),
      replace: (old, cleaned) => {
        const at = this.#segments.indexOf(old[0]!);
        if (at < 0 || old.some((s, i) => this.#segments[at + i] !== s)) throw new Error('cleaned segments are no longer in the log');
        this.#segments = [...this.#segments.slice(0, at), cleaned, ...this.#segments.slice(at + old.length)];
      },
    };
  }

  /** Finishes queued writes, syncs (in both durability modes) and closes the files. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.#retaining;
    await this.#maintenance;
    await this.#queue.barrier();
    if (!this.#offline) {
      try {
        await Promise.all([...this.#unsynced].map((s) => this.#syncSegment(s)));
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
