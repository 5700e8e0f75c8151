import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  ProtocolError, Reader, Writer, ZERO_UUID, RAW_COPY_THRESHOLD, isUuid, randomUuid, uuidFromBytes, uuidFromHex,
  uuidToBytes, uuidToHex,
} from '../../src/protocol/primitives/index.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const bytesOf = (f: (w: Writer) => void) => {
  const w = new Writer(16);
  f(w);
  return w.toBuffer();
};
const throwsProtocol = (f: () => unknown, re?: RegExp) =>
  assert.throws(f, (e: unknown) => e instanceof ProtocolError && (re === undefined || re.test((e as Error).message)));

describe('varints', () => {
  const uvectors: Array<[number, string]> = [
    [0, '00'], [1, '01'], [127, '7f'], [128, '8001'], [300, 'ac02'], [16383, 'ff7f'], [16384, '808001'],
    [2 ** 31 - 1, 'ffffffff07'], [2 ** 31, '8080808008'], [2 ** 32 - 1, 'ffffffff0f'],
  ];
  test('unsigned varint vectors', () => {
    for (const [v, h] of uvectors) {
      assert.equal(bytesOf((w) => w.writeUVarint(v)).toString('hex'), h, `encode ${v}`);
      const r = new Reader(hex(h));
      assert.equal(r.readUVarint(), v, `decode ${h}`);
      assert.equal(r.remaining, 0);
    }
  });

  test('zigzag varint vectors', () => {
    const vectors: Array<[number, string]> = [
      [0, '00'], [-1, '01'], [1, '02'], [-2, '03'], [63, '7e'], [-64, '7f'], [64, '8001'],
      [2147483647, 'feffffff0f'], [-2147483648, 'ffffffff0f'],
    ];
    for (const [v, h] of vectors) {
      assert.equal(bytesOf((w) => w.writeVarint(v)).toString('hex'), h, `encode ${v}`);
      assert.equal(new Reader(hex(h)).readVarint(), v, `decode ${h}`);
    }
  });

  test('varlong vectors', () => {
    const vectors: Array<[bigint, string]> = [
      [0n, '00'], [-1n, '01'], [1n, '02'], [150n, 'ac02'],
      [2n ** 63n - 1n, 'feffffffffffffffff01'], [-(2n ** 63n), 'ffffffffffffffffff01'],
    ];
    for (const [v, h] of vectors) {
      assert.equal(bytesOf((w) => w.writeVarlong(v)).toString('hex'), h, `encode ${v}`);
      assert.equal(new Reader(hex(h)).readVarlong(), v, `decode ${h}`);
    }
  });

  test('round trips (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (v) => {
      assert.equal(new Reader(bytesOf((w) => w.writeUVarint(v))).readUVarint(), v);
    }));
    fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (v) => {
      assert.equal(new Reader(bytesOf((w) => w.writeVarint(v))).readVarint(), v);
    }));
    fc.assert(fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => {
      const b = bytesOf((w) => w.writeVarlong(v));
      assert.ok(b.length <= 10);
      assert.equal(new Reader(b).readVarlong(), v);
    }));
  });

  test('over-long and truncated varints are rejected', () => {
    throwsProtocol(() => new Reader(hex('8080808080')).readUVarint(), /longer than 5/); // continuation on 5th byte
    throwsProtocol(() => new Reader(hex('ffffffff10')).readUVarint(), /exceeds 32 bits/); // > 32 bits
    throwsProtocol(() => new Reader(hex('808080808001')).readVarint());
    throwsProtocol(() => new Reader(hex('8080')).readUVarint(), /truncated/);
    throwsProtocol(() => new Reader(hex('')).readUVarint(), /truncated/);
    throwsProtocol(() => new Reader(hex('80808080808080808080')).readVarlong(), /longer than 10/);
    throwsProtocol(() => new Reader(hex('ffffffffffffffffff02')).readVarlong(), /exceeds 64 bits/);
    throwsProtocol(() => new Reader(hex('ffff')).readVarlong(), /truncated/);
  });

  test('writer rejects out-of-range varints', () => {
    const w = new Writer();
    assert.throws(() => w.writeUVarint(-1), RangeError);
    assert.throws(() => w.writeUVarint(2 ** 32), RangeError);
    assert.throws(() => w.writeUVarint(1.5), RangeError);
    assert.throws(() => w.writeVarint(2 ** 31), RangeError);
    assert.throws(() => w.writeVarlong(2n ** 63n), RangeError);
  });
});

