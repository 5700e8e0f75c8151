/**
 * KIP-848 consumer groups with the Apache Kafka Java consumer 4.4.0 and `group.protocol=consumer`
 * (ConsumerGroupHeartbeat, server-side `uniform` assignor), each member a separate JVM running
 * the harness's `group` scenario (compat/java: subscribe(), enable.auto.commit=false, commitSync
 * after processing each polled batch):
 *
 * three members share a 12-partition topic with no partition owned twice (the members' own views
 * and the AdminClient's describeConsumerGroups agree, and sampled every 100 ms no two live members
 * own the same partition); one is killed with SIGKILL (no leave heartbeat) and its partitions move
 * to the two others once its session (10 s) times out; a fourth joins and each live member owns 4
 * again; every record produced is processed at least once, none is skipped (per partition the
 * processed offsets cover 0..end), the committed offsets reach the end; after clean stops (close()
 * → leave with epoch -1) the group is Empty and keeps its offsets. With
 * `group.remote.assignor=range`: two members each own a contiguous block of 6, consume and commit
 * (describeConsumerGroups: Stable, assignor range), stop; a new member resumes from the committed
 * offsets. About 30 s (against Kafka 4.3.1 too).
 *
 * The in-process Tributary runs with group.consumer.session.timeout.ms=10000 and
 * group.consumer.heartbeat.interval.ms=1000. Start an external Kafka with
 *   --config group.initial.rebalance.delay.ms=0 --config group.consumer.session.timeout.ms=10000
 *   --config group.consumer.min.session.timeout.ms=5000 --config group.consumer.heartbeat.interval.ms=1000
 *   --config group.consumer.min.heartbeat.interval.ms=500
 * (Kafka's default minimum session timeout is 45 s).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { brokerSkipReason, startCompatBroker, type CompatBroker } from '../broker.ts';
import { uniqueTopic, type Rec } from '../harness.ts';
import { JAVA_CLIENT_VERSIONS, javaClient, type CliClient, type DescribedGroup, type GroupMember, type GroupRecord } from '../java/client.ts';
import { PRODUCE_DEFAULTS } from '../java/scenarios.ts';

const PARTITIONS = 12;
const PER_PARTITION = 10;
const SESSION_MS = 10_000;
const WAIT_MS = 30_000;
const VERSION = '4.4.0';

const skip = brokerSkipReason() ?? (JAVA_CLIENT_VERSIONS.includes(VERSION) ? undefined : `COMPAT_JAVA_CLIENTS excludes ${VERSION}`);
let broker: CompatBroker;
let java: CliClient;
const members: GroupMember[] = [];

before(async () => {
  if (skip) return;
  broker = await startCompatBroker({
    config: {
      'group.initial.rebalance.delay.ms': '0',
      'group.consumer.session.timeout.ms': String(SESSION_MS),
      'group.consumer.heartbeat.interval.ms': '1000',
    },
  });
  java = await javaClient(VERSION);
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

const balanced = (ms: GroupMember[]) => disjointCover(ms.map((m) => m.owned))
  && ms.every((m) => m.owned.length === PARTITIONS / ms.length);

/**
 * Watches the live members' own views every 100 ms and records a partition that two of them own
 * in two consecutive samples (one sample may catch a revoke and an assign printed by two
 * processes in the same instant). A SIGKILLed member stops counting at once.
 */
class OwnershipMonitor {
  readonly violations: string[] = [];
  #prev = new Set<string>();
  readonly #timer: NodeJS.Timeout;

