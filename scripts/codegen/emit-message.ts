/**
 * Emits `<kebab-name>.generated.ts` for one message definition: interfaces for
 * the message and its structs, straight-line encode/decode functions per struct,
 * default constructors and the exported codec object.
 */
import { Code, RESERVED, commentText, str } from './code.ts';
import {
  apiName, bodyVersions, covers, fieldDefault, fieldFlexibleVersions, fmt, hull, intersect, isEmpty,
  isNullDefault, NO_VERSIONS, taggedFieldVersions, tsNullable,
  type ElementType, type FieldSpec, type MessageSpec, type Primitive, type Versions,
} from './schema.ts';

/** A condition on `_version`: always true, always false, or a JS expression. */
type Cond = true | false | string;

interface StructUnit {
  readonly name: string;
  readonly fields: FieldSpec[];
  readonly top: boolean;
  /** Versions in which this struct can occur (the contexts it is called in). */
  readonly possible: Versions;
}

const FIXED_SIZE: Partial<Record<Primitive, number>> = {
  bool: 1, int8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, float64: 8, uuid: 16,
};

const PRIM_TS: Record<Primitive, string> = {
  bool: 'boolean', int8: 'number', int16: 'number', uint16: 'number', int32: 'number', uint32: 'number',
  int64: 'bigint', float64: 'number', string: 'string', bytes: 'Buffer', records: 'Buffer', uuid: 'string',
};

const PRIM_RW: Partial<Record<Primitive, string>> = {
  bool: 'Bool', int8: 'Int8', int16: 'Int16', uint16: 'UInt16', int32: 'Int32', uint32: 'UInt32',
  int64: 'Int64', float64: 'Float64', uuid: 'Uuid',
};

function condFor(range: Versions, possible: Versions): Cond {
  const i = intersect(range, possible);
  if (isEmpty(i)) return false;
  if (covers(range, possible)) return true;
  const parts: string[] = [];
  if (i.lo > possible.lo) parts.push(`_version >= ${i.lo}`);
  if (i.hi < possible.hi) parts.push(`_version <= ${i.hi}`);
  return parts.join(' && ');
}

function and(a: Cond, b: Cond): Cond {
  if (a === false || b === false) return false;
  if (a === true) return b;
  if (b === true) return a;
  return `${a} && ${b}`;
}

function not(c: Cond): Cond {
  if (c === true) return false;
  if (c === false) return true;
  return `!(${c})`;
}

/** Chooses between two expressions on a condition. */
function pick(c: Cond, a: string, b: string): string {
  if (c === true) return a;
  if (c === false) return b;
  return a === b ? a : `(${c} ? ${a} : ${b})`;
}

/** Removes one pair of parentheses that wraps the whole expression. */
function unwrap(e: string): string {
  if (!e.startsWith('(') || !e.endsWith(')')) return e;
  let depth = 0;
  for (let i = 0; i < e.length; i++) {
    if (e[i] === '(') depth++;
    else if (e[i] === ')') depth--;
    if (depth === 0 && i < e.length - 1) return e;
  }
  return e.slice(1, -1);
}

export class MessageEmitter {
  private readonly spec: MessageSpec;
  private readonly code = new Code();
  private readonly units: StructUnit[] = [];
  private readonly needsIsDefault = new Set<string>();
  private readonly moduleNames = new Set<string>();
  private uses = { ZERO_UUID: false, EMPTY_BUFFER: false, nonNullableError: false, WriterValue: false };
  private tmp = 0;
  /** The condition bound to `_flex` in the function being emitted. */
  private flexCond: Cond = false;
  private flexUsed = false;

  constructor(spec: MessageSpec) {
    this.spec = spec;
    this.computeUnits();
    this.computeIsDefault();
    for (const u of this.units) {
      for (const p of ['encode', 'decode', 'default', 'isDefault']) this.moduleNames.add(p + u.name);
    }
    for (const n of ['nonNullableError', 'unsupportedVersionError']) this.moduleNames.add(n);
  }

  // ---- analysis ----------------------------------------------------------------

