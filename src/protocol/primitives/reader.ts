/**
 * Bounds-checked reader over a Buffer range, for the Kafka wire primitives.
 *
 * Every read checks the range first and throws {@link ProtocolError} on malformed
 * input: never a RangeError from Buffer, and never an allocation larger than the
 * bytes that are actually left (a length or element count that exceeds the
 * remaining bytes is rejected before anything is allocated).
 *
 * Strings are decoded as UTF-8. Bytes/records are returned as `subarray` views of
 * the underlying buffer (zero copy): they stay valid only as long as the caller
 * does not reuse that buffer.
 */
import { ProtocolError } from './errors.ts';

/** Longest string Kafka accepts (the non-flexible length prefix is an int16). */
export const MAX_STRING_BYTES = 0x7fff;

export class Reader {
  readonly buf: Buffer;
  /** Current position in `buf`. Public: callers may save and restore it. */
  offset: number;
  /** Exclusive end of the readable range in `buf`. */
  readonly end: number;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    if (!(offset >= 0 && offset <= end && end <= buf.length) || !Number.isInteger(offset) || !Number.isInteger(end)) {
      throw new ProtocolError(`invalid reader range [${offset}, ${end}) of a ${buf.length} byte buffer`);
    }
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  /** Bytes left between `offset` and `end`. */
  get remaining(): number {
    return this.end - this.offset;
  }

