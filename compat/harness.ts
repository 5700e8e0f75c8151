/**
 * Helpers for the compat tests: run kcat and the confluent-kafka Python harness as child
 * processes (always asynchronously: the broker under test may live in this very process, so a
 * synchronous spawn would deadlock it) with hard timeouts, and compare records.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './broker.ts';

export const PYTHON = process.env.COMPAT_PYTHON
  ?? (existsSync(join(REPO_ROOT, 'compat/.venv/bin/python')) ? join(REPO_ROOT, 'compat/.venv/bin/python') : 'python3');
export const KCAT = process.env.KCAT ?? 'kcat';
const PY_HARNESS = join(REPO_ROOT, 'compat/python/harness.py');

// ---------------------------------------------------------------- processes

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

export interface RunOptions {
  input?: Buffer | string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** Spawn a process, feed `input` to stdin, collect output; SIGKILL it after `timeoutMs`. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {}); // EPIPE if the child exits early; its exit code tells
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code, signal, timedOut, ms: Date.now() - started,
        stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(opts.input ?? '');
  });
}

function describe(cmd: string, args: string[], r: RunResult): string {
  const how = r.timedOut ? `timed out after ${r.ms} ms` : `exited ${r.code ?? r.signal}`;
  return `${cmd} ${args.join(' ')} ${how}\n--- stderr:\n${r.stderr.slice(-4000)}\n--- stdout:\n${r.stdout.toString('utf8').slice(-2000)}`;
}

// ---------------------------------------------------------------- records

export interface Rec {
  key: Buffer | null;
  value: Buffer | null;
  /** header name → value (null value allowed); order matters, duplicates allowed */
  headers: Array<[string, Buffer | null]>;
  timestamp?: number;
  partition?: number;
  offset?: number;
  /** 'create' | 'logappend' (python only) */
  tsType?: string;
}