  private computeUnits(): void {
    const spec = this.spec;
    const possible = new Map<string, Versions>();
    const visit = (fields: FieldSpec[], p: Versions, depth: number) => {
      if (depth > 64) throw new Error(`${spec.name}: struct nesting too deep (recursive struct?)`);
      for (const f of fields) {
        if (f.structName === null) continue;
        const fp = intersect(p, f.versions);
        if (isEmpty(fp)) continue;
        possible.set(f.structName, hull(possible.get(f.structName) ?? NO_VERSIONS, fp));
        visit(spec.structs.get(f.structName)!.fields, fp, depth + 1);
      }
    };
    visit(spec.fields, spec.validVersions, 0);
    this.units.push({ name: spec.name, fields: spec.fields, top: true, possible: spec.validVersions });
    for (const s of spec.structs.values()) {
      if (s.name === spec.name) throw new Error(`${spec.name}: struct has the message's name`);
      let p = possible.get(s.name) ?? NO_VERSIONS;
      if (isEmpty(p)) p = spec.validVersions; // never used in a valid version: still emit sane code
      this.units.push({ name: s.name, fields: s.fields, top: false, possible: p });
    }
  }

  private computeIsDefault(): void {
    const mark = (name: string) => {
      if (this.needsIsDefault.has(name)) return;
      this.needsIsDefault.add(name);
      for (const f of this.spec.structs.get(name)!.fields) {
        if (f.type.kind === 'struct' && !isNullDefault(f)) mark(f.type.name);
      }
    };
    for (const u of this.units) {
      for (const f of u.fields) {
        if (f.type.kind === 'struct' && !isEmpty(f.taggedVersions) && !isNullDefault(f)) mark(f.type.name);
      }
    }
  }

  // ---- naming / types ------------------------------------------------------------

  private local(f: FieldSpec): string {
    return RESERVED.has(f.camel) || this.moduleNames.has(f.camel) ? `${f.camel}_` : f.camel;
  }

  private nextTmp(): number {
    return this.tmp++;
  }

  private elemTs(e: ElementType): string {
    return e.kind === 'primitive' ? PRIM_TS[e.name] : e.name;
  }

  private fieldTs(f: FieldSpec): string {
    const base = f.type.kind === 'array' ? `${this.elemTs(f.type.element)}[]` : this.elemTs(f.type);
    return tsNullable(f) ? `${base} | null` : base;
  }

  private defaultExpr(f: FieldSpec, where: string): string {
    const d = fieldDefault(f, where);
    switch (d.kind) {
      case 'emptyArray':
        return '[]';
      case 'emptyBytes':
        this.uses.EMPTY_BUFFER = true;
        return 'EMPTY_BUFFER';
      case 'uuidZero':
        this.uses.ZERO_UUID = true;
        return 'ZERO_UUID';
      case 'struct':
        return `default${d.name}()`;
      case 'value': {
        const v = d.value;
        if (v === null) return 'null';
        if (typeof v === 'bigint') return `${v}n`;
        if (typeof v === 'string') return str(v);
        if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : String(v);
        return String(v);
      }
    }
  }

  /** Condition under which the field uses the compact (flexible) encoding. */
  private flexFor(f: FieldSpec, possible: Versions): Cond {
    const ff = fieldFlexibleVersions(this.spec, f);
    const c = condFor(ff, possible);
    if (typeof c === 'string' && f.flexibleVersions === null) {
      this.flexUsed = true;
      return '_flex';
    }
    return c;
  }

  // ---- file ----------------------------------------------------------------------

