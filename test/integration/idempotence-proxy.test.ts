/**
 * Idempotent producers when responses are lost (issue 6).
 *
 * 1. kafkajs 2.2.4 through test/testkit/response-dropping-proxy.ts: the proxy forwards every
 *    Produce request but, for every 5th one, throws the broker's response away after the append
 *    and closes the client's connection. kafkajs retries on a new connection with the same
 *    producer id, epoch and sequence numbers, so with `idempotent: true` the broker must answer
 *    the retry as a duplicate: the topic holds every record exactly once, in order. The same run
 *    with `idempotent: false` shows duplicates (which proves the proxy really loses responses of
 *    appended data and the client really retries).
 *    With afterDrop 'swallow' the connection stays open without the response: kafkajs times the
 *    request out and retries on the same connection, with the same result.
 * 2. The broker dies between the append and the response: the proxy drops the 8th Produce
 *    response, the test kills the broker (SIGKILL) and starts it again on its data while the proxy
 *    holds the client's reconnection, so the retry reaches the restarted broker, which must still
 *    know the producer's last batches; the same with SIGTERM for the 25th. Every record once, in
 *    order, and the retries get the original offsets. Runs on the Tributary CLI (child process,
 *    fixed port); skipped with BOOTSTRAP_SERVERS; validated on Apache Kafka with
 *    TXN_RESTART_KAFKA_PORT=P (compat/kafka/start-kafka.sh --port P, restarted with --keep-data).
 * 3. Raw requests (InitProducerId v4, Produce v9 with producer id / epoch / sequence in the batch
 *    header), every answer checked against Apache Kafka 4.3.1:
 *    - a duplicate of one of the last 5 batches → NONE with the ORIGINAL base offset, not appended;
 *      a batch older than the last 5 → OUT_OF_ORDER_SEQUENCE_NUMBER;
 *    - a sequence gap or an overlap → OUT_OF_ORDER_SEQUENCE_NUMBER, not appended;
 *    - a higher epoch starts again at sequence 0 (a non-zero first sequence for it →
 *      OUT_OF_ORDER_SEQUENCE_NUMBER); afterwards the older epoch → INVALID_PRODUCER_EPOCH, even
 *      for a batch that was once appended.
 *
 * 1 and 3 run against an in-process Tributary, or against BOOTSTRAP_SERVERS (e.g. Apache Kafka
 * from compat/kafka/start-kafka.sh). The proxy rewrites broker addresses in Metadata and
 * FindCoordinator responses, so the clients keep talking through it to either.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import type { Admin, Producer } from 'kafkajs';
import { externalBootstrap, startTestBroker, uniqueTopic, waitFor, type TestBroker } from '../testkit/broker.ts';
import { restartableKafka, restartableTributary, type RestartableBroker } from '../testkit/restartable-broker.ts';
import { createKafka, kafkajsReadAll, type KafkaClient } from '../testkit/kafkajs.ts';
import { startResponseDroppingProxy, type ProduceRequestInfo, type ResponseDroppingProxy } from '../testkit/response-dropping-proxy.ts';
import { RawClient } from '../testkit/raw-client.ts';
import { createTopic, fetchPartition, listOffsets, produce } from '../broker/helpers.ts';
import { buildRecordBatch, decodeRecords } from '../../src/protocol/records.ts';

const { Partitioners } = kafkajs;

const NONE = 0;
const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
const INVALID_PRODUCER_EPOCH = 47;
const INIT_PRODUCER_ID = 22;

const RECORDS = 500;
const PER_SEND = 5;
const PARTITIONS = 2;
const DROP_EVERY = 5;

async function newTopic(admin: Admin, prefix: string): Promise<string> {
  const topic = uniqueTopic(prefix);
  assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true }), true);
  // Apache Kafka answers NOT_LEADER_OR_FOLLOWER for a moment after CreateTopics
  await waitFor(async () => (await admin.fetchTopicOffsets(topic)).length === PARTITIONS, {
    timeoutMs: 15_000,
    message: `partitions of ${topic} answer ListOffsets`,
  });
  return topic;
}

interface ProxyRunOptions {
  records?: number;
  /** Which Produce requests (1-based count of those expecting a response) lose their response; default every DROP_EVERY-th. */
  drop?: (index: number) => boolean;
  afterDrop?: 'close' | 'swallow';
  onDrop?: (req: ProduceRequestInfo) => Promise<void> | void;
  requestTimeout?: number;
}

