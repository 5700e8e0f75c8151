/**
 * The scenarios java.test.ts and franz-go.test.ts run, written once against the common harness
 * interface (`CliClient`): admin, keyed produce with headers/timestamps in every codec, consume
 * without a group, offsets for a timestamp and consume from it, and 10,000 records across clients.
 * Every produce disables idempotence explicitly (Tributary has no InitProducerId yet).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { CompatBroker } from '../broker.ts';
import { byPartition, digest, genRecords, storedCodecs, uniqueTopic, type Rec } from '../harness.ts';
import type { CliClient, Line } from './client.ts';

export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

/** Client settings every produce uses: acks=all, idempotence off (see compat/README.md). */
export const PRODUCE_DEFAULTS = { acks: 'all', 'enable.idempotence': 'false' } as const;

/** Recent past: Kafka's 7-day time retention would delete older records (see timestamp.test.ts). */
const baseTs = () => Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

const short = (l: Line | undefined) => JSON.stringify(l)?.slice(0, 600);

// ---------------------------------------------------------------- admin

export async function adminScenario(client: CliClient, broker: CompatBroker, prefix: string,
  existsError: { error: string; code: number }): Promise<void> {
  const topic = uniqueTopic(prefix);
  const { lines } = await client.admin(broker.bootstrap, topic);
  const step = Object.fromEntries(lines.map((l) => [l.step, l]));
  assert.deepEqual(Object.keys(step), ['create', 'list', 'describe', 'configs', 'cluster', 'create-again']);

  assert.equal(step.create.error, null, `create: ${short(step.create)}`);
  assert.equal(step.list.error, null, `list: ${short(step.list)}`);
  assert.equal(step.list.found, true, 'list topics includes the new topic');

  const d = step.describe;
  assert.equal(d.error, null, `describe: ${short(d)}`);
  assert.equal(d.name, topic);
  assert.equal(d.internal, false);
  assert.ok(d.id && !/^A+=*$/.test(d.id) && d.id !== 'AAAAAAAAAAAAAAAAAAAAAA', `a topic id: ${d.id}`);
  assert.deepEqual(d.partitions.map((p: Line) => p.p), [0, 1, 2]);

  const c = step.cluster;
  assert.equal(c.error, null, `cluster: ${short(c)}`);
  assert.ok(typeof c.id === 'string' && c.id.length > 0, 'cluster id');
  const nodeIds = new Set(c.nodes.map((n: Line) => n.id));
  assert.ok(nodeIds.has(c.controller), `controller ${c.controller} is a listed node`);
  for (const n of c.nodes) assert.ok(n.host && n.port > 0, `node ${JSON.stringify(n)}`);
  if (!broker.external) {
    assert.deepEqual(c.nodes.map((n: Line) => `${n.host}:${n.port}`), [broker.bootstrap], 'advertised address');
  }
  for (const p of d.partitions) {
    assert.ok(nodeIds.has(p.leader), `partition ${p.p} leader ${p.leader} is a node`);
    assert.ok(p.replicas.includes(p.leader) && p.isr.includes(p.leader), `partition ${p.p} replicas/isr`);
  }
  if (c.metadata) {
    // franz-go also reads the cluster id and controller from Metadata: both APIs must agree
    assert.equal(c.metadata.id, c.id);
    assert.equal(c.metadata.controller, c.controller);
  }

  const cfg = step.configs;
  assert.equal(cfg.error, null, `configs: ${short(cfg)}`);
  const v = (k: string) => cfg.configs[k]?.v;
  assert.equal(v('cleanup.policy'), 'delete');
  assert.equal(v('retention.ms'), '604800000');
  assert.equal(v('compression.type'), 'producer');
  assert.equal(v('max.message.bytes'), '1048588');
  assert.equal(v('message.timestamp.type'), 'CreateTime');
  for (const k of ['cleanup.policy', 'retention.ms', 'segment.bytes']) {
    assert.equal(cfg.configs[k].src, 'DEFAULT_CONFIG', `${k} source`);
  }

  const again = step['create-again'];
  assert.equal(again.error, existsError.error, `create existing: ${short(again)}`);
  assert.equal(again.code, existsError.code);
}

// ---------------------------------------------------------------- produce / consume

/** Keyed records with headers (duplicate names, null and empty values), explicit timestamps,
 *  null keys, empty and null values, to partitions 0..2 in turn. */
