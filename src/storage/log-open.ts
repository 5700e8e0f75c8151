/**
 * Opening a partition directory, up to the state PartitionLog is built from: the directory
 * (created with `createIfMissing`), the recovered segments (recovery.ts), the log start offset
 * and the leader-epoch cache. `PartitionLog.open` calls it, then loads the producer state.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../common/clock.ts';
import type { Logger } from '../common/logger.ts';
import { fsyncDir } from './atomic-file.ts';
import { LEADER_EPOCH_CHECKPOINT, LeaderEpochCache } from './leader-epoch-cache.ts';
import type { LogConfig } from './log-config.ts';
import { readLogStartOffset } from './log-start-checkpoint.ts';
import { recoverSegments } from './recovery.ts';
import type { Segment, SegmentIo } from './segment.ts';
import type { SyncScheduler } from './sync-scheduler.ts';

/** What `PartitionLog.open` takes. */
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

export interface RecoveredLog {
  /** Oldest first, at least one; the last one is active. */
  segments: Segment[];
  epochs: LeaderEpochCache;
  logStartOffset: number;
}

/** Creates or checks the directory and recovers it; on failure the recovered segments are closed again. */
export async function recoverLog(opts: PartitionLogOptions): Promise<RecoveredLog> {
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
  return { segments, epochs, logStartOffset };
}