export function uniqueTopic(prefix: string): string {
  return `compat-${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Order-sensitive digest of key+value (+partition when given) of a record stream. */
export function digest(recs: Rec[], withPartition = false): string {
  const h = createHash('sha256');
  const len = Buffer.alloc(4);
  for (const r of recs) {
    if (withPartition) { len.writeInt32BE(r.partition ?? -1); h.update(len); }
    for (const b of [r.key, r.value]) {
      len.writeInt32BE(b === null ? -1 : b.length);
      h.update(len);
      if (b) h.update(b);
    }
  }
  return h.digest('hex');
}

/** Sort by key bytes (null first), then value, for order-independent comparisons. */
export function sortByKey(recs: Rec[]): Rec[] {
  const cmp = (a: Buffer | null, b: Buffer | null) =>
    a === null ? (b === null ? 0 : -1) : b === null ? 1 : Buffer.compare(a, b);
  return [...recs].sort((x, y) => cmp(x.key, y.key) || cmp(x.value, y.value));
}

/** Group by partition, each in consumption order. */
export function byPartition(recs: Rec[]): Map<number, Rec[]> {
  const m = new Map<number, Rec[]>();
  for (const r of recs) {
    const p = r.partition ?? -1;
    if (!m.has(p)) m.set(p, []);
    m.get(p)!.push(r);
  }
  return m;
}

// ---------------------------------------------------------------- python (confluent-kafka)

export interface PyResult {
  lines: Array<Record<string, any>>;
  /** the final {"done": ...} line */
  done: Record<string, any>;
  stderr: string;
}

/** Run compat/python/harness.py BOOTSTRAP SCENARIO with JSON params; fails on a non-zero exit. */
export async function py(bootstrap: string, scenario: string, params: object, timeoutMs = 90_000): Promise<PyResult> {
  const args = [PY_HARNESS, bootstrap, scenario];
  const r = await run(PYTHON, args, { input: JSON.stringify(params), timeoutMs });
  if (r.code !== 0 || r.timedOut) throw new Error(describe(PYTHON, args, r));
  const lines = r.stdout.toString('utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
  const done = lines.pop();
  if (!done || !('done' in done)) throw new Error(`python ${scenario}: no final line\n${r.stdout}\n${r.stderr}`);
  return { lines, done, stderr: r.stderr };
}

const b64 = (b: Buffer | null): string | null => (b === null ? null : b.toString('base64'));
const unb64 = (s: string | null): Buffer | null => (s === null ? null : Buffer.from(s, 'base64'));

export interface PyDelivery { i: number; p: number | null; o: number | null; ts: number; error?: string; code?: number; str?: string; local?: boolean }

export async function pyProduce(bootstrap: string, topic: string, recs: Rec[], config: Record<string, unknown> = {}, timeoutMs = 120_000)
  : Promise<{ deliveries: PyDelivery[]; done: Record<string, any> }> {
  const records = recs.map((r) => ({
    k: b64(r.key), v: b64(r.value),
    h: r.headers.map(([n, v]) => [n, b64(v)]),
    ts: r.timestamp, p: r.partition,
  }));
  const res = await py(bootstrap, 'produce', { topic, records, config }, timeoutMs);
  return { deliveries: res.lines as PyDelivery[], done: res.done };
}

export async function pyConsume(bootstrap: string, topic: string, start: 'earliest' | { timestamp: number } = 'earliest',
  config: Record<string, unknown> = {}): Promise<Rec[]> {
  const res = await py(bootstrap, 'consume', { topic, start, config, timeout: 60 });
  const errors = res.lines.filter((l) => l.error);
  if (!res.done.done || errors.length) {
    throw new Error(`python consume ${topic}: ${JSON.stringify(res.done)} ${JSON.stringify(errors)}`);
  }
  return res.lines.map((l) => ({
    partition: l.p, offset: l.o, timestamp: l.ts, tsType: l.tst,
    key: unb64(l.k), value: unb64(l.v),
    headers: (l.h as Array<[string, string | null]>).map(([n, v]) => [n, unb64(v)] as [string, Buffer | null]),
  }));
}

export async function pyCreateTopic(bootstrap: string, topic: string, partitions: number, config: Record<string, string> = {}): Promise<void> {
  const res = await py(bootstrap, 'create_topics', { topics: [{ name: topic, partitions, config }] });
  const r = res.lines[0]!;
  if (r.error) throw new Error(`create_topics ${topic}: ${r.error} ${r.str}`);
}

// ---------------------------------------------------------------- kcat

const KCAT_CONSUME_FORMAT = '%p %o %T %K %S %h\\n%k%s\\n';

/** kcat common args: bootstrap, bounded metadata wait. */
function kcatBase(bootstrap: string): string[] {
  // no -q: it also silences kcat's error messages (e.g. '% Delivery failed for message: ...')
  return ['-b', bootstrap, '-m', '15', '-X', 'socket.timeout.ms=15000'];
}

function configArgs(config: Record<string, string | number>): string[] {
  return Object.entries(config).flatMap(([k, v]) => ['-X', `${k}=${v}`]);
}

export interface KcatProduceOptions {
  partition?: number;
  headers?: Array<[string, string]>;
  config?: Record<string, string | number>;
  timeoutMs?: number;
}

/**
 * Produce records with kcat: one line per record, key and value split by TAB
 * (so keys/values must not contain \t or \n; null keys/values are not expressible).
 * Returns the raw result; the caller asserts the exit code.
 */
export async function kcatProduceRaw(bootstrap: string, topic: string, recs: Array<{ key: Buffer; value: Buffer }>,
  opts: KcatProduceOptions = {}): Promise<RunResult> {
  const args = ['-P', ...kcatBase(bootstrap), '-t', topic, '-K', '\t', '-D', '\n'];
  if (opts.partition !== undefined) args.push('-p', String(opts.partition));
  for (const [n, v] of opts.headers ?? []) args.push('-H', `${n}=${v}`);
  args.push(...configArgs({ 'message.timeout.ms': 30000, ...opts.config }));
  const input = Buffer.concat(recs.flatMap((r) => {
    for (const b of [r.key, r.value]) {
      if (b.includes(0x09) || b.includes(0x0a)) throw new Error('kcat records must not contain TAB or LF');
    }
    return [r.key, Buffer.from('\t'), r.value, Buffer.from('\n')];
  }));
  return run(KCAT, args, { input, timeoutMs: opts.timeoutMs ?? 90_000 });
}

export async function kcatProduce(bootstrap: string, topic: string, recs: Array<{ key: Buffer; value: Buffer }>,
  opts: KcatProduceOptions = {}): Promise<void> {
  const r = await kcatProduceRaw(bootstrap, topic, recs, opts);
  if (r.code !== 0 || r.timedOut) throw new Error(describe(KCAT, ['-P', '-t', topic], r));
}

export interface KcatConsumeOptions {
  /** kcat -o value: 'beginning' (default), 's@<ms>', an offset... */
  offset?: string;
  partition?: number;
  config?: Record<string, string | number>;
  timeoutMs?: number;
}

/** Consume a topic with kcat from `offset` to the end of every partition (-e). */
export async function kcatConsume(bootstrap: string, topic: string, opts: KcatConsumeOptions = {}): Promise<Rec[]> {
  const args = ['-C', ...kcatBase(bootstrap), '-t', topic, '-o', opts.offset ?? 'beginning', '-e',
    '-f', KCAT_CONSUME_FORMAT, ...configArgs(opts.config ?? {})];
  if (opts.partition !== undefined) args.push('-p', String(opts.partition));
  const r = await run(KCAT, args, { timeoutMs: opts.timeoutMs ?? 90_000 });
  if (r.code !== 0 || r.timedOut) throw new Error(describe(KCAT, args, r));
  return parseKcatOutput(r.stdout);
}

/** Parse the output of `-f '%p %o %T %K %S %h\n%k%s\n'` (binary safe for keys and values). */
export function parseKcatOutput(buf: Buffer): Rec[] {
  const recs: Rec[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) throw new Error(`truncated kcat output at byte ${pos}`);
    const line = buf.subarray(pos, nl).toString('utf8');
    const m = /^(-?\d+) (-?\d+) (-?\d+) (-?\d+) (-?\d+) (.*)$/.exec(line);
    if (!m) throw new Error(`unexpected kcat header line: ${JSON.stringify(line)}`);
    const [p, o, ts, klen, vlen] = m.slice(1, 6).map(Number) as [number, number, number, number, number];
    pos = nl + 1;
    const key = klen < 0 ? null : Buffer.from(buf.subarray(pos, pos + klen));
    pos += Math.max(klen, 0);
    const value = vlen < 0 ? null : Buffer.from(buf.subarray(pos, pos + vlen));
    pos += Math.max(vlen, 0);
    if (buf[pos] !== 0x0a) throw new Error(`kcat record at offset ${o} not followed by LF`);
    pos += 1;
    recs.push({ partition: p, offset: o, timestamp: ts, key, value, headers: parseKcatHeaders(m[6]!) });
  }
  return recs;
}

/** kcat prints headers as `n=v,n=v` with NULL for null values (ambiguous with , or = in them). */
function parseKcatHeaders(s: string): Array<[string, Buffer | null]> {
  if (s === '') return [];
  return s.split(',').map((kv) => {
    const i = kv.indexOf('=');
    const v = kv.slice(i + 1);
    return [kv.slice(0, i), v === 'NULL' ? null : Buffer.from(v)];
  });
}

/** `kcat -L -J` (optionally for one topic) parsed. */
export async function kcatMetadata(bootstrap: string, topic?: string, config: Record<string, string | number> = {}): Promise<any> {
  const args = ['-L', ...kcatBase(bootstrap), '-J', ...configArgs(config)];
  if (topic) args.push('-t', topic);
  const r = await run(KCAT, args, { timeoutMs: 60_000 });
  if (r.code !== 0 || r.timedOut) throw new Error(describe(KCAT, args, r));
  return JSON.parse(r.stdout.toString('utf8'));
}

/** Run kcat with arbitrary arguments (bootstrap and timeouts added). */
export function kcatRaw(bootstrap: string, mode: string, args: string[], input?: Buffer | string, timeoutMs = 60_000): Promise<RunResult> {
  return run(KCAT, [mode, ...kcatBase(bootstrap), ...args], { input, timeoutMs });
}

// ---------------------------------------------------------------- data

/** `n` distinct-keyed records; values are random bytes of varied length, free of TAB and LF. */
export function genRecords(n: number, prefix: string, opts: { minLen?: number; maxLen?: number; compressible?: boolean } = {}): Array<{ key: Buffer; value: Buffer; headers: Array<[string, Buffer | null]> }> {
  const min = opts.minLen ?? 0;
  const max = opts.maxLen ?? 400;
  const out = [];
  for (let i = 0; i < n; i++) {
    const len = min + ((i * 7919) % (max - min + 1));
    let value: Buffer;
    if (opts.compressible) {
      value = Buffer.from(`${prefix} record ${i} `.repeat(Math.ceil(len / 20) + 1).slice(0, Math.max(len, 1)));
    } else {
      value = randomBytes(len);
      for (let j = 0; j < value.length; j++) if (value[j] === 0x09 || value[j] === 0x0a) value[j] = 0x20 + (j % 90);
    }
    out.push({ key: Buffer.from(`${prefix}-${String(i).padStart(6, '0')}`), value, headers: [] as Array<[string, Buffer | null]> });
  }
  return out;
}

// ---------------------------------------------------------------- on-disk batch inspection

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/**
 * Compression codecs of the record batches stored for `topic` in a Kafka-layout log dir
 * (`<topic>-<partition>/*.log`, v2 batches). Returns undefined if no such files exist
 * (unknown layout), so callers can treat it as "cannot check".
 */
export function storedCodecs(dataDir: string | undefined, topic: string): Set<string> | undefined {
  if (!dataDir || !existsSync(dataDir)) return undefined;
  const dirs = findPartitionDirs(dataDir, topic, 3);
  const codecs = new Set<string>();
  let files = 0;
  for (const d of dirs) {
    for (const f of readdirSync(d).filter((x) => x.endsWith('.log'))) {
      files++;
      const buf = readFileSync(join(d, f));
      let pos = 0;
      while (pos + 61 <= buf.length) {
        const batchLength = buf.readInt32BE(pos + 8);
        const magic = buf[pos + 16];
        if (batchLength <= 0 || magic !== 2) break;
        const attributes = buf.readInt16BE(pos + 21);
        codecs.add(CODECS[attributes & 0x7] ?? `codec${attributes & 0x7}`);
        pos += 12 + batchLength;
      }
    }
  }
  return files ? codecs : undefined;
}

function findPartitionDirs(root: string, topic: string, depth: number): string[] {
  const re = new RegExp(`^${topic.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d+$`);
  const found: string[] = [];
  for (const ent of readdirSync(root, { withFileTypes: true })) {
    if (!ent.isDirectory()) continue;
    const p = join(root, ent.name);
    if (re.test(ent.name)) found.push(p);
    else if (depth > 0) found.push(...findPartitionDirs(p, topic, depth - 1));
  }
  return found;
}

/** Poll `fn` until it returns a truthy value or `ms` pass. */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, ms: number, stepMs = 300): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
