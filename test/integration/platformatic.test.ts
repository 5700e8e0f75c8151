/**
 * @platformatic/kafka (flexible protocol versions only) against the broker: Admin (CreateTopics,
 * Metadata, ListOffsets, CreatePartitions, DeleteTopics, error codes), Producer (keys, headers,
 * timestamps, all four codecs, 10,000+ records) and group-less Fetch/ListOffsets through its
 * Consumer (see test/testkit/platformatic.ts for why `consume()` is not used).
 *
 * Runs against an in-process Tributary, or against BOOTSTRAP_SERVERS (e.g. Apache Kafka).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Admin, Consumer, Producer, MessageToProduce } from '@platformatic/kafka';
import { startTestBroker, uniqueTopic, waitFor, type TestBroker } from '../testkit/broker.ts';
import { createAdmin, createFetcher, createProducer, platformaticReadAll, type ReadRecord } from '../testkit/platformatic.ts';

type Msg = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;
type Codec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
const CODEC_BITS: Record<Codec, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/** Every Kafka protocol error ({ apiId, apiCode }) inside a (possibly nested) platformatic error. */
function protocolErrors(err: unknown): Array<{ apiId: string; apiCode: number }> {
  const out: Array<{ apiId: string; apiCode: number }> = [];
  const walk = (e: unknown) => {
    if (!e || typeof e !== 'object') return;
    const x = e as { apiId?: string; apiCode?: number; errors?: unknown[] };
    if (typeof x.apiId === 'string' && typeof x.apiCode === 'number') out.push({ apiId: x.apiId, apiCode: x.apiCode });
    if (Array.isArray(x.errors)) x.errors.forEach(walk);
  };
  walk(err);
  return out;
}

async function expectProtocolError(p: Promise<unknown>, apiId: string, apiCode: number): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    const errs = protocolErrors(err);
    assert.ok(errs.length > 0, `expected Kafka error ${apiId}, got ${String(err)}`);
    for (const e of errs) assert.deepEqual(e, { apiId, apiCode });
    return true;
  });
}

/** Deterministic PRNG (mulberry32) so a failing run can be reproduced. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(rand: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

function describeRecord(r: ReadRecord | undefined): string {
  if (!r) return 'missing';
  return JSON.stringify({ offset: String(r.offset), ts: String(r.timestamp), key: r.key?.toString('hex') ?? null, valueLen: r.value?.length ?? null, headers: r.headers.length });
}

/** Assert a partition's records equal the expected messages, byte for byte, offsets dense from `from`. */
function assertSameRecords(got: ReadRecord[], exp: Msg[], where: string, from = 0n): void {
  assert.equal(got.length, exp.length, `${where}: record count`);
  for (let i = 0; i < exp.length; i++) {
    const r = got[i]!;
    const m = exp[i]!;
    const ctx = `${where}[${i}] ${describeRecord(r)}`;
    assert.equal(r.offset, from + BigInt(i), `${ctx}: offset`);
    assert.equal(r.timestamp, m.timestamp, `${ctx}: timestamp`);
    assert.ok(m.key === undefined ? r.key === null : r.key !== null && r.key.equals(m.key), `${ctx}: key`);
    assert.ok(m.value === undefined ? r.value === null : r.value !== null && r.value.equals(m.value), `${ctx}: value`);
    const expHeaders = [...((m.headers as Map<Buffer, Buffer> | undefined) ?? new Map<Buffer, Buffer>())];
    assert.equal(r.headers.length, expHeaders.length, `${ctx}: header count`);
    r.headers.forEach(([hk, hv], j) => {
      assert.ok(hk !== null && hk.equals(expHeaders[j]![0]), `${ctx}: header ${j} key`);
      assert.ok(hv !== null && hv.equals(expHeaders[j]![1]), `${ctx}: header ${j} value`);
    });
  }
}

