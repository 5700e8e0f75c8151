/**
 * Consume from a timestamp: kcat -o s@<ts>, kcat -Q, python offsets_for_times (ListOffsets with
 * a timestamp: the earliest offset whose timestamp is >= the target, or -1 when there is none).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { brokerSkipReason, startCompatBroker, type CompatBroker } from '../broker.ts';
import { kcatConsume, kcatRaw, py, pyConsume, pyCreateTopic, pyProduce, uniqueTopic, type Rec } from '../harness.ts';

const skip = brokerSkipReason();
let broker: CompatBroker;
let topic: string;
let produced: Rec[];

// Recent past (see produce-consume.test.ts for why not older / newer).
const BASE_TS = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
const PER_PARTITION = 30;
const TARGET = BASE_TS + 14_500; // between record 14 (BASE+14000) and 15 (BASE+15000)

before(async () => {
  if (skip) return;
  broker = await startCompatBroker();
  topic = uniqueTopic('ts');
  await pyCreateTopic(broker.bootstrap, topic, 3);
  produced = [];
  for (let i = 0; i < PER_PARTITION; i++) {
    for (const p of [0, 1, 2]) {
      // partition p is shifted by p ms so partitions differ
      produced.push({ partition: p, key: Buffer.from(`k${p}-${i}`), value: Buffer.from(`v${i}`), headers: [], timestamp: BASE_TS + i * 1000 + p });
    }
  }
  // several produce calls so the records span several batches
  for (let from = 0; from < produced.length; from += 20) {
    const { done } = await pyProduce(broker.bootstrap, topic, produced.slice(from, from + 20));
    assert.equal(done.ok, Math.min(20, produced.length - from));
  }
});
after(async () => { await broker?.close(); });

const T = { skip, timeout: 120_000 };
const expectedFrom = (ts: number) => produced.filter((r) => r.timestamp! >= ts);

test('python offsets_for_times returns the first offset with timestamp >= target, -1 past the end', T, async () => {
  const res = await py(broker.bootstrap, 'offsets_for_times', { topic, timestamp: TARGET });
  assert.deepEqual(res.lines.map((l) => [l.p, l.o]).sort(), [[0, 15], [1, 15], [2, 15]]);
  const exact = await py(broker.bootstrap, 'offsets_for_times', { topic, timestamp: BASE_TS + 7000 + 1 });
  assert.deepEqual(exact.lines.map((l) => [l.p, l.o]).sort(), [[0, 8], [1, 7], [2, 7]]);
  const early = await py(broker.bootstrap, 'offsets_for_times', { topic, timestamp: BASE_TS - 10_000 });
  assert.deepEqual(early.lines.map((l) => [l.p, l.o]).sort(), [[0, 0], [1, 0], [2, 0]]);
  const late = await py(broker.bootstrap, 'offsets_for_times', { topic, timestamp: BASE_TS + 3_600_000 });
  assert.deepEqual(late.lines.map((l) => [l.p, l.o]).sort(), [[0, -1], [1, -1], [2, -1]]);
});

test('python consumes from a timestamp', T, async () => {
  const got = await pyConsume(broker.bootstrap, topic, { timestamp: TARGET });
  const exp = expectedFrom(TARGET);
  assert.equal(got.length, exp.length);
  for (const p of [0, 1, 2]) {
    const g = got.filter((r) => r.partition === p);
    assert.deepEqual(g.map((r) => r.offset), Array.from({ length: PER_PARTITION - 15 }, (_, i) => 15 + i));
    assert.deepEqual(g.map((r) => r.timestamp), exp.filter((r) => r.partition === p).map((r) => r.timestamp));
    assert.deepEqual(g.map((r) => r.key), exp.filter((r) => r.partition === p).map((r) => r.key));
  }
});

test('kcat -o s@<ts> consumes from a timestamp', T, async () => {
  const got = await kcatConsume(broker.bootstrap, topic, { offset: `s@${TARGET}` });
  const exp = expectedFrom(TARGET);
  assert.equal(got.length, exp.length);
  for (const p of [0, 1, 2]) {
    const g = got.filter((r) => r.partition === p);
    assert.equal(g[0]!.offset, 15);
    assert.deepEqual(g.map((r) => r.timestamp), exp.filter((r) => r.partition === p).map((r) => r.timestamp));
    assert.deepEqual(g.map((r) => r.value), exp.filter((r) => r.partition === p).map((r) => r.value));
  }
  const none = await kcatConsume(broker.bootstrap, topic, { offset: `s@${BASE_TS + 3_600_000}` });
  assert.equal(none.length, 0, 'nothing at or after a timestamp past the last record');
});

test('kcat -Q queries offsets by timestamp', T, async () => {
  const r = await kcatRaw(broker.bootstrap, '-Q', ['-J',
    '-t', `${topic}:0:${TARGET}`, '-t', `${topic}:1:${BASE_TS - 1}`, '-t', `${topic}:2:${BASE_TS + 3_600_000}`]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout.toString());
  assert.equal(j[topic]['0'].offset, 15);
  assert.equal(j[topic]['1'].offset, 0);
  assert.equal(j[topic]['2'].offset, -1);
});
