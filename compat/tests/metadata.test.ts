/**
 * Topic creation (python AdminClient; kcat cannot create topics) and metadata listing with
 * kcat -L and python list_topics; auto-creation by a kcat producer.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { brokerSkipReason, startCompatBroker, type CompatBroker } from '../broker.ts';
import { kcatMetadata, kcatProduce, py, pyCreateTopic, uniqueTopic } from '../harness.ts';

const skip = brokerSkipReason();
let broker: CompatBroker;
before(async () => { if (!skip) broker = await startCompatBroker(); });
after(async () => { await broker?.close(); });

const T = { skip, timeout: 120_000 };

test('python AdminClient creates a 3-partition topic; duplicate and invalid creates fail with Kafka codes', T, async () => {
  const topic = uniqueTopic('create');
  const res = await py(broker.bootstrap, 'create_topics', {
    topics: [{ name: topic, partitions: 3 }],
  });
  assert.deepEqual(res.lines, [{ topic, error: null }]);

  const again = await py(broker.bootstrap, 'create_topics', {
    topics: [
      { name: topic, partitions: 3 },
      { name: `${topic}/bad`, partitions: 1 },
      { name: `${topic}-zero`, partitions: 0 },
    ],
  });
  const byName = Object.fromEntries(again.lines.map((l) => [l.topic, l]));
  assert.equal(byName[topic].error, 'TOPIC_ALREADY_EXISTS');
  assert.equal(byName[topic].code, 36);
  assert.equal(byName[`${topic}/bad`].error, 'TOPIC_EXCEPTION'); // INVALID_TOPIC_EXCEPTION
  assert.equal(byName[`${topic}/bad`].code, 17);
  assert.equal(byName[`${topic}-zero`].error, 'INVALID_PARTITIONS');
  assert.equal(byName[`${topic}-zero`].code, 37);

  // python list_topics sees the topic with 3 partitions, each led by a listed broker
  const md = (await py(broker.bootstrap, 'list_topics', {})).lines[0]!;
  assert.ok(md.brokers.length >= 1, 'at least one broker');
  const brokerIds = new Set(md.brokers.map((b: any) => b.id));
  assert.ok(brokerIds.has(md.controller_id), `controller ${md.controller_id} is a listed broker`);
  const t = md.topics[topic];
  assert.ok(t, `${topic} listed`);
  assert.equal(t.error, null);
  assert.deepEqual(t.partitions.map((p: any) => p.id), [0, 1, 2]);
  for (const p of t.partitions) {
    assert.ok(brokerIds.has(p.leader), `partition ${p.id} leader ${p.leader} is a listed broker`);
    assert.ok(p.replicas.includes(p.leader));
    assert.ok(p.isrs.includes(p.leader));
    assert.equal(p.error, null);
  }
  assert.ok(!(`${topic}-zero` in md.topics), 'failed creates leave no topic');
  if (!broker.external) {
    assert.deepEqual(md.brokers.map((b: any) => `${b.host}:${b.port}`), [broker.bootstrap],
      'the broker advertises the address the client bootstrapped from');
  }
});

test('kcat -L lists brokers and topics, and one topic with -t', T, async () => {
  const topic = uniqueTopic('kcat-l');
  await pyCreateTopic(broker.bootstrap, topic, 3);

  const all = await kcatMetadata(broker.bootstrap);
  assert.ok(Array.isArray(all.brokers) && all.brokers.length >= 1);
  for (const b of all.brokers) assert.match(b.name, /^[^:]+:\d+$/);
  const t = all.topics.find((x: any) => x.topic === topic);
  assert.ok(t, `kcat -L lists ${topic}`);
  assert.equal(t.error, undefined);
  assert.deepEqual(t.partitions.map((p: any) => p.partition).sort(), [0, 1, 2]);
  const ids = new Set(all.brokers.map((b: any) => b.id));
  for (const p of t.partitions) {
    assert.ok(ids.has(p.leader));
    assert.deepEqual(p.replicas.map((r: any) => r.id).includes(p.leader), true);
  }
  assert.ok(ids.has(all.controllerid), 'controller id is a broker');

  const one = await kcatMetadata(broker.bootstrap, topic);
  assert.equal(one.topics.length, 1);
  assert.equal(one.topics[0].topic, topic);
  assert.equal(one.topics[0].partitions.length, 3);
});

test('a kcat producer auto-creates an unknown topic when the broker allows it', T, async (t) => {
  if (!broker.autoCreates) return t.skip('broker does not auto-create');
  const topic = uniqueTopic('autocreate');
  await kcatProduce(broker.bootstrap, topic, [{ key: Buffer.from('k'), value: Buffer.from('v') }]);
  const md = (await py(broker.bootstrap, 'list_topics', { topic })).lines[0]!;
  assert.equal(md.topics[topic].error, null);
  assert.ok(md.topics[topic].partitions.length >= 1, 'created with num.partitions partitions');
  const wm = await py(broker.bootstrap, 'watermarks', { topic });
  assert.equal(wm.lines.reduce((n, l) => n + l.high - l.low, 0), 1);
});
