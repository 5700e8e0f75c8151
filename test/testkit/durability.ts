/**
 * Crash and restart scenarios, written against a minimal "restartable broker" so the same logic
 * runs on the Tributary CLI (test/integration/durability.test.ts) and, to validate the scenario
 * itself, on any other broker that can be killed and restarted on the same data.
 *
 * kill -9: a kafkajs producer sends continuously with acks=all, max one request in flight, no
 * retries and no idempotence, so a record is either acknowledged once or not at all and can
 * never be duplicated by the client. The broker is SIGKILLed mid-stream and restarted on the
 * same data dir; then every acknowledged record must be at the offset it was acknowledged
 * with, byte for byte, offsets dense, no record twice, and anything unacknowledged that
 * survived must come from the request that was in flight at the kill.
 */
import assert from 'node:assert/strict';
import type { Producer as KafkajsProducer } from 'kafkajs';
import kafkajs from 'kafkajs';
import type { ExitInfo } from './broker.ts';
import { uniqueTopic, waitFor } from './broker.ts';
import { createKafka } from './kafkajs.ts';
import { createAdmin, createFetcher, createProducer, platformaticReadAll, type ReadRecord } from './platformatic.ts';

const { Partitioners } = kafkajs;

export interface RestartableBroker {
  bootstrap: string;
  kill(signal: NodeJS.Signals): unknown;
  waitForExit(timeoutMs?: number): Promise<ExitInfo>;
}

/** Starts the broker on the same data (and ideally the same address) every time it is called. */
export type StartBroker = () => Promise<RestartableBroker>;

/** Deterministic record body for id: 8-byte id, then bytes derived from it. */
export function recordValue(id: number, size: number): Buffer {
  const b = Buffer.alloc(Math.max(8, size));
  b.writeBigUInt64BE(BigInt(id), 0);
  for (let i = 8; i < b.length; i++) b[i] = (id * 31 + i * 7) & 0xff;
  return b;
}

function idOf(r: ReadRecord): number {
  assert.ok(r.value && r.value.length >= 8, `record at offset ${r.offset} has an id`);
  return Number(r.value.readBigUInt64BE(0));
}

async function createReadyTopic(bootstrap: string, partitions: number, prefix: string): Promise<{ topic: string; topicId: string }> {
  const admin = createAdmin([bootstrap]);
  const fetcher = createFetcher([bootstrap]);
  try {
    const topic = uniqueTopic(prefix);
    const [created] = await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
    await waitFor(async () => {
      await fetcher.metadata({ topics: [topic], forceUpdate: true });
      return (await fetcher.listOffsets({ topics: [topic] })).get(topic)?.length === partitions;
    }, {
      timeoutMs: 15000,
      message: `partitions of ${topic} answer ListOffsets`,
    });
    return { topic, topicId: created!.id };
  } finally {
    await fetcher.close();
    await admin.close();
  }
}

async function readTopic(bootstrap: string, topic: string): Promise<{ records: Map<number, ReadRecord[]>; topicId: string; partitions: number }> {
  const fetcher = createFetcher([bootstrap]);
  try {
    // Right after a restart the broker may still be loading; retry until metadata answers.
    const md = await waitFor(async () => (await fetcher.metadata({ topics: [topic], forceUpdate: true })).topics.get(topic), {
      timeoutMs: 20000,
      message: `metadata for ${topic} after restart`,
    });
    const records = await platformaticReadAll(fetcher, topic, { timeoutMs: 30000 });
    return { records, topicId: md.id, partitions: md.partitionsCount };
  } finally {
    await fetcher.close();
  }
}

export interface KillNineOptions {
  partitions?: number;
  /** Produce for this long, then SIGKILL (default 2000 ms). */
  produceMs?: number;
  recordsPerSend?: number;
  valueBytes?: number;
  /** Called with progress lines (e.g. t.diagnostic). */
  log?: (line: string) => void;
}

export interface KillNineSummary {
  topic: string;
  sends: number;
  acked: number;
  /** Records in requests that failed (the one in flight at the kill, at most). */
  unacked: number;
  /** How many of those were found after the restart. */
  unackedSurvived: number;
  perPartition: Array<{ partition: number; acked: number; present: number }>;
  killExit: ExitInfo;
}

