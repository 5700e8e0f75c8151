/**
 * The time index of one segment, in memory as typed arrays and on disk in Kafka's
 * `.timeindex` format: 12-byte entries of (int64 timestamp, int32 offset relative to the
 * segment's base offset). An entry (t, o) says: the largest batch max-timestamp seen up to
 * and including the batch ending at offset o is t. Entries have strictly increasing
 * timestamps; an entry is added with an offset-index entry only when the timestamp grew.
 */
import { IndexFormatError } from './offset-index.ts';

export const TIME_INDEX_ENTRY_SIZE = 12;

const TWO_32 = 0x1_0000_0000;

export class TimeIndex {
  readonly baseOffset: number;
  maxEntries: number;
  #ts: Float64Array;
  #rel: Int32Array;
  #count = 0;

  constructor(baseOffset: number, maxEntries: number, capacity = 16) {
    this.baseOffset = baseOffset;
    this.maxEntries = Math.max(1, maxEntries);
    this.#ts = new Float64Array(capacity);
    this.#rel = new Int32Array(capacity);
  }

  static maxEntriesFor(segmentIndexBytes: number): number {
    return Math.max(1, Math.floor(segmentIndexBytes / TIME_INDEX_ENTRY_SIZE));
  }

  get entries(): number {
    return this.#count;
  }

  get isFull(): boolean {
    return this.#count >= this.maxEntries;
  }

  /** The last entry, or null. */
  get last(): { timestamp: number; offset: number } | null {
    if (this.#count === 0) return null;
    return { timestamp: this.#ts[this.#count - 1]!, offset: this.baseOffset + this.#rel[this.#count - 1]! };
  }

  /** Appends when `timestamp` is greater than the last entry's (Kafka's maybeAppend). */
  maybeAppend(timestamp: number, offset: number): boolean {
    if (this.#count > 0 && timestamp <= this.#ts[this.#count - 1]!) return false;
    if (timestamp < 0) return false;
    const rel = offset - this.baseOffset;
    if (this.#count > 0 && rel < this.#rel[this.#count - 1]!) return false;
    if (this.#count === this.#ts.length) {
      const ts = new Float64Array(this.#ts.length * 2);
      const rels = new Int32Array(this.#ts.length * 2);
      ts.set(this.#ts);
      rels.set(this.#rel);
      this.#ts = ts;
      this.#rel = rels;
    }
    this.#ts[this.#count] = timestamp;
    this.#rel[this.#count] = rel;
    this.#count++;
    return true;
  }

  /**
   * The entry with the largest timestamp <= `timestamp`, or null when every entry is newer
   * (then the search starts at the segment's beginning).
   */
  lookup(timestamp: number): { timestamp: number; offset: number } | null {
    let lo = 0;
    let hi = this.#count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#ts[mid]! <= timestamp) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) return null;
    return { timestamp: this.#ts[found]!, offset: this.baseOffset + this.#rel[found]! };
  }

  toBuffer(): Buffer {
    const buf = Buffer.allocUnsafe(this.#count * TIME_INDEX_ENTRY_SIZE);
    for (let i = 0; i < this.#count; i++) {
      const t = this.#ts[i]!;
      const hi = Math.floor(t / TWO_32);
      buf.writeInt32BE(hi, i * 12);
      buf.writeUInt32BE(t - hi * TWO_32, i * 12 + 4);
      buf.writeInt32BE(this.#rel[i]!, i * 12 + 8);
    }
    return buf;
  }

  /**
   * Loads a `.timeindex` file's bytes with Kafka's sanity rules plus ours: whole entries,
   * strictly increasing timestamps, non-decreasing offsets inside [baseOffset, endOffset).
   */
  static fromBuffer(baseOffset: number, buf: Buffer, opts: { maxEntries: number; endOffset: number }): TimeIndex {
    if (buf.length % TIME_INDEX_ENTRY_SIZE !== 0) {
      throw new IndexFormatError(`time index size ${buf.length} is not a multiple of ${TIME_INDEX_ENTRY_SIZE}`);
    }
    const n = buf.length / TIME_INDEX_ENTRY_SIZE;
    const index = new TimeIndex(baseOffset, Math.max(opts.maxEntries, n), Math.max(16, n));
    let lastTs = -Infinity;
    let lastRel = -1;
    for (let i = 0; i < n; i++) {
      const ts = buf.readInt32BE(i * 12) * TWO_32 + buf.readUInt32BE(i * 12 + 4);
      const rel = buf.readInt32BE(i * 12 + 8);
      if (ts <= lastTs || rel < lastRel || rel < 0 || baseOffset + rel >= opts.endOffset || !Number.isSafeInteger(ts)) {
        throw new IndexFormatError(`time index entry ${i} (${ts}, ${rel}) is out of order or outside its segment`);
      }
      index.maybeAppend(ts, baseOffset + rel);
      lastTs = ts;
      lastRel = rel;
    }
    return index;
  }
}
