/**
 * Decoder fuzzing: random bytes and corrupted valid encodings fed to every
 * decoder (requests get the most runs) must either decode or throw
 * ProtocolError — never another error type, never hang, never allocate more
 * than the input can justify.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { contains, fieldFlexibleVersions, type FieldSpec, type MessageSpec } from '../../scripts/codegen/schema.ts';
import { ProtocolError } from '../../src/protocol/primitives/errors.ts';
import { Reader } from '../../src/protocol/primitives/reader.ts';
import { messageArb } from './schema-arbitrary.ts';
import { encode, loadAll, versionsOf, type Loaded } from './helpers.ts';

const all = await loadAll();
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 200);
const SEED = process.env['FC_SEED'] === undefined ? undefined : Number(process.env['FC_SEED']);

/** Decodes; returns false on ProtocolError, rethrows anything else. */
function tryDecode(l: Loaded, buf: Buffer, version: number, start = 0, end = buf.length): boolean {
  try {
    l.codec.decode(new Reader(buf, start, end), version);
    return true;
  } catch (e) {
    if (e instanceof ProtocolError) return false;
    throw new Error(`${l.spec.name} v${version} threw a non-ProtocolError for ${buf.subarray(start, end).toString('hex')}: ${(e as Error).stack}`);
  }
}

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'max32'; at: number }
  | { kind: 'maxVarint'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff) }),
  fc.record({ kind: fc.constant('max32' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('maxVarint' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }) }),
);

function mutate(buf: Buffer, m: Mutation): Buffer {
  if (buf.length === 0) return m.kind === 'insert' ? Buffer.from(m.bytes) : buf;
  const at = m.at % buf.length;
  const b = Buffer.from(buf);
  switch (m.kind) {
    case 'truncate':
      return b.subarray(0, at);
    case 'flip':
      b[at]! ^= 1 << m.bit;
      return b;
    case 'set':
      b[at] = m.value;
      return b;
    case 'max32':
      if (at + 4 <= b.length) b.writeInt32BE(0x7fffffff, at);
      return b;
    case 'maxVarint':
      return Buffer.concat([b.subarray(0, at), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), b.subarray(at + 1)]);
    case 'insert':
      return Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
  }
}

/**
 * Minimum encoded size of a struct in a version. Decoders bound array counts by
 * the remaining bytes, which only bounds allocation if no element can be empty.
 */
function minSize(spec: MessageSpec, fields: FieldSpec[], version: number): number {
  const flex = contains(spec.flexibleVersions, version);
  let n = flex ? 1 : 0; // tagged-field count
  for (const f of fields) {
    if (!contains(f.versions, version) || contains(f.taggedVersions, version)) continue;
    const compact = contains(fieldFlexibleVersions(spec, f), version);
    const t = f.type;
    if (t.kind === 'array') n += compact ? 1 : 4;
    else if (t.kind === 'struct') n += contains(f.nullableVersions, version) ? 1 : minSize(spec, spec.structs.get(t.name)!.fields, version);
    else {
      const fixed: Record<string, number> = { bool: 1, int8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, float64: 8, uuid: 16 };
      n += fixed[t.name] ?? (t.name === 'string' ? (compact ? 1 : 2) : compact ? 1 : 4);
    }
  }
  return n;
}

test('every array element takes at least one byte (so counts bound allocations)', () => {
  for (const { spec } of all) {
    for (const v of versionsOf(spec)) {
      const visit = (fields: FieldSpec[]) => {
        for (const f of fields) {
          if (!contains(f.versions, v) || f.structName === null) continue;
          const s = spec.structs.get(f.structName)!;
          if (f.type.kind === 'array') assert.ok(minSize(spec, s.fields, v) >= 1, `${spec.name}.${f.name} v${v}`);
          visit(s.fields);
        }
      };
      visit(spec.fields);
    }
  }
});

test('huge length prefixes are rejected without allocating', () => {
  const { codec } = all.find((l) => l.spec.name === 'ProduceRequest')!;
  // v3: transactionalId, acks, timeout, topic count = 0x7fffffff with no bytes behind it.
  const v3 = Buffer.from('ffff' + '0001' + '00001388' + '7fffffff', 'hex');
  assert.throws(() => codec.decode(new Reader(v3), 3), ProtocolError);
  // v9 (flexible): compact topic count = 2^32 - 2.
  const v9 = Buffer.from('00' + '0001' + '00001388' + 'ffffffff0f', 'hex');
  assert.throws(() => codec.decode(new Reader(v9), 9), ProtocolError);
  // A records length larger than the frame, although the underlying buffer continues.
  const frame = Buffer.from('ffff' + '0001' + '00001388' + '00000001' + '000174' + '00000001' + '00000000' + '00000004' + 'aabbccdd', 'hex');
  const big = Buffer.alloc(256, 0xee);
  frame.copy(big);
  const ok = codec.decode(new Reader(big, 0, frame.length), 3);
  assert.deepEqual([...ok.topicData[0].partitionData[0].records], [0xaa, 0xbb, 0xcc, 0xdd]);
  big.writeInt32BE(100, frame.length - 8);
  assert.throws(() => codec.decode(new Reader(big, 0, frame.length), 3), ProtocolError);
});

test('decode never reads past the end given to the Reader', () => {
  for (const l of all.filter((x) => x.spec.type === 'request')) {
    for (const v of versionsOf(l.spec)) {
      fc.assert(fc.property(messageArb(l.spec, v), fc.nat(), (msg, cut) => {
        const bytes = encode(l.codec, msg, v);
        if (bytes.length === 0) return;
        const end = cut % bytes.length; // strictly shorter than the message
        const ok = tryDecode(l, Buffer.concat([bytes, Buffer.alloc(8, 0xff)]), v, 0, end);
        assert.equal(ok, false, `${l.spec.name} v${v} decoded a truncated frame`);
      }), { numRuns: 5, seed: SEED });
    }
  }
});

for (const kind of ['request', 'response', 'header', 'data'] as const) {
  test(`fuzz ${kind} decoders: random bytes and corrupted encodings`, () => {
    const runs = kind === 'request' || kind === 'header' ? RUNS : Math.max(5, Math.floor(RUNS / 3));
    for (const l of all.filter((x) => x.spec.type === kind)) {
      for (const v of versionsOf(l.spec)) {
        fc.assert(fc.property(fc.uint8Array({ maxLength: 96 }), (raw) => {
          tryDecode(l, Buffer.from(raw), v);
        }), { numRuns: runs, seed: SEED });
        fc.assert(fc.property(messageArb(l.spec, v, { maxArray: 2 }), fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (msg, ms) => {
          let b = encode(l.codec, msg, v);
          for (const m of ms) b = mutate(b, m);
          tryDecode(l, b, v);
        }), { numRuns: runs, seed: SEED });
      }
    }
  });
}
