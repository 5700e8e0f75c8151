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
 * The same with librdkafka's cooperative-sticky assignor (incremental rebalances: a member keeps
 * what it owned), with static membership (group.instance.id: a member killed and restarted
 * within its session gets its partitions back without a rebalance), and with the KIP-848
 * consumer protocol (`group.protocol=consumer`: ConsumerGroupHeartbeat, server-side assignor;
 * DescribeGroups via ConsumerGroupDescribe).
 *
 * Validated on Kafka 4.3.1 started with
 *   compat/kafka/start-kafka.sh --config group.initial.rebalance.delay.ms=0 \
 *     --config group.consumer.session.timeout.ms=6000 --config group.consumer.min.session.timeout.ms=6000 \
 *     --config group.consumer.heartbeat.interval.ms=500 --config group.consumer.min.heartbeat.interval.ms=500
 * and KIP848_SHORT_SESSION=1.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { brokerSkipReason, REPO_ROOT, startCompatBroker, type CompatBroker } from '../broker.ts';
import { KCAT, PYTHON, pyCreateTopic, pyProduce, run, uniqueTopic, type Rec } from '../harness.ts';
import { JsonLinesProcess } from '../json-lines-process.ts';

const GROUPS_PY = join(REPO_ROOT, 'compat/python/groups.py');
const PARTITIONS = 12;
const PER_PARTITION = 20;
const WAIT_MS = 40_000;

