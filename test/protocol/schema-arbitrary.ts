/**
 * fast-check arbitraries derived at test time from the parsed Kafka message
 * definitions: a random valid message for a given message and version. Fields
 * absent in that version hold their default (as decode would produce).
 */
import fc from 'fast-check';
import { contains, fieldDefault, type FieldSpec, type MessageSpec, type Primitive } from '../../scripts/codegen/schema.ts';
import { EMPTY_BUFFER } from '../../src/protocol/primitives/codec.ts';
import { ZERO_UUID } from '../../src/protocol/primitives/uuid.ts';

type Obj = Record<string, unknown>;

export interface ArbitraryOptions {
  /** Max elements per array (keeps nested messages small). */
  maxArray?: number;
  /** Max string length in code points. */
  maxString?: number;
}

/** The default value of a struct, as the generated default functions build it. */
export function defaultStruct(spec: MessageSpec, fields: FieldSpec[]): Obj {
  const o: Obj = {};
  for (const f of fields) o[f.camel] = defaultField(spec, f);
  return o;
}

export function defaultField(spec: MessageSpec, f: FieldSpec): unknown {
  const d = fieldDefault(f);
  switch (d.kind) {
    case 'emptyArray':
      return [];
    case 'emptyBytes':
      return EMPTY_BUFFER;
    case 'uuidZero':
      return ZERO_UUID;
    case 'struct':
      return defaultStruct(spec, spec.structs.get(d.name)!.fields);
    case 'value':
      return d.value;
  }
}

const INT_RANGES: Partial<Record<Primitive, [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

function primitiveArb(p: Primitive, o: Required<ArbitraryOptions>): fc.Arbitrary<unknown> {
  const range = INT_RANGES[p];
  if (range) {
    // Bias toward boundary values as well as small numbers.
    return fc.oneof(fc.integer({ min: range[0], max: range[1] }), fc.constantFrom(range[0], range[1], 0, -1 >= range[0] ? -1 : 1));
  }
  switch (p) {
    case 'bool':
      return fc.boolean();
    case 'int64':
      return fc.oneof(
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        fc.constantFrom(-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n),
      );
    case 'float64':
      return fc.double();
    case 'string':
      return fc.string({ unit: 'binary', maxLength: o.maxString });
    case 'uuid':
      return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64url'));
    case 'bytes':
      return fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b));
    case 'records':
      // Mostly small, sometimes above the Writer's zero-copy threshold.
      return fc.oneof(
        { weight: 5, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
        { weight: 1, arbitrary: fc.integer({ min: 1025, max: 4096 }).map((n) => Buffer.alloc(n, n & 0xff)) },
      );
    default:
      throw new Error(`no arbitrary for ${p}`);
  }
}

export function structArb(spec: MessageSpec, fields: FieldSpec[], version: number, o: Required<ArbitraryOptions>): fc.Arbitrary<Obj> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of fields) model[f.camel] = fieldArb(spec, f, version, o);
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<Obj>;
}

function fieldArb(spec: MessageSpec, f: FieldSpec, version: number, o: Required<ArbitraryOptions>): fc.Arbitrary<unknown> {
  if (!contains(f.versions, version)) return fc.constant(null).map(() => defaultField(spec, f));
  const nullable = contains(f.nullableVersions, version);
  let base: fc.Arbitrary<unknown>;
  const t = f.type;
  if (t.kind === 'array') {
    const e = t.element;
    const elem = e.kind === 'struct'
      ? structArb(spec, spec.structs.get(e.name)!.fields, version, o)
      : e.name === 'string'
        ? fc.string({ unit: 'binary', maxLength: o.maxString })
        : primitiveArb(e.name, o);
    base = fc.array(elem, { maxLength: o.maxArray });
  } else if (t.kind === 'struct') {
    base = structArb(spec, spec.structs.get(t.name)!.fields, version, o);
  } else {
    base = primitiveArb(t.name, o);
  }
  if (nullable) return fc.option(base, { nil: null, freq: 4 });
  return base;
}

export function messageArb(spec: MessageSpec, version: number, opts: ArbitraryOptions = {}): fc.Arbitrary<Obj> {
  const o: Required<ArbitraryOptions> = { maxArray: opts.maxArray ?? 3, maxString: opts.maxString ?? 12 };
  return structArb(spec, spec.fields, version, o);
}
