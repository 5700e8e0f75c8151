/**
 * Shared parts of the exactly-once (transactions, issue 6) compat tests,
 * tests/java-transactions.test.ts and tests/python-transactions.test.ts:
 *
 * - `TxnBroker`: the broker under test. Against Tributary it is the CLI as a child process
 *   (test/testkit/broker.ts spawnBrokerProcess) that `crash()` SIGKILLs and restarts on the same
 *   data dir and port; against an external broker (BOOTSTRAP_SERVERS, e.g. `--real-kafka`) it is
 *   used as is and cannot be killed (`killable` false).
 * - `PipelineProcess`: a consume-transform-produce pipeline (the Java harness's `txn-pipeline`
 *   scenario, compat/java/.../TxnPipeline.java, or compat/python/txn.py) running as a child
 *   process whose JSON-lines events are parsed live, so the test can kill the broker while it
 *   copies (`killDuring`).
 * - `txnInput` (keyed records with a per-partition sequence number) and `verifyExactlyOnce`
 *   (the read_committed copy equals the input partition by partition, deliberately aborted
 *   ranges are visible to read_uncommitted readers only).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../broker.ts';
import { run, type Rec } from '../harness.ts';
import { CLI_ENTRY, freePort, makeTempDir, removeDir, sleep, spawnBrokerProcess, type BrokerProcess }
  from '../../test/testkit/broker.ts';

import { JsonLinesProcess, type Line } from '../json-lines-process.ts';

export type { Line } from '../json-lines-process.ts';

// ---------------------------------------------------------------- the broker

export interface TxnBroker {
  bootstrap: string;
  /** false for an external broker (we cannot kill it) */
  killable: boolean;
  kind: string;
  kills: number;
  /** SIGKILL the broker, wait `downMs`, start it again on the same data dir and port. */
  crash(downMs?: number): Promise<void>;
  /** Everything the broker processes printed (all incarnations), for failure messages. */
  output(): string;
  close(): Promise<void>;
}

const env = (name: string) => process.env[name]?.trim() || undefined;

/** undefined if a broker can be had, else the reason to skip. */
export function txnSkipReason(): string | undefined {
  if (env('BOOTSTRAP_SERVERS')) return undefined;
  if (!existsSync(CLI_ENTRY)) return `${CLI_ENTRY} does not exist; set BOOTSTRAP_SERVERS to use an external broker`;
  return undefined;
}

/** Broker configs for the Tributary child process (`--config k=v`). */
const TRIBUTARY_CONFIG: Record<string, string> = { 'group.initial.rebalance.delay.ms': '0' };

export async function startTxnBroker(): Promise<TxnBroker> {
  const external = env('BOOTSTRAP_SERVERS');
  if (external && env('COMPAT_TXN_KILL_KAFKA') === '1') return killableKafka(external);
  if (external) {
    return {
      bootstrap: external, killable: false, kind: 'external', kills: 0,
      async crash() { throw new Error('cannot kill an external broker'); },
      output: () => '',
      async close() {},
    };
  }
  const dataDir = await makeTempDir('tributary-compat-txn-');
  const port = await freePort();
  const extraArgs = [
    ...Object.entries(TRIBUTARY_CONFIG).flatMap(([k, v]) => ['--config', `${k}=${v}`]),
    '--log-level', env('COMPAT_BROKER_LOG') ?? 'info',
  ];
  const logs: string[] = [];
  let proc: BrokerProcess = await spawnBrokerProcess({ dataDir, port, extraArgs });
  const b: TxnBroker = {
    bootstrap: proc.bootstrap, killable: true, kind: 'tributary (child process)', kills: 0,
    async crash(downMs = 300) {
      proc.kill('SIGKILL');
      await proc.waitForExit(10_000);
      logs.push(proc.output(), `\n----- SIGKILL #${b.kills + 1} -----\n`);
      b.kills++;
      await sleep(downMs);
      // the port may still be held for a moment by the dying process: retry a few times
      for (let attempt = 1; ; attempt++) {
        try {
          proc = await spawnBrokerProcess({ dataDir, port, extraArgs, readyTimeoutMs: 30_000 });
          return;
        } catch (e) {
          if (attempt >= 5) throw e;
          await sleep(500);
        }
      }
    },
    output: () => logs.join('') + proc.output(),
    async close() {
      proc.kill('SIGTERM');
      try {
        await proc.waitForExit(10_000);
      } catch {
        proc.kill('SIGKILL');
      }
      if (env('TRIBUTARY_KEEP_DATA') === '1') console.error(`# kept data dir ${dataDir}`);
      else await removeDir(dataDir);
    },
  };
  return b;
}