  generate(sourceFile: string): string {
    const body = new Code();
    this.emitInterfaces(body);
    for (const u of this.units) {
      this.emitDefault(body, u);
      if (this.needsIsDefault.has(u.name)) this.emitIsDefault(body, u);
      this.emitEncode(body, u);
      this.emitDecode(body, u);
    }
    this.emitCodec(body);

    const c = this.code;
    c.line(`// Generated by scripts/codegen from ${sourceFile}. DO NOT EDIT.`);
    c.line('// Regenerate with `npm run codegen`; change the generator, never this file.');
    c.line();
    c.line("import type { Reader } from '../primitives/reader.ts';");
    c.line(`import ${this.uses.WriterValue ? '' : 'type '}{ Writer } from '../primitives/writer.ts';`);
    const prim = ['ProtocolError'];
    c.line(`import { ${prim.join(', ')} } from '../primitives/errors.ts';`);
    const codecImports = ['unsupportedVersionError'];
    if (this.uses.EMPTY_BUFFER) codecImports.unshift('EMPTY_BUFFER');
    if (this.uses.nonNullableError) codecImports.push('nonNullableError');
    c.line(`import { ${codecImports.join(', ')}, type MessageCodec } from '../primitives/codec.ts';`);
    if (this.uses.ZERO_UUID) c.line("import { ZERO_UUID } from '../primitives/uuid.ts';");
    return c.toString() + '\n' + body.toString();
  }

  private emitInterfaces(c: Code): void {
    for (const u of this.units) {
      const s = u.top ? undefined : this.spec.structs.get(u.name);
      const doc = u.top ? `${this.spec.name}, versions ${fmt(this.spec.validVersions)}` +
        (isEmpty(this.spec.flexibleVersions) ? '' : `, flexible ${fmt(this.spec.flexibleVersions)}`) :
        `${s!.common ? 'Common struct' : 'Struct'} of ${this.spec.name}.`;
      c.line(`/** ${commentText(doc)} */`);
      c.open(`export interface ${u.name}`);
      for (const f of u.fields) {
        const notes = [`versions ${fmt(f.versions)}`];
        if (!isEmpty(f.nullableVersions)) notes.push(`nullable ${fmt(f.nullableVersions)}`);
        if (f.tag !== null) notes.push(`tag ${f.tag} in ${fmt(f.taggedVersions)}`);
        if (f.default !== undefined) notes.push(`default ${String(f.default)}`);
        c.line(`/** ${commentText(f.about)}${f.about ? ' ' : ''}(${notes.join('; ')}) */`);
        c.line(`${f.camel}: ${this.fieldTs(f)};`);
      }
      c.close();
      c.line();
    }
  }

  private emitDefault(c: Code, u: StructUnit): void {
    c.line(`/** A ${u.name} with every field at its default value. */`);
    c.open(`${u.top ? '' : 'export '}function default${u.name}(): ${u.name}`);
    if (u.fields.length === 0) {
      c.line('return {};');
    } else {
      c.open('return');
      for (const f of u.fields) c.line(`${f.camel}: ${this.defaultExpr(f, `${u.name}.${f.name}`)},`);
      c.close('};');
    }
    c.close();
    c.line();
  }

  private emitIsDefault(c: Code, u: StructUnit): void {
    const parts: string[] = [];
    for (const f of u.fields) {
      const v = `_m.${f.camel}`;
      const d = fieldDefault(f);
      const nullable = tsNullable(f);
      switch (d.kind) {
        case 'emptyArray':
        case 'emptyBytes':
          parts.push(nullable ? `(${v} !== null && ${v}.length === 0)` : `${v}.length === 0`);
          break;
        case 'struct':
          parts.push(nullable ? `(${v} !== null && isDefault${d.name}(${v}))` : `isDefault${d.name}(${v})`);
          break;
        default:
          parts.push(`${v} === ${this.defaultExpr(f, f.name)}`);
      }
    }
    c.open(`function isDefault${u.name}(_m: ${u.name}): boolean`);
    if (parts.length === 0) c.line('return true;');
    parts.forEach((p, i) => c.line(`${i === 0 ? 'return ' : '  && '}${p}${i === parts.length - 1 ? ';' : ''}`));
    c.close();
    c.line();
  }

  // ---- encode --------------------------------------------------------------------

  private emitEncode(c: Code, u: StructUnit): void {
    const fn = new Code();
    this.tmp = 0;
    this.flexUsed = false;
    this.flexCond = condFor(this.spec.flexibleVersions, u.possible);
    const P = u.possible;
    for (const f of u.fields) {
      const cond = condFor(bodyVersions(f), P);
      if (cond === false) continue;
      if (cond !== true) fn.open(`if (${cond})`);
      this.emitWriteField(fn, f, `_m.${f.camel}`, intersect(bodyVersions(f), P), '_w', false, `${u.name}.${f.camel}`);
      if (cond !== true) fn.close();
    }
    this.emitWriteTagged(fn, u);

    c.open(`function encode${u.name}(_w: Writer, _m: ${u.name}, _version: number): void`);
    if (this.flexUsed) c.line(`const _flex = ${this.flexCond};`);
    for (const l of fn.toString().trimEnd().split('\n')) if (l !== '') c.line(l);
    c.close();
    c.line();
  }