/**
 * Sends `records` records (default RECORDS) in sends of PER_SEND (record i to partition
 * i % PARTITIONS, value "v<i>") through a proxy that drops the selected Produce responses, then
 * reads the topic directly from the broker. `baseOffsets` are the offsets kafkajs got back.
 */
async function runThroughProxy(
  bootstrap: string,
  admin: Admin,
  idempotent: boolean,
  opts: ProxyRunOptions = {},
): Promise<{ perPartition: Map<number, string[]>; proxy: ResponseDroppingProxy; baseOffsets: string[] }> {
  const records = opts.records ?? RECORDS;
  const drop = opts.drop ?? ((index: number) => index % DROP_EVERY === 0);
  const topic = await newTopic(admin, idempotent ? 'idem-proxy' : 'plain-proxy');
  const baseOffsets: string[] = [];
  const proxy = await startResponseDroppingProxy({ upstream: bootstrap, dropProduceResponse: (p) => drop(p.index), afterDrop: opts.afterDrop, onDrop: opts.onDrop });
  const retry = { retries: 30, initialRetryTime: 50, maxRetryTime: 1000 };
  const kafka: KafkaClient = createKafka([proxy.bootstrap], {
    clientId: idempotent ? 'idem-proxy' : 'plain-proxy',
    requestTimeout: opts.requestTimeout ?? 30_000, // lost responses close the connection: no need to wait for a timeout
    retry,
  });
  const producer: Producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    idempotent,
    maxInFlightRequests: 1,
    retry,
  });
  try {
    await producer.connect();
    for (let i = 0; i < records; i += PER_SEND) {
      const messages = Array.from({ length: PER_SEND }, (_, k) => ({ partition: (i + k) % PARTITIONS, key: `k${i + k}`, value: `v${i + k}` }));
      const res = await producer.send({ topic, acks: -1, messages });
      for (const r of res.sort((a, b) => a.partition - b.partition)) baseOffsets.push(`${i}/p${r.partition}@${r.baseOffset}`);
    }
  } finally {
    await producer.disconnect().catch(() => {});
    await proxy.close();
  }
  // read back straight from the broker, not through the proxy
  const got = await kafkajsReadAll(createKafka([bootstrap]), topic);
  const perPartition = new Map<number, string[]>();
  for (const [p, recs] of got) perPartition.set(p, recs.map((r) => r.value!.toString()));
  return { perPartition, proxy, baseOffsets };
}

/** "<first record>/p<partition>@<base offset>" for each send of PER_SEND records, partition = record % PARTITIONS. */
function expectedBaseOffsets(records: number): string[] {
  const out: string[] = [];
  const next = new Array<number>(PARTITIONS).fill(0);
  for (let i = 0; i < records; i += PER_SEND) {
    const counts = new Array<number>(PARTITIONS).fill(0);
    for (let k = i; k < i + PER_SEND; k++) counts[k % PARTITIONS]!++;
    for (let p = 0; p < PARTITIONS; p++) {
      if (!counts[p]) continue;
      out.push(`${i}/p${p}@${next[p]}`);
      next[p]! += counts[p]!;
    }
  }
  return out;
}

function expectedPartition(p: number, records = RECORDS): string[] {
  return Array.from({ length: records }, (_, i) => i).filter((i) => i % PARTITIONS === p).map((i) => `v${i}`);
}

