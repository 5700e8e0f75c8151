/**
 * The sparse offset index of one segment, in memory as typed arrays and on disk in Kafka's
 * `.index` format: 8-byte entries of (int32 offset relative to the segment's base offset,
 * int32 byte position of a batch in the `.log`). An entry (o, p) says: the batch starting at
 * position p ends at offset o (Kafka indexes the batch's last offset), so the batch holding
 * any offset > o starts at or after p.
 */
export const OFFSET_INDEX_ENTRY_SIZE = 8;

export class IndexFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IndexFormatError';
  }
}

export class OffsetIndex {
  readonly baseOffset: number;
  maxEntries: number;
  #rel: Int32Array;
  #pos: Int32Array;
  #count = 0;

  constructor(baseOffset: number, maxEntries: number, capacity = 16) {
    this.baseOffset = baseOffset;
    this.maxEntries = Math.max(1, maxEntries);
    this.#rel = new Int32Array(capacity);
    this.#pos = new Int32Array(capacity);
  }

  static maxEntriesFor(segmentIndexBytes: number): number {
    return Math.max(1, Math.floor(segmentIndexBytes / OFFSET_INDEX_ENTRY_SIZE));
  }

  get entries(): number {
    return this.#count;
  }

  get isFull(): boolean {
    return this.#count >= this.maxEntries;
  }

  /** Absolute offset of the last entry, or -1 when empty. */
  get lastOffset(): number {
    return this.#count === 0 ? -1 : this.baseOffset + this.#rel[this.#count - 1]!;
  }

  get lastPosition(): number {
    return this.#count === 0 ? 0 : this.#pos[this.#count - 1]!;
  }

  /** Appends (offset, position); both must be greater than the last entry's. */
  append(offset: number, position: number): void {
    const rel = offset - this.baseOffset;
    if (this.#count > 0 && (rel <= this.#rel[this.#count - 1]! || position <= this.#pos[this.#count - 1]!)) {
      throw new IndexFormatError(`index entry (${offset}, ${position}) is not after the last entry`);
    }
    if (this.#count === this.#rel.length) {
      const rels = new Int32Array(this.#rel.length * 2);
      const poss = new Int32Array(this.#rel.length * 2);
      rels.set(this.#rel);
      poss.set(this.#pos);
      this.#rel = rels;
      this.#pos = poss;
    }
    this.#rel[this.#count] = rel;
    this.#pos[this.#count] = position;
    this.#count++;
  }

  /**
   * The entry with the largest offset <= `offset` as { offset, position }, or the segment start
   * ({ baseOffset, 0 }) when there is none. The batch holding `offset` is the first batch at
   * or after `position` whose last offset is >= `offset` (found by scanning batch headers).
   */
  lookup(offset: number): { offset: number; position: number } {
    const rel = offset - this.baseOffset;
    let lo = 0;
    let hi = this.#count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#rel[mid]! <= rel) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.baseOffset + this.#rel[found]!, position: this.#pos[found]! };
  }

  entry(i: number): { offset: number; position: number } {
    return { offset: this.baseOffset + this.#rel[i]!, position: this.#pos[i]! };
  }

  toBuffer(): Buffer {
    const buf = Buffer.allocUnsafe(this.#count * OFFSET_INDEX_ENTRY_SIZE);
    for (let i = 0; i < this.#count; i++) {
      buf.writeInt32BE(this.#rel[i]!, i * 8);
      buf.writeInt32BE(this.#pos[i]!, i * 8 + 4);
    }
    return buf;
  }

  /**
   * Loads an index file's bytes, checking that it is consistent with its segment: whole
   * entries, strictly increasing offsets and positions, offsets below `endOffset` (the next
   * segment's base offset) and positions inside the `.log` file. Throws IndexFormatError
   * otherwise (the caller then rebuilds the index from the log).
   */
  static fromBuffer(baseOffset: number, buf: Buffer, opts: { maxEntries: number; logSize: number; endOffset: number }): OffsetIndex {
    if (buf.length % OFFSET_INDEX_ENTRY_SIZE !== 0) {
      throw new IndexFormatError(`offset index size ${buf.length} is not a multiple of ${OFFSET_INDEX_ENTRY_SIZE}`);
    }
    const n = buf.length / OFFSET_INDEX_ENTRY_SIZE;
    const index = new OffsetIndex(baseOffset, Math.max(opts.maxEntries, n), Math.max(16, n));
    for (let i = 0; i < n; i++) {
      const rel = buf.readInt32BE(i * 8);
      const pos = buf.readInt32BE(i * 8 + 4);
      if (rel < 0 || pos < 0 || pos >= opts.logSize || baseOffset + rel >= opts.endOffset) {
        throw new IndexFormatError(`offset index entry ${i} (${rel}, ${pos}) is outside its segment`);
      }
      index.append(baseOffset + rel, pos);
    }
    return index;
  }
}
