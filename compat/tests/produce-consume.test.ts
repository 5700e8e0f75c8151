/**
 * Keyed produce to several partitions with headers and explicit timestamps, consumed from
 * earliest by both clients; every field and the per-partition offset order is checked.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { brokerSkipReason, startCompatBroker, type CompatBroker } from '../broker.ts';
import {
  byPartition, kcatConsume, kcatProduce, pyConsume, pyCreateTopic, pyProduce, uniqueTopic, type Rec,
} from '../harness.ts';

const skip = brokerSkipReason();
let broker: CompatBroker;
before(async () => { if (!skip) broker = await startCompatBroker(); });
after(async () => { await broker?.close(); });

const T = { skip, timeout: 120_000 };
// Explicit CreateTime: recent past. Not older: Kafka's time retention (7 days by default) deletes
// records by their timestamp; not in the future: Kafka 4 rejects > now+1h with INVALID_TIMESTAMP.
const BASE_TS = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

/** Per partition: offsets 0..n-1 in order, and the records in production order. */
function assertPartitionOrder(got: Rec[], expected: Rec[], what: string, checkTimestamps = true): void {
  const gotBy = byPartition(got);
  const expBy = byPartition(expected);
  assert.deepEqual([...gotBy.keys()].sort(), [...expBy.keys()].sort(), `${what}: partitions`);
  for (const [p, exp] of expBy) {
    const recs = gotBy.get(p)!;
    assert.equal(recs.length, exp.length, `${what}: count in partition ${p}`);
    recs.forEach((r, i) => {
      const e = exp[i]!;
      const where = `${what}: partition ${p} record ${i}`;
      assert.equal(r.offset, i, `${where}: offset`);
      assert.deepEqual(r.key, e.key, `${where}: key`);
      assert.deepEqual(r.value, e.value, `${where}: value`);
      assert.deepEqual(r.headers, e.headers, `${where}: headers`);
      if (checkTimestamps) assert.equal(r.timestamp, e.timestamp, `${where}: timestamp`);
    });
  }
}

function pythonRecords(): Rec[] {
  const recs: Rec[] = [];
  for (let i = 0; i < 30; i++) {
    const partition = i % 3;
    recs.push({
      partition,
      key: Buffer.from(`key-${i}`),
      value: Buffer.from(`value ${i} ${'é✓'.repeat(i % 4)}`),
      timestamp: BASE_TS + i * 1000,
      headers: [
        ['trace', Buffer.from(`t${i}`)],
        ['part', Buffer.from(String(partition))],
        ...(i % 5 === 0 ? [['trace', Buffer.from('dup')] as [string, Buffer]] : []),
      ],
    });
  }
  return recs;
}

test('python: keyed produce with headers + timestamps to 3 partitions, consumed by python and kcat', T, async () => {
  const topic = uniqueTopic('pc-py');
  await pyCreateTopic(broker.bootstrap, topic, 3);
  const expected = pythonRecords();
  const { deliveries, done } = await pyProduce(broker.bootstrap, topic, expected, { acks: 'all' });
  assert.equal(done.ok, expected.length, JSON.stringify(deliveries.filter((d) => d.error)));
  // delivery reports carry partition, per-partition increasing offsets and the given timestamp
  const next = [0, 0, 0];
  for (const d of deliveries) {
    const e = expected[d.i]!;
    assert.equal(d.p, e.partition);
    assert.equal(d.o, next[d.p!]!++);
    assert.equal(d.ts, e.timestamp);
  }

  const viaPy = await pyConsume(broker.bootstrap, topic);
  assertPartitionOrder(viaPy, expected, 'python consumer');
  for (const r of viaPy) assert.equal(r.tsType, 'create', 'timestamp type is CreateTime');

  const viaKcat = await kcatConsume(broker.bootstrap, topic);
  assertPartitionOrder(viaKcat, expected, 'kcat consumer');
});

test('python: null and empty keys, values and header values survive', T, async () => {
  const topic = uniqueTopic('pc-null');
  await pyCreateTopic(broker.bootstrap, topic, 1);
  const expected: Rec[] = [
    { partition: 0, key: null, value: null, headers: [], timestamp: BASE_TS },
    { partition: 0, key: Buffer.alloc(0), value: Buffer.alloc(0), headers: [['n', null], ['e', Buffer.alloc(0)]], timestamp: BASE_TS + 1 },
    { partition: 0, key: Buffer.from([0, 255, 1]), value: Buffer.from([0, 0, 0]), headers: [['b', Buffer.from('x')]], timestamp: BASE_TS + 2 },
  ];
  const { done } = await pyProduce(broker.bootstrap, topic, expected);
  assert.equal(done.ok, 3);
  assertPartitionOrder(await pyConsume(broker.bootstrap, topic), expected, 'python consumer');
  assertPartitionOrder(await kcatConsume(broker.bootstrap, topic), expected, 'kcat consumer');
});

test('kcat: keyed produce with headers to explicit partitions, consumed by python and kcat', T, async () => {
  const topic = uniqueTopic('pc-kcat');
  await pyCreateTopic(broker.bootstrap, topic, 3);
  const expected: Rec[] = [];
  const before = Date.now();
  for (const partition of [0, 1, 2]) {
    const recs = Array.from({ length: 10 + partition }, (_, i) => ({
      key: Buffer.from(`p${partition}-k${i}`),
      value: Buffer.from(`kcat value ${partition}/${i} ✓`),
    }));
    const headers: Array<[string, string]> = [['src', 'kcat'], ['part', String(partition)]];
    await kcatProduce(broker.bootstrap, topic, recs, { partition, headers, config: { acks: 'all' } });
    for (const r of recs) {
      expected.push({ ...r, partition, headers: headers.map(([n, v]) => [n, Buffer.from(v)]) });
    }
  }
  const afterTs = Date.now();

  for (const [who, got] of [
    ['python', await pyConsume(broker.bootstrap, topic)],
    ['kcat', await kcatConsume(broker.bootstrap, topic)],
  ] as const) {
    assertPartitionOrder(got, expected, `${who} consumer`, false);
    for (const r of got) {
      // kcat sets CreateTime itself when producing; it must be preserved (not log-append time)
      assert.ok(r.timestamp! >= before - 1000 && r.timestamp! <= afterTs + 1000,
        `${who}: timestamp ${r.timestamp} within the produce window`);
    }
  }
});

test('kcat: keys without -p are partitioned by key (same key, same partition)', T, async () => {
  const topic = uniqueTopic('pc-keyed');
  await pyCreateTopic(broker.bootstrap, topic, 3);
  const keys = Array.from({ length: 12 }, (_, i) => `user-${i}`);
  const recs = [0, 1, 2].flatMap((round) => keys.map((k) => ({ key: Buffer.from(k), value: Buffer.from(`${k} round ${round}`) })));
  await kcatProduce(broker.bootstrap, topic, recs);
  const got = await kcatConsume(broker.bootstrap, topic);
  assert.equal(got.length, recs.length);
  const partitionOf = new Map<string, number>();
  for (const r of got) {
    const k = r.key!.toString();
    if (!partitionOf.has(k)) partitionOf.set(k, r.partition!);
    assert.equal(r.partition, partitionOf.get(k), `key ${k} always in one partition`);
  }
  assert.ok(new Set(partitionOf.values()).size > 1, 'keys spread over more than one partition');
  // per key, the rounds arrive in order
  for (const k of keys) {
    const vals = got.filter((r) => r.key!.toString() === k).map((r) => r.value!.toString());
    assert.deepEqual(vals, [0, 1, 2].map((round) => `${k} round ${round}`));
  }
});