/**
 * COMPAT_TXN_KILL_KAFKA=1 with BOOTSTRAP_SERVERS=127.0.0.1:PORT naming a broker started by
 * compat/kafka/start-kafka.sh --port PORT (your own one: it is restarted with only the default
 * settings): crash() SIGKILLs that Kafka (pid from compat/kafka/target/run-PORT/kafka.pid) and
 * restarts it with `start-kafka.sh --port PORT --keep-data`. This validates the kill tests'
 * recovery logic against real Kafka.
 */
async function killableKafka(bootstrap: string): Promise<TxnBroker> {
  const port = Number(/:(\d+)$/.exec(bootstrap)?.[1]);
  const pidFile = join(REPO_ROOT, `compat/kafka/target/run-${port}/kafka.pid`);
  if (!existsSync(pidFile)) throw new Error(`COMPAT_TXN_KILL_KAFKA: no ${pidFile} (start Kafka with compat/kafka/start-kafka.sh --port ${port})`);
  const logs: string[] = [];
  const b: TxnBroker = {
    bootstrap, killable: true, kind: `Apache Kafka (start-kafka.sh --port ${port}, killable)`, kills: 0,
    async crash(downMs = 300) {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      process.kill(pid, 'SIGKILL');
      const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
      while (alive()) await sleep(50);
      b.kills++;
      await sleep(downMs);
      const r = await run('bash', [join(REPO_ROOT, 'compat/kafka/start-kafka.sh'), '--port', String(port), '--keep-data'], { timeoutMs: 120_000 });
      logs.push(r.stderr);
      if (r.code !== 0) throw new Error(`restarting Kafka failed:\n${r.stderr}`);
    },
    output: () => logs.join(''),
    async close() {},
  };
  return b;
}

/** The lines of a broker log that look like trouble (for failure messages). */
export function brokerTrouble(out: string, max = 40): string {
  return out.split('\n').filter((l) => /error|warn|exception|fatal|SIGKILL/i.test(l)).slice(-max).join('\n');
}

// ---------------------------------------------------------------- input

export const TXN_PARTITIONS = 3;

/** n keyed records over `partitions` partitions (explicit partition i % partitions), value
 *  `<tag>-p<P>-s<SEQ>` with SEQ the record's sequence number within its partition. */
export function txnInput(n: number, tag: string, partitions = TXN_PARTITIONS): Rec[] {
  const recs: Rec[] = [];
  for (let i = 0; i < n; i++) {
    const p = i % partitions;
    recs.push({
      partition: p, key: Buffer.from(`key-${i % 37}`),
      value: Buffer.from(`${tag}-p${p}-s${String(Math.floor(i / partitions)).padStart(6, '0')}`), headers: [],
    });
  }
  return recs;
}

// ---------------------------------------------------------------- the pipeline process

export class PipelineProcess extends JsonLinesProcess {
  readonly events: Line[] = [];
  copied = 0;
  readonly started = Date.now();

  constructor(name: string, cmd: string, args: string[], input = '') {
    super(name, cmd, args, input);
  }

  protected onLine(ev: Line): void {
    if (!('done' in ev)) this.events.push(ev);
    if (ev.ev === 'commit' && typeof ev.copied === 'number') this.copied = ev.copied;
  }

  /** Resolves when at least `n` records are committed, or false when the process ended first. */
  async copiedAtLeast(n: number): Promise<boolean> {
    while (this.copied < n) {
      if (this.exited) return false;
      await this.changed();
    }
    return true;
  }

  /** Wait for the process to end (SIGKILL after `ms`); throws unless it reported done:true. */
  async finish(ms: number): Promise<Line> {
    await this.exit(ms);
    if (!this.done || this.done.done !== true || this.exitCode !== 0) {
      throw new Error(`${this.name} failed (exit ${this.exitCode}): ${JSON.stringify(this.done)}\n${this.describe()}`);
    }
    return this.done;
  }

  of(kind: string): Line[] {
    return this.events.filter((e) => e.ev === kind);
  }

  /** Writes every event and the whole stderr to a temp file, returns its path (for failures). */
  dump(): string {
    const file = join(tmpdir(), `compat-txn-${this.proc.pid}-${Date.now()}.log`);
    writeFileSync(file, `${this.events.map((e) => JSON.stringify(e)).join('\n')}\n${JSON.stringify(this.done)}\n--- stderr:\n${this.stderr}`);
    return file;
  }

  describe(): string {
    const recov = this.events.filter((e) => e.ev !== 'commit' && e.ev !== 'abort');
    return `${this.name}: copied ${this.copied}, ${this.of('commit').length} commits, ${this.of('abort').length} deliberate aborts; `
      + `other events (last 25 of ${recov.length}):\n${recov.slice(-25).map((e) => JSON.stringify(e).slice(0, 400)).join('\n')}`
      + `\n--- stderr (tail):\n${this.stderr.slice(-3000)}\n--- all events and stderr: ${this.dump()}`;
  }
}

