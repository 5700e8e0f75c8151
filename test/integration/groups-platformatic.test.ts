/**
 * Consumer groups with @platformatic/kafka 1.35 (`Consumer.consume()` with a groupId, classic
 * protocol: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, OffsetCommit, OffsetFetch,
 * LeaveGroup) and its Admin (ListGroups, DescribeGroups, DeleteGroups, OffsetFetch).
 *
 * On a 12-partition topic: three members share the partitions with none owned twice (seen by
 * each member and by DescribeGroups); one leaves (close → LeaveGroup) and the other two take
 * over its partitions; every record is processed at least once, each committed after it is
 * processed (`message.commit()`); the group, restarted with one member, resumes from the
 * committed offsets; ListGroups/DescribeGroups show it; DeleteGroups fails with NON_EMPTY_GROUP
 * while it has members and succeeds once it is empty. With `groupProtocol: 'consumer'` (KIP-848,
 * ConsumerGroupHeartbeat): three members share the partitions, one leaves, the others take over,
 * commits reach the end, ListGroups' type filter lists the group.
 *
 * Runs against an in-process Tributary, or against BOOTSTRAP_SERVERS (e.g. Apache Kafka started
 * with `--config group.initial.rebalance.delay.ms=0`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Consumer, type Admin, type Producer } from '@platformatic/kafka';
import { startTestBroker, uniqueTopic, waitFor, type TestBroker } from '../testkit/broker.ts';
import { createAdmin, createFetcher, createProducer } from '../testkit/platformatic.ts';
import {
  assertDisjointCover, fmt, HEARTBEAT_INTERVAL_MS, isDisjointCover, Ledger, REBALANCE_TIMEOUT_MS, SESSION_TIMEOUT_MS,
} from '../testkit/groups.ts';

const PARTITIONS = 12;
const PER_PARTITION = 20;
const WAIT_MS = 30000;
const NON_EMPTY_GROUP = 68;

type Buf = Buffer;
interface Member {
  name: string;
  consumer: Consumer<Buf, Buf, Buf, Buf>;
  stream: { close(): Promise<void> } | null;
  assigned: number[];
  generation: number;
  closed: boolean;
  firstOffset: Map<number, bigint>;
  commitErrors: string[];
}

/** The (apiId, apiCode) pairs of a @platformatic/kafka error (ResponseError aggregates ProtocolErrors). */
function protocolErrors(err: unknown): Array<{ id: string; code: number }> {
  const out: Array<{ id: string; code: number }> = [];
  const visit = (e: unknown) => {
    if (!e || typeof e !== 'object') return;
    const x = e as { apiId?: string; apiCode?: number; errors?: unknown[]; cause?: unknown };
    if (typeof x.apiCode === 'number') out.push({ id: x.apiId ?? '', code: x.apiCode });
    for (const sub of x.errors ?? []) visit(sub);
    if (x.cause) visit(x.cause);
  };
  visit(err);
  return out;
}

