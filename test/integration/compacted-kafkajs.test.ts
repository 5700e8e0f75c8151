/**
 * A compacted changelog with kafkajs 2.2.4 (issue 5): a topic with cleanup.policy=compact and
 * settings that make the cleaner run soon (compat/compacted.ts: segments roll by segment.ms,
 * min.cleanable.dirty.ratio 0.01, delete.retention.ms 100), written by the kafkajs producer in
 * rounds of keyed messages (overwrites, tombstones = null values, a key revived after its
 * tombstone, last a record that opens the active segment). Once the cleaner has run (read with
 * kafkajs Fetch requests every second, at most 60 s: each key once), a kafkajs Consumer reading
 * from the beginning rebuilds exactly the latest state (key → value, tombstoned keys absent), each
 * record the one written at its offset, offsets increasing.
 *
 * Runs against an in-process Tributary (log.cleaner.backoff.ms=100) or BOOTSTRAP_SERVERS (start
 * Kafka with a short log.cleaner.backoff.ms, e.g. compat/kafka/start-kafka.sh
 * --config log.cleaner.backoff.ms=500, and group.initial.rebalance.delay.ms=0).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import type { Admin, Producer } from 'kafkajs';
import { startTestBroker, uniqueTopic, type TestBroker } from '../testkit/broker.ts';
import { createKafka, kafkajsReadAll, type KafkaClient } from '../testkit/kafkajs.ts';
import { COMPACTED_TOPIC_CONFIG, checkCompacted, compactedPlan, expectedState, untilCompacted, type SeenRecord } from '../../compat/compacted.ts';

const { Partitioners } = kafkajs;

describe('compacted changelog: kafkajs 2.2.4', { timeout: 150_000 }, () => {
  let broker: TestBroker;
  let kafka: KafkaClient;
  let admin: Admin;
  let producer: Producer;

  before(async () => {
    broker = await startTestBroker({ config: {
      'log.cleaner.backoff.ms': '100',
      'log.retention.check.interval.ms': '200',
      'group.initial.rebalance.delay.ms': '0',
    } });
    kafka = createKafka(broker.brokers);
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, idempotent: false });
    await producer.connect();
  });
  after(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
    await broker?.close();
  });

  it('a consumer from the beginning rebuilds the latest state: latest value per key, tombstoned keys absent, offsets increasing', async () => {
    const topic = uniqueTopic('compacted-kjs');
    assert.equal(await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 1, configEntries: Object.entries(COMPACTED_TOPIC_CONFIG).map(([name, value]) => ({ name, value })) }],
      waitForLeaders: true,
    }), true);
    const plan = compactedPlan('kjs');
    const written: Array<{ key: string; value: string | null }> = [];
    for (const round of [...plan.rounds, plan.roll]) {
      await new Promise((r) => setTimeout(r, 150)); // > segment.ms: each round starts a segment
      const res = await producer.send({ topic, acks: -1, messages: round.recs.map((r) => ({ partition: 0, key: r.key, value: r.value })) });
      assert.equal(BigInt(res[0]!.baseOffset!), BigInt(written.length), 'offsets assigned in order');
      written.push(...round.recs);
    }
    const toSeen = (key: Buffer | null, value: Buffer | null, offset: bigint | string): SeenRecord =>
      ({ offset: Number(offset), key: key?.toString() ?? null, value: value?.toString() ?? null });

    await untilCompacted('kafkajs fetch', written, 60_000, async () =>
      ((await kafkajsReadAll(kafka, topic)).get(0) ?? []).map((m) => toSeen(m.key, m.value, m.offset)));

    // the changelog reader: a kafkajs Consumer (group) from the beginning up to the last record
    const consumer = kafka.consumer({ groupId: `${topic}-restore`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    const seen: SeenRecord[] = [];
    const state = new Map<string, string>();
    const last = written.length - 1;
    let caughtUp!: () => void;
    const reachedEnd = new Promise<void>((r) => { caughtUp = r; });
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const key = message.key!.toString();
          seen.push(toSeen(message.key, message.value, message.offset));
          if (message.value === null) state.delete(key);
          else state.set(key, message.value.toString());
          if (Number(message.offset) >= last) caughtUp();
        },
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([reachedEnd, new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`consumer did not reach offset ${last} within 30 s; saw ${JSON.stringify(seen.slice(-3))}`)), 30_000);
      })]);
      clearTimeout(timer);
    } finally {
      await consumer.disconnect();
    }
    assert.ok(checkCompacted('kafkajs consumer', written, seen), `the consumer saw each key once: ${JSON.stringify(seen.map((r) => r.key))}`);
    assert.deepEqual(state, expectedState(written), 'rebuilt state: the latest value per key, tombstoned keys absent');
    assert.ok(seen.length < written.length, `compaction removed records (${seen.length} of ${written.length} left)`);
  });
});
