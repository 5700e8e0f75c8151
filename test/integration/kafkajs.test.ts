/**
 * kafkajs 2.2.4 against the broker: admin (CreateTopics, Metadata, ListOffsets, CreatePartitions,
 * DeleteTopics, error codes), produce (keys, headers, explicit timestamps, partitions, codecs)
 * and group-less fetch (see test/testkit/kafkajs.ts for why and how).
 *
 * Runs against an in-process Tributary, or against BOOTSTRAP_SERVERS (e.g. Apache Kafka).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import type { Admin, Producer, Message, IHeaders } from 'kafkajs';
import { startTestBroker, uniqueTopic, waitFor, type TestBroker } from '../testkit/broker.ts';
import { CompressionTypes, createKafka, kafkajsCluster, kafkajsReadAll, registerKafkajsCodecs, type FetchedRecord, type KafkaClient } from '../testkit/kafkajs.ts';
import { createFetcher, platformaticReadAll } from '../testkit/platformatic.ts';

const { Partitioners } = kafkajs;

/** Kafka error codes asserted below (kafkajs names them by `type`). */
const TOPIC_ALREADY_EXISTS = 36;
const INVALID_TOPIC_EXCEPTION = 17;
const INVALID_PARTITIONS = 37;
const UNKNOWN_TOPIC_OR_PARTITION = 3;

interface KafkaJsErrorLike {
  name: string;
  type?: string;
  code?: number;
  errors?: Array<{ type: string; code: number }>;
}

/** The Kafka error (type, code) pairs carried by a kafkajs error (aggregate or single). */
function kafkaErrors(err: unknown): Array<{ type: string; code: number }> {
  const e = err as KafkaJsErrorLike;
  if (Array.isArray(e.errors)) return e.errors.map((x) => ({ type: x.type, code: x.code }));
  if (e.type !== undefined && e.code !== undefined) return [{ type: e.type, code: e.code }];
  return [];
}

async function expectKafkaError(p: Promise<unknown>, type: string, code: number): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    const errs = kafkaErrors(err);
    assert.ok(errs.length > 0, `expected a Kafka error ${type}, got ${String(err)}`);
    for (const e of errs) assert.deepEqual(e, { type, code });
    return true;
  });
}