describe('idempotent producer with lost Produce responses (kafkajs through a response-dropping proxy)', { timeout: 120_000 }, () => {
  let broker: TestBroker;
  let admin: Admin;

  before(async () => {
    broker = await startTestBroker();
    admin = createKafka(broker.brokers).admin();
    await admin.connect();
  });
  after(async () => {
    await admin?.disconnect();
    await broker?.close();
  });

  it('idempotent: true — every record exactly once and in order although responses were lost after the append', async () => {
    const { perPartition, proxy, baseOffsets } = await runThroughProxy(broker.brokers[0]!, admin, true);
    assert.ok(proxy.stats.rewrittenResponses > 0, 'broker addresses were rewritten to the proxy');
    // the broker had appended every request whose response was dropped
    for (const d of proxy.stats.dropped) assert.ok(d.droppedResponse?.length && d.droppedResponse.every((r) => r.errorCode === 0), `dropped response of request ${d.index} reported success`);
    assert.ok(proxy.stats.droppedResponses >= RECORDS / PER_SEND / DROP_EVERY, `the proxy dropped ${proxy.stats.droppedResponses} Produce responses`);
    // every dropped request was retried: more Produce requests than sends
    assert.ok(proxy.stats.produceRequests >= RECORDS / PER_SEND + proxy.stats.droppedResponses,
      `${proxy.stats.produceRequests} Produce requests for ${RECORDS / PER_SEND} sends and ${proxy.stats.droppedResponses} lost responses`);
    for (let p = 0; p < PARTITIONS; p++) {
      assert.deepEqual(perPartition.get(p), expectedPartition(p), `partition ${p}: each record once, in send order`);
    }
    // a retried send is answered with the offsets of the original append
    assert.deepEqual(baseOffsets, expectedBaseOffsets(RECORDS));
  });

  it('idempotent: true — also when the connection stays open without the response (the client times out and retries on it)', async () => {
    const records = 100;
    const { perPartition, proxy, baseOffsets } = await runThroughProxy(broker.brokers[0]!, admin, true, { records, drop: (i) => i === 3 || i === 11, afterDrop: 'swallow', requestTimeout: 1500 });
    assert.equal(proxy.stats.droppedResponses, 2);
    assert.ok(proxy.stats.produceRequests >= records / PER_SEND + 2, `${proxy.stats.produceRequests} Produce requests: the two were retried`);
    for (let p = 0; p < PARTITIONS; p++) {
      assert.deepEqual(perPartition.get(p), expectedPartition(p, records), `partition ${p}: each record once, in send order`);
    }
    assert.deepEqual(baseOffsets, expectedBaseOffsets(records));
  });

  it('idempotent: false (control) — the same lost responses duplicate records', async () => {
    const { perPartition, proxy } = await runThroughProxy(broker.brokers[0]!, admin, false);
    assert.ok(proxy.stats.droppedResponses > 0);
    // each dropped response reported a successful append of its PER_SEND records: exactly those are duplicated
    const appendedTwice = proxy.stats.dropped.filter((d) => d.droppedResponse?.length && d.droppedResponse.every((r) => r.errorCode === 0)).length;
    assert.equal(appendedTwice, proxy.stats.droppedResponses, `every dropped response reported success: ${JSON.stringify(proxy.stats.dropped, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
    const all = [...perPartition.values()].flat();
    assert.equal(all.length, RECORDS + appendedTwice * PER_SEND, `duplicates without idempotence: ${all.length} records for ${RECORDS} sent`);
    // nothing is lost either, and each partition's first occurrences are in send order
    for (let p = 0; p < PARTITIONS; p++) {
      const firsts = [...new Set(perPartition.get(p))];
      assert.deepEqual(firsts, expectedPartition(p), `partition ${p}: all records present, first occurrences in order`);
    }
  });
});

const kafkaRestartPort = process.env.TXN_RESTART_KAFKA_PORT ? Number(process.env.TXN_RESTART_KAFKA_PORT) : undefined;

/**
 * The Tributary CLI as a child process on a fixed port, or with TXN_RESTART_KAFKA_PORT=P Apache
 * Kafka from compat/kafka on port P (killed or stopped and started again with --keep-data).
 */
function restartableBroker(): Promise<RestartableBroker> {
  if (kafkaRestartPort !== undefined) return Promise.resolve(restartableKafka(kafkaRestartPort));
  return restartableTributary({ dirPrefix: 'tributary-idem-' });
}

const crashSkip = kafkaRestartPort === undefined && externalBootstrap()
  ? 'restarts the broker: runs on the Tributary CLI (BOOTSTRAP_SERVERS is set; see TXN_RESTART_KAFKA_PORT)'
  : undefined;

describe('idempotent producer when the broker dies between the append and the response', { skip: crashSkip, timeout: kafkaRestartPort !== undefined ? 300_000 : 60_000 }, () => {
  let broker: RestartableBroker;
  let admin: Admin;

  before(async () => {
    broker = await restartableBroker();
    admin = createKafka([broker.bootstrap], { retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 } }).admin();
    await admin.connect();
  });
  after(async () => {
    await admin?.disconnect().catch(() => {});
    await broker?.close();
  });

  it('a retry that reaches the restarted broker (SIGKILL, then SIGTERM) is answered as a duplicate', async () => {
    const records = 200;
    const restarts: string[] = [];
    // the 8th Produce: the broker is killed after appending it; the 25th: stopped cleanly.
    // The proxy holds the client's reconnection until the broker is back.
    const { perPartition, proxy, baseOffsets } = await runThroughProxy(broker.bootstrap, admin, true, {
      records,
      drop: (i) => i === 8 || i === 25,
      onDrop: async (req) => {
        const signal = req.index === 8 ? 'SIGKILL' : 'SIGTERM';
        await broker.restart(signal);
        restarts.push(`${signal} after Produce ${req.index}`);
      },
    });
    assert.deepEqual(restarts, ['SIGKILL after Produce 8', 'SIGTERM after Produce 25']);
    for (const d of proxy.stats.dropped) assert.ok(d.droppedResponse?.length && d.droppedResponse.every((r) => r.errorCode === 0), `dropped response of request ${d.index} reported success`);
    for (let p = 0; p < PARTITIONS; p++) {
      assert.deepEqual(perPartition.get(p), expectedPartition(p, records), `partition ${p}: each record once, in send order`);
    }
    assert.deepEqual(baseOffsets, expectedBaseOffsets(records), 'the retries got the original offsets');
  });
});

describe('idempotent produce: duplicates, sequence gaps and fenced epochs (raw protocol)', { timeout: 60_000 }, () => {
  let broker: TestBroker;
  let c: RawClient;

  before(async () => {
    broker = await startTestBroker();
    c = await RawClient.connect(broker.host, broker.port);
  });
  after(async () => {
    await c?.close();
    await broker?.close();
  });

  async function initProducerId(): Promise<{ producerId: number; producerEpoch: number }> {
    const res = await c.request(INIT_PRODUCER_ID, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    assert.equal(res.errorCode, NONE);
    assert.ok(res.producerId >= 0n, `producer id ${res.producerId}`);
    assert.equal(res.producerEpoch, 0);
    return { producerId: Number(res.producerId), producerEpoch: res.producerEpoch };
  }

  /** A batch of `count` records "e<epoch>s<sequence>" with the producer fields set. */
  function idemBatch(producerId: number, producerEpoch: number, baseSequence: number, count: number): Buffer {
    return buildRecordBatch({
      baseTimestamp: Date.now(),
      producerId,
      producerEpoch,
      baseSequence,
      records: Array.from({ length: count }, (_, i) => ({ key: null, value: Buffer.from(`e${producerEpoch}s${baseSequence + i}`) })),
    });
  }

  async function send(topic: string, batch: Buffer): Promise<{ errorCode: number; baseOffset: bigint }> {
    const p = await produce(c, topic, 0, batch);
    return { errorCode: p.errorCode, baseOffset: BigInt(p.baseOffset) };
  }

  async function logEnd(topic: string): Promise<bigint> {
    const [p] = await listOffsets(c, topic, [{ partition: 0, timestamp: -1n }]);
    return BigInt(p.offset);
  }

  async function values(topic: string): Promise<string[]> {
    const out: string[] = [];
    let offset = 0n;
    const end = await logEnd(topic);
    while (offset < end) {
      const part = await fetchPartition(c, topic, 0, offset);
      assert.equal(part.errorCode, NONE);
      const recs = part.records ? decodeRecords(part.records) : [];
      if (!recs.length) break;
      for (const r of recs) if (BigInt(r.offset) >= offset) out.push(r.value!.toString());
      offset = BigInt(recs[recs.length - 1]!.offset) + 1n;
    }
    return out;
  }

  it('a duplicate of one of the last 5 batches is answered NONE with the original base offset and not appended', async () => {
    const topic = uniqueTopic('idem-dup');
    await createTopic(c, topic, 1);
    const { producerId, producerEpoch } = await initProducerId();
    // six batches of two records: sequences 0, 2, ..., 10 at offsets 0, 2, ..., 10
    for (let seq = 0; seq <= 10; seq += 2) {
      assert.deepEqual(await send(topic, idemBatch(producerId, producerEpoch, seq, 2)), { errorCode: NONE, baseOffset: BigInt(seq) });
    }
    // the broker remembers the last 5 batches (sequences 2..10)
    for (const seq of [10, 6, 2]) {
      assert.deepEqual(await send(topic, idemBatch(producerId, producerEpoch, seq, 2)), { errorCode: NONE, baseOffset: BigInt(seq) },
        `duplicate of the batch at sequence ${seq}`);
    }
    assert.equal(await logEnd(topic), 12n, 'duplicates were not appended');
    // the first batch is no longer among the last 5: its sequence is out of order now
    assert.equal((await send(topic, idemBatch(producerId, producerEpoch, 0, 2))).errorCode, OUT_OF_ORDER_SEQUENCE_NUMBER);
    // the producer goes on where it was
    assert.deepEqual(await send(topic, idemBatch(producerId, producerEpoch, 12, 2)), { errorCode: NONE, baseOffset: 12n });
    assert.deepEqual(await values(topic), Array.from({ length: 14 }, (_, i) => `e0s${i}`));
  });

  it('a sequence gap or overlap is OUT_OF_ORDER_SEQUENCE_NUMBER and appends nothing', async () => {
    const topic = uniqueTopic('idem-gap');
    await createTopic(c, topic, 1);
    const { producerId, producerEpoch } = await initProducerId();
    assert.deepEqual(await send(topic, idemBatch(producerId, producerEpoch, 0, 3)), { errorCode: NONE, baseOffset: 0n });
    assert.equal((await send(topic, idemBatch(producerId, producerEpoch, 5, 2))).errorCode, OUT_OF_ORDER_SEQUENCE_NUMBER, 'gap: 3 expected, 5 sent');
    assert.equal((await send(topic, idemBatch(producerId, producerEpoch, 2, 2))).errorCode, OUT_OF_ORDER_SEQUENCE_NUMBER, 'overlap: 3 expected, 2 sent');
    assert.equal(await logEnd(topic), 3n);
    assert.deepEqual(await send(topic, idemBatch(producerId, producerEpoch, 3, 2)), { errorCode: NONE, baseOffset: 3n });
    assert.deepEqual(await values(topic), ['e0s0', 'e0s1', 'e0s2', 'e0s3', 'e0s4']);
  });

  it('after a higher epoch (starting again at sequence 0) the older epoch is INVALID_PRODUCER_EPOCH', async () => {
    const topic = uniqueTopic('idem-epoch');
    await createTopic(c, topic, 1);
    const { producerId } = await initProducerId();
    assert.deepEqual(await send(topic, idemBatch(producerId, 0, 0, 2)), { errorCode: NONE, baseOffset: 0n });
    assert.deepEqual(await send(topic, idemBatch(producerId, 0, 2, 2)), { errorCode: NONE, baseOffset: 2n });
    // a new epoch must start at sequence 0
    assert.equal((await send(topic, idemBatch(producerId, 1, 4, 2))).errorCode, OUT_OF_ORDER_SEQUENCE_NUMBER, 'epoch 1 starting at sequence 4');
    assert.deepEqual(await send(topic, idemBatch(producerId, 1, 0, 2)), { errorCode: NONE, baseOffset: 4n });
    // the old epoch is fenced: new data and even a duplicate of its own batch
    assert.equal((await send(topic, idemBatch(producerId, 0, 4, 2))).errorCode, INVALID_PRODUCER_EPOCH, 'epoch 0 continuing');
    assert.equal((await send(topic, idemBatch(producerId, 0, 2, 2))).errorCode, INVALID_PRODUCER_EPOCH, 'epoch 0 duplicate');
    // the new epoch deduplicates as before
    assert.deepEqual(await send(topic, idemBatch(producerId, 1, 0, 2)), { errorCode: NONE, baseOffset: 4n }, 'epoch 1 duplicate');
    assert.deepEqual(await send(topic, idemBatch(producerId, 1, 2, 2)), { errorCode: NONE, baseOffset: 6n });
    assert.deepEqual(await values(topic), ['e0s0', 'e0s1', 'e0s2', 'e0s3', 'e1s0', 'e1s1', 'e1s2', 'e1s3']);
  });
});
