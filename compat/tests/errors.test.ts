/**
 * Error paths as librdkafka clients see them:
 *  - unknown topic with auto-creation disabled → UNKNOWN_TOPIC_OR_PARTITION (3), from Metadata;
 *  - a record batch over the broker's max message size → MESSAGE_TOO_LARGE (10), from Produce;
 *  - a timestamp more than an hour in the future → INVALID_TIMESTAMP (32) (Kafka 4 default
 *    log.message.timestamp.after.max.ms = 1h).
 *
 * Against an external broker (BOOTSTRAP_SERVERS) auto-creation is assumed ON (Kafka's default):
 * the "broker auto-creation disabled" case then uses BOOTSTRAP_SERVERS_NO_AUTOCREATE if set, or
 * falls back to the client's allow.auto.create.topics=false (Metadata v4+ flag), which real Kafka
 * honours with the same error.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { brokerSkipReason, startCompatBroker, type CompatBroker } from '../broker.ts';
import { kcatConsume, kcatMetadata, kcatRaw, py, pyCreateTopic, pyProduce, uniqueTopic } from '../harness.ts';

const skip = brokerSkipReason();
let broker: CompatBroker; // default config (auto-creation on)
let noAuto: CompatBroker; // auto-creation off (or the same external broker, see above)
let tmp: string;
before(async () => {
  if (skip) return;
  broker = await startCompatBroker();
  noAuto = await startCompatBroker({ autoCreateTopics: false });
  tmp = await mkdtemp(join(tmpdir(), 'compat-errors-'));
});
after(async () => {
  await noAuto?.close();
  await broker?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const T = { skip, timeout: 120_000 };
// librdkafka waits topic.metadata.propagation.max.ms (30 s) for a topic to appear before
// failing its messages with the broker's error; shorten that.
const FAST_FAIL = { 'topic.metadata.propagation.max.ms': 3000, 'message.timeout.ms': 30000 };

async function assertTopicAbsent(b: CompatBroker, topic: string): Promise<void> {
  const md = (await py(b.bootstrap, 'list_topics', { topic })).lines[0]!;
  assert.equal(md.topics[topic]?.error?.error, 'UNKNOWN_TOPIC_OR_PART', `${topic} was not created`);
  assert.equal(md.topics[topic].error.code, 3);
}

async function unknownTopicChecks(b: CompatBroker, clientConf: Record<string, string | number | boolean>): Promise<void> {
  const kcatConf = Object.fromEntries(Object.entries(clientConf).map(([k, v]) => [k, String(v)]));

  // python: Metadata for the topic reports the error
  const t1 = uniqueTopic('unknown-md');
  await assertTopicAbsent(b, t1);

  // python producer: the message fails with UNKNOWN_TOPIC_OR_PART
  const t2 = uniqueTopic('unknown-py');
  const { deliveries } = await pyProduce(b.bootstrap, t2,
    [{ key: Buffer.from('k'), value: Buffer.from('v'), headers: [] }], { ...FAST_FAIL, ...clientConf });
  assert.equal(deliveries[0]!.error, 'UNKNOWN_TOPIC_OR_PART', JSON.stringify(deliveries[0]));
  assert.equal(deliveries[0]!.code, 3);
  await assertTopicAbsent(b, t2);

  // kcat -L -t: the topic is listed with the error
  const t3 = uniqueTopic('unknown-kcat-l');
  const md = await kcatMetadata(b.bootstrap, t3, kcatConf);
  assert.equal(md.topics.length, 1);
  assert.equal(md.topics[0].error, 'Broker: Unknown topic or partition');
  assert.deepEqual(md.topics[0].partitions, []);
  await assertTopicAbsent(b, t3);

  // kcat producer: delivery fails, exit code 1
  const t4 = uniqueTopic('unknown-kcat-p');
  const p = await kcatRaw(b.bootstrap, '-P', ['-t', t4, ...Object.entries({ ...FAST_FAIL, ...kcatConf })
    .flatMap(([k, v]) => ['-X', `${k}=${v}`])], 'hello\n');
  assert.equal(p.code, 1, p.stderr);
  assert.match(p.stderr, /Delivery failed for message: Broker: Unknown topic or partition/);
  await assertTopicAbsent(b, t4);

  // kcat consumer: fails at once, exit code 1
  const t5 = uniqueTopic('unknown-kcat-c');
  const c = await kcatRaw(b.bootstrap, '-C', ['-t', t5, '-e', ...Object.entries(kcatConf).flatMap(([k, v]) => ['-X', `${k}=${v}`])]);
  assert.equal(c.code, 1, c.stderr);
  assert.match(c.stderr, new RegExp(`Topic ${t5} error: Broker: Unknown topic or partition`));
}

test('auto-creation disabled on the broker: producing to an unknown topic fails with UNKNOWN_TOPIC_OR_PARTITION', T, async () => {
  // clients keep their defaults (a librdkafka producer asks for auto-creation) unless the broker
  // under test would create the topic anyway, see the file comment
  const conf: Record<string, boolean> = noAuto.autoCreates ? { 'allow.auto.create.topics': false } : {};
  await unknownTopicChecks(noAuto, conf);
});

test('client allow.auto.create.topics=false is honoured by an auto-creating broker', T, async (t) => {
  if (!broker.autoCreates) return t.skip('broker does not auto-create');
  await unknownTopicChecks(broker, { 'allow.auto.create.topics': false });
});

test('a record batch larger than the broker limit fails with MSG_SIZE_TOO_LARGE; the partition still works', T, async () => {
  const topic = uniqueTopic('too-large');
  await pyCreateTopic(broker.bootstrap, topic, 1);
  const big = randomBytes(2 * 1024 * 1024); // > message.max.bytes default 1048588
  const clientConf = { 'message.max.bytes': 10_000_000 }; // so the client does not reject it itself

  const res = await pyProduce(broker.bootstrap, topic, [{ key: Buffer.from('big'), value: big, headers: [], partition: 0 }], clientConf);
  const d = res.deliveries[0]!;
  assert.equal(d.error, 'MSG_SIZE_TOO_LARGE', JSON.stringify(d));
  assert.equal(d.code, 10);
  assert.equal(d.local, undefined, 'rejected by the broker, not by the client');
  assert.equal(d.str, 'Broker: Message size too large');

  const file = join(tmp, 'big.bin');
  await writeFile(file, big);
  const k = await kcatRaw(broker.bootstrap, '-P', ['-t', topic, '-p', '0', '-X', 'message.max.bytes=10000000', file]);
  assert.equal(k.code, 1, k.stderr);
  assert.match(k.stderr, /Delivery failed for message: Broker: Message size too large/);

  const wm = await py(broker.bootstrap, 'watermarks', { topic });
  assert.deepEqual(wm.lines, [{ p: 0, low: 0, high: 0 }], 'nothing was appended');

  const ok = await pyProduce(broker.bootstrap, topic, [{ key: Buffer.from('small'), value: Buffer.from('ok'), headers: [], partition: 0 }]);
  assert.equal(ok.deliveries[0]!.o, 0);
  const got = await kcatConsume(broker.bootstrap, topic);
  assert.deepEqual(got.map((r) => r.value!.toString()), ['ok']);
});

test('a timestamp more than an hour ahead fails the batch with INVALID_TIMESTAMP', T, async () => {
  const topic = uniqueTopic('future-ts');
  await pyCreateTopic(broker.bootstrap, topic, 1);
  const now = Date.now();
  const res = await pyProduce(broker.bootstrap, topic, [
    { key: Buffer.from('future'), value: Buffer.from('x'), headers: [], partition: 0, timestamp: now + 2 * 3_600_000 },
  ]);
  assert.equal(res.deliveries[0]!.error, 'INVALID_TIMESTAMP', JSON.stringify(res.deliveries[0]));
  assert.equal(res.deliveries[0]!.code, 32);
  const ok = await pyProduce(broker.bootstrap, topic, [
    { key: Buffer.from('soon'), value: Buffer.from('y'), headers: [], partition: 0, timestamp: now + 60_000 },
  ]);
  assert.equal(ok.deliveries[0]!.error, undefined, JSON.stringify(ok.deliveries[0]));
  assert.equal(ok.deliveries[0]!.o, 0);
});
