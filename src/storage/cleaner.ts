/**
 * One cleaner pass over a partition log (cleanup.policy=compact), as Kafka's LogCleaner does
 * it, on closed segments only (the active segment is never touched):
 *
 * 1. Plan: the cleanable segments are the closed ones before the first segment whose newest
 *    record is younger than min.compaction.lag.ms. Of those, the ones at or after the first
 *    dirty offset (the checkpoint of the previous pass) are dirty. The pass runs when
 *    dirty / cleanable bytes reaches min.cleanable.dirty.ratio, when the oldest dirty record
 *    is older than max.compaction.lag.ms, or when a retained tombstone's delete horizon has
 *    passed.
 * 2. Map: key → latest offset over the dirty segments (whole segments, up to `maxMapKeys`
 *    keys; the rest waits for the next pass).
 * 3. Clean: every segment from the log start to the end of the map is rewritten through
 *    compaction.ts, in groups of consecutive segments that fit segment.bytes (so small
 *    cleaned segments merge), each group swapped in by segment-swap.ts.
 * 4. Checkpoint: the first dirty offset becomes the end of the map, and the earliest delete
 *    horizon of the kept tombstones is remembered so the pass that removes them runs on time.
 *
 * Offsets and order never change: a cleaned segment holds a subsequence of the batches and
 * records of the segments it replaces, at their original offsets.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../common/logger.ts';
import {
  BATCH_HEADER_SIZE,
  CURRENT_MAGIC,
  LOG_OVERHEAD,
  OFFSET_CRC,
  OFFSET_MAGIC,
  OFFSET_MAX_TIMESTAMP,
  batchLastOffset,
  batchMaxTimestamp,
  computeBatchCrc,
  readInt53,
} from '../protocol/record-batch.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { cleanBatch, mapBatch, type CleanContext } from './compaction.ts';
import { TxnTracker, type TxnView } from './cleaner-txns.ts';
import type { LogConfig } from './log-config.ts';
import { Segment, SegmentCorruptError, type SegmentIo } from './segment.ts';
import { cleanedPath, installCleaned, type SwapStepHook } from './segment-swap.ts';

export const CLEANER_CHECKPOINT = 'cleaner-offset-checkpoint';
const INT32_MAX = 0x7fff_ffff;
const READ_CHUNK = 1024 * 1024;
const WRITE_CHUNK = 1024 * 1024;
/** Default bound on the keys of one pass's offset map (log.cleaner.dedupe.buffer.size / 128). */
export const DEFAULT_MAX_MAP_KEYS = 1_048_576;

/** What the cleaner remembers of a log between passes (the checkpoint file). */
export interface CleanerState {
  /** Records before this offset have been deduplicated against each other. */
  firstDirtyOffset: number;
  /** The earliest delete horizon of a tombstone kept by the last pass, or -1. */
  deleteHorizon: number;
}

