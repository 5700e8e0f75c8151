/**
 * Which segments retention deletes (Kafka's retention.ms and retention.bytes rules, whole
 * segments only). Only closed (sealed) segments qualify, never the active one, and always a
 * prefix of the log, so the log start offset simply becomes the next segment's base offset.
 */
import fs from 'node:fs/promises';
import type { LogConfig } from './log-config.ts';
import type { Segment } from './segment.ts';

/**
 * How many leading segments of `segments` (oldest first, the last one active) are due:
 * - by time: while now - (the segment's largest timestamp) > retention.ms; a segment without
 *   timestamps uses its file's modification time, as Kafka does;
 * - by size: while the log minus the segment would still be at least retention.bytes.
 * - by log start offset: while the next segment starts at or before it (DeleteRecords).
 * The result is the longest of the prefixes, since Kafka applies the rules in turn.
 */
export async function countDeletable(
  segments: readonly Segment[],
  config: LogConfig,
  now: number,
  logStartOffset = 0,
): Promise<number> {
  const closed = segments.slice(0, -1);
  let eligible = 0;
  while (eligible < closed.length && closed[eligible]!.sealed) eligible++;
  let byTime = 0;
  if (config.retentionMs >= 0) {
    while (byTime < eligible) {
      const seg = closed[byTime]!;
      const newest = seg.maxTimestamp >= 0 ? seg.maxTimestamp : await modifiedMs(seg);
      if (now - newest <= config.retentionMs) break;
      byTime++;
    }
  }
  let bySize = 0;
  if (config.retentionBytes >= 0) {
    let diff = segments.reduce((sum, s) => sum + s.size, 0) - config.retentionBytes;
    while (bySize < eligible && diff - closed[bySize]!.size >= 0) {
      diff -= closed[bySize]!.size;
      bySize++;
    }
  }
  // Segments wholly below the log start offset (moved by DeleteRecords) go too.
  let byStart = 0;
  while (byStart < eligible && segments[byStart + 1]!.baseOffset <= logStartOffset) byStart++;
  return Math.max(byTime, bySize, byStart);
}

async function modifiedMs(seg: Segment): Promise<number> {
  try {
    return (await fs.stat(seg.logPath)).mtimeMs;
  } catch {
    return Number.MAX_SAFE_INTEGER; // unknown: keep it
  }
}