describe('kafkajs 2.2.4', () => {
  let broker: TestBroker;
  let kafka: KafkaClient;
  let admin: Admin;
  let producer: Producer;
  const baseTs = Date.now() - 10 * 60 * 1000; // explicit timestamps, ten minutes in the past

  before(async () => {
    registerKafkajsCodecs();
    broker = await startTestBroker();
    kafka = createKafka(broker.brokers);
    admin = kafka.admin();
    await admin.connect();
    // No retries: a retried non-idempotent produce can duplicate records, and these tests
    // assert exact contents (createTopic waits until partitions answer, see below).
    producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      idempotent: false,
      retry: { retries: 0 },
    });
    await producer.connect();
  });

  after(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
    await broker?.close();
  });

  async function createTopic(partitions: number, prefix = 'kjs'): Promise<string> {
    const topic = uniqueTopic(prefix);
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true }), true);
    await waitForPartitionsReady(topic, partitions);
    return topic;
  }

  /**
   * Apache Kafka can answer NOT_LEADER_OR_FOLLOWER for a moment after CreateTopics even once
   * Metadata names a leader; wait until every partition answers ListOffsets.
   */
  async function waitForPartitionsReady(topic: string, partitions: number): Promise<void> {
    await waitFor(async () => (await admin.fetchTopicOffsets(topic)).length === partitions, {
      timeoutMs: 15000,
      message: `partitions of ${topic} answer ListOffsets`,
    });
  }

  it('creates a 3-partition topic and describes it in metadata', async () => {
    const topic = await createTopic(3);
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(md.topics.length, 1);
    const [t] = md.topics;
    assert.equal(t!.name, topic);
    assert.deepEqual(t!.partitions.map((p) => p.partitionId).sort(), [0, 1, 2]);
    const cluster = await admin.describeCluster();
    const nodeIds = cluster.brokers.map((b) => b.nodeId);
    for (const p of t!.partitions) {
      assert.equal(p.partitionErrorCode, 0);
      assert.ok(nodeIds.includes(p.leader), `leader ${p.leader} is one of the brokers ${nodeIds}`);
      assert.equal(p.replicas.length, 1);
      assert.deepEqual(p.isr, p.replicas);
    }
    assert.ok((await admin.listTopics()).includes(topic));
    if (!broker.external) {
      // A single in-process broker advertises the address the client bootstrapped from.
      assert.deepEqual(cluster.brokers.map((b) => `${b.host}:${b.port}`), [broker.bootstrap]);
    }
  });

  it('creates a topic with the broker default partition count when none is given', async () => {
    const topic = uniqueTopic('kjs-default');
    assert.equal(await admin.createTopics({ topics: [{ topic }] }), true);
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    // Tributary's default num.partitions is 1, and so is compat/kafka's broker config.
    assert.equal(md.topics[0]!.partitions.length, 1);
  });

  it('produces keyed records with headers and explicit timestamps to several partitions and fetches them back', async () => {
    const topic = await createTopic(3);
    const perPartition = 25;
    const expected = new Map<number, Array<Message & { partition: number }>>();
    const messages: Array<Message & { partition: number }> = [];
    for (let p = 0; p < 3; p++) {
      expected.set(p, []);
      for (let i = 0; i < perPartition; i++) {
        const n = p * 1000 + i;
        const headers: IHeaders = { 'trace-id': Buffer.from(`trace-${n}`), seq: String(i) };
        if (i % 5 === 0) headers['multi'] = ['a', 'b']; // a repeated header key
        const m: Message & { partition: number } = {
          partition: p,
          key: i % 7 === 0 ? null : Buffer.from(`key-${n}`),
          // a tombstone, an empty value and some binary values among ordinary ones
          value: i === 3 ? null : i === 4 ? Buffer.alloc(0) : i % 2 ? Buffer.from([0, 255, n & 255, 10, 13]) : Buffer.from(`value-${n}`),
          headers,
          timestamp: String(baseTs + n),
        };
        messages.push(m);
        expected.get(p)!.push(m);
      }
    }
    // Two sends, so each partition gets at least two batches.
    const half = messages.length / 2;
    const md1 = await producer.send({ topic, acks: -1, messages: messages.slice(0, half) });
    const md2 = await producer.send({ topic, acks: -1, messages: messages.slice(half) });
    for (const r of [...md1, ...md2]) {
      assert.equal(r.topicName, topic);
      assert.equal(r.errorCode, 0);
    }
    // First batch of each partition starts at offset 0.
    for (const r of md1) assert.equal(r.baseOffset, '0');

    const got = await kafkajsReadAll(kafka, topic);
    assert.deepEqual([...got.keys()].sort(), [0, 1, 2]);
    for (let p = 0; p < 3; p++) {
      const recs = got.get(p)!;
      const exp = expected.get(p)!;
      assert.equal(recs.length, exp.length, `partition ${p} record count`);
      recs.forEach((r, i) => {
        const e = exp[i]!;
        assert.equal(r.offset, BigInt(i), `partition ${p} offsets are dense from 0`);
        assert.equal(r.timestamp, BigInt(e.timestamp!), 'explicit timestamp preserved');
        assert.deepEqual(r.key, e.key === null || e.key === undefined ? null : Buffer.from(e.key));
        assert.deepEqual(r.value, e.value === null ? null : Buffer.from(e.value as Buffer));
        assert.deepEqual(normHeaders(r.headers), normHeaders(e.headers!));
      });
    }
  });

  it('routes keyed records without a partition by key (default partitioner), preserving per-key order', async () => {
    const topic = await createTopic(3);
    const keys = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
    const messages = Array.from({ length: 60 }, (_, i) => ({ key: keys[i % keys.length]!, value: `${keys[i % keys.length]}-${i}` }));
    await producer.send({ topic, acks: -1, messages });
    const got = await kafkajsReadAll(kafka, topic);
    const partitionOfKey = new Map<string, number>();
    let total = 0;
    for (const [p, recs] of got) {
      total += recs.length;
      for (const r of recs) {
        const k = r.key!.toString();
        assert.equal(partitionOfKey.get(k) ?? p, p, `key ${k} always lands in one partition`);
        partitionOfKey.set(k, p);
      }
      for (const k of keys) {
        const vals = recs.filter((r) => r.key!.toString() === k).map((r) => r.value!.toString());
        const exp = messages.filter((m) => m.key === k).map((m) => m.value);
        if (vals.length) assert.deepEqual(vals, exp, `per-key order for ${k}`);
      }
    }
    assert.equal(total, messages.length);
  });

  it('answers ListOffsets: earliest/latest and by timestamp', async () => {
    const topic = await createTopic(3);
    // Partition p gets 10 * (p + 1) records with timestamps baseTs + 1000 * i.
    for (let p = 0; p < 3; p++) {
      const messages = Array.from({ length: 10 * (p + 1) }, (_, i) => ({ partition: p, value: `v${i}`, timestamp: String(baseTs + 1000 * i) }));
      await producer.send({ topic, acks: -1, messages });
    }
    const offsets = await admin.fetchTopicOffsets(topic);
    assert.deepEqual(
      offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high, offset: o.offset })).sort((a, b) => a.partition - b.partition),
      [0, 1, 2].map((p) => ({ partition: p, low: '0', high: String(10 * (p + 1)), offset: String(10 * (p + 1)) })),
    );
    const byTs = async (ts: number) => (await admin.fetchTopicOffsetsByTimestamp(topic, ts)).sort((a, b) => a.partition - b.partition).map((o) => o.offset);
    // Exactly the timestamp of record 5 → offset 5; between records 5 and 6 → 6.
    assert.deepEqual(await byTs(baseTs + 5000), ['5', '5', '5']);
    assert.deepEqual(await byTs(baseTs + 5500), ['6', '6', '6']);
    // Before everything → 0.
    assert.deepEqual(await byTs(baseTs - 60_000), ['0', '0', '0']);
    // Past a partition's last timestamp the broker answers -1 and kafkajs substitutes the latest offset.
    assert.deepEqual(await byTs(baseTs + 15_000), ['10', '15', '15']);
    assert.deepEqual(await byTs(baseTs + 60_000), ['10', '20', '30']);
  });

  for (const [name, codec, bits] of [
    ['gzip', CompressionTypes.GZIP, 1],
    ['snappy (kafkajs-snappy)', CompressionTypes.Snappy, 2],
    ['zstd (node:zlib codec)', CompressionTypes.ZSTD, 4],
  ] as const) {
    it(`round-trips ${name}-compressed batches, stored with the producer's codec`, async () => {
      const topic = await createTopic(2);
      const messages = Array.from({ length: 300 }, (_, i) => ({
        partition: i % 2,
        key: `k${i}`,
        value: `${name} record ${i} `.repeat(1 + (i % 13)),
        headers: { i: String(i) },
        timestamp: String(baseTs + i),
      }));
      await producer.send({ topic, acks: -1, compression: codec, messages: messages.slice(0, 150) });
      await producer.send({ topic, acks: -1, compression: codec, messages: messages.slice(150) });
      const got = await kafkajsReadAll(kafka, topic);
      for (const p of [0, 1]) {
        const exp = messages.filter((m) => m.partition === p);
        const recs = got.get(p)!;
        assert.deepEqual(
          recs.map((r) => [r.offset, r.key!.toString(), r.value!.toString(), r.headers['i']!.toString(), r.timestamp]),
          exp.map((m, i) => [BigInt(i), m.key, m.value, m.headers.i, BigInt(m.timestamp)]),
        );
      }
      // Cross-check with another client's decoder: the stored batches carry the codec bits.
      const fetcher = createFetcher(broker.brokers);
      try {
        const raw = await platformaticReadAll(fetcher, topic);
        const seen = new Set([...raw.values()].flat().map((r) => r.compression));
        assert.deepEqual([...seen], [bits]);
        assert.equal([...raw.values()].flat().length, messages.length);
      } finally {
        await fetcher.close();
      }
    });
  }

  it('createPartitions grows a topic; the new partition takes writes', async () => {
    const topic = await createTopic(2);
    await admin.createPartitions({ topicPartitions: [{ topic, count: 5 }] });
    const md = await waitFor(async () => {
      const m = await admin.fetchTopicMetadata({ topics: [topic] });
      return m.topics[0]!.partitions.length === 5 ? m : undefined;
    }, { message: 'topic has 5 partitions' });
    await waitForPartitionsReady(topic, 5);
    assert.deepEqual(md.topics[0]!.partitions.map((p) => p.partitionId).sort(), [0, 1, 2, 3, 4]);
    const res = await producer.send({ topic, acks: -1, messages: [{ partition: 4, value: 'in the new partition' }] });
    assert.deepEqual(res.map((r) => [r.partition, r.baseOffset, r.errorCode]), [[4, '0', 0]]);
    const got = await kafkajsReadAll(kafka, topic, { partitions: [4] });
    assert.deepEqual(got.get(4)!.map((r) => r.value!.toString()), ['in the new partition']);
    // Shrinking is refused.
    await expectKafkaError(admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] }), 'INVALID_PARTITIONS', INVALID_PARTITIONS);
  });

  it('deleteTopics removes a topic', async () => {
    const topic = await createTopic(1);
    await producer.send({ topic, acks: -1, messages: [{ value: 'soon gone' }] });
    await admin.deleteTopics({ topics: [topic], timeout: 10000 });
    await waitFor(async () => !(await admin.listTopics()).includes(topic), { message: 'deleted topic disappears from listTopics' });
    await expectKafkaError(admin.fetchTopicMetadata({ topics: [topic] }), 'UNKNOWN_TOPIC_OR_PARTITION', UNKNOWN_TOPIC_OR_PARTITION);
  });

  describe('CreateTopics errors', () => {
    it('TOPIC_ALREADY_EXISTS for an existing topic', async () => {
      const topic = await createTopic(1);
      // kafkajs's admin maps TOPIC_ALREADY_EXISTS to `false`...
      assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] }), false);
      // ...so look at the raw response through kafkajs's broker-level request.
      const cluster = kafkajsCluster(kafka);
      await cluster.connect();
      try {
        await cluster.refreshMetadata();
        const controller = await (cluster as unknown as { findControllerBroker(): Promise<{ createTopics(r: object): Promise<unknown> }> }).findControllerBroker();
        await expectKafkaError(controller.createTopics({ topics: [{ topic, numPartitions: 1 }], timeout: 5000 }), 'TOPIC_ALREADY_EXISTS', TOPIC_ALREADY_EXISTS);
      } finally {
        await cluster.disconnect();
      }
    });

    for (const [what, name] of [
      ['a space and "!"', 'bad name!'],
      ['"."', '.'],
      ['".."', '..'],
      ['250 characters', 'x'.repeat(250)],
    ] as const) {
      it(`INVALID_TOPIC_EXCEPTION for a name with ${what}`, async () => {
        await expectKafkaError(admin.createTopics({ topics: [{ topic: name, numPartitions: 1 }] }), 'INVALID_TOPIC_EXCEPTION', INVALID_TOPIC_EXCEPTION);
      });
    }

    it('INVALID_PARTITIONS for 0 and negative partition counts', async () => {
      await expectKafkaError(admin.createTopics({ topics: [{ topic: uniqueTopic('kjs-zero'), numPartitions: 0 }] }), 'INVALID_PARTITIONS', INVALID_PARTITIONS);
      await expectKafkaError(admin.createTopics({ topics: [{ topic: uniqueTopic('kjs-neg'), numPartitions: -2 }] }), 'INVALID_PARTITIONS', INVALID_PARTITIONS);
    });
  });
});

/** Compare headers as kafkajs returns them: string keys → Buffer or Buffer[] (repeats). */
function normHeaders(h: IHeaders | FetchedRecord['headers']): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    const vals = Array.isArray(v) ? v : [v];
    out[k] = vals.map((x) => (Buffer.isBuffer(x) ? x.toString('hex') : Buffer.from(String(x)).toString('hex')));
  }
  return out;
}