export interface PipelineOptions {
  output: string;
  group: string;
  txnid: string;
  /** records per transaction at most (max.poll.records / consume num_messages) */
  batch?: number;
  /** every abortEvery-th transaction is aborted on purpose (0: none) */
  abortEvery?: number;
  /** sleep after each transaction, ms */
  pauseMs?: number;
  /** the process's own watchdog, seconds */
  timeoutSec?: number;
  /** further harness options (Java: mode=subscribe, client configs with a dot) */
  extra?: Record<string, string | number>;
}

/** The Java harness's txn-pipeline scenario (kafka-clients `version`), started. */
export async function javaPipeline(version: string, bootstrap: string, input: string, o: PipelineOptions): Promise<PipelineProcess> {
  const r = await run('bash', [join(REPO_ROOT, 'compat/java/build.sh'), '--print-cp', version], { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`compat/java/build.sh ${version} failed:\n${r.stderr}`);
  const cp = r.stdout.toString('utf8').trim();
  const opts: Record<string, string | number> = {
    output: o.output, group: o.group, txnid: o.txnid, batch: o.batch ?? 25, 'abort-every': o.abortEvery ?? 7,
    'pause-ms': o.pauseMs ?? 0, timeout: o.timeoutSec ?? 150, ...o.extra,
  };
  return new PipelineProcess(`java ${version} txn-pipeline`, 'java',
    ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-cp', cp, 'dev.tributary.compat.Harness', bootstrap, 'txn-pipeline', input,
      ...Object.entries(opts).map(([k, v]) => `${k}=${v}`)]);
}

/**
 * While the pipeline runs: once it has committed `fractions[i] * total` records, wait a random
 * 0-200 ms (so the kill lands anywhere in a transaction) and crash the broker, down for
 * `downMs[i]` ms (default: a random 100-500 ms, short enough for the clients to retry
 * transparently; a long outage, over the clients' 10 s operation timeouts, makes the pipeline
 * abort or replace its producer). Returns the kill points (records copied at each kill).
 */
export async function killDuring(p: PipelineProcess, broker: TxnBroker, total: number, fractions: number[],
  log: (s: string) => void, downMs: number[] = []): Promise<number[]> {
  const points: number[] = [];
  for (const [i, f] of fractions.entries()) {
    if (!(await p.copiedAtLeast(Math.floor(total * f)))) break;
    await sleep(Math.floor(Math.random() * 200));
    if (p.exited) break;
    const at = p.copied;
    const t0 = Date.now();
    await broker.crash(downMs[i] ?? 100 + Math.floor(Math.random() * 400));
    points.push(at);
    log(`SIGKILL #${broker.kills} at ${at}/${total} records committed; broker back after ${Date.now() - t0} ms`
      + `${(downMs[i] ?? 0) >= 5000 ? ' (a long outage: the clients\' timeouts fire)' : ''}`);
  }
  return points;
}

/** Random fractions for `k` kills, spread over the run: one in each of k equal slices of 10%..85%. */
export function killFractions(k: number): number[] {
  const lo = 0.1;
  const hi = 0.85;
  const w = (hi - lo) / k;
  return Array.from({ length: k }, (_, i) => lo + w * i + Math.random() * w * 0.8);
}

// ---------------------------------------------------------------- verification

const text = (b: Buffer | null | undefined) => (b ? b.toString('utf8') : '<null>');

function header(r: Rec, name: string): string | undefined {
  const h = r.headers.find(([n]) => n === name);
  return h && h[1] ? h[1].toString('utf8') : undefined;
}

/** Input partition → its records in offset order (input produced with explicit partitions). */
function inputByPartition(input: Rec[]): Map<number, Rec[]> {
  const m = new Map<number, Rec[]>();
  for (const r of input) {
    const p = r.partition!;
    if (!m.has(p)) m.set(p, []);
    m.get(p)!.push(r);
  }
  return m;
}

/**
 * Exactly-once: `committed` (the output read with isolation.level=read_committed) holds, per
 * partition P, exactly the input records of input partition P, in order (same key and value,
 * headers in.p/in.o = source partition and offset when `withSource`); `uncommitted` (read with
 * read_uncommitted) additionally holds the deliberately aborted copies: every input offset in an
 * `abort` event's [from, to) range appears there at least twice (aborted + committed) and in
 * `committed` exactly once. Returns a summary for the test log.
 */
