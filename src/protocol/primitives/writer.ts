/**
 * Growable writer that produces a list of Buffers for `socket.writev` / `cork`.
 *
 * Small values are written into a scratch buffer. Large payloads (records, big
 * byte fields) passed to {@link Writer.writeRawBuffer} above
 * {@link RAW_COPY_THRESHOLD} bytes are appended by reference, never copied: the
 * caller must not modify them until the output has been written out.
 *
 * Framing: `const pos = w.reserveInt32()` reserves 4 bytes and
 * `w.patchInt32(pos, value)` fills them later, e.g. a size prefix:
 *
 *   const w = new Writer();
 *   const sizePos = w.reserveInt32();
 *   ResponseHeader.encode(w, header, headerVersion);
 *   FetchResponse.encode(w, body, version);
 *   w.patchInt32(sizePos, w.length - 4);
 *   socket.cork(); for (const b of w.toBuffers()) socket.write(b); socket.uncork();
 *
 * Writing methods throw (TypeError/RangeError) on values that cannot be encoded
 * (out-of-range integers, over-long strings, null for non-nullable): those are
 * programming errors, not bad input.
 */
import { isUuid } from './uuid.ts';

/** Payloads larger than this are referenced by writeRawBuffer instead of copied. */
export const RAW_COPY_THRESHOLD = 1024;

const MAX_STRING_BYTES = 0x7fff;
const MAX_SCRATCH = 64 * 1024;

export class Writer {
  private chunks: Buffer[] = [];
  private scratch: Buffer;
  /** Start of the not-yet-flushed region of `scratch`. */
  private chunkStart = 0;
  /** Write position in `scratch`. */
  private pos = 0;
  /** Bytes in `chunks`. */
  private flushed = 0;
  private nextScratchSize: number;
  // Reservations made by reserveInt32, keyed by absolute position.
  private resPos: number[] = [];
  private resBuf: Buffer[] = [];
  private resOff: number[] = [];

  constructor(initialScratchSize = 2048) {
    const size = Math.max(16, Math.floor(initialScratchSize));
    this.scratch = Buffer.allocUnsafe(size);
    this.nextScratchSize = Math.min(MAX_SCRATCH, size * 2);
  }

  /** Total number of bytes written so far. */
  get length(): number {
    return this.flushed + (this.pos - this.chunkStart);
  }

  private flushScratch(): void {
    if (this.pos > this.chunkStart) {
      this.chunks.push(this.scratch.subarray(this.chunkStart, this.pos));
      this.flushed += this.pos - this.chunkStart;
      this.chunkStart = this.pos;
    }
  }

  /** Makes sure `n` contiguous bytes are available in the scratch buffer. */
  private ensure(n: number): void {
    if (this.pos + n <= this.scratch.length) return;
    this.flushScratch();
    const size = Math.max(n, this.nextScratchSize);
    this.nextScratchSize = Math.min(MAX_SCRATCH, this.nextScratchSize * 2);
    this.scratch = Buffer.allocUnsafe(size);
    this.pos = 0;
    this.chunkStart = 0;
  }

  // ---- fixed width -------------------------------------------------------

  writeInt8(v: number): void {
    this.ensure(1);
    this.pos = this.scratch.writeInt8(v, this.pos);
  }

  writeUInt8(v: number): void {
    this.ensure(1);
    this.pos = this.scratch.writeUInt8(v, this.pos);
  }

  writeBool(v: boolean): void {
    this.ensure(1);
    this.scratch[this.pos++] = v ? 1 : 0;
  }

  writeInt16(v: number): void {
    this.ensure(2);
    this.pos = this.scratch.writeInt16BE(v, this.pos);
  }

  writeUInt16(v: number): void {
    this.ensure(2);
    this.pos = this.scratch.writeUInt16BE(v, this.pos);
  }

  writeInt32(v: number): void {
    this.ensure(4);
    this.pos = this.scratch.writeInt32BE(v, this.pos);
  }

  writeUInt32(v: number): void {
    this.ensure(4);
    this.pos = this.scratch.writeUInt32BE(v, this.pos);
  }