  /** A ProtocolError tagged with the current offset. */
  error(message: string): ProtocolError {
    return new ProtocolError(message, this.offset);
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.offset) {
      throw new ProtocolError(`truncated input: ${what} needs ${n} bytes, ${this.end - this.offset} left`, this.offset);
    }
  }

  /** Advances past `n` bytes. */
  skip(n: number): void {
    if (!(n >= 0)) throw this.error(`cannot skip ${n} bytes`);
    this.need(n, 'skip');
    this.offset += n;
  }

  /** The next `n` bytes as a zero-copy view, advancing past them. */
  readSlice(n: number): Buffer {
    if (!(n >= 0)) throw this.error(`invalid length ${n}`);
    this.need(n, 'byte range');
    const start = this.offset;
    this.offset = start + n;
    return this.buf.subarray(start, start + n);
  }

  /** A new Reader over the next `n` bytes; this reader advances past them. */
  sub(n: number): Reader {
    if (!(n >= 0)) throw this.error(`invalid length ${n}`);
    this.need(n, 'sub-range');
    const start = this.offset;
    this.offset = start + n;
    return new Reader(this.buf, start, start + n);
  }

  // ---- fixed width -------------------------------------------------------

  readInt8(): number {
    const off = this.offset;
    if (off + 1 > this.end) this.need(1, 'int8');
    this.offset = off + 1;
    return this.buf.readInt8(off);
  }

  readUInt8(): number {
    const off = this.offset;
    if (off + 1 > this.end) this.need(1, 'uint8');
    this.offset = off + 1;
    return this.buf[off]!;
  }

  readBool(): boolean {
    const off = this.offset;
    if (off + 1 > this.end) this.need(1, 'bool');
    this.offset = off + 1;
    return this.buf[off] !== 0;
  }

  readInt16(): number {
    const off = this.offset;
    if (off + 2 > this.end) this.need(2, 'int16');
    this.offset = off + 2;
    return this.buf.readInt16BE(off);
  }

  readUInt16(): number {
    const off = this.offset;
    if (off + 2 > this.end) this.need(2, 'uint16');
    this.offset = off + 2;
    return this.buf.readUInt16BE(off);
  }

  readInt32(): number {
    const off = this.offset;
    if (off + 4 > this.end) this.need(4, 'int32');
    this.offset = off + 4;
    return this.buf.readInt32BE(off);
  }

  readUInt32(): number {
    const off = this.offset;
    if (off + 4 > this.end) this.need(4, 'uint32');
    this.offset = off + 4;
    return this.buf.readUInt32BE(off);
  }

  readInt64(): bigint {
    const off = this.offset;
    if (off + 8 > this.end) this.need(8, 'int64');
    this.offset = off + 8;
    return this.buf.readBigInt64BE(off);
  }

  readFloat64(): number {
    const off = this.offset;
    if (off + 8 > this.end) this.need(8, 'float64');
    this.offset = off + 8;
    return this.buf.readDoubleBE(off);
  }

  /** 16 bytes, returned in Kafka's base64url string form. */
  readUuid(): string {
    const off = this.offset;
    if (off + 16 > this.end) this.need(16, 'uuid');
    this.offset = off + 16;
    return this.buf.toString('base64url', off, off + 16);
  }

  // ---- varints -----------------------------------------------------------

  /** Unsigned LEB128 varint of at most 5 bytes / 32 bits, returned as 0..2^32-1. */
  readUVarint(): number {
    const off = this.offset;
    if (off < this.end) {
      const b = this.buf[off]!;
      if (b < 0x80) {
        this.offset = off + 1;
        return b;
      }
    }
    return this.readUVarintSlow();
  }

  private readUVarintSlow(): number {
    const buf = this.buf;
    const end = this.end;
    let off = this.offset;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (off >= end) throw new ProtocolError('truncated varint', this.offset);
      const b = buf[off++]!;
      if (shift === 28) {
        if (b > 0x0f) throw new ProtocolError('varint is longer than 5 bytes or exceeds 32 bits', this.offset);
        value += b * 0x10000000;
        this.offset = off;
        return value;
      }
      value |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.offset = off;
        return value >>> 0;
      }
    }
    /* c8 ignore next */
    throw new ProtocolError('unreachable varint state', this.offset);
  }

  /** Zigzag-encoded signed 32-bit varint. */
  readVarint(): number {
    const u = this.readUVarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Unsigned varint of at most 10 bytes / 64 bits. */
  readUVarlong(): bigint {
    const buf = this.buf;
    const end = this.end;
    let off = this.offset;
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (off >= end) throw new ProtocolError('truncated varlong', this.offset);
      const b = buf[off++]!;
      if (shift === 63n && b > 1) throw new ProtocolError('varlong is longer than 10 bytes or exceeds 64 bits', this.offset);
      value |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) {
        this.offset = off;
        return value;
      }
    }
    /* c8 ignore next */
    throw new ProtocolError('unreachable varlong state', this.offset);
  }

  /** Zigzag-encoded signed 64-bit varint. */
  readVarlong(): bigint {
    const u = this.readUVarlong();
    return (u >> 1n) ^ -(u & 1n);
  }

  // ---- strings -----------------------------------------------------------

  private utf8(len: number): string {
    this.need(len, 'string');
    const start = this.offset;
    this.offset = start + len;
    return this.buf.toString('utf8', start, start + len);
  }

  /** int16 length + UTF-8. A null marker (-1) is an error. */
  readString(): string {
    const len = this.readInt16();
    if (len < 0) throw new ProtocolError(len === -1 ? 'unexpected null string' : `invalid string length ${len}`, this.offset - 2);
    return this.utf8(len);
  }

  /** int16 length (-1 = null) + UTF-8. */
  readNullableString(): string | null {
    const len = this.readInt16();
    if (len < 0) {
      if (len === -1) return null;
      throw new ProtocolError(`invalid string length ${len}`, this.offset - 2);
    }
    return this.utf8(len);
  }

  /** uvarint (length + 1) + UTF-8. A null marker (0) is an error. */
  readCompactString(): string {
    const start = this.offset;
    const n = this.readUVarint();
    if (n === 0) throw new ProtocolError('unexpected null compact string', start);
    if (n - 1 > MAX_STRING_BYTES) throw new ProtocolError(`string length ${n - 1} exceeds ${MAX_STRING_BYTES}`, start);
    return this.utf8(n - 1);
  }

  /** uvarint (length + 1, 0 = null) + UTF-8. */
  readCompactNullableString(): string | null {
    const start = this.offset;
    const n = this.readUVarint();
    if (n === 0) return null;
    if (n - 1 > MAX_STRING_BYTES) throw new ProtocolError(`string length ${n - 1} exceeds ${MAX_STRING_BYTES}`, start);
    return this.utf8(n - 1);
  }

  // ---- bytes (and records: same encoding) ---------------------------------

  /** int32 length + bytes (zero-copy view). A null marker (-1) is an error. */
  readBytes(): Buffer {
    const len = this.readInt32();
    if (len < 0) throw new ProtocolError(len === -1 ? 'unexpected null bytes' : `invalid bytes length ${len}`, this.offset - 4);
    return this.readSlice(len);
  }

  /** int32 length (-1 = null) + bytes (zero-copy view). */
  readNullableBytes(): Buffer | null {
    const len = this.readInt32();
    if (len < 0) {
      if (len === -1) return null;
      throw new ProtocolError(`invalid bytes length ${len}`, this.offset - 4);
    }
    return this.readSlice(len);
  }

  /** uvarint (length + 1) + bytes (zero-copy view). A null marker (0) is an error. */
  readCompactBytes(): Buffer {
    const start = this.offset;
    const n = this.readUVarint();
    if (n === 0) throw new ProtocolError('unexpected null compact bytes', start);
    return this.readSlice(n - 1);
  }

  /** uvarint (length + 1, 0 = null) + bytes (zero-copy view). */
  readCompactNullableBytes(): Buffer | null {
    const n = this.readUVarint();
    if (n === 0) return null;
    return this.readSlice(n - 1);
  }

  // ---- arrays --------------------------------------------------------------

  /**
   * int32 element count of a non-nullable array. Throws if the count is negative
   * or larger than the remaining bytes (every element takes at least one byte).
   */
  readArrayLength(): number {
    const n = this.readInt32();
    if (n < 0) throw new ProtocolError(n === -1 ? 'unexpected null array' : `invalid array length ${n}`, this.offset - 4);
    if (n > this.end - this.offset) throw new ProtocolError(`array length ${n} exceeds the ${this.end - this.offset} remaining bytes`, this.offset - 4);
    return n;
  }

  /** Like readArrayLength, but returns -1 for a null array. */
  readNullableArrayLength(): number {
    const n = this.readInt32();
    if (n < 0) {
      if (n === -1) return -1;
      throw new ProtocolError(`invalid array length ${n}`, this.offset - 4);
    }
    if (n > this.end - this.offset) throw new ProtocolError(`array length ${n} exceeds the ${this.end - this.offset} remaining bytes`, this.offset - 4);
    return n;
  }

  /** uvarint (count + 1) of a non-nullable compact array, bounded like readArrayLength. */
  readCompactArrayLength(): number {
    const start = this.offset;
    const n = this.readUVarint() - 1;
    if (n < 0) throw new ProtocolError('unexpected null compact array', start);
    if (n > this.end - this.offset) throw new ProtocolError(`array length ${n} exceeds the ${this.end - this.offset} remaining bytes`, start);
    return n;
  }

  /** Like readCompactArrayLength, but returns -1 for a null array. */
  readCompactNullableArrayLength(): number {
    const start = this.offset;
    const n = this.readUVarint() - 1;
    if (n > this.end - this.offset) throw new ProtocolError(`array length ${n} exceeds the ${this.end - this.offset} remaining bytes`, start);
    return n;
  }

  /** int32-counted array; `readElement` reads one element from this reader. */
  readArray<T>(readElement: (r: Reader) => T): T[] {
    const n = this.readArrayLength();
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(readElement(this));
    return out;
  }

  readNullableArray<T>(readElement: (r: Reader) => T): T[] | null {
    const n = this.readNullableArrayLength();
    if (n < 0) return null;
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(readElement(this));
    return out;
  }

  readCompactArray<T>(readElement: (r: Reader) => T): T[] {
    const n = this.readCompactArrayLength();
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(readElement(this));
    return out;
  }

  readCompactNullableArray<T>(readElement: (r: Reader) => T): T[] | null {
    const n = this.readCompactNullableArrayLength();
    if (n < 0) return null;
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(readElement(this));
    return out;
  }

  // ---- tagged fields -------------------------------------------------------

  /**
   * Reads a tagged-field section (uvarint count, then per field uvarint tag,
   * uvarint size and `size` bytes). For each field, `onField` (if given) gets the
   * tag and a Reader bounded to exactly that field's bytes; whatever it does not
   * consume is skipped. Without `onField` the section is skipped.
   */
  readTaggedFields(onField?: (tag: number, field: Reader) => void): void {
    const count = this.readUVarint();
    if (count > this.end - this.offset) throw this.error(`tagged field count ${count} exceeds the remaining bytes`);
    for (let i = 0; i < count; i++) {
      const tag = this.readUVarint();
      const size = this.readUVarint();
      const field = this.sub(size);
      if (onField !== undefined) onField(tag, field);
    }
  }

  /** Reads and discards a tagged-field section. */
  skipTaggedFields(): void {
    this.readTaggedFields();
  }
}
