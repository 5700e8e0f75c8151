/**
 * Model of the Apache Kafka message definition files (JSON with `//` comments),
 * shared by the code generator and the property tests.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

// ---- version ranges ---------------------------------------------------------

/** Inclusive version range; `hi` is Infinity for "N+"; empty when lo > hi. */
export interface Versions {
  readonly lo: number;
  readonly hi: number;
}

export const NO_VERSIONS: Versions = { lo: 1, hi: 0 };
export const ALL_VERSIONS: Versions = { lo: 0, hi: Infinity };

export function parseVersions(s: string | undefined, ifMissing: Versions): Versions {
  if (s === undefined) return ifMissing;
  const t = s.trim();
  if (t === 'none') return NO_VERSIONS;
  let m = /^(\d+)\+$/.exec(t);
  if (m) return { lo: Number(m[1]), hi: Infinity };
  m = /^(\d+)-(\d+)$/.exec(t);
  if (m) return { lo: Number(m[1]), hi: Number(m[2]) };
  m = /^(\d+)$/.exec(t);
  if (m) return { lo: Number(m[1]), hi: Number(m[1]) };
  throw new Error(`invalid version range ${JSON.stringify(s)}`);
}

export function isEmpty(v: Versions): boolean {
  return v.lo > v.hi;
}

export function contains(v: Versions, version: number): boolean {
  return version >= v.lo && version <= v.hi;
}

export function intersect(a: Versions, b: Versions): Versions {
  const r = { lo: Math.max(a.lo, b.lo), hi: Math.min(a.hi, b.hi) };
  return isEmpty(r) ? NO_VERSIONS : r;
}

/** Smallest range covering both. */
export function hull(a: Versions, b: Versions): Versions {
  if (isEmpty(a)) return b;
  if (isEmpty(b)) return a;
  return { lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi) };
}

/** a minus b; throws if the result is not one contiguous range. */
export function subtract(a: Versions, b: Versions): Versions {
  if (isEmpty(a) || isEmpty(b)) return a;
  const i = intersect(a, b);
  if (isEmpty(i)) return a;
  if (i.lo === a.lo && i.hi === a.hi) return NO_VERSIONS;
  if (i.lo === a.lo) return { lo: i.hi + 1, hi: a.hi };
  if (i.hi === a.hi) return { lo: a.lo, hi: i.lo - 1 };
  throw new Error(`version range subtraction is not contiguous: ${fmt(a)} - ${fmt(b)}`);
}

export function covers(outer: Versions, inner: Versions): boolean {
  return isEmpty(inner) || (outer.lo <= inner.lo && outer.hi >= inner.hi);
}

export function fmt(v: Versions): string {
  if (isEmpty(v)) return 'none';
  if (v.hi === Infinity) return `${v.lo}+`;
  return v.lo === v.hi ? `${v.lo}` : `${v.lo}-${v.hi}`;
}

// ---- types ------------------------------------------------------------------

export const PRIMITIVES = [
  'bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64',
  'string', 'bytes', 'records', 'uuid',
] as const;
export type Primitive = (typeof PRIMITIVES)[number];

export function isPrimitive(s: string): s is Primitive {
  return (PRIMITIVES as readonly string[]).includes(s);
}

export type ElementType = { kind: 'primitive'; name: Primitive } | { kind: 'struct'; name: string };
export type FieldType = ElementType | { kind: 'array'; element: ElementType };

export interface FieldSpec {
  /** Name as written in the JSON, e.g. "TopicData". */
  readonly name: string;
  /** TypeScript property name, e.g. "topicData". */
  readonly camel: string;
  readonly typeString: string;
  readonly type: FieldType;
  readonly versions: Versions;
  readonly nullableVersions: Versions;
  readonly taggedVersions: Versions;
  readonly tag: number | null;
  /** Field-level override of the message's flexible versions (only RequestHeader.ClientId). */
  readonly flexibleVersions: Versions | null;
  /** Raw "default" from the JSON, if any. */
  readonly default: string | number | boolean | undefined;
  readonly ignorable: boolean;
  readonly mapKey: boolean;
  readonly zeroCopy: boolean;
  readonly about: string;
  readonly entityType: string | undefined;
  /** For struct and struct-array fields: the struct's name. */
  readonly structName: string | null;
}

export interface StructSpec {
  readonly name: string;
  readonly fields: FieldSpec[];
  readonly common: boolean;
  /** Declared versions (common structs only; others: ALL). */
  readonly versions: Versions;
}

export type MessageType = 'request' | 'response' | 'header' | 'data';