describe('Reader bounds', () => {
  test('fixed-width reads at the end throw ProtocolError', () => {
    const empty = () => new Reader(Buffer.alloc(3), 3);
    for (const read of [
      (r: Reader) => r.readInt8(), (r: Reader) => r.readBool(), (r: Reader) => r.readInt16(),
      (r: Reader) => r.readUInt16(), (r: Reader) => r.readInt32(), (r: Reader) => r.readUInt32(),
      (r: Reader) => r.readInt64(), (r: Reader) => r.readFloat64(), (r: Reader) => r.readUuid(),
    ]) {
      throwsProtocol(() => read(empty()), /truncated/);
    }
    throwsProtocol(() => new Reader(hex('000000')).readInt32());
    throwsProtocol(() => new Reader(hex('00000000000000')).readInt64());
  });

  test('the end bound is honoured even when the buffer is longer', () => {
    const buf = hex('0000000100000002');
    const r = new Reader(buf, 0, 4);
    assert.equal(r.readInt32(), 1);
    throwsProtocol(() => r.readInt32());
    assert.equal(r.offset, 4);
    const r2 = new Reader(hex('0005 68656c6c6f'), 0, 6);
    throwsProtocol(() => r2.readString(), /truncated/);
  });

  test('invalid constructor ranges throw ProtocolError', () => {
    throwsProtocol(() => new Reader(Buffer.alloc(4), 5));
    throwsProtocol(() => new Reader(Buffer.alloc(4), 2, 1));
    throwsProtocol(() => new Reader(Buffer.alloc(4), 0, 5));
  });

  test('strings: lengths, null markers, bounds', () => {
    assert.equal(new Reader(hex('0003616263')).readString(), 'abc');
    assert.equal(new Reader(hex('ffff')).readNullableString(), null);
    throwsProtocol(() => new Reader(hex('ffff')).readString(), /null/);
    throwsProtocol(() => new Reader(hex('fffe')).readNullableString(), /invalid string length -2/);
    throwsProtocol(() => new Reader(hex('7fff00')).readString(), /truncated/);
    assert.equal(new Reader(hex('04616263')).readCompactString(), 'abc');
    assert.equal(new Reader(hex('00')).readCompactNullableString(), null);
    assert.equal(new Reader(hex('01')).readCompactString(), '');
    throwsProtocol(() => new Reader(hex('00')).readCompactString(), /null/);
    throwsProtocol(() => new Reader(hex('ffffffff0f')).readCompactNullableString(), /exceeds/);
    throwsProtocol(() => new Reader(hex('828002')).readCompactString(), /exceeds 32767/); // length 32769
  });

  test('bytes: zero-copy views, null markers, bounds', () => {
    const buf = hex('00000003 010203 ff');
    const r = new Reader(buf);
    const b = r.readBytes();
    assert.deepEqual([...b], [1, 2, 3]);
    buf[4] = 9;
    assert.equal(b[0], 9, 'readBytes must return a view, not a copy');
    assert.equal(b.buffer, buf.buffer);
    assert.equal(new Reader(hex('ffffffff')).readNullableBytes(), null);
    throwsProtocol(() => new Reader(hex('ffffffff')).readBytes(), /null/);
    throwsProtocol(() => new Reader(hex('fffffffe')).readNullableBytes(), /invalid bytes length -2/);
    throwsProtocol(() => new Reader(hex('7fffffff00')).readBytes(), /truncated/);
    throwsProtocol(() => new Reader(hex('80000000')).readNullableBytes(), /invalid/);
    assert.equal(new Reader(hex('00')).readCompactNullableBytes(), null);
    throwsProtocol(() => new Reader(hex('00')).readCompactBytes(), /null/);
    throwsProtocol(() => new Reader(hex('ffffffff0f')).readCompactBytes(), /truncated/);
  });

  test('array counts larger than the remaining bytes throw before allocating', () => {
    throwsProtocol(() => new Reader(hex('7fffffff 00')).readArrayLength(), /exceeds/);
    throwsProtocol(() => new Reader(hex('00000002 00')).readArrayLength(), /exceeds/);
    assert.equal(new Reader(hex('00000001 00')).readArrayLength(), 1);
    assert.equal(new Reader(hex('ffffffff')).readNullableArrayLength(), -1);
    throwsProtocol(() => new Reader(hex('ffffffff')).readArrayLength(), /null/);
    throwsProtocol(() => new Reader(hex('fffffff0')).readNullableArrayLength(), /invalid/);
    throwsProtocol(() => new Reader(hex('ffffffff0f')).readCompactArrayLength(), /exceeds/);
    throwsProtocol(() => new Reader(hex('00')).readCompactArrayLength(), /null/);
    assert.equal(new Reader(hex('00')).readCompactNullableArrayLength(), -1);
    let calls = 0;
    throwsProtocol(() => new Reader(hex('7fffffff')).readArray(() => calls++));
    assert.equal(calls, 0);
  });

  test('array helpers', () => {
    assert.deepEqual(new Reader(hex('00000002 0001 0002')).readArray((r) => r.readInt16()), [1, 2]);
    assert.deepEqual(new Reader(hex('03 0001 0002')).readCompactArray((r) => r.readInt16()), [1, 2]);
    assert.equal(new Reader(hex('ffffffff')).readNullableArray((r) => r.readInt16()), null);
    assert.equal(new Reader(hex('00')).readCompactNullableArray((r) => r.readInt16()), null);
    const w = new Writer();
    w.writeCompactArray([1, 2, 3], (w2, v) => w2.writeInt8(v));
    w.writeNullableArray(null, (w2, v: number) => w2.writeInt8(v));
    assert.equal(w.toBuffer().toString('hex'), '04010203ffffffff');
  });

  test('tagged fields are bounded to their size and unknown ones skipped', () => {
    // 2 fields: tag 0 size 2 [0x0001], tag 5 size 3 [aa bb cc]; then an int8 7.
    const r = new Reader(hex('02 00 02 0001 05 03 aabbcc 07'));
    const seen: Array<[number, number]> = [];
    r.readTaggedFields((tag, f) => {
      if (tag === 0) seen.push([tag, f.readInt16()]);
      else {
        seen.push([tag, f.remaining]);
        throwsProtocol(() => f.readInt32()); // cannot read past the field
      }
    });
    assert.deepEqual(seen, [[0, 1], [5, 3]]);
    assert.equal(r.readInt8(), 7);
    const r2 = new Reader(hex('01 00 05 0001'));
    throwsProtocol(() => r2.skipTaggedFields(), /truncated/);
    throwsProtocol(() => new Reader(hex('ffffffff0f')).skipTaggedFields(), /count/);
  });

  test('skip, readSlice, sub', () => {
    const r = new Reader(hex('0102030405'));
    r.skip(1);
    assert.deepEqual([...r.readSlice(2)], [2, 3]);
    const s = r.sub(2);
    assert.equal(r.remaining, 0);
    assert.equal(s.readInt16(), 0x0405);
    throwsProtocol(() => s.skip(1));
    throwsProtocol(() => r.skip(-1));
    throwsProtocol(() => r.readSlice(1));
  });

  test('fixed-width values round trip through the Writer', () => {
    const w = new Writer(8);
    w.writeInt8(-128); w.writeBool(true); w.writeInt16(-2); w.writeUInt16(65535); w.writeInt32(-5);
    w.writeUInt32(4294967295); w.writeInt64(-(2n ** 63n)); w.writeFloat64(1.5); w.writeUuid(ZERO_UUID);
    const r = new Reader(w.toBuffer());
    assert.equal(r.readInt8(), -128); assert.equal(r.readBool(), true); assert.equal(r.readInt16(), -2);
    assert.equal(r.readUInt16(), 65535); assert.equal(r.readInt32(), -5); assert.equal(r.readUInt32(), 4294967295);
    assert.equal(r.readInt64(), -(2n ** 63n)); assert.equal(r.readFloat64(), 1.5); assert.equal(r.readUuid(), ZERO_UUID);
    assert.equal(r.remaining, 0);
    assert.equal(new Reader(hex('02')).readBool(), true, 'any non-zero byte is true, like Kafka');
  });
});