interface Sent {
  id: number;
  partition: number;
}

export async function killNineScenario(start: StartBroker, opts: KillNineOptions = {}): Promise<KillNineSummary> {
  const partitions = opts.partitions ?? 3;
  const produceMs = opts.produceMs ?? 2000;
  const perSend = opts.recordsPerSend ?? 30;
  const valueBytes = opts.valueBytes ?? 200;
  const log = opts.log ?? (() => {});

  const b1 = await start();
  const { topic, topicId } = await createReadyTopic(b1.bootstrap, partitions, 'dur-kill');

  const kafka = createKafka([b1.bootstrap], { clientId: 'durability-producer', retry: { retries: 0 } });
  const producer: KafkajsProducer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    idempotent: false,
    maxInFlightRequests: 1,
    retry: { retries: 0 },
  });
  await producer.connect();

  // partition → acknowledged records in offset order, with their acknowledged offsets
  const acked = new Map<number, Array<{ id: number; offset: bigint }>>();
  for (let p = 0; p < partitions; p++) acked.set(p, []);
  const unacked = new Set<number>();
  let nextId = 0;
  let sends = 0;
  let killed = false;
  const killTimer = setTimeout(() => {
    killed = true;
    b1.kill('SIGKILL');
  }, produceMs);

  try {
    for (;;) {
      if (killed) break;
      const batch: Sent[] = [];
      for (let i = 0; i < perSend; i++) {
        const id = nextId++;
        batch.push({ id, partition: id % partitions });
      }
      try {
        const res = await producer.send({
          topic,
          acks: -1,
          timeout: 10000,
          messages: batch.map((s) => ({ partition: s.partition, key: `k${s.partition}`, value: recordValue(s.id, valueBytes), headers: { id: String(s.id) } })),
        });
        sends++;
        for (const r of res) {
          assert.equal(r.errorCode, 0);
          const base = BigInt(r.baseOffset!);
          const mine = batch.filter((s) => s.partition === r.partition);
          const list = acked.get(r.partition)!;
          mine.forEach((s, i) => list.push({ id: s.id, offset: base + BigInt(i) }));
        }
        assert.equal(res.length, new Set(batch.map((s) => s.partition)).size, 'one result per partition sent to');
      } catch (err) {
        for (const s of batch) unacked.add(s.id);
        if (!killed) throw err;
        break;
      }
    }
  } finally {
    clearTimeout(killTimer);
    if (!killed) b1.kill('SIGKILL');
    await producer.disconnect().catch(() => {});
  }
  const killExit = await b1.waitForExit(20000);
  const totalAcked = [...acked.values()].reduce((n, l) => n + l.length, 0);
  log(`produced ${sends} acknowledged sends (${totalAcked} records) in ~${produceMs} ms, ${unacked.size} records unacknowledged at SIGKILL`);

  const b2 = await start();
  try {
    const { records, topicId: idAfter, partitions: partsAfter } = await readTopic(b2.bootstrap, topic);
    assert.equal(idAfter, topicId, 'topic id survives the crash');
    assert.equal(partsAfter, partitions, 'partition count survives the crash');

    const seen = new Set<number>();
    let unackedSurvived = 0;
    const perPartition: KillNineSummary['perPartition'] = [];
    for (let p = 0; p < partitions; p++) {
      const got = records.get(p)!;
      const exp = acked.get(p)!;
      assert.ok(got.length >= exp.length, `partition ${p}: ${got.length} records present, ${exp.length} were acknowledged`);
      got.forEach((r, i) => {
        assert.equal(r.offset, BigInt(i), `partition ${p}: offsets are dense`);
        const id = idOf(r);
        assert.ok(!seen.has(id), `record id ${id} appears once (partition ${p}, offset ${r.offset})`);
        seen.add(id);
        assert.equal(id % partitions, p, `record id ${id} is in its own partition`);
        assert.ok(r.value!.equals(recordValue(id, valueBytes)), `record id ${id} value intact`);
        assert.equal(r.key?.toString(), `k${p}`);
        assert.deepEqual(r.headers.map(([k, v]) => [k?.toString(), v?.toString()]), [['id', String(id)]]);
        if (i < exp.length) {
          assert.equal(id, exp[i]!.id, `partition ${p} offset ${i}: the acknowledged record (acked at offset ${exp[i]!.offset})`);
          assert.equal(r.offset, exp[i]!.offset);
        } else {
          assert.ok(unacked.has(id), `partition ${p} offset ${i}: record id ${id} beyond the acknowledged ones must be from the in-flight request`);
          unackedSurvived++;
        }
      });
      perPartition.push({ partition: p, acked: exp.length, present: got.length });
    }

    // The log continues after the recovered end: a new record gets the next offset.
    const producer2 = createProducer([b2.bootstrap], { idempotent: false, retries: 0, repeatOnStaleMetadata: false });
    try {
      for (let p = 0; p < partitions; p++) {
        const res = await producer2.send({ messages: [{ topic, partition: p, key: Buffer.from(`k${p}`), value: recordValue(1e9 + p, valueBytes) }], acks: -1 });
        assert.deepEqual(res.offsets!.map((o) => [o.partition, o.offset]), [[p, BigInt(records.get(p)!.length)]], `partition ${p}: next offset after recovery`);
      }
    } finally {
      await producer2.close();
    }
    return { topic, sends, acked: totalAcked, unacked: unacked.size, unackedSurvived, perPartition, killExit };
  } finally {
    b2.kill('SIGTERM');
    await b2.waitForExit(20000).catch(() => b2.kill('SIGKILL'));
  }
}