describe('@platformatic/kafka', () => {
  let broker: TestBroker;
  let admin: Admin;
  let producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  let fetcher: Consumer<Buffer, Buffer, Buffer, Buffer>;
  const baseTs = BigInt(Date.now() - 20 * 60 * 1000);

  before(async () => {
    broker = await startTestBroker();
    admin = createAdmin(broker.brokers);
    // No client-side retries: a retried (non-idempotent) produce could duplicate records and
    // these tests assert exact contents. See waitForPartitionsReady for why that matters.
    producer = createProducer(broker.brokers, { idempotent: false, retries: 0, repeatOnStaleMetadata: false });
    fetcher = createFetcher(broker.brokers);
  });

  after(async () => {
    await fetcher?.close();
    await producer?.close();
    await admin?.close();
    await broker?.close();
  });

  async function createTopic(partitions: number, prefix = 'plt'): Promise<string> {
    const topic = uniqueTopic(prefix);
    const created = await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
    assert.equal(created.length, 1);
    assert.equal(created[0]!.name, topic);
    assert.equal(created[0]!.partitions, partitions);
    await waitForPartitionsReady(topic, partitions);
    return topic;
  }

  /**
   * Apache Kafka answers NOT_LEADER_OR_FOLLOWER for a moment after CreateTopics, with a
   * CurrentLeader tagged field (Produce v10+). @platformatic/kafka 1.35 cannot skip tagged
   * fields (it reads the field count as a byte length), so that response fails to parse, and
   * with its default repeatOnStaleMetadata the whole multi-partition request is sent again,
   * duplicating the partitions that had succeeded. So wait until every partition answers
   * ListOffsets before producing.
   */
  async function waitForPartitionsReady(topic: string, partitions: number): Promise<void> {
    await waitFor(async () => {
      // Refresh first: listOffsets asks about the partitions in the client's cached metadata.
      await fetcher.metadata({ topics: [topic], forceUpdate: true });
      const offsets = await fetcher.listOffsets({ topics: [topic] });
      return offsets.get(topic)?.length === partitions && offsets.get(topic)!.every((o) => o >= 0n);
    }, { timeoutMs: 15000, message: `${partitions} partitions of ${topic} answer ListOffsets` });
  }

  it('creates a 3-partition topic and describes it in metadata', async () => {
    const topic = uniqueTopic('plt');
    const [created] = await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
    await waitForPartitionsReady(topic, 3);
    assert.equal(created!.name, topic);
    assert.equal(created!.partitions, 3);
    assert.equal(created!.replicas, 1);
    assert.match(created!.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'topic id is a UUID');
    assert.notEqual(created!.id, '00000000-0000-0000-0000-000000000000');
    // CreateTopics v5+ answers with the topic's effective configuration.
    assert.equal(created!.configuration['cleanup.policy'], 'delete');

    const md = await admin.metadata({ topics: [topic], forceUpdate: true });
    const t = md.topics.get(topic)!;
    assert.equal(t.id, created!.id, 'Metadata reports the same topic id');
    assert.equal(t.partitionsCount, 3);
    for (const p of t.partitions) {
      assert.ok(md.brokers.has(p.leader), `leader ${p.leader} is a known broker`);
      assert.ok(p.leaderEpoch >= 0);
      assert.deepEqual(p.replicas, [p.leader]);
      assert.deepEqual(p.isr, [p.leader]);
    }
    assert.ok((await admin.listTopics()).includes(topic));
    if (!broker.external) {
      assert.deepEqual([...md.brokers.values()].map((b) => `${b.host}:${b.port}`), [broker.bootstrap]);
    }
  });

  it('produces keyed records with headers and explicit timestamps to several partitions and fetches them back', async () => {
    const topic = await createTopic(3);
    const messages: Msg[] = [];
    for (let i = 0; i < 90; i++) {
      const headers = new Map<Buffer, Buffer>([[Buffer.from('trace-id'), Buffer.from(`t-${i}`)]]);
      if (i % 4 === 0) headers.set(Buffer.from('empty'), Buffer.alloc(0));
      messages.push({
        topic,
        partition: i % 3,
        key: i % 9 === 0 ? undefined : Buffer.from(`key-${i}`),
        value: i === 10 ? undefined : i === 11 ? Buffer.alloc(0) : Buffer.from(`value-${i}`),
        headers,
        timestamp: baseTs + BigInt(i * 10),
      });
    }
    const res1 = await producer.send({ messages: messages.slice(0, 45), acks: -1 });
    const res2 = await producer.send({ messages: messages.slice(45), acks: -1 });
    assert.deepEqual(res1.offsets!.map((o) => [o.partition, o.offset]).sort(), [[0, 0n], [1, 0n], [2, 0n]]);
    assert.deepEqual(res2.offsets!.map((o) => [o.partition, o.offset]).sort(), [[0, 15n], [1, 15n], [2, 15n]]);

    const got = await platformaticReadAll(fetcher, topic);
    for (const p of [0, 1, 2]) assertSameRecords(got.get(p)!, messages.filter((m) => m.partition === p), `partition ${p}`);
  });

  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`round-trips ${codec}-compressed batches, stored with the producer's codec`, async () => {
      const topic = await createTopic(2);
      const rand = prng(CODEC_BITS[codec]);
      const messages: Msg[] = Array.from({ length: 400 }, (_, i) => ({
        topic,
        partition: i % 2,
        key: Buffer.from(`k${i}`),
        // compressible text with some random bytes mixed in
        value: Buffer.concat([Buffer.from(`${codec} record ${i} `.repeat(1 + (i % 17))), randomBytes(rand, i % 11)]),
        headers: new Map([[Buffer.from('i'), Buffer.from(String(i))]]),
        timestamp: baseTs + BigInt(i),
      }));
      for (let i = 0; i < messages.length; i += 100) {
        await producer.send({ messages: messages.slice(i, i + 100), acks: -1, compression: codec });
      }
      const got = await platformaticReadAll(fetcher, topic);
      for (const p of [0, 1]) {
        assertSameRecords(got.get(p)!, messages.filter((m) => m.partition === p), `${codec} partition ${p}`);
        assert.deepEqual([...new Set(got.get(p)!.map((r) => r.compression))], [CODEC_BITS[codec]], 'batches keep the producer codec');
      }
    });
  }

  describe('10,000+ records, mixed codecs, random bytes', () => {
    const partitions = 4;
    const total = 12_000;
    let topic: string;
    const expected = new Map<number, Msg[]>();

    it('produces them (acks=all) with offsets assigned densely per partition', async () => {
      topic = await createTopic(partitions, 'plt-bulk');
      const rand = prng(42);
      const all: Msg[] = [];
      for (let p = 0; p < partitions; p++) expected.set(p, []);
      for (let i = 0; i < total; i++) {
        const partition = Math.floor(rand() * partitions);
        const headers = new Map<Buffer, Buffer>();
        const nh = Math.floor(rand() * 4);
        for (let h = 0; h < nh; h++) headers.set(Buffer.from(`h${h}-${Math.floor(rand() * 1000)}`), randomBytes(rand, Math.floor(rand() * 40)));
        const m: Msg = {
          topic,
          partition,
          key: rand() < 0.1 ? undefined : randomBytes(rand, Math.floor(rand() * 33)),
          value: rand() < 0.02 ? undefined : randomBytes(rand, Math.floor(rand() * 600)),
          headers,
          timestamp: baseTs + BigInt(i),
        };
        all.push(m);
        expected.get(partition)!.push(m);
      }
      const codecs: Codec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
      const produced = new Map<number, bigint>();
      const chunk = 400;
      for (let i = 0, n = 0; i < all.length; i += chunk, n++) {
        const slice = all.slice(i, i + chunk);
        const res = await producer.send({ messages: slice, acks: -1, compression: codecs[n % codecs.length]! });
        for (const o of res.offsets!) {
          assert.equal(o.offset, produced.get(o.partition) ?? 0n, `base offset of send ${n} on partition ${o.partition}`);
        }
        for (const m of slice) produced.set(m.partition!, (produced.get(m.partition!) ?? 0n) + 1n);
      }
      const latest = await fetcher.listOffsets({ topics: [topic] });
      assert.deepEqual(latest.get(topic), Array.from({ length: partitions }, (_, p) => BigInt(expected.get(p)!.length)));
    });

    it('fetches every record back byte for byte, in order per partition', async () => {
      assert.ok(topic, 'produce step ran');
      const got = await platformaticReadAll(fetcher, topic, { timeoutMs: 45000 });
      let count = 0;
      for (let p = 0; p < partitions; p++) {
        assertSameRecords(got.get(p)!, expected.get(p)!, `bulk partition ${p}`);
        count += got.get(p)!.length;
      }
      assert.equal(count, total);
    });

    it('consumes from a timestamp (ListOffsets by timestamp, then Fetch)', async () => {
      assert.ok(topic, 'produce step ran');
      const ts = baseTs + 7777n; // record i has timestamp baseTs + i
      const offsets = await fetcher.listOffsets({ topics: [topic], timestamp: ts });
      const starts = offsets.get(topic)!;
      const fromOffsets: Record<number, bigint> = {};
      for (let p = 0; p < partitions; p++) {
        const exp = expected.get(p)!;
        const firstIdx = exp.findIndex((m) => m.timestamp! >= ts);
        assert.equal(starts[p], BigInt(firstIdx), `partition ${p}: first offset with timestamp >= ts`);
        fromOffsets[p] = starts[p]!;
      }
      const got = await platformaticReadAll(fetcher, topic, { fromOffsets });
      let count = 0;
      for (let p = 0; p < partitions; p++) {
        const exp = expected.get(p)!.slice(Number(fromOffsets[p]));
        assertSameRecords(got.get(p)!, exp, `from-timestamp partition ${p}`, fromOffsets[p]);
        assert.ok(got.get(p)!.every((r) => r.timestamp >= ts));
        count += exp.length;
      }
      assert.equal(count, total - 7777);
    });
  });

  /** ListOffsets through the admin client for partitions 0..n-1 → [offset, timestamp] per partition. */
  async function listOffsets(topic: string, partitions: number, timestamp: bigint): Promise<Array<[bigint, bigint]>> {
    const [t] = await admin.listOffsets({ topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({ partitionIndex, timestamp })) }] });
    return t!.partitions.sort((a, b) => a.partitionIndex - b.partitionIndex).map((p) => [p.offset, p.timestamp]);
  }

  /** Partition p: 5 * (p + 1) records, timestamps baseTs + 100 * i, except a late-stamped v3 in partition 1. */
  async function listOffsetsTopic(compression: Codec): Promise<string> {
    const topic = await createTopic(3);
    const messages: Msg[] = [];
    for (let p = 0; p < 3; p++) {
      for (let i = 0; i < 5 * (p + 1); i++) messages.push({ topic, partition: p, value: Buffer.from(`v${i}`), timestamp: baseTs + BigInt(i * 100) });
    }
    messages.find((m) => m.partition === 1 && m.value!.toString() === 'v3')!.timestamp = baseTs + 99_000n;
    await producer.send({ messages, acks: -1, compression });
    return topic;
  }

  it('answers ListOffsets: earliest, latest and by timestamp', async () => {
    const topic = await listOffsetsTopic('none');
    assert.deepEqual((await listOffsets(topic, 3, -2n)).map(([o]) => o), [0n, 0n, 0n], 'earliest');
    assert.deepEqual((await listOffsets(topic, 3, -1n)).map(([o]) => o), [5n, 10n, 15n], 'latest');
    // By timestamp: the first offset whose timestamp is >= the target, with that record's timestamp.
    assert.deepEqual(await listOffsets(topic, 3, baseTs + 250n), [[3n, baseTs + 300n], [3n, baseTs + 99_000n], [3n, baseTs + 300n]]);
    assert.deepEqual((await listOffsets(topic, 3, baseTs + 1_000_000n)).map(([o]) => o), [-1n, -1n, -1n], 'past the last timestamp: -1');
  });

  it('ListOffsets MAX_TIMESTAMP (-3) names the record with the largest timestamp, not the batch end', async () => {
    // Apache Kafka >= 3.8 (KAFKA-16310) answers with the offset of the record itself.
    const topic = await listOffsetsTopic('none');
    assert.deepEqual(await listOffsets(topic, 3, -3n), [[4n, baseTs + 400n], [3n, baseTs + 99_000n], [14n, baseTs + 1400n]]);
  });

  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`ListOffsets by timestamp finds the exact record inside ${codec}-compressed batches`, async () => {
      // Apache Kafka decompresses the batch to find the first record with timestamp >= target.
      const topic = await listOffsetsTopic(codec);
      assert.deepEqual(await listOffsets(topic, 3, baseTs + 250n), [[3n, baseTs + 300n], [3n, baseTs + 99_000n], [3n, baseTs + 300n]]);
      assert.deepEqual(await listOffsets(topic, 3, -3n), [[4n, baseTs + 400n], [3n, baseTs + 99_000n], [14n, baseTs + 1400n]]);
    });
  }

  it('createPartitions grows a topic; the new partition takes writes', async () => {
    const topic = await createTopic(1);
    // An empty assignment list is not "no assignments": Kafka wants one per new partition.
    await expectProtocolError(admin.createPartitions({ topics: [{ name: topic, count: 3, assignments: [] }] }), 'INVALID_REPLICA_ASSIGNMENT', 39);
    await admin.createPartitions({ topics: [{ name: topic, count: 3 }] });
    await waitFor(async () => (await admin.metadata({ topics: [topic], forceUpdate: true })).topics.get(topic)!.partitionsCount === 3, {
      message: 'topic has 3 partitions',
    });
    await waitForPartitionsReady(topic, 3);
    const res = await producer.send({ messages: [{ topic, partition: 2, value: Buffer.from('new') }], acks: -1 });
    assert.deepEqual(res.offsets!.map((o) => [o.partition, o.offset]), [[2, 0n]]);
    const got = await platformaticReadAll(fetcher, topic, { partitions: [2] });
    assert.deepEqual(got.get(2)!.map((r) => r.value!.toString()), ['new']);
    // Shrinking, or "growing" to the current count, is refused.
    await expectProtocolError(admin.createPartitions({ topics: [{ name: topic, count: 2 }] }), 'INVALID_PARTITIONS', 37);
    await expectProtocolError(admin.createPartitions({ topics: [{ name: topic, count: 3 }] }), 'INVALID_PARTITIONS', 37);
  });

  it('deleteTopics removes a topic', async () => {
    const topic = await createTopic(2);
    await producer.send({ messages: [{ topic, partition: 0, value: Buffer.from('x') }], acks: -1 });
    await admin.deleteTopics({ topics: [topic] });
    await waitFor(async () => !(await admin.listTopics()).includes(topic), { message: 'deleted topic leaves listTopics' });
    // A topic of the same name can be created again, with a new id and empty partitions.
    const [again] = await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
    assert.equal(again!.name, topic);
    await waitForPartitionsReady(topic, 1);
    const latest = await fetcher.listOffsets({ topics: [topic] });
    assert.deepEqual(latest.get(topic), [0n]);
  });

  describe('CreateTopics errors', () => {
    it('TOPIC_ALREADY_EXISTS (36) for an existing topic', async () => {
      const topic = await createTopic(1);
      await expectProtocolError(admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 }), 'TOPIC_ALREADY_EXISTS', 36);
    });

    for (const name of ['bad name!', '.', '..', 'x'.repeat(250), 'caf\u00e9']) {
      it(`INVALID_TOPIC_EXCEPTION (17) for ${JSON.stringify(name.length > 20 ? `${name.slice(0, 5)}...(${name.length} chars)` : name)}`, async () => {
        await expectProtocolError(admin.createTopics({ topics: [name], partitions: 1, replicas: 1 }), 'INVALID_TOPIC_EXCEPTION', 17);
      });
    }

    it('INVALID_PARTITIONS (37) for 0 and negative (other than -1) partition counts', async () => {
      await expectProtocolError(admin.createTopics({ topics: [uniqueTopic('plt-zero')], partitions: 0, replicas: 1 }), 'INVALID_PARTITIONS', 37);
      await expectProtocolError(admin.createTopics({ topics: [uniqueTopic('plt-neg')], partitions: -3, replicas: 1 }), 'INVALID_PARTITIONS', 37);
    });

    it('-1 partitions means the broker default', async () => {
      const topic = uniqueTopic('plt-default');
      const [created] = await admin.createTopics({ topics: [topic], partitions: -1, replicas: -1 });
      assert.equal(created!.partitions, 1, 'num.partitions defaults to 1 (Tributary and compat/kafka)');
    });
  });
});