  writeInt64(v: bigint): void {
    this.ensure(8);
    this.pos = this.scratch.writeBigInt64BE(v, this.pos);
  }

  writeFloat64(v: number): void {
    this.ensure(8);
    this.pos = this.scratch.writeDoubleBE(v, this.pos);
  }

  /** A Kafka UUID string (22 chars base64url) as 16 bytes. */
  writeUuid(v: string): void {
    if (!isUuid(v)) throw new TypeError(`invalid Kafka UUID string ${JSON.stringify(v)}`);
    this.ensure(16);
    const n = this.scratch.write(v, this.pos, 16, 'base64url');
    if (n !== 16) throw new TypeError(`invalid Kafka UUID string ${JSON.stringify(v)}`);
    this.pos += 16;
  }

  // ---- varints -----------------------------------------------------------

  /** Unsigned varint of a value in 0..2^32-1. */
  writeUVarint(v: number): void {
    if (!(v >= 0 && v <= 0xffffffff) || !Number.isInteger(v)) throw new RangeError(`uvarint out of range: ${v}`);
    this.ensure(5);
    const buf = this.scratch;
    let pos = this.pos;
    while (v >= 0x80) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /** Zigzag signed varint of an int32. */
  writeVarint(v: number): void {
    if (!(v >= -0x80000000 && v <= 0x7fffffff) || !Number.isInteger(v)) throw new RangeError(`varint out of range: ${v}`);
    this.writeUVarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  /** Unsigned varint of a value in 0..2^64-1. */
  writeUVarlong(v: bigint): void {
    if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`uvarlong out of range: ${v}`);
    this.ensure(10);
    const buf = this.scratch;
    let pos = this.pos;
    while (v >= 0x80n) {
      buf[pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    buf[pos++] = Number(v);
    this.pos = pos;
  }

  /** Zigzag signed varint of an int64. */
  writeVarlong(v: bigint): void {
    if (v < -0x8000000000000000n || v > 0x7fffffffffffffffn) throw new RangeError(`varlong out of range: ${v}`);
    this.writeUVarlong(BigInt.asUintN(64, (v << 1n) ^ (v >> 63n)));
  }

  // ---- raw ---------------------------------------------------------------

  /**
   * Appends `buf`. Buffers larger than RAW_COPY_THRESHOLD are appended by
   * reference (zero copy); smaller ones are copied into the scratch buffer.
   */
  writeRawBuffer(buf: Uint8Array): void {
    const n = buf.length;
    if (n > RAW_COPY_THRESHOLD) {
      this.flushScratch();
      this.chunks.push(Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, n));
      this.flushed += n;
      return;
    }
    this.ensure(n);
    this.scratch.set(buf, this.pos);
    this.pos += n;
  }

  /** Appends everything written to `other` (its large chunks by reference). */
  writeWriter(other: Writer): void {
    for (const b of other.toBuffers()) this.writeRawBuffer(b);
  }

  // ---- strings -----------------------------------------------------------

  private utf8Length(v: string): number {
    if (typeof v !== 'string') throw new TypeError(`expected a string, got ${v === null ? 'null' : typeof v}`);
    const n = Buffer.byteLength(v, 'utf8');
    if (n > MAX_STRING_BYTES) throw new RangeError(`string of ${n} bytes exceeds ${MAX_STRING_BYTES}`);
    return n;
  }

  private utf8(v: string, n: number): void {
    this.ensure(n);
    this.pos += this.scratch.write(v, this.pos, n, 'utf8');
  }

  /** int16 length + UTF-8. */
  writeString(v: string): void {
    const n = this.utf8Length(v);
    this.writeInt16(n);
    this.utf8(v, n);
  }

  /** int16 length (-1 for null) + UTF-8. */
  writeNullableString(v: string | null): void {
    if (v === null) this.writeInt16(-1);
    else this.writeString(v);
  }

  /** uvarint (length + 1) + UTF-8. */
  writeCompactString(v: string): void {
    const n = this.utf8Length(v);
    this.writeUVarint(n + 1);
    this.utf8(v, n);
  }

  /** uvarint (length + 1, 0 for null) + UTF-8. */
  writeCompactNullableString(v: string | null): void {
    if (v === null) this.writeUVarint(0);
    else this.writeCompactString(v);
  }

  // ---- bytes (and records) -------------------------------------------------

  private checkBytes(v: Uint8Array): void {
    if (!(v instanceof Uint8Array)) throw new TypeError(`expected a Buffer, got ${v === null ? 'null' : typeof v}`);
  }

  /** int32 length + bytes (large payloads by reference). */
  writeBytes(v: Uint8Array): void {
    this.checkBytes(v);
    this.writeInt32(v.length);
    this.writeRawBuffer(v);
  }

  /** int32 length (-1 for null) + bytes. */
  writeNullableBytes(v: Uint8Array | null): void {
    if (v === null) this.writeInt32(-1);
    else this.writeBytes(v);
  }

  /** uvarint (length + 1) + bytes. */
  writeCompactBytes(v: Uint8Array): void {
    this.checkBytes(v);
    this.writeUVarint(v.length + 1);
    this.writeRawBuffer(v);
  }

  /** uvarint (length + 1, 0 for null) + bytes. */
  writeCompactNullableBytes(v: Uint8Array | null): void {
    if (v === null) this.writeUVarint(0);
    else this.writeCompactBytes(v);
  }

  // ---- arrays ---------------------------------------------------------------

  /** int32 array count (-1 for null). */
  writeArrayLength(n: number): void {
    this.writeInt32(n);
  }

  /** uvarint (count + 1, 0 for null; pass -1 for null). */
  writeCompactArrayLength(n: number): void {
    this.writeUVarint(n + 1);
  }

  writeArray<T>(items: readonly T[], writeElement: (w: Writer, item: T) => void): void {
    this.writeInt32(items.length);
    for (let i = 0; i < items.length; i++) writeElement(this, items[i]!);
  }

  writeNullableArray<T>(items: readonly T[] | null, writeElement: (w: Writer, item: T) => void): void {
    if (items === null) this.writeInt32(-1);
    else this.writeArray(items, writeElement);
  }

  writeCompactArray<T>(items: readonly T[], writeElement: (w: Writer, item: T) => void): void {
    this.writeUVarint(items.length + 1);
    for (let i = 0; i < items.length; i++) writeElement(this, items[i]!);
  }

  writeCompactNullableArray<T>(items: readonly T[] | null, writeElement: (w: Writer, item: T) => void): void {
    if (items === null) this.writeUVarint(0);
    else this.writeCompactArray(items, writeElement);
  }

  /** An empty tagged-field section (a single 0 uvarint). */
  writeEmptyTaggedFields(): void {
    this.ensure(1);
    this.scratch[this.pos++] = 0;
  }

  // ---- framing -------------------------------------------------------------

  /**
   * Reserves 4 bytes at the current position and returns that position (the
   * value of `length` before the call), to be filled with patchInt32.
   */
  reserveInt32(): number {
    this.ensure(4);
    const at = this.length;
    this.resPos.push(at);
    this.resBuf.push(this.scratch);
    this.resOff.push(this.pos);
    this.scratch.writeInt32BE(0, this.pos);
    this.pos += 4;
    return at;
  }

  /** Writes `value` into the 4 bytes reserved at `position` by reserveInt32. */
  patchInt32(position: number, value: number): void {
    const i = this.resPos.lastIndexOf(position);
    if (i < 0) throw new RangeError(`no reserved int32 at position ${position}`);
    this.resBuf[i]!.writeInt32BE(value, this.resOff[i]!);
  }

  // ---- output --------------------------------------------------------------

  /**
   * The written bytes as a list of buffers (small values share scratch buffers,
   * large payloads are the caller's own buffers). Writing may continue afterwards.
   */
  toBuffers(): Buffer[] {
    this.flushScratch();
    return this.chunks.slice();
  }

  /** The written bytes as one Buffer (copies unless there is a single chunk). */
  toBuffer(): Buffer {
    const chunks = this.toBuffers();
    if (chunks.length === 1) return chunks[0]!;
    return Buffer.concat(chunks, this.flushed);
  }
}