export async function readCleanerState(dir: string): Promise<CleanerState> {
  try {
    const [version, dirty, horizon] = (await fs.readFile(path.join(dir, CLEANER_CHECKPOINT), 'utf8')).split('\n');
    const state = { firstDirtyOffset: Number(dirty), deleteHorizon: Number(horizon) };
    if (version === '0' && Number.isSafeInteger(state.firstDirtyOffset) && Number.isSafeInteger(state.deleteHorizon)) return state;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return { firstDirtyOffset: 0, deleteHorizon: -1 };
}

function writeCleanerState(dir: string, state: CleanerState): Promise<void> {
  return writeFileAtomic(path.join(dir, CLEANER_CHECKPOINT), `0\n${state.firstDirtyOffset}\n${state.deleteHorizon}\n`);
}

/** What the cleaner needs of a PartitionLog; it is called while the log's other maintenance waits. */
export interface CleanerHost {
  readonly dir: string;
  readonly config: LogConfig;
  readonly logStartOffset: number;
  readonly logger: Logger;
  readonly io: SegmentIo;
  segments(): readonly Segment[];
  /** Puts `cleaned` in the place of the consecutive segments `old` (in memory). */
  replace(old: readonly Segment[], cleaned: Segment): void;
  /** True once the log is closing: the pass stops at the next batch. */
  stopping(): boolean;
  /** Cleaning never passes this offset: transactions before it are finished. */
  readonly lastStableOffset: number;
  /** The producer state as the cleaner asks it (taken at the start of a pass). */
  txns(): TxnView;
  /** Forgets the aborted transactions of ABORT markers about to be removed, durably (before the swap); rejects while the state is rebuilt. */
  forgetAborted(markers: readonly { producerId: number; markerOffset: number }[]): Promise<void>;
}

export interface CleanOptions {
  now: number;
  /** Clean even if no threshold is reached (tools and tests). */
  force?: boolean;
  maxMapKeys?: number;
  hook?: SwapStepHook;
}

export type CleanReason = 'dirty-ratio' | 'max-compaction-lag' | 'delete-horizon' | 'forced';

export interface CleanStats {
  reason: CleanReason;
  dirtyRatio: number;
  segmentsCleaned: number;
  segmentsWritten: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRemoved: number;
  firstDirtyOffset: number;
}

/** The pass was stopped (the log is closing, or its producer state is being rebuilt); nothing was swapped in for the group. */
export class CleanAborted extends Error {
  constructor(reason = 'the log is closing') {
    super(reason);
    this.name = 'CleanAborted';
  }
}

/** A step of a swap failed after it was committed: only a restart (recovery) completes it. */
export class SwapFailed extends Error {
  constructor(cause: Error) {
    super(`a committed segment swap failed: ${cause.message}`, { cause });
    this.name = 'SwapFailed';
  }
}

interface Plan {
  cleanable: Segment[];
  /** The base offset of the segment after each cleanable one. */
  ends: number[];
  dirtyStart: number;
  dirtyRatio: number;
  reason: CleanReason;
}

async function plan(host: CleanerHost, state: CleanerState, opts: CleanOptions): Promise<Plan | null> {
  const segs = host.segments();
  const c = host.config;
  const cleanable: Segment[] = [];
  const lastStable = host.lastStableOffset;
  for (let i = 0; i + 1 < segs.length && segs[i]!.sealed; i++) {
    const s = segs[i]!;
    if (c.minCompactionLagMs > 0 && s.maxTimestamp > opts.now - c.minCompactionLagMs) break;
    if (segs[i + 1]!.baseOffset > lastStable) break; // an open transaction: Kafka cleans only below the LSO
    cleanable.push(s);
  }
  if (cleanable.length === 0) return null;
  const ends = cleanable.map((_, i) => segs[i + 1]!.baseOffset);
  const firstDirty = Math.max(state.firstDirtyOffset, host.logStartOffset);
  let dirtyStart = 0;
  while (dirtyStart < cleanable.length && ends[dirtyStart]! <= firstDirty) dirtyStart++;
  let clean = 0;
  let dirty = 0;
  cleanable.forEach((s, i) => (i < dirtyStart ? (clean += s.size) : (dirty += s.size)));
  const dirtyRatio = dirty === 0 ? 0 : dirty / (clean + dirty);
  let reason: CleanReason | null = null;
  if (dirty > 0 && dirtyRatio >= c.minCleanableDirtyRatio) reason = 'dirty-ratio';
  else if (dirty > 0 && (await oldestDirtyAge(cleanable[dirtyStart]!, opts.now)) > c.maxCompactionLagMs) reason = 'max-compaction-lag';
  else if (state.deleteHorizon >= 0 && opts.now >= state.deleteHorizon) reason = 'delete-horizon';
  else if (opts.force) reason = 'forced';
  return reason === null ? null : { cleanable, ends, dirtyStart, dirtyRatio, reason };
}

/** Age of a segment's first batch (Kafka's getFirstBatchTimestamp), or 0 when unknown. */
async function oldestDirtyAge(seg: Segment, now: number): Promise<number> {
  if (seg.size < BATCH_HEADER_SIZE || !seg.handle) return 0;
  const header = await seg.withReader((h) => Segment.readAt(h, 0, BATCH_HEADER_SIZE));
  const ts = header.length === BATCH_HEADER_SIZE ? readInt53(header, OFFSET_MAX_TIMESTAMP) : -1;
  return ts >= 0 ? now - ts : 0;
}

/** Every batch of a closed segment, CRC-checked, in order. */
async function* batchesOf(seg: Segment, host: CleanerHost): AsyncGenerator<Buffer> {
  const handle = seg.handle;
  if (!handle) throw new Error(`segment ${seg.logPath} is not open`);
  const end = seg.size;
  let pos = 0;
  while (pos < end) {
    if (host.stopping()) throw new CleanAborted();
    const chunk = await seg.withReader((h) => Segment.readAt(h, pos, Math.min(READ_CHUNK, end - pos)));
    let at = 0;
    while (at + BATCH_HEADER_SIZE <= chunk.length) {
      const size = LOG_OVERHEAD + chunk.readInt32BE(at + 8);
      if (chunk.readInt8(at + OFFSET_MAGIC) !== CURRENT_MAGIC || size < BATCH_HEADER_SIZE || pos + at + size > end) {
        throw new SegmentCorruptError(seg.logPath, pos + at, 'invalid batch header');
      }
      let batch: Buffer;
      if (at + size <= chunk.length) {
        batch = chunk.subarray(at, at + size);
      } else if (at === 0) {
        batch = await seg.withReader((h) => Segment.readAt(h, pos, size)); // larger than a chunk
      } else {
        break; // read the rest from its start
      }
      if (batch.length !== size || batch.readUInt32BE(OFFSET_CRC) !== computeBatchCrc(batch, 0, size)) {
        throw new SegmentCorruptError(seg.logPath, pos + at, 'CRC mismatch');
      }
      yield batch;
      at += size;
    }
    if (at === 0) throw new SegmentCorruptError(seg.logPath, pos, 'truncated batch');
    pos += at;
  }
}

/** Consecutive segments whose sizes fit segment.bytes and whose offsets fit an int32 span. */
function groupsOf(p: Plan, count: number, maxBytes: number): number[][] {
  const groups: number[][] = [];
  let i = 0;
  while (i < count) {
    const group = [i];
    let bytes = p.cleanable[i]!.size;
    const base = p.cleanable[i]!.baseOffset;
    i++;
    while (i < count && bytes + p.cleanable[i]!.size <= maxBytes && p.ends[i]! - 1 - base <= INT32_MAX) {
      bytes += p.cleanable[i]!.size;
      group.push(i++);
    }
    groups.push(group);
  }
  return groups;
}

/**
 * Runs one pass if the log is due (or `force`). Returns null when there was nothing to do.
 * Throws CleanAborted when the log closes meanwhile, SwapFailed when a committed swap could
 * not be finished (the caller takes the log offline), and other errors (e.g. ENOSPC while
 * writing the cleaned data) with the log left as it was.
 */
export async function cleanLog(
  host: CleanerHost,
  state: CleanerState,
  opts: CleanOptions,
): Promise<{ stats: CleanStats; state: CleanerState } | null> {
  const p = await plan(host, state, opts);
  if (!p) return null;
  const maxKeys = opts.maxMapKeys ?? DEFAULT_MAX_MAP_KEYS;
  const map = new Map<string, number>();
  const txns = new TxnTracker(host.txns());
  let mapEnd = p.dirtyStart;
  while (mapEnd < p.cleanable.length && (mapEnd === p.dirtyStart || map.size < maxKeys)) {
    for await (const batch of batchesOf(p.cleanable[mapEnd]!, host)) mapBatch(batch, map, txns.view);
    mapEnd++;
  }
  const endOffset = mapEnd > 0 ? p.ends[mapEnd - 1]! : p.cleanable[0]!.baseOffset;
  const ctx: CleanContext = { map, now: opts.now, deleteRetentionMs: host.config.deleteRetentionMs, txns };
  const stats: CleanStats = {
    reason: p.reason,
    dirtyRatio: p.dirtyRatio,
    segmentsCleaned: mapEnd,
    segmentsWritten: 0,
    bytesRead: 0,
    bytesWritten: 0,
    recordsRemoved: 0,
    firstDirtyOffset: endOffset,
  };
  let horizon = -1;
  for (const group of groupsOf(p, mapEnd, host.config.segmentBytes)) {
    const old = group.map((i) => p.cleanable[i]!);
    const written = await writeCleaned(host, old, ctx, opts.hook);
    stats.bytesRead += old.reduce((n, s) => n + s.size, 0);
    stats.bytesWritten += written.segment.size;
    stats.recordsRemoved += written.removed;
    stats.segmentsWritten++;
    if (written.horizon >= 0 && (horizon < 0 || written.horizon < horizon)) horizon = written.horizon;
    if (txns.removedAborts.length > 0) {
      // Entry first, then marker: an aborted entry without its marker would hide the producer's later data.
      try {
        await host.forgetAborted(txns.removedAborts);
      } catch (err) {
        await written.segment.close().catch(() => {});
        await fs.rm(cleanedPath(host.dir, written.segment.baseOffset), { force: true }).catch(() => {});
        throw err;
      }
      txns.removedAborts = [];
    }
    let renamed: string[][];
    try {
      renamed = await installCleaned(written.segment, old, { logger: host.logger, hook: opts.hook });
    } catch (err) {
      await written.segment.close().catch(() => {});
      throw new SwapFailed(err as Error);
    }
    host.replace(old, written.segment);
    await Promise.all(old.map((s, i) => s.removeDeleted(renamed[i]!)));
  }
  const next: CleanerState = { firstDirtyOffset: Math.max(endOffset, state.firstDirtyOffset), deleteHorizon: horizon };
  try {
    await writeCleanerState(host.dir, next);
  } catch (err) {
    host.logger.warn('could not write the cleaner checkpoint; the next pass redoes the work', { dir: host.dir, error: err as Error });
  }
  return { stats, state: next };
}

/** Writes the cleaned batches of `old` to `<base>.log.cleaned`, synced; the file stays open in the returned segment. */
async function writeCleaned(
  host: CleanerHost,
  old: Segment[],
  ctx: CleanContext,
  hook?: SwapStepHook,
): Promise<{ segment: Segment; removed: number; horizon: number }> {
  const base = old[0]!.baseOffset;
  const file = cleanedPath(host.dir, base);
  const segment = new Segment(host.dir, base, { offset: Number.MAX_SAFE_INTEGER, time: Number.MAX_SAFE_INTEGER });
  const handle = await fs.open(file, 'w+');
  segment.handle = handle;
  let removed = 0;
  let horizon = -1;
  let pos = 0;
  let flushed = 0;
  let pending: Buffer[] = [];
  const flush = async () => {
    const bytes = pos - flushed;
    if (bytes === 0) return;
    const n = await host.io.writev(handle, pending, flushed);
    if (n !== bytes) throw new Error(`short write: ${n} of ${bytes} bytes (disk full?)`);
    flushed = pos;
    pending = [];
    await hook?.('cleaned-partial');
  };
  try {
    for (const seg of old) {
      for await (const batch of batchesOf(seg, host)) {
        const out = cleanBatch(batch, ctx);
        removed += out.removed;
        if (out.horizon >= 0 && (horizon < 0 || out.horizon < horizon)) horizon = out.horizon;
        if (!out.batch) continue;
        const b = out.batch;
        segment.addBatch(pos, b.length, batchLastOffset(b), batchMaxTimestamp(b), host.config.indexIntervalBytes);
        pending.push(b);
        pos += b.length;
        if (pos - flushed >= WRITE_CHUNK) await flush();
      }
    }
    await flush();
    await handle.datasync();
  } catch (err) {
    await segment.close().catch(() => {});
    await fs.rm(file, { force: true }).catch(() => {});
    throw err;
  }
  segment.size = pos;
  segment.assignedSize = pos;
  segment.sealed = true;
  return { segment, removed, horizon };
}