const skip = brokerSkipReason();
let broker: CompatBroker;
let tmp: string;
before(async () => {
  if (skip) return;
  // in-process Tributary: no initial rebalance delay, and short KIP-848 sessions so a killed
  // consumer-protocol member is noticed in seconds (Kafka: see KIP848_SHORT_SESSION below)
  broker = await startCompatBroker({ config: {
    'group.initial.rebalance.delay.ms': '0',
    'group.consumer.session.timeout.ms': '6000',
    'group.consumer.heartbeat.interval.ms': '500',
  } });
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
class PyMember extends JsonLinesProcess {
  owned: number[] = [];
  readonly records: Array<{ p: number; o: number; v: string }> = [];
  readonly events: Array<Record<string, any>> = [];
  stopping = false;
  private readonly stopFile: string;

  constructor(bootstrap: string, name: string, params: Record<string, unknown>) {
    const stopFile = join(tmp, `${name}.stop`);
    super(name, PYTHON, [GROUPS_PY, bootstrap], JSON.stringify({ name, stop_file: stopFile, timeout: 150, ...params }));
    this.stopFile = stopFile;
    members.push(this);
  }

  protected onLine(ev: Record<string, any>): void {
    if (ev.ev === 'rec') this.records.push({ p: ev.p, o: ev.o, v: ev.v });
    else this.events.push(ev);
    if (ev.ev === 'assign' || ev.ev === 'revoke' || ev.ev === 'lost') this.owned = ev.all;
  }

  override kill(): void {
    this.stopping = true;
    super.kill();
  }

  /** Ask for a clean stop (close(): LeaveGroup) and wait for the exit. */
  async stop(): Promise<void> {
    this.stopping = true;
    writeFileSync(this.stopFile, '');
    await this.exit(20_000);
  }

  errors(): Array<Record<string, any>> {
    // transport errors (a connection closed by the broker) are routine and retried; a commit
    // that races a rebalance may fail (commit_error events): at-least-once redelivers
    return this.events.filter((e) => (e.ev === 'error' && !['_TRANSPORT', '_ALL_BROKERS_DOWN'].includes(e.error)));
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

/** Produced records "p:o" → value (per topic: each scenario has its own). */
let produced = new Map<string, string>();
let round = 0;
function newTopicState(): void {
  produced = new Map();
  round = 0;
}
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

function views(ms: PyMember[]): string {
  return JSON.stringify(ms.map((m) => [m.name, m.owned, m.errors()]));
}

/** Fail fast when a member reports a broker/client error instead of waiting for the timeout. */
function noErrors(ms: PyMember[]): void {
  for (const m of ms) {
    const e = m.errors();
    if (e.length) throw new Error(`${m.name} reported ${JSON.stringify(e)}\n${m.stderr.slice(-2000)}`);
    if (m.exited && !m.stopping) throw new Error(`${m.name} exited\n${m.stderr.slice(-2000)}`);
  }
}

async function waitShared(ms: PyMember[], why: string, each?: number): Promise<void> {
  await until(`${why}: ${ms.length} members own disjoint partitions covering the topic`, () => {
    noErrors(ms);
    return disjointCover(ms.map((m) => m.owned)) && ms.every((m) => (each === undefined ? m.owned.length > 0 : m.owned.length === each));
  }, WAIT_MS, () => views(ms));
}

async function waitProcessed(why: string): Promise<void> {
  const all = () => members.flatMap((m) => m.records);
  await until(`${why}: all records processed`, () => missing(all()).length === 0, WAIT_MS, () => `missing ${missing(all()).slice(0, 10)}`);
}

async function waitCommittedEnd(group: string, topic: string, why: string): Promise<void> {
  const end = round * PER_PARTITION;
  let last = '';
  await until(`${why}: committed offsets reach ${end}`, async () => {
    const o = (await describeGroup(group, topic)).offsets ?? {};
    last = JSON.stringify(o);
    return Object.keys(o).length === PARTITIONS && Object.values(o).every((x) => x === end);
  }, WAIT_MS, () => last);
}

async function waitDescribed(group: string, topic: string, live: PyMember[], why: string): Promise<Described> {
  let last = '';
  const d = await until(`${why}: DescribeGroups Stable with ${live.map((m) => m.name)}`, async () => {
    const x = await describeGroup(group, topic);
    last = JSON.stringify(x);
    return x.state === 'STABLE' && x.members?.length === live.length && disjointCover(x.members.map((m) => m.parts)) ? x : undefined;
  }, WAIT_MS, () => last);
  assert.deepEqual(d.members!.map((m) => m.client_id), live.map((m) => m.name).sort());
  for (const m of d.members!) assert.deepEqual(m.parts, live.find((x) => x.name === m.client_id)!.owned, 'broker and member agree');
  return d;
}

test('confluent-kafka group (range): share 12 partitions, SIGKILL one, a fourth joins, commits; kcat -G fan-out and resume', T, async () => {
  newTopicState();
  const topic = uniqueTopic('groups-py');
  const group = `${topic}-g`;
  await pyCreateTopic(broker.bootstrap, topic, PARTITIONS);
  await produceRound(topic);
  const params = { topic, group, session_timeout_ms: 6000, heartbeat_interval_ms: 500 };

  const [a, b, c] = ['py1', 'py2', 'py3'].map((n) => new PyMember(broker.bootstrap, n, params)) as [PyMember, PyMember, PyMember];
  await waitShared([a, b, c], 'start', 4);
  await waitDescribed(group, topic, [a, b, c], 'start');
  await waitProcessed('round 1');

  // crash: SIGKILL, no LeaveGroup; the broker must notice by the session timeout
  const lost = [...c.owned];
  c.kill();
  await produceRound(topic);
  await waitShared([a, b], 'after SIGKILL', 6);
  for (const p of lost) assert.ok(a.owned.includes(p) || b.owned.includes(p), `partition ${p} moved`);
  await waitProcessed('rounds 1-2');

  const d = new PyMember(broker.bootstrap, 'py4', params);
  await waitShared([a, b, d], 'fourth joined', 4);
  await waitDescribed(group, topic, [a, b, d], 'fourth joined');
  await produceRound(topic);
  await waitProcessed('rounds 1-3');
  await waitCommittedEnd(group, topic, 'python group');
  for (const m of [a, b, d]) await m.stop();
  const end = round * PER_PARTITION;
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
});

test('confluent-kafka group (cooperative-sticky): SIGKILL one, a fourth joins; members keep what they owned', T, async () => {
  newTopicState();
  const topic = uniqueTopic('groups-coop');
  const group = `${topic}-g`;
  await pyCreateTopic(broker.bootstrap, topic, PARTITIONS);
  await produceRound(topic);
  const params = { topic, group, session_timeout_ms: 6000, heartbeat_interval_ms: 500, assignor: 'cooperative-sticky' };
  const [a, b, c] = ['coop1', 'coop2', 'coop3'].map((n) => new PyMember(broker.bootstrap, n, params)) as [PyMember, PyMember, PyMember];
  await waitShared([a, b, c], 'start', 4);
  await waitDescribed(group, topic, [a, b, c], 'start');
  await waitProcessed('round 1');
  const beforeKill = new Map([a, b].map((m) => [m.name, [...m.owned]]));
  c.kill();
  await produceRound(topic);
  await waitShared([a, b], 'after SIGKILL', 6);
  for (const m of [a, b]) for (const p of beforeKill.get(m.name)!) assert.ok(m.owned.includes(p), `${m.name} kept ${p}: ${views([a, b])}`);
  const beforeJoin = new Map([a, b].map((m) => [m.name, [...m.owned]]));
  const d = new PyMember(broker.bootstrap, 'coop4', params);
  await waitShared([a, b, d], 'fourth joined', 4);
  for (const m of [a, b]) for (const p of m.owned) assert.ok(beforeJoin.get(m.name)!.includes(p), `${m.name} got only partitions it had: ${views([a, b, d])}`);
  await produceRound(topic);
  await waitProcessed('all rounds');
  await waitCommittedEnd(group, topic, 'cooperative group');
  for (const m of [a, b, d]) await m.stop();
});

test('confluent-kafka static members (group.instance.id): a member killed and restarted within its session gets its partitions back', T, async () => {
  newTopicState();
  const topic = uniqueTopic('groups-static');
  const group = `${topic}-g`;
  await pyCreateTopic(broker.bootstrap, topic, PARTITIONS);
  await produceRound(topic);
  const params = (n: string) => ({ topic, group, session_timeout_ms: 15000, heartbeat_interval_ms: 500, instance_id: `static-${n}` });
  const [a, b, c] = ['st1', 'st2', 'st3'].map((n) => new PyMember(broker.bootstrap, n, params(n))) as [PyMember, PyMember, PyMember];
  await waitShared([a, b, c], 'start', 4);
  await waitDescribed(group, topic, [a, b, c], 'start');
  await waitProcessed('round 1');
  const owned = new Map([a, b, c].map((m) => [m.name, [...m.owned]]));
  const eventsBefore = new Map([a, b].map((m) => [m.name, m.events.length]));
  c.kill();
  await produceRound(topic);
  // same group.instance.id, new process (new member id): the broker hands it the old assignment
  const c2 = new PyMember(broker.bootstrap, 'st3', params('st3'));
  await waitShared([a, b, c2], 'restarted static member', 4);
  assert.deepEqual(c2.owned, owned.get('st3'), 'the static member got its partitions back');
  for (const m of [a, b]) {
    assert.deepEqual(m.owned, owned.get(m.name), `${m.name} unchanged`);
    const later = m.events.slice(eventsBefore.get(m.name)).filter((e) => e.ev === 'revoke' || e.ev === 'assign' || e.ev === 'lost');
    assert.deepEqual(later, [], `${m.name} saw no rebalance`);
  }
  await waitProcessed('round 2');
  await waitCommittedEnd(group, topic, 'static group');
  for (const m of [a, b, c2]) await m.stop();
});

/** The API keys the broker advertises (ApiVersions v0 over a raw socket). */
async function advertisedApiKeys(bootstrap: string): Promise<Set<number>> {
  const [host, port] = [bootstrap.slice(0, bootstrap.lastIndexOf(':')), Number(bootstrap.slice(bootstrap.lastIndexOf(':') + 1))];
  const clientId = Buffer.from('compat-groups');
  const req = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
  req.writeInt32BE(req.length - 4, 0);
  req.writeInt16BE(18, 4); // ApiVersions
  req.writeInt16BE(0, 6);
  req.writeInt32BE(1, 8);
  req.writeInt16BE(clientId.length, 12);
  clientId.copy(req, 14);
  const res = await new Promise<Buffer>((resolve, reject) => {
    const sock = connect({ host, port }, () => sock.write(req));
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('ApiVersions timed out')); }, 10_000);
    sock.on('data', (b: Buffer) => {
      buf = Buffer.concat([buf, b]);
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(buf.subarray(4, 4 + buf.readInt32BE(0)));
      }
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
  const keys = new Set<number>();
  const n = res.readInt32BE(6); // after correlation id (4) and error code (2)
  for (let i = 0; i < n; i++) keys.add(res.readInt16BE(10 + i * 6));
  return keys;
}

const externalBroker = Boolean(process.env.BOOTSTRAP_SERVERS?.trim());
/**
 * Whether KIP-848 sessions are short (6 s): always for the in-process broker (configured above);
 * for an external one set KIP848_SHORT_SESSION=1 when it runs with group.consumer.session.timeout.ms
 * and group.consumer.min.session.timeout.ms at 6000 (and the heartbeat interval and its minimum at
 * 500); otherwise (Kafka's default 45 s) the test stops that member cleanly instead of killing it.
 */
const kip848ShortSession = !externalBroker || process.env.KIP848_SHORT_SESSION === '1';

test('confluent-kafka KIP-848 consumer protocol (group.protocol=consumer): share, SIGKILL one, a fourth joins, commits', T, async () => {
  const keys = await advertisedApiKeys(broker.bootstrap);
  assert.ok(keys.has(68), 'the broker advertises ConsumerGroupHeartbeat (API 68) in ApiVersions');
  newTopicState();
  const topic = uniqueTopic('groups-848');
  const group = `${topic}-g`;
  await pyCreateTopic(broker.bootstrap, topic, PARTITIONS);
  await produceRound(topic);
  const params = { topic, group, protocol: 'consumer' };
  const [a, b, c] = ['k1', 'k2', 'k3'].map((n) => new PyMember(broker.bootstrap, n, params)) as [PyMember, PyMember, PyMember];
  await waitShared([a, b, c], 'start', 4);
  await waitDescribed(group, topic, [a, b, c], 'start');
  await waitProcessed('round 1');
  const lost = [...c.owned];
  if (kip848ShortSession) c.kill(); // no leave heartbeat: the broker notices by the session timeout
  else await c.stop(); // leaves (heartbeat with member epoch -1)
  await produceRound(topic);
  await waitShared([a, b], 'after one is gone', 6);
  for (const p of lost) assert.ok(a.owned.includes(p) || b.owned.includes(p), `partition ${p} moved`);
  const d = new PyMember(broker.bootstrap, 'k4', params);
  await waitShared([a, b, d], 'fourth joined', 4);
  await waitDescribed(group, topic, [a, b, d], 'fourth joined');
  await produceRound(topic);
  await waitProcessed('all rounds');
  await waitCommittedEnd(group, topic, 'KIP-848 group');
  for (const m of [a, b, d]) await m.stop();
});
