/**
 * Zig-zag varints and varlongs as record batches use them (record lengths, deltas, key and
 * value lengths), read and written at explicit buffer positions without allocating.
 * `readVarint`/`readVarlong` advance `state.pos` and throw RangeError on malformed input.
 */
export function varintSize(value: number): number {
  let v = (value << 1) ^ (value >> 31);
  v >>>= 0;
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}

export function writeVarint(buf: Buffer, pos: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

export function readVarint(buf: Buffer, state: { pos: number }, end: number): number {
  let raw = 0;
  let shift = 0;
  let b: number;
  do {
    if (state.pos >= end || shift > 28) throw new RangeError('malformed varint in record');
    b = buf[state.pos++]!;
    raw |= (b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  return (raw >>> 1) ^ -(raw & 1);
}

/** Varlong zig-zag encoding for timestamp deltas (may exceed 32 bits). */
export function writeVarlong(buf: Buffer, pos: number, value: number): number {
  let v = value >= 0 ? BigInt(value) * 2n : -BigInt(value) * 2n - 1n;
  while (v >= 0x80n) {
    buf[pos++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  buf[pos++] = Number(v);
  return pos;
}

export function varlongSize(value: number): number {
  let v = value >= 0 ? BigInt(value) * 2n : -BigInt(value) * 2n - 1n;
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

export function readVarlong(buf: Buffer, state: { pos: number }, end: number): number {
  let raw = 0n;
  let shift = 0n;
  let b: number;
  do {
    if (state.pos >= end || shift > 63n) throw new RangeError('malformed varlong in record');
    b = buf[state.pos++]!;
    raw |= BigInt(b & 0x7f) << shift;
    shift += 7n;
  } while (b & 0x80);
  return Number((raw >> 1n) ^ -(raw & 1n));
}
