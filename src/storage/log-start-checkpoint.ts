/**
 * The log start offset of a partition when it lies inside a segment (DeleteRecords moved it
 * past the first segment's base offset). Kept in `<partition dir>/log-start-offset`, written
 * atomically, as `0\n<offset>\n` (a version line, then the offset). Missing or unreadable →
 * the first segment's base offset, which is never later than the real start, so a lost
 * checkpoint can only make deleted records visible again, never hide live ones.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';

export const LOG_START_CHECKPOINT = 'log-start-offset';

export async function readLogStartOffset(dir: string): Promise<number | null> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, LOG_START_CHECKPOINT), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const [version, value] = text.split('\n');
  const offset = Number(value);
  return version === '0' && Number.isSafeInteger(offset) && offset >= 0 ? offset : null;
}

export function writeLogStartOffset(dir: string, offset: number): Promise<void> {
  return writeFileAtomic(path.join(dir, LOG_START_CHECKPOINT), `0\n${offset}\n`);
}