  /**
   * Writes one field value. `range` is the set of versions in which this code
   * runs; `tagged` selects the tagged-field encodings (always compact, structs
   * with a varint null marker).
   */
  private emitWriteField(c: Code, f: FieldSpec, v: string, range: Versions, w: string, tagged: boolean, label: string): void {
    const flex: Cond = tagged ? true : this.flexFor(f, range);
    const nul: Cond = condFor(f.nullableVersions, range);
    const nullableTs = tsNullable(f);
    const guard = () => {
      // Non-nullable in (some of) these versions but the TS type admits null.
      if (nullableTs && nul !== true) {
        this.uses.nonNullableError = true;
        const when = nul === false ? `${v} === null` : `${v} === null && ${not(nul)}`;
        c.line(`if (${when}) throw nonNullableError(${str(label)}, _version);`);
      }
    };
    const t = f.type;
    if (t.kind === 'array') {
      guard();
      const k = this.nextTmp();
      const a = `_a${k}`;
      const i = `_i${k}`;
      c.line(`const ${a} = ${v};`);
      const writeLen = () => this.emitFlexStmt(c, flex, `${w}.writeUVarint(${a}.length + 1);`, `${w}.writeInt32(${a}.length);`);
      const loop = () => {
        const e = t.element;
        if (e.kind === 'struct') {
          c.line(`for (let ${i} = 0; ${i} < ${a}.length; ${i}++) encode${e.name}(${w}, ${a}[${i}]!, _version);`);
        } else if (e.name === 'string' || e.name === 'bytes' || e.name === 'records') {
          const kind = e.name === 'string' ? 'String' : 'Bytes';
          if (flex === true || flex === false) {
            c.line(`for (let ${i} = 0; ${i} < ${a}.length; ${i}++) ${w}.write${flex ? 'Compact' : ''}${kind}(${a}[${i}]!);`);
          } else {
            c.open(`for (let ${i} = 0; ${i} < ${a}.length; ${i}++)`);
            c.line(`if (${flex}) ${w}.writeCompact${kind}(${a}[${i}]!);`);
            c.line(`else ${w}.write${kind}(${a}[${i}]!);`);
            c.close();
          }
        } else {
          c.line(`for (let ${i} = 0; ${i} < ${a}.length; ${i}++) ${w}.write${PRIM_RW[e.name]}(${a}[${i}]!);`);
        }
      };
      if (nullableTs && nul !== false) {
        c.open(`if (${a} === null)`);
        this.emitFlexStmt(c, flex, `${w}.writeUVarint(0);`, `${w}.writeInt32(-1);`);
        c.reopen('else');
        writeLen();
        loop();
        c.close();
      } else {
        writeLen();
        loop();
      }
      return;
    }
    if (t.kind === 'struct') {
      guard();
      if (nul === false) {
        c.line(`encode${t.name}(${w}, ${v}${nullableTs ? '!' : ''}, _version);`);
        return;
      }
      const marker = (present: boolean) => tagged ? `${w}.writeUVarint(${present ? 1 : 0});` : `${w}.writeInt8(${present ? 1 : -1});`;
      c.open(`if (${v} === null)`);
      c.line(marker(false));
      c.reopen('else');
      if (nul === true) c.line(marker(true));
      else c.line(`if (${nul}) ${marker(true)}`);
      c.line(`encode${t.name}(${w}, ${v}, _version);`);
      c.close();
      return;
    }
    const p = t.name;
    if (p === 'string' || p === 'bytes' || p === 'records') {
      guard();
      const kind = p === 'string' ? 'String' : 'Bytes';
      const n = nul !== false;
      const method = (compact: boolean) => `${w}.write${compact ? 'Compact' : ''}${n ? 'Nullable' : ''}${kind}(${v}${!n && nullableTs ? '!' : ''});`;
      this.emitFlexStmt(c, flex, method(true), method(false));
      return;
    }
    c.line(`${w}.write${PRIM_RW[p]}(${v});`);
  }