export function richRecords(n: number, tag: string, ts0: number): Rec[] {
  const recs: Rec[] = [];
  for (let i = 0; i < n; i++) {
    const headers: Array<[string, Buffer | null]> = i % 4 === 0 ? [] : [
      ['trace', Buffer.from(`${tag}-${i}`)], ['dup', Buffer.from('a')], ['dup', Buffer.from('b')],
      ['null', null], ['empty', Buffer.alloc(0)], ['bin', randomBytes(8)],
    ];
    recs.push({
      partition: i % 3,
      timestamp: ts0 + i * 10,
      key: i % 8 === 5 ? null : Buffer.from(`${tag}-key-${i}`),
      value: i % 8 === 3 ? Buffer.alloc(0) : i % 8 === 6 ? null
        : Buffer.concat([Buffer.from(`${tag} value ${i} `.repeat(1 + (i % 5))), randomBytes(i % 40)]),
      headers,
    });
  }
  return recs;
}

/** Deliveries all succeeded; returns the records with their assigned partition and offset. */
export function delivered(who: string, sent: Rec[], res: { deliveries: Line[]; done: Line }): Rec[] {
  const bad = res.deliveries.find((d) => d.error);
  assert.equal(res.done.ok, sent.length, `${who}: all delivered; first failure: ${short(bad)} done: ${short(res.done)}`);
  assert.equal(res.deliveries.length, sent.length);
  return sent.map((r, i) => {
    const d = res.deliveries[i]!;
    assert.equal(d.i, i);
    if (r.partition !== undefined) assert.equal(d.p, r.partition, `${who}: record ${i} partition`);
    if (r.timestamp !== undefined) assert.equal(d.ts, r.timestamp, `${who}: record ${i} timestamp in the ack`);
    return { ...r, partition: d.p, offset: d.o };
  });
}

/** Consumed records equal the sent ones at their (partition, offset): key, value, headers,
 *  timestamp (CreateTime); each partition's offsets contiguous from 0. */
export function sameRecords(who: string, got: Rec[], sent: Rec[]): void {
  const at = new Map(sent.map((r) => [`${r.partition}/${r.offset}`, r]));
  assert.equal(got.length, sent.length, `${who}: count`);
  for (const g of got) {
    const e = at.get(`${g.partition}/${g.offset}`);
    assert.ok(e, `${who}: unexpected record at ${g.partition}/${g.offset}`);
    const where = `${who}: record at ${g.partition}/${g.offset}`;
    assert.deepEqual(g.key, e.key, `${where} key`);
    assert.deepEqual(g.value, e.value, `${where} value`);
    assert.deepEqual(g.headers, e.headers, `${where} headers`);
    assert.equal(g.timestamp, e.timestamp, `${where} timestamp`);
    assert.equal(g.tsType, 'create', `${where} timestamp type`);
  }
  for (const [p, recs] of byPartition(got)) {
    assert.deepEqual(recs.map((r) => r.offset), recs.map((_, i) => i), `${who}: partition ${p} offsets 0..n-1`);
  }
}

/**
 * `producer` writes records in each codec (one producer run per codec, acks=all) to one
 * 3-partition topic; every client in `consumers` reads them all back from the beginning.
 */
export async function codecScenario(producer: CliClient, consumers: CliClient[], broker: CompatBroker,
  prefix: string, createTopic: (topic: string) => Promise<void>): Promise<void> {
  const topic = uniqueTopic(prefix);
  await createTopic(topic);
  const ts0 = baseTs();
  const sent: Rec[] = [];
  for (const [ci, codec] of CODECS.entries()) {
    const recs = richRecords(24, `${prefix}-${codec}`, ts0 + ci * 1000);
    const res = await producer.produce(broker.bootstrap, topic, recs, { ...PRODUCE_DEFAULTS, 'compression.type': codec });
    sent.push(...delivered(`${producer.name} ${codec}`, recs, res));
  }
  for (const c of consumers) {
    const { recs, info } = await c.consume(broker.bootstrap, topic);
    assert.deepEqual(info.filter((l) => l.error), [], `${c.name}: no fetch errors`);
    sameRecords(`${c.name} consuming ${producer.name}`, recs, sent);
  }
  const stored = storedCodecs(broker.dataDir, topic);
  if (stored) assert.deepEqual([...stored].sort(), [...CODECS].sort(), 'the log holds a batch of each codec');
}

// ---------------------------------------------------------------- timestamps

const PER_PARTITION = 30;

/**
 * 3 partitions × 30 records, record i of partition p at BASE + i s + p ms, produced in three runs
 * (so several batches); `client` looks offsets up by timestamp and consumes from one.
 * `pastEnd`: what the client reports for a timestamp after every record (Java: -1,
 * kadm ListOffsetsAfterMilli: the end offset).
 */
