/**
 * Consumer groups with librdkafka: confluent-kafka-python group members (compat/python/groups.py,
 * subscribe() + synchronous commit after processing) as separate processes, and kcat's balanced
 * consumer (`kcat -G group topic`).
 *
 * - three members share a 12-partition topic, no partition owned twice (each member's own view
 *   and AdminClient describe_consumer_groups agree);
 * - one is killed with SIGKILL (no LeaveGroup) and its partitions move to the other two once its
 *   session (6 s) times out;
 * - a fourth joins and the partitions are spread over three members again;
 * - every record produced is processed at least once; the committed offsets
 *   (list_consumer_group_offsets) reach the end offsets;
 * - kcat -G reads the same topic in its own group (fan-out), commits, and a second kcat run in
 *   that group resumes from the committed offsets.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { brokerSkipReason, REPO_ROOT, startCompatBroker, type CompatBroker } from '../broker.ts';
import { KCAT, PYTHON, pyCreateTopic, pyProduce, run, uniqueTopic, type Rec } from '../harness.ts';

const GROUPS_PY = join(REPO_ROOT, 'compat/python/groups.py');
const PARTITIONS = 12;
const PER_PARTITION = 20;
const WAIT_MS = 40_000;

const skip = brokerSkipReason();
let broker: CompatBroker;
let tmp: string;
before(async () => {
  if (skip) return;
  broker = await startCompatBroker();
  tmp = mkdtempSync(join(tmpdir(), 'compat-groups-'));
});
const members: PyMember[] = [];
after(async () => {
  for (const m of members) m.kill();
  await broker?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = WAIT_MS, detail?: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms${detail ? `; ${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One confluent-kafka group member as a child process, its JSON-lines output parsed live. */
class PyMember {
  readonly name: string;
  readonly proc: ChildProcess;
  owned: number[] = [];
  readonly records: Array<{ p: number; o: number; v: string }> = [];
  readonly events: Array<Record<string, any>> = [];
  exited = false;
  stderr = '';
  private readonly stopFile: string;
  private readonly exitP: Promise<void>;

  constructor(bootstrap: string, name: string, params: Record<string, unknown>) {
    this.name = name;
    this.stopFile = join(tmp, `${name}.stop`);
    this.proc = spawn(PYTHON, [GROUPS_PY, bootstrap], { stdio: ['pipe', 'pipe', 'pipe'] });
    let pending = '';
    this.proc.stdout!.on('data', (b: Buffer) => {
      pending += b.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) {
        if (!l.trim()) continue;
        const ev = JSON.parse(l) as Record<string, any>;
        if (ev.ev === 'rec') this.records.push({ p: ev.p, o: ev.o, v: ev.v });
        else this.events.push(ev);
        if (ev.ev === 'assign' || ev.ev === 'revoke' || ev.ev === 'lost') this.owned = ev.all;
      }
    });
    this.proc.stderr!.on('data', (b: Buffer) => { this.stderr += b.toString('utf8'); });
    this.exitP = new Promise((resolve) => this.proc.on('exit', () => { this.exited = true; resolve(); }));
    this.proc.stdin!.end(JSON.stringify({ name, stop_file: this.stopFile, timeout: 150, ...params }));
    members.push(this);
  }

  kill(): void {
    if (!this.exited) this.proc.kill('SIGKILL');
  }

  /** Ask for a clean stop (close(): LeaveGroup) and wait for the exit. */
  async stop(): Promise<void> {
    writeFileSync(this.stopFile, '');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exitP, new Promise((r) => { timer = setTimeout(r, 20_000); })]);
    clearTimeout(timer);
    this.kill();
  }

  errors(): Array<Record<string, any>> {
    return this.events.filter((e) => e.ev === 'error' && e.error !== '_TRANSPORT');
  }
}

interface Described { state?: string; protocol?: string; members?: Array<{ client_id: string; parts: number[] }>; offsets?: Record<string, number>; describe_error?: unknown; offsets_error?: unknown }

