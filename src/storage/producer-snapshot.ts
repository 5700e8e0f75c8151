/**
 * Producer-state snapshot files: `<offset>.snapshot` (20 digits, as Kafka names them) holds the
 * producer state after every batch below `offset`. Written atomically when a segment rolls and
 * when the log closes; on open the newest snapshot at or below the log end is loaded and only
 * the batches from its offset on are replayed.
 *
 * The format is Tributary's own (Kafka's keeps one batch per producer and puts aborted
 * transactions in per-segment .txnindex files; this keeps the last five batches and the
 * aborted transactions in the snapshot):
 *   "TRPS" | int16 version (1) | uint32 crc32c of the rest | int64 offset | ProducerState.serialize()
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { writeFileAtomic } from './atomic-file.ts';
import { ProducerState } from './producer-state.ts';
import { offsetFileName, parseSegmentFileName } from './segment.ts';

export const SNAPSHOT_SUFFIX = '.snapshot';
const MAGIC = 'TRPS';
const VERSION = 1;
/** How many snapshots a log keeps (the newest is the one that counts; one older in reserve). */
const KEEP = 2;

export function snapshotPath(dir: string, offset: number): string {
  return path.join(dir, offsetFileName(offset) + SNAPSHOT_SUFFIX);
}

export function encodeSnapshot(offset: number, state: ProducerState): Buffer {
  const body = state.serialize();
  const rest = Buffer.alloc(8 + body.length);
  rest.writeBigInt64BE(BigInt(offset), 0);
  body.copy(rest, 8);
  const head = Buffer.alloc(10);
  head.write(MAGIC, 0, 'latin1');
  head.writeInt16BE(VERSION, 4);
  head.writeUInt32BE(crc32c(rest) >>> 0, 6);
  return Buffer.concat([head, rest]);
}

export function decodeSnapshot(where: string, buf: Buffer): { offset: number; state: ProducerState } {
  if (buf.length < 18 || buf.toString('latin1', 0, 4) !== MAGIC) throw new RangeError('not a producer-state snapshot');
  const version = buf.readInt16BE(4);
  if (version !== VERSION) throw new RangeError(`unknown producer-state snapshot version ${version}`);
  const rest = buf.subarray(10);
  if ((crc32c(rest) >>> 0) !== buf.readUInt32BE(6)) throw new RangeError('producer-state snapshot CRC mismatch');
  return { offset: Number(rest.readBigInt64BE(0)), state: ProducerState.deserialize(where, rest.subarray(8)) };
}

/** Snapshot offsets in `dir`, ascending. */
export async function listSnapshots(dir: string): Promise<number[]> {
  const names = await fs.readdir(dir);
  const offsets: number[] = [];
  for (const n of names) {
    const o = parseSegmentFileName(n, SNAPSHOT_SUFFIX);
    if (o !== null) offsets.push(o);
  }
  return offsets.sort((a, b) => a - b);
}

/** Writes a snapshot (durably: temp file, fsync, rename, fsync dir). */
export async function writeSnapshot(dir: string, offset: number, state: ProducerState): Promise<void> {
  await writeFileAtomic(snapshotPath(dir, offset), encodeSnapshot(offset, state));
}

/** Removes all but the newest KEEP snapshots. */
export async function pruneSnapshots(dir: string): Promise<void> {
  const all = await listSnapshots(dir);
  for (const o of all.slice(0, Math.max(0, all.length - KEEP))) await fs.rm(snapshotPath(dir, o), { force: true });
}

/** Removes snapshots past `end` (they describe appends that were rolled back or lost). */
export async function deleteSnapshotsAfter(dir: string, end: number): Promise<void> {
  for (const o of await listSnapshots(dir)) if (o > end) await fs.rm(snapshotPath(dir, o), { force: true });
}

/**
 * The newest readable snapshot at or below `end`, or null. Unreadable ones are reported through
 * `onBad` and skipped (an older one, or a replay of the whole log, rebuilds the state).
 */
export async function loadLatestSnapshot(
  dir: string,
  where: string,
  end: number,
  onBad: (file: string, err: Error) => void,
): Promise<{ offset: number; state: ProducerState } | null> {
  const offsets = (await listSnapshots(dir)).filter((o) => o <= end).reverse();
  for (const o of offsets) {
    const file = snapshotPath(dir, o);
    try {
      const got = decodeSnapshot(where, await fs.readFile(file));
      if (got.offset !== o) throw new RangeError(`snapshot says offset ${got.offset}`);
      return got;
    } catch (err) {
      onBad(file, err as Error);
    }
  }
  return null;
}