export interface MessageSpec {
  /** Base file name without extension, e.g. "ProduceRequest". */
  readonly file: string;
  readonly name: string;
  readonly type: MessageType;
  readonly apiKey: number | null;
  readonly listeners: string[];
  readonly validVersions: Versions;
  readonly flexibleVersions: Versions;
  readonly deprecatedVersions: Versions;
  readonly latestVersionUnstable: boolean;
  readonly fields: FieldSpec[];
  /** All named structs (inline and common), in declaration order. */
  readonly structs: Map<string, StructSpec>;
}

// ---- parsing ----------------------------------------------------------------

/** Removes `//` comments outside of string literals. */
export function stripJsonComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else {
      out += c;
    }
  }
  return out;
}

/** Kafka's camelCase rule: lower-case the first character only. */
export function camelName(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** "ProduceRequest" -> "produce-request", "KRaftVersionRecord" -> "kraft-version-record". */
export function kebabName(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

type Json = Record<string, unknown>;

function parseType(typeString: string): FieldType {
  const el = (s: string): ElementType => (isPrimitive(s) ? { kind: 'primitive', name: s } : { kind: 'struct', name: s });
  if (typeString.startsWith('[]')) return { kind: 'array', element: el(typeString.slice(2)) };
  return el(typeString);
}

function parseField(j: Json, where: string, structs: Map<string, StructSpec>, pending: Array<[string, Json[]]>): FieldSpec {
  const name = j['name'] as string;
  const typeString = j['type'] as string;
  if (typeof name !== 'string' || typeof typeString !== 'string') throw new Error(`${where}: field without name/type`);
  const type = parseType(typeString);
  const versions = parseVersions(j['versions'] as string | undefined, NO_VERSIONS);
  if (j['versions'] === undefined) throw new Error(`${where}.${name}: missing versions`);
  const nullableVersions = parseVersions(j['nullableVersions'] as string | undefined, NO_VERSIONS);
  const taggedVersions = parseVersions(j['taggedVersions'] as string | undefined, NO_VERSIONS);
  // Upstream writes tags as numbers, except once as a string ("tag": "0").
  const rawTag = j['tag'];
  let tag: number | null = null;
  if (typeof rawTag === 'number') tag = rawTag;
  else if (typeof rawTag === 'string' && /^\d+$/.test(rawTag)) tag = Number(rawTag);
  else if (rawTag !== undefined) throw new Error(`${where}.${name}: invalid tag ${JSON.stringify(rawTag)}`);
  if (!isEmpty(taggedVersions) && tag === null) throw new Error(`${where}.${name}: taggedVersions without tag`);
  if (tag !== null && isEmpty(taggedVersions)) throw new Error(`${where}.${name}: tag without taggedVersions`);
  let structName: string | null = null;
  const elem = type.kind === 'array' ? type.element : type;
  if (elem.kind === 'struct') {
    structName = elem.name;
    const sub = j['fields'] as Json[] | undefined;
    if (sub !== undefined) {
      if (structs.has(structName)) throw new Error(`${where}.${name}: struct ${structName} defined twice`);
      // Reserve the name now (declaration order = depth-first order), fill in later.
      structs.set(structName, { name: structName, fields: [], common: false, versions: ALL_VERSIONS });
      pending.push([structName, sub]);
    }
  } else if (j['fields'] !== undefined) {
    throw new Error(`${where}.${name}: primitive field with nested fields`);
  }
  if (!isEmpty(nullableVersions)) {
    const nullableKind = type.kind === 'array' || type.kind === 'struct' ||
      ['string', 'bytes', 'records', 'uuid'].includes(type.name);
    if (!nullableKind) throw new Error(`${where}.${name}: type ${typeString} cannot be nullable`);
  }
  return {
    name,
    camel: camelName(name),
    typeString,
    type,
    versions,
    nullableVersions,
    taggedVersions,
    tag,
    flexibleVersions: j['flexibleVersions'] === undefined ? null : parseVersions(j['flexibleVersions'] as string, NO_VERSIONS),
    default: j['default'] as string | number | boolean | undefined,
    ignorable: j['ignorable'] === true,
    mapKey: j['mapKey'] === true,
    zeroCopy: j['zeroCopy'] === true,
    about: typeof j['about'] === 'string' ? (j['about'] as string) : '',
    entityType: j['entityType'] as string | undefined,
    structName,
  };
}

function parseFields(list: Json[], where: string, structs: Map<string, StructSpec>): FieldSpec[] {
  // Breadth of one level, then recurse into nested definitions in order, so that
  // the struct map lists structs in depth-first declaration order.
  const out: FieldSpec[] = [];
  for (const j of list) {
    const pending: Array<[string, Json[]]> = [];
    const f = parseField(j, where, structs, pending);
    out.push(f);
    for (const [sname, sub] of pending) {
      const fields = parseFields(sub, `${where}.${sname}`, structs);
      structs.set(sname, { name: sname, fields, common: false, versions: ALL_VERSIONS });
    }
  }
  const seen = new Set<string>();
  const tags = new Set<number>();
  for (const f of out) {
    if (seen.has(f.camel)) throw new Error(`${where}: duplicate field ${f.name}`);
    seen.add(f.camel);
    if (f.tag !== null) {
      if (tags.has(f.tag)) throw new Error(`${where}: duplicate tag ${f.tag}`);
      tags.add(f.tag);
    }
  }
  return out;
}

export function parseMessage(text: string, file: string): MessageSpec {
  const j = JSON.parse(stripJsonComments(text)) as Json;
  const name = j['name'] as string;
  const type = j['type'] as MessageType;
  if (!['request', 'response', 'header', 'data'].includes(type)) throw new Error(`${file}: unknown type ${String(type)}`);
  const structs = new Map<string, StructSpec>();
  // Common structs are referenced by name from fields, so register names first.
  const common = (j['commonStructs'] as Json[] | undefined) ?? [];
  for (const c of common) {
    const cname = c['name'] as string;
    structs.set(cname, { name: cname, fields: [], common: true, versions: ALL_VERSIONS });
  }
  const fields = parseFields(j['fields'] as Json[], name, structs);
  for (const c of common) {
    const cname = c['name'] as string;
    const cfields = parseFields(c['fields'] as Json[], `${name}.${cname}`, structs);
    structs.delete(cname); // re-insert after the message's own structs
    structs.set(cname, { name: cname, fields: cfields, common: true, versions: parseVersions(c['versions'] as string, ALL_VERSIONS) });
  }
  const spec: MessageSpec = {
    file,
    name,
    type,
    apiKey: typeof j['apiKey'] === 'number' ? (j['apiKey'] as number) : null,
    listeners: (j['listeners'] as string[] | undefined) ?? [],
    validVersions: parseVersions(j['validVersions'] as string, NO_VERSIONS),
    flexibleVersions: parseVersions(j['flexibleVersions'] as string | undefined, NO_VERSIONS),
    deprecatedVersions: parseVersions(j['deprecatedVersions'] as string | undefined, NO_VERSIONS),
    latestVersionUnstable: j['latestVersionUnstable'] === true,
    fields,
    structs,
  };
  validate(spec);
  return spec;
}

function validate(spec: MessageSpec): void {
  if (isEmpty(spec.validVersions) || spec.validVersions.hi === Infinity) {
    throw new Error(`${spec.file}: validVersions must be a closed range`);
  }
  const check = (fields: FieldSpec[], where: string) => {
    for (const f of fields) {
      if (f.structName !== null && !spec.structs.has(f.structName)) {
        throw new Error(`${where}.${f.name}: unknown struct ${f.structName}`);
      }
      if (!isEmpty(f.taggedVersions)) {
        if (!covers(fieldFlexibleVersions(spec, f), intersect(f.taggedVersions, f.versions))) {
          throw new Error(`${where}.${f.name}: tagged versions are not all flexible`);
        }
        if (f.type.kind === 'primitive' && f.type.name === 'records') throw new Error(`${where}.${f.name}: tagged records`);
      }
      if (isNullDefault(f) && !covers(f.nullableVersions, f.versions)) {
        throw new Error(`${where}.${f.name}: null default but not nullable in all versions`);
      }
    }
  };
  check(spec.fields, spec.name);
  for (const s of spec.structs.values()) check(s.fields, `${spec.name}.${s.name}`);
}

/** Reads and parses every *.json message definition in `dir`, sorted by file name. */
export function loadMessages(dir: string): MessageSpec[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  return files.map((f) => parseMessage(readFileSync(join(dir, f), 'utf8'), f.replace(/\.json$/, '')));
}

// ---- per-field semantics ----------------------------------------------------

export function fieldFlexibleVersions(spec: MessageSpec, f: FieldSpec): Versions {
  return f.flexibleVersions ?? spec.flexibleVersions;
}

export function isNullDefault(f: FieldSpec): boolean {
  return f.default === 'null';
}

/** Versions in which the field is part of the fixed (untagged) layout. */
export function bodyVersions(f: FieldSpec): Versions {
  return subtract(f.versions, f.taggedVersions);
}

/** Versions in which the field is carried as a tagged field. */
export function taggedFieldVersions(f: FieldSpec): Versions {
  return intersect(f.versions, f.taggedVersions);
}

/** Whether the TypeScript type of the field admits null. */
export function tsNullable(f: FieldSpec): boolean {
  if (f.type.kind === 'primitive' && f.type.name === 'records') return true;
  return !isEmpty(f.nullableVersions) || isNullDefault(f);
}

/** Parses an integer default ("0x7fffffff", "-1", 5) and checks its range. */
export function parseIntDefault(v: string | number, type: Primitive, where: string): bigint {
  const s = String(v).trim();
  let n: bigint;
  if (/^-?0x[0-9a-f]+$/i.test(s)) n = s.startsWith('-') ? -BigInt(s.slice(1)) : BigInt(s);
  else if (/^-?\d+$/.test(s)) n = BigInt(s);
  else throw new Error(`${where}: invalid ${type} default ${JSON.stringify(v)}`);
  const ranges: Record<string, [bigint, bigint]> = {
    int8: [-(2n ** 7n), 2n ** 7n - 1n],
    int16: [-(2n ** 15n), 2n ** 15n - 1n],
    uint16: [0n, 2n ** 16n - 1n],
    int32: [-(2n ** 31n), 2n ** 31n - 1n],
    uint32: [0n, 2n ** 32n - 1n],
    int64: [-(2n ** 63n), 2n ** 63n - 1n],
  };
  const [lo, hi] = ranges[type]!;
  if (n < lo || n > hi) throw new Error(`${where}: default ${s} out of range for ${type}`);
  return n;
}

/**
 * The default value of a field as a plain JS value (used by tests). Structs are
 * returned as `{ struct: name }` markers or null.
 */
export type DefaultValue =
  | { kind: 'value'; value: number | bigint | boolean | string | null }
  | { kind: 'emptyBytes' }
  | { kind: 'emptyArray' }
  | { kind: 'struct'; name: string }
  | { kind: 'uuidZero' };

export function fieldDefault(f: FieldSpec, where = f.name): DefaultValue {
  const d = f.default;
  if (isNullDefault(f) && f.type.kind !== 'primitive') return { kind: 'value', value: null };
  if (f.type.kind === 'array') {
    if (d !== undefined) throw new Error(`${where}: arrays only support a null default`);
    return { kind: 'emptyArray' };
  }
  if (f.type.kind === 'struct') {
    if (d !== undefined) throw new Error(`${where}: structs only support a null default`);
    return { kind: 'struct', name: f.type.name };
  }
  const t = f.type.name;
  switch (t) {
    case 'bool':
      if (d === undefined) return { kind: 'value', value: false };
      if (d === true || d === 'true') return { kind: 'value', value: true };
      if (d === false || d === 'false') return { kind: 'value', value: false };
      throw new Error(`${where}: invalid bool default ${JSON.stringify(d)}`);
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
      return { kind: 'value', value: d === undefined ? 0 : Number(parseIntDefault(d as string | number, t, where)) };
    case 'int64':
      return { kind: 'value', value: d === undefined ? 0n : parseIntDefault(d as string | number, t, where) };
    case 'float64': {
      if (d === undefined) return { kind: 'value', value: 0 };
      const n = Number(d);
      if (Number.isNaN(n) && String(d) !== 'NaN') throw new Error(`${where}: invalid float64 default`);
      return { kind: 'value', value: n };
    }
    case 'string':
      if (d === 'null') return { kind: 'value', value: null };
      if (d === undefined) return { kind: 'value', value: '' };
      if (typeof d !== 'string') throw new Error(`${where}: invalid string default`);
      return { kind: 'value', value: d };
    case 'uuid':
      if (d !== undefined) throw new Error(`${where}: uuid defaults are not supported`);
      return { kind: 'uuidZero' };
    case 'bytes':
      if (d === 'null') return { kind: 'value', value: null };
      if (d !== undefined) throw new Error(`${where}: bytes defaults are not supported`);
      return { kind: 'emptyBytes' };
    case 'records':
      if (d !== undefined && d !== 'null') throw new Error(`${where}: records defaults are not supported`);
      return { kind: 'value', value: null };
  }
}

/** API name of a request/response: "ProduceRequest" -> "Produce". */
export function apiName(spec: MessageSpec): string {
  return spec.name.replace(/(Request|Response)$/, '');
}