describe('Writer', () => {
  test('large raw buffers are referenced, small ones copied', () => {
    const big = Buffer.alloc(RAW_COPY_THRESHOLD + 1, 7);
    const small = Buffer.alloc(10, 1);
    const w = new Writer(64);
    w.writeInt32(1);
    w.writeRawBuffer(big);
    w.writeRawBuffer(small);
    w.writeInt32(2);
    const chunks = w.toBuffers();
    assert.ok(chunks.some((c) => c === big), 'large buffer is passed through by reference');
    assert.ok(!chunks.includes(small), 'small buffer is copied');
    assert.equal(w.length, 4 + big.length + 10 + 4);
    const all = w.toBuffer();
    assert.equal(all.length, w.length);
    assert.equal(all.readInt32BE(0), 1);
    assert.equal(all.readInt32BE(all.length - 4), 2);
    assert.ok(all.subarray(4, 4 + big.length).equals(big));
  });

  test('bytes and compact bytes use the zero-copy path', () => {
    const big = Buffer.alloc(5000, 3);
    const w = new Writer();
    w.writeCompactNullableBytes(big);
    w.writeNullableBytes(null);
    assert.ok(w.toBuffers().includes(big));
    const r = new Reader(w.toBuffer());
    assert.ok(r.readCompactNullableBytes()!.equals(big));
    assert.equal(r.readNullableBytes(), null);
  });

  test('reserveInt32/patchInt32 survive scratch growth', () => {
    const w = new Writer(16);
    const pos = w.reserveInt32();
    for (let i = 0; i < 100; i++) w.writeInt64(BigInt(i));
    w.writeRawBuffer(Buffer.alloc(2000));
    const inner = w.reserveInt32();
    w.writeInt8(1);
    w.patchInt32(pos, w.length - 4);
    w.patchInt32(inner, 0x01020304);
    const b = w.toBuffer();
    assert.equal(b.readInt32BE(0), b.length - 4);
    assert.equal(b.readInt32BE(inner), 0x01020304);
    assert.throws(() => w.patchInt32(3, 1), RangeError);
  });

  test('growth keeps all bytes in order (property)', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 20 }), (parts) => {
      const w = new Writer(16);
      for (const p of parts) w.writeBytes(p);
      const r = new Reader(w.toBuffer());
      for (const p of parts) assert.deepEqual([...r.readBytes()], [...p]);
      assert.equal(r.remaining, 0);
    }), { numRuns: 50 });
  });

  test('strings: UTF-8, length limit, null handling', () => {
    const w = new Writer();
    w.writeString('héllo');
    w.writeCompactString('€');
    w.writeNullableString(null);
    w.writeCompactNullableString(null);
    assert.equal(w.toBuffer().toString('hex'), '000668c3a96c6c6f' + '04e282ac' + 'ffff' + '00');
    const r = new Reader(w.toBuffer());
    assert.equal(r.readString(), 'héllo');
    assert.equal(r.readCompactString(), '€');
    assert.throws(() => new Writer().writeString('x'.repeat(0x8000)), RangeError);
    assert.throws(() => new Writer().writeCompactString('x'.repeat(0x8000)), RangeError);
    assert.throws(() => new Writer().writeString(null as unknown as string), TypeError);
    new Writer().writeString('x'.repeat(0x7fff));
  });

  test('writeWriter appends another writer', () => {
    const a = new Writer();
    a.writeInt16(1);
    const b = new Writer();
    b.writeInt16(2);
    b.writeRawBuffer(Buffer.alloc(2000, 5));
    a.writeWriter(b);
    assert.equal(a.length, 4 + 2000);
    const r = new Reader(a.toBuffer());
    assert.equal(r.readInt16(), 1);
    assert.equal(r.readInt16(), 2);
  });

  test('writing continues after toBuffers()', () => {
    const w = new Writer(16);
    w.writeInt32(1);
    const first = w.toBuffers();
    w.writeInt32(2);
    assert.equal(Buffer.concat(first).toString('hex'), '00000001');
    assert.equal(w.toBuffer().toString('hex'), '0000000100000002');
  });
});