export interface CleanShutdownSummary {
  topic: string;
  records: number;
  termExit: ExitInfo;
}

/**
 * Produce (acks=1, several codecs), SIGTERM, restart, and check that every record, the topic
 * id and the partition count are back. The caller asserts on termExit (Tributary: code 0).
 */
export async function cleanShutdownScenario(start: StartBroker, opts: { partitions?: number; records?: number } = {}): Promise<CleanShutdownSummary> {
  const partitions = opts.partitions ?? 2;
  const total = opts.records ?? 5000;
  const b1 = await start();
  const { topic, topicId } = await createReadyTopic(b1.bootstrap, partitions, 'dur-term');
  const producer = createProducer([b1.bootstrap], { idempotent: false, retries: 0, repeatOnStaleMetadata: false });
  const expected = new Map<number, number[]>();
  for (let p = 0; p < partitions; p++) expected.set(p, []);
  try {
    const codecs = ['none', 'gzip', 'lz4', 'zstd', 'snappy'] as const;
    for (let i = 0, n = 0; i < total; i += 250, n++) {
      const messages = [];
      for (let id = i; id < Math.min(total, i + 250); id++) {
        messages.push({ topic, partition: id % partitions, key: Buffer.from(`k${id % partitions}`), value: recordValue(id, 100), headers: new Map([[Buffer.from('id'), Buffer.from(String(id))]]) });
        expected.get(id % partitions)!.push(id);
      }
      await producer.send({ messages, acks: 1, compression: codecs[n % codecs.length]! });
    }
  } finally {
    await producer.close();
  }
  b1.kill('SIGTERM');
  const termExit = await b1.waitForExit(20000);

  const b2 = await start();
  try {
    const { records, topicId: idAfter, partitions: partsAfter } = await readTopic(b2.bootstrap, topic);
    assert.equal(idAfter, topicId, 'topic id survives a restart');
    assert.equal(partsAfter, partitions, 'partition count survives a restart');
    for (let p = 0; p < partitions; p++) {
      const got = records.get(p)!;
      assert.deepEqual(got.map(idOf), expected.get(p), `partition ${p}: every record back, in order`);
      got.forEach((r, i) => {
        assert.equal(r.offset, BigInt(i));
        assert.ok(r.value!.equals(recordValue(idOf(r), 100)));
      });
    }
    return { topic, records: total, termExit };
  } finally {
    b2.kill('SIGTERM');
    await b2.waitForExit(20000).catch(() => b2.kill('SIGKILL'));
  }
}
