/**
 * confluent-kafka-python's AdminClient (librdkafka) on log management: describe_configs of a
 * topic and of the broker (sources, synonyms), incremental_alter_configs SET/APPEND/SUBTRACT/
 * DELETE, validate_only and an invalid value (INVALID_CONFIG, 40), delete_records then
 * list_offsets and a consumer from the beginning; past the end: OFFSET_OUT_OF_RANGE (1).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { brokerSkipReason, startCompatBroker, type CompatBroker } from '../broker.ts';
import { kcatMetadata, py, pyConsume, pyCreateTopic, pyProduce, uniqueTopic, type Rec } from '../harness.ts';

const skip = brokerSkipReason();
let broker: CompatBroker;

before(async () => {
  if (skip) return;
  broker = await startCompatBroker();
});
after(async () => { await broker?.close(); });

const T = { skip, timeout: 120_000 };
type Configs = Record<string, { v: string | null; src: string; ro: boolean; default: boolean; sensitive: boolean; syn: string[][] }>;

async function describe(type: 'topic' | 'broker', name: string): Promise<Configs> {
  const { lines } = await py(broker.bootstrap, 'describe_configs', { resources: [{ type, name }] });
  assert.equal(lines[0]!.error, null, `describe_configs ${type} ${name}: ${JSON.stringify(lines[0])}`);
  return lines[0]!.configs as Configs;
}

/** describe until `until` holds (a change may take a moment to show), at most 10 s */
async function describeUntil(topic: string, until: (c: Configs) => boolean): Promise<Configs> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const c = await describe('topic', topic);
    if (until(c) || Date.now() > deadline) return c;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function alter(topic: string, ops: Array<[string, string | null, string]>, validateOnly = false): Promise<Record<string, any>> {
  const { lines } = await py(broker.bootstrap, 'incremental_alter_configs', { type: 'topic', name: topic, ops, validate_only: validateOnly });
  return lines[0]!;
}

test('python describe_configs (topic, broker), incremental_alter_configs SET/APPEND/SUBTRACT/DELETE, validate_only, INVALID_CONFIG', T, async () => {
  const topic = uniqueTopic('py-configs');
  await pyCreateTopic(broker.bootstrap, topic, 1, { 'retention.ms': '86400000' });
  let c = await describeUntil(topic, (x) => x['retention.ms']?.v === '86400000');
  assert.deepEqual({ ...c['retention.ms'], syn: c['retention.ms']!.syn.slice(0, 1) }, { v: '86400000', src: 'DYNAMIC_TOPIC_CONFIG',
    ro: false, default: false, sensitive: false, syn: [['retention.ms', '86400000', 'DYNAMIC_TOPIC_CONFIG']] });
  // (Kafka 4.3.1 lists no further synonym: log.retention.ms has no default value)
  assert.ok(c['retention.ms']!.syn.slice(1).every((s) => s[0]!.startsWith('log.retention.') && s[2] === 'DEFAULT_CONFIG'));
  assert.deepEqual(c['cleanup.policy'], { v: 'delete', src: 'DEFAULT_CONFIG', ro: false, default: true, sensitive: false,
    syn: [['log.cleanup.policy', 'delete', 'DEFAULT_CONFIG']] });

  const brokerId = (await kcatMetadata(broker.bootstrap)).brokers[0].id;
  const b = await describe('broker', String(brokerId));
  for (const k of ['log.cleanup.policy', 'log.segment.bytes', 'log.cleaner.backoff.ms', 'message.max.bytes']) {
    assert.ok(b[k], `broker config ${k}`);
    assert.ok(b[k]!.syn.length >= 1, `${k} synonyms`);
  }
  assert.equal(b['log.cleanup.policy']!.v, 'delete');

  assert.deepEqual(await alter(topic, [['retention.ms', '3600000', 'SET'], ['cleanup.policy', 'compact', 'APPEND']]), { error: null });
  c = await describeUntil(topic, (x) => x['retention.ms']?.v === '3600000' && x['cleanup.policy']?.v === 'delete,compact');
  assert.equal(c['retention.ms']!.v, '3600000', 'SET');
  assert.equal(c['cleanup.policy']!.v, 'delete,compact', 'APPEND to the default');
  assert.equal(c['cleanup.policy']!.src, 'DYNAMIC_TOPIC_CONFIG');

  assert.deepEqual(await alter(topic, [['cleanup.policy', 'delete', 'SUBTRACT'], ['retention.ms', null, 'DELETE']]), { error: null });
  c = await describeUntil(topic, (x) => x['cleanup.policy']?.v === 'compact' && x['retention.ms']?.src === 'DEFAULT_CONFIG');
  assert.equal(c['cleanup.policy']!.v, 'compact', 'SUBTRACT');
  assert.deepEqual([c['retention.ms']!.v, c['retention.ms']!.src], ['604800000', 'DEFAULT_CONFIG'], 'DELETE: back to the default');

  assert.deepEqual(await alter(topic, [['retention.ms', '1000', 'SET']], true), { error: null }, 'validate_only');
  const bad = await alter(topic, [['retention.ms', 'not-a-number', 'SET']]);
  assert.deepEqual([bad.error, bad.code], ['INVALID_CONFIG', 40], JSON.stringify(bad));
  const unknown = await alter(topic, [['no.such.config', '1', 'SET']]);
  assert.deepEqual([unknown.error, unknown.code], ['INVALID_CONFIG', 40], JSON.stringify(unknown));
  c = await describe('topic', topic);
  assert.deepEqual([c['retention.ms']!.v, c['retention.ms']!.src], ['604800000', 'DEFAULT_CONFIG'], 'validate_only and failures changed nothing');
});

test('python delete_records: low watermarks, list_offsets earliest, a consumer starts there; past the end: OFFSET_OUT_OF_RANGE', T, async () => {
  const topic = uniqueTopic('py-delete');
  await pyCreateTopic(broker.bootstrap, topic, 2);
  const recs: Rec[] = [0, 1].flatMap((p) => Array.from({ length: 10 }, (_, i) => ({
    partition: p, key: Buffer.from(`k${i}`), value: Buffer.from(`v${p}-${i}`), headers: [],
  })));
  const { done } = await pyProduce(broker.bootstrap, topic, recs, { acks: 'all' });
  assert.equal(done.ok, recs.length, `all delivered: ${JSON.stringify(done)}`);

  const { lines } = await py(broker.bootstrap, 'delete_records', { topic, offsets: { 0: 7, 1: -1 } });
  assert.deepEqual(lines, [
    { p: 0, low: 7, error: null }, { p: 1, low: 10, error: null },
    { p: 0, earliest: 7, latest: 10 }, { p: 1, earliest: 10, latest: 10 },
  ]);
  const got = await pyConsume(broker.bootstrap, topic);
  assert.deepEqual(got.map((r) => [r.partition, r.offset, r.value?.toString()]), [[0, 7, 'v0-7'], [0, 8, 'v0-8'], [0, 9, 'v0-9']]);

  const past = await py(broker.bootstrap, 'delete_records', { topic, offsets: { 0: 11 } });
  assert.deepEqual([past.lines[0]!.error, past.lines[0]!.code], ['OFFSET_OUT_OF_RANGE', 1], JSON.stringify(past.lines[0]));
  assert.deepEqual(past.lines[1], { p: 0, earliest: 7, latest: 10 });
});