describe('UUIDs', () => {
  test('zero and known vectors match Java Uuid.toString()', () => {
    assert.equal(ZERO_UUID, 'AAAAAAAAAAAAAAAAAAAAAA');
    assert.deepEqual([...uuidToBytes(ZERO_UUID)], new Array(16).fill(0));
    // new Uuid(0x0001020304050607L, 0x08090a0b0c0d0e0fL).toString()
    const bytes = Buffer.from([...Array(16).keys()]);
    assert.equal(uuidFromBytes(bytes), 'AAECAwQFBgcICQoLDA0ODw');
    assert.deepEqual(uuidToBytes('AAECAwQFBgcICQoLDA0ODw'), bytes);
    assert.equal(uuidFromHex('00010203-0405-0607-0809-0a0b0c0d0e0f'), 'AAECAwQFBgcICQoLDA0ODw');
    assert.equal(uuidToHex('AAECAwQFBgcICQoLDA0ODw'), '00010203-0405-0607-0809-0a0b0c0d0e0f');
  });

  test('invalid strings are rejected', () => {
    for (const s of ['', 'AAAA', 'AAAAAAAAAAAAAAAAAAAAAB', 'AAAAAAAAAAAAAAAAAAAAAA==', 'AAAAAAAAAAAAAAAAAAAA+A', '!AAAAAAAAAAAAAAAAAAAAA']) {
      assert.equal(isUuid(s), false, s);
      throwsProtocol(() => uuidToBytes(s));
    }
    assert.throws(() => new Writer().writeUuid('nope'), TypeError);
  });

  test('randomUuid: 22 chars, version 4, never starting with "-"', () => {
    for (let i = 0; i < 5000; i++) {
      const u = randomUuid();
      assert.equal(u.length, 22);
      assert.notEqual(u[0], '-');
      assert.ok(isUuid(u));
      const b = uuidToBytes(u);
      assert.equal(b[6]! >> 4, 4, 'version nibble');
      assert.equal(b[8]! >> 6, 2, 'variant bits');
    }
  });

  test('round trip through the wire', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (raw) => {
      const s = uuidFromBytes(raw);
      const w = new Writer();
      w.writeUuid(s);
      assert.deepEqual([...w.toBuffer()], [...raw]);
      assert.equal(new Reader(w.toBuffer()).readUuid(), s);
    }));
  });
});
