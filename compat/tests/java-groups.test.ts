/**
 * Consumer groups with the Apache Kafka Java consumer (classic protocol, `group.protocol=classic`),
 * each member a separate JVM running the harness's `group` scenario (compat/java: subscribe(),
 * enable.auto.commit=false, commitSync after processing each polled batch):
 *
 * - kafka-clients 4.4.0 with cooperative-sticky and with range, and 3.9.2 with cooperative-sticky:
 *   three members share a
 *   12-partition topic with no partition owned twice (the members' own views and the AdminClient's
 *   describeConsumerGroups agree, and sampled every 100 ms no two live members own the same
 *   partition); one is killed with SIGKILL (no LeaveGroup) and its partitions move to the two
 *   others once its session (6 s) times out; a fourth joins and the partitions are
 *   spread over three members again; every record produced is processed at least once, none is
 *   skipped (per partition the processed offsets cover 0..end), and the committed offsets
 *   (listConsumerGroupOffsets) reach the end offsets; after clean stops (SIGTERM → close() →
 *   LeaveGroup) the group is Empty and keeps its offsets.
 * - kafka-clients 3.9.2 (its default assignors, range + cooperative-sticky): two members join,
 *   consume and commit, stop; a new member resumes from the committed offsets.
 *
 * The in-process Tributary runs with group.initial.rebalance.delay.ms=0; start an external Kafka
 * with `--config group.initial.rebalance.delay.ms=0` (otherwise each new group waits 3 s more).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { brokerSkipReason, startCompatBroker, type CompatBroker } from '../broker.ts';
import { uniqueTopic, type Rec } from '../harness.ts';
import { JAVA_CLIENT_VERSIONS, javaClient, type CliClient, type DescribedGroup, type GroupMember, type GroupRecord } from '../java/client.ts';
import { PRODUCE_DEFAULTS } from '../java/scenarios.ts';

const PARTITIONS = 12;
const PER_PARTITION = 10;
const SESSION_MS = 6000;
const WAIT_MS = 30_000;
const FULL = '4.4.0';
const SHORT = '3.9.2';

const skip = brokerSkipReason();
let broker: CompatBroker;
const java = new Map<string, CliClient>();
const members: GroupMember[] = [];

before(async () => {
  if (skip) return;
  broker = await startCompatBroker({ config: { 'group.initial.rebalance.delay.ms': '0' } });
  for (const v of new Set([FULL, SHORT].filter((v) => JAVA_CLIENT_VERSIONS.includes(v)))) java.set(v, await javaClient(v));
});
after(async () => {
  for (const m of members) m.kill();
  await broker?.close();
});

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = WAIT_MS,
  detail?: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms${detail ? `; ${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function disjointCover(views: number[][]): boolean {
  const all = views.flat();
  return all.length === PARTITIONS && new Set(all).size === PARTITIONS && all.every((p) => p >= 0 && p < PARTITIONS);
}

/**
 * Watches the live members' own views every 100 ms and records a partition that two of them own
 * in two consecutive samples (one sample may catch a revoke and an assign printed by two
 * processes in the same instant, in either order). A SIGKILLed member stops counting at once.
 */
class OwnershipMonitor {
  readonly violations: string[] = [];
  #prev = new Set<string>();
  readonly #timer: NodeJS.Timeout;

  constructor(members: () => GroupMember[]) {
    this.#timer = setInterval(() => {
      const now = new Set<string>();
      const owner = new Map<number, string>();
      for (const m of members()) {
        if (m.exited || m.proc.killed) continue;
        for (const p of m.owned) {
          const other = owner.get(p);
          if (other !== undefined) now.add(`${p}:${other}+${m.name}`);
          else owner.set(p, m.name);
        }
      }
      for (const v of now) if (this.#prev.has(v) && !this.violations.includes(v)) this.violations.push(v);
      this.#prev = now;
    }, 100);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

const balanced = (ms: GroupMember[]) => disjointCover(ms.map((m) => m.owned))
  && ms.every((m) => m.owned.length === PARTITIONS / ms.length);

/** One scenario's topic, what was produced to it ("p:o" → value) and its members. */
class Run {
  readonly topic: string;
  readonly group: string;
  readonly produced = new Map<string, string>();
  readonly members: GroupMember[] = [];
  round = 0;
  readonly #client: CliClient;
  readonly #options: Record<string, string | number>;

  constructor(client: CliClient, prefix: string, options: Record<string, string | number>) {
    this.#client = client;
    this.topic = uniqueTopic(prefix);
    this.group = `${this.topic}-g`;
    this.#options = options;
  }

  async create(): Promise<void> {
    await this.#client.create(broker.bootstrap, this.topic, PARTITIONS);
  }