describe('consumer groups: @platformatic/kafka', { timeout: 120000 }, () => {
  let broker: TestBroker;
  let admin: Admin;
  let producer: Producer<Buf, Buf, Buf, Buf>;
  const members: Member[] = [];
  const topic = uniqueTopic('grp-plt');
  const group = `${topic}-g`;
  const ledger = new Ledger();
  let round = 0;

  before(async () => {
    broker = await startTestBroker({ config: {
      'group.initial.rebalance.delay.ms': '0',
      // KIP-848 members: short sessions so the test below is quick (Kafka: start it with these
      // and group.consumer.min.session.timeout.ms / group.consumer.min.heartbeat.interval.ms)
      'group.consumer.session.timeout.ms': '6000',
      'group.consumer.heartbeat.interval.ms': '500',
    } });
    admin = createAdmin(broker.brokers);
    producer = createProducer(broker.brokers, { idempotent: false, retries: 0, repeatOnStaleMetadata: false });
    await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 1 });
    const fetcher = createFetcher(broker.brokers);
    try {
      await waitFor(async () => {
        await fetcher.metadata({ topics: [topic], forceUpdate: true });
        const offsets = await fetcher.listOffsets({ topics: [topic] });
        return offsets.get(topic)?.length === PARTITIONS && offsets.get(topic)!.every((o) => o >= 0n);
      }, { timeoutMs: 15000, message: 'partitions answer ListOffsets' });
    } finally {
      await fetcher.close();
    }
  });

  after(async () => {
    for (const m of members) if (!m.closed) await stopMember(m).catch(() => {});
    await producer?.close();
    await admin?.close();
    await broker?.close();
  });

  async function produceRound(): Promise<void> {
    round++;
    const messages = [];
    for (let p = 0; p < PARTITIONS; p++) {
      for (let i = 0; i < PER_PARTITION; i++) messages.push({ topic, partition: p, key: Buffer.from(`k${p}`), value: Buffer.from(`r${round}-p${p}-${i}`) });
    }
    const res = await producer.send({ messages, acks: -1 });
    assert.equal(res.offsets?.length, PARTITIONS);
    for (const o of res.offsets!) {
      for (let i = 0; i < PER_PARTITION; i++) ledger.addProduced(o.partition, o.offset + BigInt(i), `r${round}-p${o.partition}-${i}`);
    }
  }

  async function startMember(name: string): Promise<Member> {
    const consumer = new Consumer<Buf, Buf, Buf, Buf>({
      clientId: name,
      bootstrapBrokers: broker.brokers,
      groupId: group,
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      rebalanceTimeout: REBALANCE_TIMEOUT_MS,
      autocommit: false,
      maxWaitTime: 200,
      timeout: 10000,
      retries: 5,
      retryDelay: 200,
    });
    const m: Member = { name, consumer, stream: null, assigned: [], generation: -1, closed: false, firstOffset: new Map(), commitErrors: [] };
    consumer.on('consumer:group:join', (payload) => {
      m.generation = payload.generationId ?? -1;
      m.assigned = (payload.assignments ?? []).filter((a) => a.topic === topic).flatMap((a) => a.partitions).sort((a, b) => a - b);
    });
    const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', maxWaitTime: 200 });
    stream.on('data', (msg) => {
      const first = m.firstOffset.get(msg.partition);
      if (first === undefined || msg.offset < first) m.firstOffset.set(msg.partition, msg.offset);
      ledger.addConsumed(name, msg.partition, msg.offset, msg.value.toString());
      // commit after processing (a commit racing a rebalance may fail: at-least-once redelivers)
      Promise.resolve(msg.commit()).catch((e: Error) => m.commitErrors.push(e.message));
    });
    stream.on('error', () => {});
    m.stream = stream;
    members.push(m);
    return m;
  }

  /** Close the stream, then the consumer (which sends LeaveGroup). */
  async function stopMember(m: Member): Promise<void> {
    m.closed = true;
    await m.stream?.close();
    await m.consumer.close();
  }

  async function describe1(): Promise<{ state: string; protocol: string; assignments: Map<string, number[]>; clientIds: string[] }> {
    const groups = await admin.describeGroups({ groups: [group] });
    const g = groups.get(group)!;
    const assignments = new Map<string, number[]>();
    for (const mem of g.members.values()) {
      assignments.set(`${mem.clientId}/${mem.id}`, [...(mem.assignments?.get(topic)?.partitions ?? [])]);
    }
    return { state: g.state, protocol: g.protocol, assignments, clientIds: [...g.members.values()].map((x) => x.clientId).sort() };
  }

  async function waitStable(live: Member[], why: string): Promise<Map<string, number[]>> {
    const names = live.map((m) => m.name).sort();
    let last = '';
    return waitFor(async () => {
      const d = await describe1();
      last = `${d.state} ${JSON.stringify(d.clientIds)} ${fmt(d.assignments)}; own views ${JSON.stringify(live.map((m) => [m.name, m.generation, m.assigned]))}`;
      if (d.state !== 'STABLE' || JSON.stringify(d.clientIds) !== JSON.stringify(names)) return undefined;
      if (!isDisjointCover(d.assignments, PARTITIONS)) return undefined;
      if (!isDisjointCover(new Map(live.map((m) => [m.name, m.assigned])), PARTITIONS)) return undefined;
      if (new Set(live.map((m) => m.generation)).size !== 1) return undefined;
      return d.assignments;
    }, { timeoutMs: WAIT_MS, intervalMs: 200, message: `${why}: group STABLE with ${names.join(', ')}` }).catch((e: Error) => {
      throw new Error(`${e.message}; last seen: ${last}`);
    });
  }

  async function waitAllConsumed(why: string): Promise<void> {
    await waitFor(() => ledger.missing().length === 0, { timeoutMs: WAIT_MS, intervalMs: 100, message: `${why}: all records consumed` }).catch((e: Error) => {
      throw new Error(`${e.message}; missing ${ledger.missing().length}: ${ledger.missing().slice(0, 10).join(' ')}`);
    });
  }

  async function committed(): Promise<Map<number, bigint>> {
    const [g] = await admin.listConsumerGroupOffsets({ groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: Array.from({ length: PARTITIONS }, (_, i) => i) }] }] });
    return new Map((g?.topics.find((t) => t.name === topic)?.partitions ?? []).map((p) => [p.partitionIndex, p.committedOffset]));
  }

  async function waitCommitted(expected: bigint, why: string): Promise<void> {
    let last = '';
    await waitFor(async () => {
      const c = await committed();
      last = JSON.stringify(Object.fromEntries([...c].map(([p, o]) => [p, String(o)])));
      return c.size === PARTITIONS && [...c.values()].every((o) => o === expected);
    }, { timeoutMs: WAIT_MS, intervalMs: 200, message: `${why}: committed offsets reach ${expected}` }).catch((e: Error) => {
      throw new Error(`${e.message}; committed: ${last}`);
    });
  }

  it('three members share 12 partitions, none owned twice', async () => {
    await produceRound();
    const ms = await Promise.all(['p1', 'p2', 'p3'].map((n) => startMember(n)));
    const asg = await waitStable(ms, 'three members');
    assertDisjointCover(asg, PARTITIONS, 'DescribeGroups');
    for (const [, parts] of asg) assert.equal(parts.length, 4, `12 partitions over 3 members: ${fmt(asg)}`);
    await waitAllConsumed('three members');
    await waitCommitted(BigInt(round * PER_PARTITION), 'three members');
  });

  it('ListGroups and DescribeGroups show the active group; DeleteGroups answers NON_EMPTY_GROUP', async () => {
    const listed = await admin.listGroups();
    const mine = listed.get(group);
    assert.ok(mine, `ListGroups lists ${group}`);
    assert.equal(mine.protocolType, 'consumer');
    assert.equal(mine.state, 'STABLE');
    const stable = await admin.listGroups({ states: ['STABLE'] });
    assert.ok(stable.has(group), 'the state filter keeps a STABLE group');
    const empty = await admin.listGroups({ states: ['EMPTY'] });
    assert.ok(!empty.has(group), 'the state filter drops it for EMPTY');
    const d = await describe1();
    assert.equal(d.state, 'STABLE');
    assert.ok(d.protocol.length > 0, 'a protocol (assignor) was selected');
    assert.deepEqual(d.clientIds, ['p1', 'p2', 'p3']);
    await assert.rejects(admin.deleteGroups({ groups: [group] }), (err: unknown) => {
      assert.deepEqual(protocolErrors(err).map((e) => e.code), [NON_EMPTY_GROUP], String(err));
      return true;
    });
  });

  it('a member leaves and the others take over its partitions', async () => {
    const leaving = members.find((m) => m.name === 'p3')!;
    const itsParts = [...leaving.assigned];
    assert.equal(itsParts.length, 4);
    await stopMember(leaving);
    await produceRound();
    const live = members.filter((m) => !m.closed);
    const asg = await waitStable(live, 'after one left');
    assertDisjointCover(asg, PARTITIONS, 'DescribeGroups after one left');
    const owned = live.flatMap((m) => m.assigned);
    for (const p of itsParts) assert.ok(owned.includes(p), `partition ${p} moved`);
    await waitAllConsumed('after one left');
    await waitCommitted(BigInt(round * PER_PARTITION), 'after one left');
    assert.deepEqual(ledger.unexpected(), []);
  });

  it('the group, restarted, resumes from the committed offsets', async () => {
    for (const m of members.filter((x) => !x.closed)) {
      await stopMember(m);
    }
    await waitFor(async () => (await describe1()).state === 'EMPTY', { timeoutMs: WAIT_MS, message: 'group EMPTY' });
    const before = await committed();
    await produceRound();
    const r = await startMember('p4-restarted');
    await waitStable([r], 'restarted');
    await waitAllConsumed('restarted');
    for (let p = 0; p < PARTITIONS; p++) {
      assert.equal(r.firstOffset.get(p), before.get(p), `partition ${p}: first offset after restart is the committed one`);
    }
    await waitCommitted(BigInt(round * PER_PARTITION), 'restarted');
  });

  it('DeleteGroups succeeds once the group is empty, and its offsets are gone', async () => {
    const r = members.find((m) => m.name === 'p4-restarted')!;
    await stopMember(r);
    await waitFor(async () => (await describe1()).state === 'EMPTY', { timeoutMs: WAIT_MS, message: 'group EMPTY' });
    const emptyList = await admin.listGroups({ states: ['EMPTY'] });
    assert.ok(emptyList.has(group), 'ListGroups EMPTY filter lists it');
    await admin.deleteGroups({ groups: [group] });
    const listed = await admin.listGroups();
    assert.ok(!listed.has(group), 'deleted group no longer listed');
    const d = await describe1();
    assert.equal(d.state, 'DEAD');
    const c = await committed();
    for (const [, o] of c) assert.equal(o, -1n, 'no committed offsets after DeleteGroups');
  });

  it('KIP-848 (groupProtocol: consumer): three members share, one leaves, the rest take over, commits', async () => {
    const topic2 = uniqueTopic('grp-plt-848');
    const group2 = `${topic2}-g`;
    await admin.createTopics({ topics: [topic2], partitions: PARTITIONS, replicas: 1 });
    const fetcher = createFetcher(broker.brokers);
    try {
      await waitFor(async () => {
        await fetcher.metadata({ topics: [topic2], forceUpdate: true });
        const offsets = await fetcher.listOffsets({ topics: [topic2] });
        return offsets.get(topic2)?.length === PARTITIONS && offsets.get(topic2)!.every((o) => o >= 0n);
      }, { timeoutMs: 15000, message: 'partitions answer ListOffsets' });
    } finally {
      await fetcher.close();
    }
    const produced = new Map<string, string>();
    const consumed = new Map<string, string>();
    const produce = async (tag: string) => {
      const messages = [];
      for (let p = 0; p < PARTITIONS; p++) for (let i = 0; i < PER_PARTITION; i++) messages.push({ topic: topic2, partition: p, value: Buffer.from(`${tag}-p${p}-${i}`) });
      const res = await producer.send({ messages, acks: -1 });
      for (const o of res.offsets!) for (let i = 0; i < PER_PARTITION; i++) produced.set(`${o.partition}:${o.offset + BigInt(i)}`, `${tag}-p${o.partition}-${i}`);
    };
    type Kip848Member = { name: string; consumer: Consumer<Buf, Buf, Buf, Buf>; stream: { close(): Promise<void> } };
    const start = async (name: string): Promise<Kip848Member> => {
      const consumer = new Consumer<Buf, Buf, Buf, Buf>({
        clientId: name, bootstrapBrokers: broker.brokers, groupId: group2, groupProtocol: 'consumer',
        autocommit: false, maxWaitTime: 200, timeout: 10000, retries: 5, retryDelay: 200,
      });
      const stream = await consumer.consume({ topics: [topic2], mode: 'committed', fallbackMode: 'earliest', maxWaitTime: 200 });
      stream.on('data', (msg) => {
        consumed.set(`${msg.partition}:${msg.offset}`, msg.value.toString());
        Promise.resolve(msg.commit()).catch(() => {});
      });
      stream.on('error', () => {});
      return { name, consumer, stream };
    };
    const owned = (m: Kip848Member) => (m.consumer.assignments ?? []).filter((a) => a.topic === topic2).flatMap((a) => a.partitions);
    const waitShared = async (ms: Kip848Member[], each: number, why: string) => {
      const view = () => JSON.stringify(ms.map((m) => [m.name, owned(m)]));
      await waitFor(() => {
        const all = ms.map(owned);
        return isDisjointCover(new Map(ms.map((m, i) => [m.name, all[i]!])), PARTITIONS) && all.every((x) => x.length === each);
      }, { timeoutMs: WAIT_MS, intervalMs: 100, message: `${why}: members share the partitions` }).catch((e: Error) => { throw new Error(`${e.message}; ${view()}`); });
    };
    const waitConsumed = async (why: string) => {
      await waitFor(() => [...produced.keys()].every((k) => consumed.has(k)), { timeoutMs: WAIT_MS, intervalMs: 100, message: `${why}: all consumed` });
      for (const [k, v] of produced) assert.equal(consumed.get(k), v, k);
    };
    const live: Kip848Member[] = [];
    try {
      await produce('a');
      live.push(...(await Promise.all(['q1', 'q2', 'q3'].map(start))));
      await waitShared(live, 4, 'three members');
      await waitConsumed('three members');
      const leaving = live.pop()!;
      await leaving.stream.close();
      await leaving.consumer.close();
      await produce('b');
      await waitShared(live, 6, 'after one left');
      await waitConsumed('after one left');
      const end = BigInt(2 * PER_PARTITION);
      await waitFor(async () => {
        const [g] = await admin.listConsumerGroupOffsets({ groups: [{ groupId: group2, topics: [{ name: topic2, partitionIndexes: Array.from({ length: PARTITIONS }, (_, i) => i) }] }] });
        const parts = g?.topics.find((t) => t.name === topic2)?.partitions ?? [];
        return parts.length === PARTITIONS && parts.every((x) => x.committedOffset === end);
      }, { timeoutMs: WAIT_MS, intervalMs: 200, message: 'committed offsets reach the end' });
      const listed = await admin.listGroups({ types: ['consumer'] });
      assert.ok(listed.has(group2), 'ListGroups with the consumer type filter lists the KIP-848 group');
    } finally {
      for (const m of live) {
        await m.stream.close().catch(() => {});
        await m.consumer.close().catch(() => {});
      }
    }
  });
});
