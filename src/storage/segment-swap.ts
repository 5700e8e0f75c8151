/**
 * Replacing closed segments with a cleaned one, crash-safely (Kafka's .cleaned / .swap
 * protocol). The steps, each made durable (directory fsync) before the next:
 *
 *   1. the cleaned data is written to `<base>.log.cleaned` and fdatasynced;
 *   2. it is renamed to `<base>.log.swap`: from here on the swap is committed;
 *   3. the replaced segments' files are renamed to `.deleted`;
 *   4. `<base>.log.swap` is renamed to `<base>.log`, then its index files are written;
 *   5. the `.deleted` files are removed once the reads in progress on them are done.
 *
 * Recovery (`recoverSwaps`, run before a partition's segments are listed) therefore sees:
 * a `.cleaned` file → the swap never committed: removed, the old segments are intact;
 * a `.swap` file → committed: every segment whose base offset lies in the swap's offset range
 * (and the index files of the swap's base) is removed, and the swap is renamed into place.
 * A segment the swap does not reach (its records were all cleaned away) may stay: it holds
 * the uncleaned records, which is a less compacted but correct log. `.deleted` files are
 * removed by the normal leftover sweep.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../common/logger.ts';
import type { LogConfig } from './log-config.ts';
import { fsyncDir, writeFilesAtomic } from './atomic-file.ts';
import { INDEX_SUFFIX, LOG_SUFFIX, Segment, TIME_INDEX_SUFFIX, offsetFileName, parseSegmentFileName } from './segment.ts';

export const CLEANED_SUFFIX = '.log.cleaned';
export const SWAP_SUFFIX = '.log.swap';

/** Called before each step of an install; tests use it to crash the process at a given step. */
export type SwapStepHook = (step: SwapStep) => void | Promise<void>;
export type SwapStep =
  | 'cleaned-partial' // part of the cleaned data is written (cleaner.ts)
  | 'cleaned-written'
  | 'swap-renamed'
  | 'first-old-renamed'
  | 'old-renamed'
  | 'swap-installed'
  | 'indexes-written';

export function cleanedPath(dir: string, base: number): string {
  return path.join(dir, offsetFileName(base) + CLEANED_SUFFIX);
}

/**
 * Steps 2-4 for a cleaned segment whose `.cleaned` file is written and synced (its handle
 * stays open and valid across the renames). Returns the renamed files of the old segments,
 * for `Segment.removeDeleted` once the caller has switched readers to the new segment.
 */
export async function installCleaned(
  cleaned: Segment,
  old: readonly Segment[],
  opts: { logger: Logger; hook?: SwapStepHook },
): Promise<string[][]> {
  const dir = cleaned.dir;
  const swap = path.join(dir, cleaned.name + SWAP_SUFFIX);
  await opts.hook?.('cleaned-written');
  await fs.rename(cleanedPath(dir, cleaned.baseOffset), swap);
  await fsyncDir(dir);
  await opts.hook?.('swap-renamed');
  const renamed: string[][] = [];
  for (const s of old) {
    renamed.push(await s.markDeleted());
    if (renamed.length === 1) await opts.hook?.('first-old-renamed');
  }
  await fsyncDir(dir);
  await opts.hook?.('old-renamed');
  await fs.rename(swap, cleaned.logPath);
  await fsyncDir(dir);
  await opts.hook?.('swap-installed');
  try {
    await writeFilesAtomic(cleaned.indexFiles());
  } catch (err) {
    // The data is in place; recovery rebuilds missing index files.
    opts.logger.warn('could not write the index files of a cleaned segment', { segment: cleaned.logPath, error: err as Error });
  }
  await opts.hook?.('indexes-written');
  return renamed;
}

/**
 * Finishes or rolls back interrupted swaps in a partition directory (see the file comment).
 * `scan` reads a segment file and returns its offset range end (next offset), or throws when
 * the file is not a valid segment.
 */
export async function recoverSwaps(
  dir: string,
  opts: { config: LogConfig; logger: Logger; nextOffsetOf: (seg: Segment) => Promise<number> },
): Promise<void> {
  const names = await fs.readdir(dir);
  let changed = false;
  for (const name of names) {
    if (name.endsWith(CLEANED_SUFFIX)) {
      opts.logger.info('removing an uncommitted cleaned segment', { dir, file: name });
      await fs.rm(path.join(dir, name), { force: true });
      changed = true;
    }
  }
  const swaps = names
    .map((n) => parseSegmentFileName(n, SWAP_SUFFIX))
    .filter((b): b is number => b !== null)
    .sort((a, b) => a - b);
  for (const base of swaps) {
    const swapFile = path.join(dir, offsetFileName(base) + SWAP_SUFFIX);
    const seg = new Segment(dir, base, { offset: Number.MAX_SAFE_INTEGER, time: Number.MAX_SAFE_INTEGER });
    const handle = await fs.open(swapFile, 'r');
    seg.handle = handle;
    let next: number;
    try {
      next = Math.max(await opts.nextOffsetOf(seg), base + 1);
    } finally {
      await seg.close();
    }
    const current = await fs.readdir(dir);
    for (const n of current) {
      const b = parseSegmentFileName(n) ?? parseSegmentFileName(n, INDEX_SUFFIX) ?? parseSegmentFileName(n, TIME_INDEX_SUFFIX);
      if (b !== null && b >= base && b < next) await fs.rm(path.join(dir, n), { force: true });
    }
    await fs.rename(swapFile, path.join(dir, offsetFileName(base) + LOG_SUFFIX));
    changed = true;
    opts.logger.info('completed an interrupted segment swap', { dir, baseOffset: base, nextOffset: next });
  }
  if (changed) await fsyncDir(dir);
}