  /** PER_PARTITION records to every partition, acks=all; remembers their offsets. */
  async produceRound(): Promise<void> {
    this.round++;
    const recs: Rec[] = [];
    for (let p = 0; p < PARTITIONS; p++) {
      for (let i = 0; i < PER_PARTITION; i++) {
        recs.push({ key: Buffer.from(`k${p}`), value: Buffer.from(`r${this.round}-p${p}-${i}`), headers: [], partition: p });
      }
    }
    const { deliveries, done } = await this.#client.produce(broker.bootstrap, this.topic, recs, PRODUCE_DEFAULTS);
    assert.equal(done.ok, recs.length, JSON.stringify(deliveries.find((d) => d.error)));
    for (const d of deliveries) this.produced.set(`${d.p}:${d.o}`, recs[d.i]!.value!.toString());
  }

  member(name: string, extra: Record<string, string | number> = {}): GroupMember {
    const m = this.#client.groupMember(broker.bootstrap, this.topic,
      { group: this.group, name, 'session.timeout.ms': SESSION_MS, 'heartbeat.interval.ms': 1000, ...this.#options, ...extra });
    this.members.push(m);
    members.push(m);
    return m;
  }

  records(): GroupRecord[] {
    return this.members.flatMap((m) => m.records);
  }

  /** Produced records not processed by any member; checks the values of those that were. */
  missing(consumed: GroupRecord[] = this.records()): string[] {
    const seen = new Map<string, string>();
    for (const r of consumed) seen.set(`${r.p}:${r.o}`, r.v);
    const miss: string[] = [];
    for (const [k, v] of this.produced) {
      const got = seen.get(k);
      if (got === undefined) miss.push(k);
      else assert.equal(got, v, `record ${k}`);
    }
    return miss;
  }

  async allProcessed(): Promise<void> {
    await until(`all ${this.produced.size} records processed`, () => this.missing().length === 0, WAIT_MS,
      () => `missing ${this.missing().slice(0, 10)}; ${this.views()}`);
  }

  /** Per partition, the processed offsets form 0..end-1 with no gap (nothing skipped). */
  noneSkipped(): void {
    const end = this.round * PER_PARTITION;
    for (let p = 0; p < PARTITIONS; p++) {
      const offs = new Set(this.records().filter((r) => r.p === p).map((r) => r.o));
      for (let o = 0; o < end; o++) assert.ok(offs.has(o), `partition ${p} offset ${o} processed`);
      assert.ok([...offs].every((o) => o < end), `partition ${p}: no offset past the end`);
    }
  }

  last: DescribedGroup | undefined;
  async describe(): Promise<DescribedGroup> {
    this.last = await this.#client.describeGroup(broker.bootstrap, this.topic, this.group);
    return this.last;
  }

  views(ms: GroupMember[] = this.members): string {
    return ms.map((m) => m.describe()).join('\n');
  }
}

const T = { skip, timeout: 120_000 };

// The full scenario for 4.4.0 with both assignors, and for 3.9.2 with cooperative-sticky.
const FULL_RUNS = [[FULL, 'cooperative-sticky'], [FULL, 'range'], [SHORT, 'cooperative-sticky']] as const;
for (const [version, assignor] of FULL_RUNS) {
  test(`java ${version} classic group (${assignor}): 3 members share 12 partitions, SIGKILL one, a fourth joins, nothing skipped, commits reach the end`,
    { ...T, skip: skip ?? (JAVA_CLIENT_VERSIONS.includes(version) ? undefined : `COMPAT_JAVA_CLIENTS excludes ${version}`) }, async () => {
      const run = new Run(java.get(version)!, `java-group-${version}-${assignor}`, { assignor });
      await run.create();
      await run.produceRound();

      const [a, b, c] = ['j1', 'j2', 'j3'].map((n) => run.member(n)) as [GroupMember, GroupMember, GroupMember];
      const monitor = new OwnershipMonitor(() => run.members);
      const t0 = Date.now();
      await until('three members own 4 disjoint partitions each', () => balanced([a, b, c]), WAIT_MS, () => run.views());
      const joinMs = Date.now() - t0;
      const d1 = await until('describeConsumerGroups: Stable with three members', async () => {
        const d = await run.describe();
        return d.state === 'STABLE' && d.members?.length === 3 && disjointCover(d.members.map((m) => m.parts)) ? d : undefined;
      }, WAIT_MS, () => JSON.stringify(run.last));
      assert.equal(d1.assignor, assignor);
      for (const m of d1.members!) {
        assert.deepEqual(m.parts, [a, b, c].find((x) => x.name === m.client_id)!.owned, `broker and ${m.client_id} agree`);
      }
      await run.allProcessed();

      // crash: SIGKILL, no LeaveGroup; the coordinator must expire the session
      const lost = [...c.owned];
      c.kill();
      const t1 = Date.now();
      await run.produceRound();
      await until('the two survivors own all 12 partitions', () => disjointCover([a.owned, b.owned]), SESSION_MS + 15_000, () => run.views([a, b]));
      const moveMs = Date.now() - t1;
      for (const p of lost) assert.ok(a.owned.includes(p) || b.owned.includes(p), `partition ${p} moved`);
      if (assignor === 'cooperative-sticky') {
        // sticky: the survivors keep what they had
        const [a0, b0] = d1.members!.filter((m) => m.client_id !== 'j3').map((m) => m.parts);
        for (const p of a0!) assert.ok(a.owned.includes(p), `j1 kept ${p}`);
        for (const p of b0!) assert.ok(b.owned.includes(p), `j2 kept ${p}`);
      }
      assert.ok(moveMs < SESSION_MS + 8000, `partitions moved ${moveMs} ms after the kill (session ${SESSION_MS} ms)`);
      await run.allProcessed();

      // a fourth member joins
      const d = run.member('j4');
      const t2 = Date.now();
      await until('three live members own 4 disjoint partitions each again', () => balanced([a, b, d]), WAIT_MS, () => run.views([a, b, d]));
      const rejoinMs = Date.now() - t2;
      const d2 = await until('describeConsumerGroups: Stable with j1, j2, j4', async () => {
        const x = await run.describe();
        return x.state === 'STABLE' && x.members?.length === 3 && disjointCover(x.members.map((m) => m.parts)) ? x : undefined;
      }, WAIT_MS, () => JSON.stringify(run.last));
      assert.deepEqual(d2.members!.map((m) => m.client_id), ['j1', 'j2', 'j4']);
      await run.produceRound();
      await run.allProcessed();
      run.noneSkipped();

      const end = run.round * PER_PARTITION;
      await until('committed offsets reach the end offsets', async () => {
        const o = (await run.describe()).offsets ?? {};
        return Object.keys(o).length === PARTITIONS && Object.values(o).every((x) => x === end);
      }, WAIT_MS, () => JSON.stringify(run.last));
      for (const m of [a, b, d]) {
        // a commit refused mid-rebalance is allowed (at-least-once); any other error is not
        const errs = m.errors().filter((e) => !(e.ev === 'commit_error' && /RebalanceInProgress|CommitFailed/.test(e.error)));
        assert.deepEqual(errs, [], `${m.name} errors`);
      }
      monitor.stop();
      assert.deepEqual(monitor.violations, [], 'no partition owned by two live members at once (partition:members)');
      await Promise.all([a, b, d].map((m) => m.stop()));
      for (const m of [a, b, d]) assert.equal(m.done?.stopped, 'signal', `${m.name} closed cleanly: ${m.describe()}`);
      const empty = await until('group Empty after clean stops (LeaveGroup)', async () => {
        const x = await run.describe();
        return x.state === 'EMPTY' ? x : undefined;
      }, 15_000, () => JSON.stringify(run.last));
      assert.deepEqual(empty.members, []);
      assert.equal(Object.values(empty.offsets ?? {}).filter((x) => x === end).length, PARTITIONS, 'offsets kept while Empty');
      console.error(`# java ${version} ${assignor}: joined in ${joinMs} ms, partitions moved ${moveMs} ms after SIGKILL, `
        + `rebalanced ${rejoinMs} ms after a fourth joined; ${run.records().length} records processed for ${run.produced.size} produced`);
    });
}

test(`java ${SHORT} classic group (default assignors): two members consume and commit; a new member resumes from the committed offsets`,
  { ...T, skip: skip ?? (JAVA_CLIENT_VERSIONS.includes(SHORT) ? undefined : `COMPAT_JAVA_CLIENTS excludes ${SHORT}`) }, async () => {
    const run = new Run(java.get(SHORT)!, 'java-group-392', {});
    await run.create();
    await run.produceRound();
    const [a, b] = ['s1', 's2'].map((n) => run.member(n)) as [GroupMember, GroupMember];
    await until('two members own 6 disjoint partitions each', () => balanced([a, b]), WAIT_MS, () => run.views());
    await run.allProcessed();
    const end1 = run.round * PER_PARTITION;
    await until('committed offsets reach the end offsets', async () => {
      const o = (await run.describe()).offsets ?? {};
      return Object.keys(o).length === PARTITIONS && Object.values(o).every((x) => x === end1);
    }, WAIT_MS, () => JSON.stringify(run.last));
    const d = await run.describe();
    assert.equal(d.state, 'STABLE');
    assert.equal(d.assignor, 'range', 'the first protocol both members list');
    await Promise.all([a, b].map((m) => m.stop()));
    for (const m of [a, b]) assert.equal(m.done?.stopped, 'signal', m.describe());

    await run.produceRound();
    const c = run.member('s3', { idle: 3 });
    await c.exit(WAIT_MS);
    assert.equal(c.done?.stopped, 'idle', c.describe());
    assert.deepEqual(c.owned, [], 'close() revoked everything');
    assert.equal(c.records.length, PARTITIONS * PER_PARTITION, `only the new records: ${c.describe()}`);
    for (const r of c.records) assert.ok(r.o >= end1, `resumed at the committed offset: ${r.p}:${r.o}`);
    assert.deepEqual(run.missing(), []);
    run.noneSkipped();
    const o = (await run.describe()).offsets ?? {};
    assert.deepEqual(Object.values(o), Array(PARTITIONS).fill(run.round * PER_PARTITION));
    for (const m of [a, b, c]) assert.deepEqual(m.errors(), [], `${m.name} errors`);
  });