  private emitFlexStmt(c: Code, flex: Cond, compact: string, classic: string): void {
    if (flex === true) c.line(compact);
    else if (flex === false) c.line(classic);
    else {
      c.line(`if (${flex}) ${compact}`);
      c.line(`else ${classic}`);
    }
  }

  /** Kafka's rule for whether a tagged field is written: its value differs from the default. */
  private nonDefault(f: FieldSpec, v: string): string {
    const d = fieldDefault(f);
    const nullable = tsNullable(f);
    if (d.kind === 'value' && d.value === null) return `${v} !== null`;
    switch (d.kind) {
      case 'emptyArray':
      case 'emptyBytes':
        return nullable ? `(${v} === null || ${v}.length !== 0)` : `${v}.length !== 0`;
      case 'struct':
        return nullable ? `(${v} === null || !isDefault${d.name}(${v}))` : `!isDefault${d.name}(${v})`;
      default:
        return `${v} !== ${this.defaultExpr(f, f.name)}`;
    }
  }

  private emitWriteTagged(c: Code, u: StructUnit): void {
    const flexCond = this.flexCond;
    if (flexCond === false) return;
    // Inside the tagged section only flexible versions are possible.
    const P = intersect(u.possible, this.spec.flexibleVersions);
    const tagged = u.fields
      .filter((f) => !isEmpty(intersect(taggedFieldVersions(f), P)))
      .sort((a, b) => a.tag! - b.tag!);
    const flexIf = flexCond === true ? null : this.useFlex();
    if (tagged.length === 0) {
      c.line(flexIf === null ? '_w.writeUVarint(0);' : `if (${flexIf}) _w.writeUVarint(0);`);
      return;
    }
    if (flexIf !== null) c.open(`if (${flexIf})`);
    c.line('let _nt = 0;');
    const flags: string[] = [];
    for (const f of tagged) {
      const k = this.nextTmp();
      const flag = `_t${k}`;
      flags.push(flag);
      const cond = and(condFor(taggedFieldVersions(f), P), this.nonDefault(f, `_m.${f.camel}`));
      c.line(`const ${flag} = ${cond};`);
      c.line(`if (${flag}) _nt++;`);
    }
    c.line('_w.writeUVarint(_nt);');
    tagged.forEach((f, idx) => {
      const range = intersect(taggedFieldVersions(f), P);
      c.open(`if (${flags[idx]})`);
      c.line(`_w.writeUVarint(${f.tag});`);
      const size = f.type.kind === 'primitive' ? FIXED_SIZE[f.type.name] : undefined;
      if (size !== undefined) {
        c.line(`_w.writeUVarint(${size});`);
        this.emitWriteField(c, f, `_m.${f.camel}`, range, '_w', true, `${u.name}.${f.camel}`);
      } else {
        this.uses.WriterValue = true;
        c.line('const _tw = new Writer(64);');
        this.emitWriteField(c, f, `_m.${f.camel}`, range, '_tw', true, `${u.name}.${f.camel}`);
        c.line('_w.writeUVarint(_tw.length);');
        c.line('_w.writeWriter(_tw);');
      }
      c.close();
    });
    if (flexIf !== null) c.close();
  }

  private useFlex(): string {
    this.flexUsed = true;
    return '_flex';
  }

  // ---- decode --------------------------------------------------------------------