export async function timestampScenario(client: CliClient, broker: CompatBroker, prefix: string,
  createTopic: (topic: string) => Promise<void>, pastEnd: 'minus-one' | 'end-offset'): Promise<void> {
  const topic = uniqueTopic(prefix);
  await createTopic(topic);
  const base = baseTs();
  const recs: Rec[] = [];
  for (let i = 0; i < PER_PARTITION; i++) {
    for (const p of [0, 1, 2]) {
      recs.push({ partition: p, timestamp: base + i * 1000 + p, key: Buffer.from(`k${p}-${i}`), value: Buffer.from(`v${i}`), headers: [] });
    }
  }
  for (let from = 0; from < recs.length; from += 30) {
    const chunk = recs.slice(from, from + 30);
    delivered(client.name, chunk, await client.produce(broker.bootstrap, topic, chunk, PRODUCE_DEFAULTS));
  }

  const target = base + 14_500; // between records 14 and 15
  const exact = base + 7000 + 1;
  const before = base - 10_000;
  const late = base + 3_600_000;
  const lines = await client.offsets(broker.bootstrap, topic, [target, exact, before, late]);
  const lookup = (ts: number) => lines.filter((l) => l.ts === ts).map((l) => [l.p, l.o]);
  const at = lines.filter((l) => l.ts === target);
  assert.deepEqual(at.map((l) => [l.p, l.start, l.end, l.o]), [0, 1, 2].map((p) => [p, 0, PER_PARTITION, 15]));
  assert.deepEqual(at.map((l) => l.ots), [0, 1, 2].map((p) => base + 15_000 + p), 'timestamps of the found records');
  assert.deepEqual(lookup(exact), [[0, 8], [1, 7], [2, 7]], 'exact hits');
  assert.deepEqual(lookup(before), [[0, 0], [1, 0], [2, 0]], 'before the first record');
  const none = pastEnd === 'minus-one' ? -1 : PER_PARTITION;
  assert.deepEqual(lookup(late), [[0, none], [1, none], [2, none]], 'after the last record');

  const { recs: got } = await client.consume(broker.bootstrap, topic, { timestamp: target });
  const exp = recs.filter((r) => r.timestamp! >= target);
  assert.equal(got.length, exp.length, 'records from the timestamp on');
  for (const p of [0, 1, 2]) {
    const g = got.filter((r) => r.partition === p);
    const e = exp.filter((r) => r.partition === p);
    assert.deepEqual(g.map((r) => r.offset), e.map((_, i) => 15 + i), `partition ${p} offsets`);
    assert.deepEqual(g.map((r) => r.timestamp), e.map((r) => r.timestamp), `partition ${p} timestamps`);
    assert.deepEqual(g.map((r) => r.key), e.map((r) => r.key), `partition ${p} keys`);
  }
  const past = await client.consume(broker.bootstrap, topic, { timestamp: late });
  assert.equal(past.recs.length, 0, 'nothing at or after a timestamp past the last record');
}

// ---------------------------------------------------------------- bulk

export const BULK_N = 10_000;

/**
 * `producer` writes 10,000 key-partitioned records (random bytes, some null and empty values) to
 * 3 partitions; `consumer` reads them; compared byte for byte: count and sha256 of the stream
 * ordered by (partition, offset), computed here and by the consumer harness itself.
 */
export async function bulkScenario(producer: CliClient, consumer: CliClient, broker: CompatBroker, prefix: string,
  createTopic: (topic: string) => Promise<void>): Promise<void> {
  const topic = uniqueTopic(prefix);
  await createTopic(topic);
  const ts0 = baseTs();
  const recs: Rec[] = genRecords(BULK_N, prefix, { maxLen: 600 }).map((r, i) => ({
    ...r, value: i % 997 === 0 ? null : r.value, timestamp: ts0 + i,
  }));
  const res = await producer.produce(broker.bootstrap, topic, recs, { ...PRODUCE_DEFAULTS, 'linger.ms': 10 }, 120);
  const sent = delivered(producer.name, recs, res);
  assert.ok(new Set(sent.map((r) => r.partition)).size === 3, 'the key partitioner used all 3 partitions');
  const ordered = [...sent].sort((a, b) => a.partition! - b.partition! || a.offset! - b.offset!);

  const { recs: got, done } = await consumer.consume(broker.bootstrap, topic, 'earliest', {}, 120);
  assert.equal(got.length, BULK_N, 'count');
  assert.equal(done.count, BULK_N, 'count reported by the consumer');
  const want = digest(ordered, true);
  assert.equal(digest(got, true), want, 'sha256 of the (partition, offset)-ordered key+value stream');
  assert.equal(done.sha256, want, 'the same sha256 computed inside the consumer harness');
  for (const [p, list] of byPartition(got)) {
    list.forEach((r, i) => assert.equal(r.offset, i, `partition ${p}: offsets contiguous from 0`));
    for (let i = 1; i < list.length; i++) {
      assert.ok(Buffer.compare(list[i - 1]!.key!, list[i]!.key!) < 0, `partition ${p}: produce order kept at offset ${i}`);
    }
  }
  const byOffset = new Map(ordered.map((r) => [`${r.partition}/${r.offset}`, r]));
  for (const g of got) assert.equal(g.timestamp, byOffset.get(`${g.partition}/${g.offset}`)!.timestamp, 'timestamps');
}