export function verifyExactlyOnce(input: Rec[], committed: Rec[], uncommitted: Rec[], aborts: Line[], withSource = true): string {
  const want = inputByPartition(input);
  const got = new Map<number, Rec[]>();
  for (const r of committed) {
    if (!got.has(r.partition!)) got.set(r.partition!, []);
    got.get(r.partition!)!.push(r);
  }
  const problems: string[] = [];
  for (const p of [...new Set([...want.keys(), ...got.keys()])].sort((a, b) => a - b)) {
    const w = want.get(p) ?? [];
    const g = (got.get(p) ?? []).sort((a, b) => a.offset! - b.offset!);
    const wv = w.map((r) => text(r.value));
    const gv = g.map((r) => text(r.value));
    if (wv.length === gv.length && wv.every((v, i) => v === gv[i])) continue;
    const seen = new Map<string, number>();
    for (const v of gv) seen.set(v, (seen.get(v) ?? 0) + 1);
    const dup = [...seen].filter(([, c]) => c > 1);
    const wset = new Set(wv);
    const missing = wv.filter((v) => !seen.has(v));
    const foreign = gv.filter((v) => !wset.has(v));
    let firstDiff = 0;
    while (firstDiff < Math.min(wv.length, gv.length) && wv[firstDiff] === gv[firstDiff]) firstDiff++;
    problems.push(`partition ${p}: ${gv.length} committed records, want ${wv.length}; ${dup.length} values duplicated `
      + `(e.g. ${dup.slice(0, 3).map(([v, c]) => `${v} x${c}`).join(', ')}), ${missing.length} missing (e.g. ${missing.slice(0, 3).join(', ')}), `
      + `${foreign.length} not in the input (e.g. ${foreign.slice(0, 3).join(', ')}); first difference at index ${firstDiff}: `
      + `want ${wv[firstDiff]} got ${gv[firstDiff]} (output offset ${g[firstDiff]?.offset})`);
  }
  // keys and sources, when the values match
  if (problems.length === 0) {
    for (const [p, w] of want) {
      const g = got.get(p)!;
      for (let i = 0; i < w.length; i++) {
        if (!w[i]!.key!.equals(g[i]!.key ?? Buffer.alloc(0))) problems.push(`partition ${p} index ${i}: key ${text(g[i]!.key)}, want ${text(w[i]!.key)}`);
        if (withSource && (header(g[i]!, 'in.p') !== String(p) || header(g[i]!, 'in.o') !== String(i))) {
          problems.push(`partition ${p} index ${i}: source headers in.p=${header(g[i]!, 'in.p')} in.o=${header(g[i]!, 'in.o')}, want ${p}/${i}`);
        }
        if (problems.length > 10) break;
      }
    }
  }
  assert.equal(problems.length, 0, `read_committed output is not exactly the input:\n${problems.join('\n')}`);

  // the deliberate aborts: their copies are in the log (read_uncommitted) but never committed
  assert.ok(aborts.length > 0, 'no transaction was aborted on purpose');
  assert.ok(uncommitted.length > committed.length,
    `read_uncommitted sees ${uncommitted.length} records, read_committed ${committed.length}: the aborted records should be in the log`);
  const copies = new Map<string, number>();
  for (const r of uncommitted) {
    const k = `${r.partition}/${text(r.value)}`;
    copies.set(k, (copies.get(k) ?? 0) + 1);
  }
  let abortedRecords = 0;
  const bad: string[] = [];
  for (const a of aborts) {
    for (const [ps, from] of Object.entries(a.from as Record<string, number>)) {
      const p = Number(ps);
      const to = (a.to as Record<string, number>)[ps]!;
      for (let o = from; o < to; o++) {
        abortedRecords++;
        const v = text(want.get(p)?.[o]?.value);
        const c = copies.get(`${p}/${v}`) ?? 0;
        if (c < 2 && bad.length < 5) bad.push(`${p}/${v} (input offset ${o}, aborted in txn ${a.txn}) appears ${c}x in read_uncommitted`);
      }
    }
  }
  assert.equal(bad.length, 0, `aborted copies missing from the log:\n${bad.join('\n')}`);
  return `${committed.length} records exactly once in read_committed; ${uncommitted.length} in read_uncommitted `
    + `(${aborts.length} deliberate aborts covering ${abortedRecords} records, plus any aborted by recovery)`;
}

/** compat/python/txn.py (confluent-kafka, librdkafka's transactional producer), started. */
export function pythonPipeline(python: string, bootstrap: string, input: string, o: PipelineOptions): PipelineProcess {
  const params = {
    input, output: o.output, group: o.group, txnid: o.txnid, batch: o.batch ?? 25, abort_every: o.abortEvery ?? 7,
    pause_ms: o.pauseMs ?? 0, timeout: o.timeoutSec ?? 150, ...(o.extra ? { config: o.extra } : {}),
  };
  return new PipelineProcess('python confluent-kafka txn.py', python, [join(REPO_ROOT, 'compat/python/txn.py'), bootstrap],
    JSON.stringify(params));
}
