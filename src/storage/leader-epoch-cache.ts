/**
 * The leader-epoch cache: for each leader epoch, the first offset written in it. Persisted as
 * `leader-epoch-checkpoint` in Kafka's checkpoint text format:
 *
 *   0            <- version
 *   2            <- number of entries
 *   0 0          <- "epoch startOffset", epochs and offsets increasing
 *   3 1500
 *
 * OffsetForLeaderEpoch answers from it (Kafka's LeaderEpochFileCache.endOffsetFor).
 */
import fs from 'node:fs/promises';
import type { Logger } from '../common/logger.ts';
import { writeFileAtomic } from './atomic-file.ts';

export const LEADER_EPOCH_CHECKPOINT = 'leader-epoch-checkpoint';
const VERSION = 0;

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export class CheckpointFormatError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'CheckpointFormatError';
  }
}

export class LeaderEpochCache {
  #entries: EpochEntry[] = [];

  constructor(entries: EpochEntry[] = []) {
    this.#entries = entries.map((e) => ({ ...e }));
  }

  get entries(): readonly EpochEntry[] {
    return this.#entries;
  }

  get latestEpoch(): number {
    return this.#entries.length === 0 ? -1 : this.#entries[this.#entries.length - 1]!.epoch;
  }

  /**
   * Records that `epoch` starts at `startOffset` if it is newer than the latest known epoch.
   * Returns whether the cache changed (then it needs to be checkpointed).
   */
  assign(epoch: number, startOffset: number): boolean {
    if (epoch < 0) return false;
    const last = this.#entries[this.#entries.length - 1];
    if (last && epoch <= last.epoch) return false;
    if (last && startOffset < last.startOffset) return false;
    this.#entries.push({ epoch, startOffset });
    return true;
  }

  /** Drops entries starting at or after `endOffset` (the log was cut back to it). */
  truncateFromEnd(endOffset: number): boolean {
    const before = this.#entries.length;
    this.#entries = this.#entries.filter((e) => e.startOffset < endOffset);
    return this.#entries.length !== before;
  }

  /**
   * The log now starts at `startOffset`: drop epochs that end before it and move the start of
   * the earliest remaining one up to it (Kafka's truncateFromStart).
   */
  truncateFromStart(startOffset: number): boolean {
    let i = 0;
    while (i + 1 < this.#entries.length && this.#entries[i + 1]!.startOffset <= startOffset) i++;
    let changed = i > 0;
    this.#entries = this.#entries.slice(i);
    const first = this.#entries[0];
    if (first && first.startOffset < startOffset) {
      first.startOffset = startOffset;
      changed = true;
    }
    return changed;
  }

  /**
   * Kafka's endOffsetFor: the requested epoch's end offset is the start offset of the next
   * higher epoch, or the log end offset for the latest epoch. The returned epoch is the
   * largest known epoch <= the requested one. Unknown newer epochs, the undefined epoch (-1)
   * and an empty cache give (-1, -1); an epoch older than every known one gives
   * (requested, start of the first known epoch), as in Kafka.
   */
  endOffsetFor(epoch: number, logEndOffset: number): { leaderEpoch: number; endOffset: number } {
    const undefinedAnswer = { leaderEpoch: -1, endOffset: -1 };
    if (epoch < 0 || this.#entries.length === 0) return undefinedAnswer;
    if (epoch === this.latestEpoch) return { leaderEpoch: epoch, endOffset: logEndOffset };
    const higher = this.#entries.findIndex((e) => e.epoch > epoch);
    if (higher < 0) return undefinedAnswer;
    if (higher === 0) return { leaderEpoch: epoch, endOffset: this.#entries[0]!.startOffset };
    return { leaderEpoch: this.#entries[higher - 1]!.epoch, endOffset: this.#entries[higher]!.startOffset };
  }

  serialize(): string {
    let out = `${VERSION}\n${this.#entries.length}\n`;
    for (const e of this.#entries) out += `${e.epoch} ${e.startOffset}\n`;
    return out;
  }

  static parse(text: string, file = LEADER_EPOCH_CHECKPOINT): LeaderEpochCache {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.length < 2) throw new CheckpointFormatError(file, 'missing version or entry count');
    if (Number(lines[0]) !== VERSION) throw new CheckpointFormatError(file, `unsupported version ${lines[0]}`);
    const count = Number(lines[1]);
    if (!Number.isInteger(count) || count !== lines.length - 2) {
      throw new CheckpointFormatError(file, `expected ${lines[1]} entries, found ${lines.length - 2}`);
    }
    const cache = new LeaderEpochCache();
    for (const line of lines.slice(2)) {
      const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(line);
      if (!m) throw new CheckpointFormatError(file, `malformed entry '${line}'`);
      if (!cache.assign(Number(m[1]), Number(m[2]))) {
        throw new CheckpointFormatError(file, `entry '${line}' is not after the previous one`);
      }
    }
    return cache;
  }

  /** Reads the checkpoint; a missing file is an empty cache. */
  static async load(file: string): Promise<LeaderEpochCache> {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new LeaderEpochCache();
      throw err;
    }
    return LeaderEpochCache.parse(text, file);
  }

  /**
   * The cache at open: the checkpoint (an unreadable one is logged and ignored), plus the
   * epochs seen while scanning the last segment, cut to the recovered log; the checkpoint is
   * rewritten if that changed anything.
   */
  static async recover(
    file: string,
    opts: { scanned: EpochEntry[]; logStartOffset: number; logEndOffset: number; logger: Logger },
  ): Promise<LeaderEpochCache> {
    let cache: LeaderEpochCache;
    try {
      cache = await LeaderEpochCache.load(file);
    } catch (err) {
      if (!(err instanceof CheckpointFormatError)) throw err;
      opts.logger.warn('ignoring an unreadable leader-epoch checkpoint', { error: err });
      cache = new LeaderEpochCache();
    }
    const before = cache.serialize();
    for (const e of opts.scanned) cache.assign(e.epoch, e.startOffset);
    cache.truncateFromEnd(opts.logEndOffset);
    cache.truncateFromStart(opts.logStartOffset);
    if (cache.serialize() !== before) await writeFileAtomic(file, cache.serialize());
    return cache;
  }
}