  constructor(live: () => GroupMember[]) {
    this.#timer = setInterval(() => {
      const now = new Set<string>();
      const owner = new Map<number, string>();
      for (const m of live()) {
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

test(`java ${VERSION} group.protocol=consumer: 3 members share 12 partitions, SIGKILL one, a fourth joins, nothing skipped, commits reach the end`,
  { skip, timeout: 120_000 }, async () => {
    const topic = uniqueTopic('java-kip848');
    const group = `${topic}-g`;
    const produced = new Map<string, string>();
    const run: GroupMember[] = [];
    let round = 0;
    let last: DescribedGroup | undefined;

    await java.create(broker.bootstrap, topic, PARTITIONS);
    const produceRound = async () => {
      round++;
      const recs: Rec[] = [];
      for (let p = 0; p < PARTITIONS; p++) {
        for (let i = 0; i < PER_PARTITION; i++) {
          recs.push({ key: Buffer.from(`k${p}`), value: Buffer.from(`r${round}-p${p}-${i}`), headers: [], partition: p });
        }
      }
      const { deliveries, done } = await java.produce(broker.bootstrap, topic, recs, PRODUCE_DEFAULTS);
      assert.equal(done.ok, recs.length, JSON.stringify(deliveries.find((d) => d.error)));
      for (const d of deliveries) produced.set(`${d.p}:${d.o}`, recs[d.i]!.value!.toString());
    };
    const member = (name: string) => {
      const m = java.groupMember(broker.bootstrap, topic, { group, name, 'group.protocol': 'consumer' });
      run.push(m);
      members.push(m);
      return m;
    };
    const records = (): GroupRecord[] => run.flatMap((m) => m.records);
    const missing = (): string[] => {
      const seen = new Map<string, string>();
      for (const r of records()) seen.set(`${r.p}:${r.o}`, r.v);
      const miss: string[] = [];
      for (const [k, v] of produced) {
        const got = seen.get(k);
        if (got === undefined) miss.push(k);
        else assert.equal(got, v, `record ${k}`);
      }
      return miss;
    };
    const views = (ms: GroupMember[] = run) => ms.map((m) => m.describe()).join('\n');
    const allProcessed = () => until(`all ${produced.size} records processed`, () => missing().length === 0, WAIT_MS,
      () => `missing ${missing().slice(0, 10)}; ${views()}`);
    const describe = async () => {
      last = await java.describeGroup(broker.bootstrap, topic, group);
      return last;
    };
    const stableWith = (names: string[]) => until(`describeConsumerGroups: Stable with ${names}`, async () => {
      const d = await describe();
      return d.state === 'STABLE' && d.members?.length === names.length && disjointCover(d.members.map((m) => m.parts))
        && JSON.stringify(d.members.map((m) => m.client_id)) === JSON.stringify(names) ? d : undefined;
    }, WAIT_MS, () => JSON.stringify(last));

    await produceRound();
    const [a, b, c] = ['k1', 'k2', 'k3'].map(member) as [GroupMember, GroupMember, GroupMember];
    const monitor = new OwnershipMonitor(() => run);
    const t0 = Date.now();
    await until('three members own 4 disjoint partitions each', () => balanced([a, b, c]), WAIT_MS, () => views());
    const joinMs = Date.now() - t0;
    const d1 = await stableWith(['k1', 'k2', 'k3']);
    assert.equal(d1.assignor, 'uniform', 'the default server-side assignor');
    for (const m of d1.members!) {
      assert.deepEqual(m.parts, [a, b, c].find((x) => x.name === m.client_id)!.owned, `broker and ${m.client_id} agree`);
    }
    await allProcessed();

    // crash: SIGKILL, no leave heartbeat; the coordinator must expire the session
    const lost = [...c.owned];
    c.kill();
    const t1 = Date.now();
    await produceRound();
    await until('the two survivors own all 12 partitions', () => disjointCover([a.owned, b.owned]), SESSION_MS + 15_000, () => views([a, b]));
    const moveMs = Date.now() - t1;
    for (const p of lost) assert.ok(a.owned.includes(p) || b.owned.includes(p), `partition ${p} moved`);
    // uniform is sticky: the survivors keep what they had
    for (const [m, before] of [[a, d1.members![0]!.parts], [b, d1.members![1]!.parts]] as const) {
      for (const p of before) assert.ok(m.owned.includes(p), `${m.name} kept ${p}`);
    }
    assert.ok(moveMs < SESSION_MS + 8000, `partitions moved ${moveMs} ms after the kill (session ${SESSION_MS} ms)`);
    await allProcessed();

    // a fourth member joins
    const d = member('k4');
    const t2 = Date.now();
    await until('three live members own 4 disjoint partitions each again', () => balanced([a, b, d]), WAIT_MS, () => views([a, b, d]));
    const rejoinMs = Date.now() - t2;
    await stableWith(['k1', 'k2', 'k4']);
    await produceRound();
    await allProcessed();

    // nothing skipped: per partition the processed offsets are 0..end-1
    const end = round * PER_PARTITION;
    for (let p = 0; p < PARTITIONS; p++) {
      const offs = new Set(records().filter((r) => r.p === p).map((r) => r.o));
      for (let o = 0; o < end; o++) assert.ok(offs.has(o), `partition ${p} offset ${o} processed`);
      assert.ok([...offs].every((o) => o < end), `partition ${p}: no offset past the end`);
    }
    await until('committed offsets reach the end offsets', async () => {
      const o = (await describe()).offsets ?? {};
      return Object.keys(o).length === PARTITIONS && Object.values(o).every((x) => x === end);
    }, WAIT_MS, () => JSON.stringify(last));
    for (const m of [a, b, d]) {
      // a commit refused while the member's epoch moves on is allowed (at-least-once)
      const errs = m.errors().filter((e) => !(e.ev === 'commit_error' && /StaleMemberEpoch|CommitFailed|RebalanceInProgress/.test(e.error)));
      assert.deepEqual(errs, [], `${m.name} errors`);
    }
    monitor.stop();
    assert.deepEqual(monitor.violations, [], 'no partition owned by two live members at once (partition:members)');

    await Promise.all([a, b, d].map((m) => m.stop()));
    for (const m of [a, b, d]) assert.equal(m.done?.stopped, 'signal', `${m.name} closed cleanly: ${m.describe()}`);
    const empty = await until('group Empty after clean stops', async () => {
      const x = await describe();
      return x.state === 'EMPTY' ? x : undefined;
    }, 15_000, () => JSON.stringify(last));
    assert.deepEqual(empty.members, []);
    assert.equal(Object.values(empty.offsets ?? {}).filter((x) => x === end).length, PARTITIONS, 'offsets kept while Empty');
    console.error(`# java ${VERSION} group.protocol=consumer on ${broker.kind}: joined in ${joinMs} ms, partitions moved ${moveMs} ms `
      + `after SIGKILL, rebalanced ${rejoinMs} ms after a fourth joined; ${records().length} records processed for ${produced.size} produced`);
  });

test(`java ${VERSION} group.protocol=consumer with group.remote.assignor=range: two members consume and commit; a new member resumes from the committed offsets`,
  { skip, timeout: 90_000 }, async () => {
    const topic = uniqueTopic('java-kip848-range');
    const group = `${topic}-g`;
    await java.create(broker.bootstrap, topic, PARTITIONS);
    const produce = async (round: number) => {
      const recs: Rec[] = [];
      for (let p = 0; p < PARTITIONS; p++) {
        for (let i = 0; i < PER_PARTITION; i++) recs.push({ key: null, value: Buffer.from(`r${round}-p${p}-${i}`), headers: [], partition: p });
      }
      const { done } = await java.produce(broker.bootstrap, topic, recs, PRODUCE_DEFAULTS);
      assert.equal(done.ok, recs.length);
    };
    const member = (name: string, extra: Record<string, string | number> = {}) => {
      const m = java.groupMember(broker.bootstrap, topic, { group, name, 'group.protocol': 'consumer', 'group.remote.assignor': 'range', ...extra });
      members.push(m);
      return m;
    };
    let last: DescribedGroup | undefined;
    const describe = async () => (last = await java.describeGroup(broker.bootstrap, topic, group));

    await produce(1);
    const [a, b] = [member('r1'), member('r2')];
    await until('two members own 6 disjoint partitions each', () => balanced([a, b]), WAIT_MS, () => `${a.describe()}\n${b.describe()}`);
    // range: each member a contiguous block
    for (const m of [a, b]) assert.equal(m.owned[5]! - m.owned[0]!, 5, `${m.name} owns a range: ${m.owned}`);
    await until('all 120 records processed', () => a.records.length + b.records.length >= PARTITIONS * PER_PARTITION, WAIT_MS);
    const end1 = PER_PARTITION;
    await until('Stable, assignor range, committed offsets at the end', async () => {
      const d = await describe();
      const o = Object.values(d.offsets ?? {});
      return d.state === 'STABLE' && d.assignor === 'range' && o.length === PARTITIONS && o.every((x) => x === end1);
    }, WAIT_MS, () => JSON.stringify(last));
    await Promise.all([a, b].map((m) => m.stop()));
    for (const m of [a, b]) assert.equal(m.done?.stopped, 'signal', m.describe());

    await produce(2);
    const c = member('r3', { idle: 3 });
    await c.exit(WAIT_MS);
    assert.equal(c.done?.stopped, 'idle', c.describe());
    assert.equal(c.records.length, PARTITIONS * PER_PARTITION, `only the new records: ${c.describe()}`);
    for (const r of c.records) assert.ok(r.o >= end1, `resumed at the committed offset: ${r.p}:${r.o}`);
    const o = (await describe()).offsets ?? {};
    assert.deepEqual(Object.values(o), Array(PARTITIONS).fill(2 * PER_PARTITION));
    for (const m of [a, b, c]) assert.deepEqual(m.errors(), [], `${m.name} errors`);
  });