  private emitDecode(c: Code, u: StructUnit): void {
    const fn = new Code();
    this.tmp = 0;
    this.flexUsed = false;
    this.flexCond = condFor(this.spec.flexibleVersions, u.possible);
    const P = u.possible;
    for (const f of u.fields) {
      const body = intersect(bodyVersions(f), P);
      const bodyCond = condFor(bodyVersions(f), P);
      const ts = this.fieldTs(f);
      const name = this.local(f);
      const def = () => this.defaultExpr(f, `${u.name}.${f.name}`);
      const taggedSomewhere = !isEmpty(intersect(taggedFieldVersions(f), P));
      if (bodyCond === true && !taggedSomewhere) {
        this.emitReadField(fn, f, name, body, '_r', false, true);
      } else if (bodyCond === false) {
        fn.line(`${taggedSomewhere ? 'let' : 'const'} ${name}: ${ts} = ${def()};`);
      } else {
        fn.line(`let ${name}: ${ts};`);
        fn.open(`if (${bodyCond})`);
        this.emitReadField(fn, f, name, body, '_r', false, false);
        fn.reopen('else');
        fn.line(`${name} = ${def()};`);
        fn.close();
      }
    }
    this.emitReadTagged(fn, u);
    const props = u.fields.map((f) => (this.local(f) === f.camel ? f.camel : `${f.camel}: ${this.local(f)}`));
    if (props.length === 0) fn.line('return {};');
    else if (props.join(', ').length < 70) fn.line(`return { ${props.join(', ')} };`);
    else {
      fn.open('return');
      for (const p of props) fn.line(`${p},`);
      fn.close('};');
    }

    c.open(`function decode${u.name}(_r: Reader, _version: number): ${u.name}`);
    if (this.flexUsed) c.line(`const _flex = ${this.flexCond};`);
    for (const l of fn.toString().trimEnd().split('\n')) if (l !== '') c.line(l);
    c.close();
    c.line();
  }

  /** Reads a field into `target` (declared with const when `declare`, else assigned). */
  private emitReadField(c: Code, f: FieldSpec, target: string, range: Versions, r: string, tagged: boolean, declare: boolean): void {
    const flex: Cond = tagged ? true : this.flexFor(f, range);
    const nul: Cond = condFor(f.nullableVersions, range);
    const t = f.type;
    const assign = (e: string) => {
      const expr = unwrap(e);
      c.line(declare ? `const ${target} = ${expr};` : `${target} = ${expr};`);
    };
    if (t.kind === 'array') {
      const k = this.nextTmp();
      const n = `_n${k}`;
      const i = `_i${k}`;
      const len = (compact: boolean, nullable: boolean) =>
        `${r}.read${compact ? 'Compact' : ''}${nullable ? 'Nullable' : ''}ArrayLength()`;
      const lenExpr = (nullable: boolean) => pick(flex, len(true, nullable), len(false, nullable));
      const elemTs = this.elemTs(t.element);
      const elem = this.readElemExpr(t.element, flex, r);
      if (nul === false) {
        c.line(`const ${n} = ${unwrap(lenExpr(false))};`);
        const a = declare ? target : `_a${k}`;
        c.line(`const ${a}: ${elemTs}[] = [];`);
        c.line(`for (let ${i} = 0; ${i} < ${n}; ${i}++) ${a}.push(${elem});`);
        if (!declare) c.line(`${target} = ${a};`);
      } else {
        c.line(`const ${n} = ${unwrap(pick(nul, lenExpr(true), lenExpr(false)))};`);
        const a = `_a${k}`;
        c.line(`const ${a}: ${elemTs}[] | null = ${n} < 0 ? null : [];`);
        c.line(`if (${a} !== null) for (let ${i} = 0; ${i} < ${n}; ${i}++) ${a}.push(${elem});`);
        assign(a);
      }
      return;
    }
    if (t.kind === 'struct') {
      const dec = `decode${t.name}(${r}, _version)`;
      const marker = tagged ? `${r}.readUVarint() === 0` : `${r}.readInt8() < 0`;
      assign(pick(nul, `(${marker} ? null : ${dec})`, dec));
      return;
    }
    const p = t.name;
    if (p === 'string' || p === 'bytes' || p === 'records') {
      const kind = p === 'string' ? 'String' : 'Bytes';
      const m = (compact: boolean, nullable: boolean) => `${r}.read${compact ? 'Compact' : ''}${nullable ? 'Nullable' : ''}${kind}()`;
      const byNull = (compact: boolean) => pick(nul, m(compact, true), m(compact, false));
      assign(pick(flex, byNull(true), byNull(false)));
      return;
    }
    assign(`${r}.read${PRIM_RW[p]}()`);
  }