async function describeGroup(group: string, topic: string): Promise<Described> {
  const r = await run(PYTHON, [GROUPS_PY, broker.bootstrap, 'describe'], { input: JSON.stringify({ group, topic }), timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`describe ${group}: exit ${r.code}\n${r.stderr}`);
  return JSON.parse(r.stdout.toString('utf8').trim()) as Described;
}

function disjointCover(views: number[][]): boolean {
  const all = views.flat();
  return all.length === PARTITIONS && new Set(all).size === PARTITIONS && all.every((p) => p >= 0 && p < PARTITIONS);
}

/** Produced records "p:o" → value. */
const produced = new Map<string, string>();
let round = 0;
async function produceRound(topic: string): Promise<void> {
  round++;
  const recs: Rec[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    for (let i = 0; i < PER_PARTITION; i++) recs.push({ key: Buffer.from(`k${p}`), value: Buffer.from(`r${round}-p${p}-${i}`), headers: [], partition: p });
  }
  const { deliveries, done } = await pyProduce(broker.bootstrap, topic, recs, { acks: 'all', 'enable.idempotence': false, retries: 0 });
  assert.equal(done.ok, recs.length, JSON.stringify(deliveries.find((d) => d.error)));
  for (const d of deliveries) produced.set(`${d.p}:${d.o}`, recs[d.i]!.value!.toString());
}

function missing(consumed: Iterable<{ p: number; o: number; v: string }>): string[] {
  const seen = new Map<string, string>();
  for (const r of consumed) seen.set(`${r.p}:${r.o}`, r.v);
  const miss: string[] = [];
  for (const [k, v] of produced) {
    const got = seen.get(k);
    if (got === undefined) miss.push(k);
    else assert.equal(got, v, `record ${k}`);
  }
  return miss;
}

const T = { skip, timeout: 150_000 };

test('confluent-kafka group: share 12 partitions, SIGKILL one, a fourth joins, commits reach the end', T, async () => {
  const topic = uniqueTopic('groups-py');
  const group = `${topic}-g`;
  await pyCreateTopic(broker.bootstrap, topic, PARTITIONS);
  await produceRound(topic);
  const params = { topic, group, session_timeout_ms: 6000, heartbeat_interval_ms: 500 };
  const allRecords = () => members.flatMap((m) => m.records);
  const views = (ms: PyMember[]) => JSON.stringify(ms.map((m) => [m.name, m.owned]));

  const [a, b, c] = ['py1', 'py2', 'py3'].map((n) => new PyMember(broker.bootstrap, n, params)) as [PyMember, PyMember, PyMember];
  await until('three members own disjoint partitions covering the topic', () => disjointCover([a.owned, b.owned, c.owned]) && [a, b, c].every((m) => m.owned.length === 4), WAIT_MS, () => views([a, b, c]));
  const d1 = await until('DescribeGroups: Stable with three members', async () => {
    const d = await describeGroup(group, topic);
    return d.state === 'STABLE' && d.members?.length === 3 && disjointCover(d.members.map((m) => m.parts)) ? d : undefined;
  });
  assert.deepEqual(d1.members!.map((m) => m.client_id), ['py1', 'py2', 'py3']);
  for (const m of d1.members!) assert.deepEqual(m.parts, [a, b, c].find((x) => x.name === m.client_id)!.owned, 'broker and member agree');
  await until('all records of round 1 processed', () => missing(allRecords()).length === 0, WAIT_MS, () => `missing ${missing(allRecords()).slice(0, 10)}`);

  // crash: SIGKILL, no LeaveGroup; the broker must notice by the session timeout
  const lost = [...c.owned];
  c.kill();
  await produceRound(topic);
  await until('two survivors own all 12 partitions', () => disjointCover([a.owned, b.owned]), WAIT_MS, () => views([a, b]));
  for (const p of lost) assert.ok(a.owned.includes(p) || b.owned.includes(p), `partition ${p} moved`);
  await until('all records of rounds 1-2 processed', () => missing(allRecords()).length === 0, WAIT_MS, () => `missing ${missing(allRecords()).slice(0, 10)}`);

  // a fourth member joins
  const d = new PyMember(broker.bootstrap, 'py4', params);
  await until('three live members own disjoint partitions again', () => disjointCover([a.owned, b.owned, d.owned]) && [a, b, d].every((m) => m.owned.length === 4), WAIT_MS, () => views([a, b, d]));
  await produceRound(topic);
  await until('all records processed', () => missing(allRecords()).length === 0, WAIT_MS, () => `missing ${missing(allRecords()).slice(0, 10)}`);

  const end = round * PER_PARTITION;
  await until('committed offsets reach the end offsets', async () => {
    const o = (await describeGroup(group, topic)).offsets ?? {};
    return Object.keys(o).length === PARTITIONS && Object.values(o).every((x) => x === end);
  }, WAIT_MS);
  for (const m of [a, b, d]) assert.deepEqual(m.errors(), [], `${m.name} errors`);
  for (const m of [a, b, d]) await m.stop();
  const empty = await until('group Empty after clean stops', async () => {
    const x = await describeGroup(group, topic);
    return x.state === 'EMPTY' ? x : undefined;
  });
  assert.equal(Object.values(empty.offsets ?? {}).filter((x) => x === end).length, PARTITIONS, 'offsets kept while Empty');

  // kcat's balanced consumer in its own group (fan-out): all records, then a resume
  const kgroup = `${topic}-kcat`;
  const kcatGroup = async () => {
    const args = ['-b', broker.bootstrap, '-G', kgroup, '-e', '-f', '%p %o %s\n', '-X', 'auto.offset.reset=earliest',
      '-X', 'session.timeout.ms=6000', '-X', 'heartbeat.interval.ms=500', topic];
    const r = await run(KCAT, args, { timeoutMs: 60_000 });
    assert.ok(r.code === 0 && !r.timedOut, `kcat -G exited ${r.code} (timed out: ${r.timedOut})\n${r.stderr}`);
    return r.stdout.toString('utf8').split('\n').filter(Boolean).map((l) => {
      const [p, o, ...v] = l.split(' ');
      return { p: Number(p), o: Number(o), v: v.join(' ') };
    });
  };
  const first = await kcatGroup();
  assert.deepEqual(missing(first), [], 'kcat -G read every record');
  assert.equal(first.length, produced.size, 'kcat -G read each record once');
  await until('kcat group committed its offsets', async () => {
    const o = (await describeGroup(kgroup, topic)).offsets ?? {};
    return Object.values(o).filter((x) => x === end).length === PARTITIONS;
  }, 20_000);
  const pyGroup = (await describeGroup(group, topic)).offsets ?? {};
  assert.equal(Object.values(pyGroup).filter((x) => x === end).length, PARTITIONS, 'the python group is unaffected');
  await produceRound(topic);
  const second = await kcatGroup();
  assert.equal(second.length, PARTITIONS * PER_PARTITION, 'the second kcat run reads only the new records');
  for (const r of second) assert.ok(r.o >= end, `kcat resumed at the committed offset: ${r.p}:${r.o}`);
  assert.equal(existsSync(GROUPS_PY), true);
});