  private readElemExpr(e: ElementType, flex: Cond, r: string): string {
    if (e.kind === 'struct') return `decode${e.name}(${r}, _version)`;
    if (e.name === 'string') return pick(flex, `${r}.readCompactString()`, `${r}.readString()`);
    if (e.name === 'bytes' || e.name === 'records') return pick(flex, `${r}.readCompactBytes()`, `${r}.readBytes()`);
    return `${r}.read${PRIM_RW[e.name]}()`;
  }

  private emitReadTagged(c: Code, u: StructUnit): void {
    const flexCond = this.flexCond;
    if (flexCond === false) return;
    // Inside the tagged section only flexible versions are possible.
    const P = intersect(u.possible, this.spec.flexibleVersions);
    const tagged = u.fields
      .filter((f) => !isEmpty(intersect(taggedFieldVersions(f), P)))
      .sort((a, b) => a.tag! - b.tag!);
    const flexIf = flexCond === true ? null : this.useFlex();
    if (tagged.length === 0) {
      c.line(flexIf === null ? '_r.skipTaggedFields();' : `if (${flexIf}) _r.skipTaggedFields();`);
      return;
    }
    if (flexIf !== null) c.open(`if (${flexIf})`);
    c.line('const _nt = _r.readUVarint();');
    c.open('for (let _i = 0; _i < _nt; _i++)');
    c.line('const _tag = _r.readUVarint();');
    c.line('const _tr = _r.sub(_r.readUVarint());');
    c.open('switch (_tag)');
    for (const f of tagged) {
      const range = intersect(taggedFieldVersions(f), P);
      const cond = condFor(taggedFieldVersions(f), P);
      c.line(`case ${f.tag}:`);
      c.indent();
      if (cond === true) {
        this.emitReadField(c, f, this.local(f), range, '_tr', true, false);
      } else {
        c.open(`if (${cond})`);
        this.emitReadField(c, f, this.local(f), range, '_tr', true, false);
        c.close();
      }
      c.line('break;');
      c.dedent();
    }
    c.line('default:');
    c.line('  break; // unknown tags: skipped (_tr is discarded)');
    c.close();
    c.close();
    if (flexIf !== null) c.close();
  }

  // ---- codec -----------------------------------------------------------------------

  private emitCodec(c: Code): void {
    const s = this.spec;
    const name = s.type === 'request' || s.type === 'response' ? apiName(s) : s.name;
    const lo = s.validVersions.lo;
    const hi = s.validVersions.hi;
    const flexRange = intersect(s.flexibleVersions, s.validVersions);
    const flexMin = isEmpty(flexRange) ? 'null' : String(flexRange.lo);
    c.line(`/** Codec for ${s.name} (${s.type}${s.apiKey !== null ? `, api key ${s.apiKey}` : ''}). */`);
    c.open(`export const ${s.name}: MessageCodec<${s.name}> =`);
    c.line(`apiKey: ${s.apiKey ?? -1},`);
    c.line(`name: ${str(name)},`);
    c.line(`type: ${str(s.type)},`);
    c.line(`minVersion: ${lo},`);
    c.line(`maxVersion: ${hi},`);
    c.line(`flexibleMinVersion: ${flexMin},`);
    c.open(`encode(w: Writer, msg: ${s.name}, version: number): void`);
    c.open(`if (!(version >= ${lo} && version <= ${hi}) || (version | 0) !== version)`);
    c.line(`throw unsupportedVersionError(${str(s.name)}, version);`);
    c.close();
    c.line(`encode${s.name}(w, msg, version);`);
    c.close('},');
    c.open(`decode(r: Reader, version: number): ${s.name}`);
    c.open(`if (!(version >= ${lo} && version <= ${hi}) || (version | 0) !== version)`);
    c.line(`throw new ProtocolError(\`${s.name} does not support version \${version}\`);`);
    c.close();
    c.line(`return decode${s.name}(r, version);`);
    c.close('},');
    c.line(`default: default${s.name},`);
    c.close('};');
  }
}

export function generateMessageFile(spec: MessageSpec, sourceFile: string): string {
  return new MessageEmitter(spec).generate(sourceFile);
}
