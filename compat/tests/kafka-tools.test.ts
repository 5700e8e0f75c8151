/**
 * Apache Kafka's own command-line tools (the 4.3.1 jars compat/kafka/start-kafka.sh --fetch-only
 * downloads; run as `java -cp <libs>/* <main class>`, what kafka-topics.sh, kafka-configs.sh and
 * kafka-delete-records.sh do): TopicCommand creates a topic with a config, ConfigCommand
 * describes and alters topic configs (add, list value in brackets, delete, an invalid value) and
 * describes the broker's, DeleteRecordsCommand deletes records with a JSON offsets file; kcat
 * produces and reads. If the jars cannot be fetched the tests fail (no silent skip).
 */
import assert from 'node:assert/strict';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { brokerSkipReason, REPO_ROOT, startCompatBroker, type CompatBroker } from '../broker.ts';
import { kcatConsume, kcatMetadata, kcatProduce, run, uniqueTopic, type RunResult } from '../harness.ts';

const skip = brokerSkipReason();
let broker: CompatBroker;
let libs: string;
let tmp: string;

before(async () => {
  if (skip) return;
  const r = await run('bash', [join(REPO_ROOT, 'compat/kafka/start-kafka.sh'), '--fetch-only'], { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`cannot fetch the Apache Kafka jars (compat/kafka/start-kafka.sh --fetch-only):\n${r.stderr}`);
  libs = r.stdout.toString('utf8').trim();
  broker = await startCompatBroker({ config: { 'log.cleaner.backoff.ms': '100' } });
  tmp = await mkdtemp(join(tmpdir(), 'compat-kafka-tools-'));
});
after(async () => {
  await broker?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Run one Kafka tool's main class against the broker under test. */
async function tool(main: string, args: string[]): Promise<RunResult & { out: string }> {
  const r = await run('java', ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-cp', `${libs}/*`, main,
    '--bootstrap-server', broker.bootstrap, ...args], { timeoutMs: 60_000 });
  return { ...r, out: r.stdout.toString('utf8') };
}

async function ok(main: string, args: string[]): Promise<string> {
  const r = await tool(main, args);
  assert.equal(r.code, 0, `${main} ${args.join(' ')} exited ${r.code}${r.timedOut ? ' (timed out)' : ''}\n${r.out}\n${r.stderr.slice(-3000)}`);
  return r.out;
}

interface Described { value: string; sensitive: boolean; synonyms: string[] }

/** ConfigCommand --describe output: `  name=value sensitive=false synonyms={SRC:name=value, ...}`. */
function parseDescribe(out: string): Map<string, Described> {
  const m = new Map<string, Described>();
  for (const line of out.split('\n')) {
    const x = /^\s+([^=\s]+)=(.*) sensitive=(true|false) synonyms=\{(.*)\}$/.exec(line);
    if (x) m.set(x[1]!, { value: x[2]!, sensitive: x[3] === 'true', synonyms: x[4] ? x[4].split(', ') : [] });
  }
  return m;
}

const CONFIG = 'kafka.admin.ConfigCommand';
const T = { skip, timeout: 120_000 };

/** Describe (optionally --all) until `until` holds, at most 10 s (configs may take a moment to apply). */
async function describeTopic(topic: string, all: boolean, until: (d: Map<string, Described>) => boolean): Promise<Map<string, Described>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const d = parseDescribe(await ok(CONFIG, ['--entity-type', 'topics', '--entity-name', topic, '--describe', ...(all ? ['--all'] : [])]));
    if (until(d) || Date.now() > deadline) return d;
    await new Promise((r) => setTimeout(r, 300));
  }
}

test('kafka-topics --create --config, kafka-configs --describe/--alter (add, list value, delete, invalid) on a topic, --describe --all of the broker', T, async () => {
  const topic = uniqueTopic('tools-configs');
  await ok('org.apache.kafka.tools.TopicCommand', ['--create', '--topic', topic, '--partitions', '1', '--config', 'retention.ms=86400000']);

  let d = await describeTopic(topic, false, (x) => x.has('retention.ms'));
  assert.deepEqual([...d.keys()], ['retention.ms'], 'only the override is a dynamic config');
  assert.deepEqual({ ...d.get('retention.ms'), synonyms: d.get('retention.ms')?.synonyms.slice(0, 1) },
    { value: '86400000', sensitive: false, synonyms: ['DYNAMIC_TOPIC_CONFIG:retention.ms=86400000'] });
  // (Kafka 4.3.1 lists no further synonym: log.retention.ms has no default value)
  assert.ok(d.get('retention.ms')!.synonyms.slice(1).every((s) => s.startsWith('DEFAULT_CONFIG:log.retention.')));

  assert.match(await ok(CONFIG, ['--entity-type', 'topics', '--entity-name', topic, '--alter',
    '--add-config', 'retention.ms=3600000,cleanup.policy=[compact,delete],max.message.bytes=2000000']), /Completed updating config for topic/);
  d = await describeTopic(topic, false, (x) => x.get('retention.ms')?.value === '3600000' && x.has('cleanup.policy'));
  assert.deepEqual(d.get('retention.ms')?.value, '3600000');
  assert.deepEqual(d.get('cleanup.policy'), { value: 'compact,delete', sensitive: false,
    synonyms: ['DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact,delete', 'DEFAULT_CONFIG:log.cleanup.policy=delete'] });
  assert.deepEqual(d.get('max.message.bytes')?.synonyms, ['DYNAMIC_TOPIC_CONFIG:max.message.bytes=2000000', 'DEFAULT_CONFIG:message.max.bytes=1048588']);

  await ok(CONFIG, ['--entity-type', 'topics', '--entity-name', topic, '--alter', '--delete-config', 'retention.ms,max.message.bytes']);
  d = await describeTopic(topic, true, (x) => x.get('retention.ms')?.value === '604800000');
  assert.equal(d.get('retention.ms')?.value, '604800000', 'deleted override: the default');
  // (Kafka 4.3.1 lists no synonym here: its log.retention.ms is unset, log.retention.hours derived)
  assert.ok(d.get('retention.ms')!.synonyms.every((s) => s.startsWith('DEFAULT_CONFIG:')), 'no override left');
  assert.equal(d.get('cleanup.policy')?.value, 'compact,delete', 'the other override stays');
  assert.equal(d.get('max.message.bytes')?.value, '1048588');
  for (const k of ['segment.bytes', 'segment.ms', 'min.cleanable.dirty.ratio', 'delete.retention.ms', 'min.compaction.lag.ms']) {
    assert.ok(d.has(k), `--describe --all lists ${k}`);
  }

  const bad = await tool(CONFIG, ['--entity-type', 'topics', '--entity-name', topic, '--alter', '--add-config', 'retention.ms=abc']);
  assert.notEqual(bad.code, 0, 'an invalid value fails the command');
  assert.match(bad.stderr + bad.out, /InvalidConfigurationException: .*retention\.ms/);
  d = await describeTopic(topic, false, () => true);
  assert.equal(d.has('retention.ms'), false, 'nothing changed');

  const id = (await kcatMetadata(broker.bootstrap)).brokers[0].id;
  const bd = parseDescribe(await ok(CONFIG, ['--entity-type', 'brokers', '--entity-name', String(id), '--describe', '--all']));
  for (const k of ['log.cleanup.policy', 'log.cleaner.backoff.ms', 'log.retention.hours', 'log.segment.bytes', 'message.max.bytes']) {
    assert.ok(bd.has(k), `broker config ${k} described`);
    assert.ok(bd.get(k)!.synonyms.length >= 1, `${k} has synonyms`);
  }
  assert.equal(bd.get('log.cleanup.policy')!.value, 'delete');
});

test('kafka-delete-records --offset-json-file: low watermarks, then a consumer from the beginning starts there', T, async () => {
  const topic = uniqueTopic('tools-delete');
  await ok('org.apache.kafka.tools.TopicCommand', ['--create', '--topic', topic, '--partitions', '2']);
  for (const p of [0, 1]) {
    await kcatProduce(broker.bootstrap, topic, Array.from({ length: 10 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${p}-${i}`) })), { partition: p });
  }
  const file = join(tmp, `${topic}.json`);
  await writeFile(file, JSON.stringify({ version: 1, partitions: [
    { topic, partition: 0, offset: 4 }, { topic, partition: 1, offset: -1 },
  ] }));
  const out = await ok('org.apache.kafka.tools.DeleteRecordsCommand', ['--offset-json-file', file]);
  assert.match(out, /Records delete operation completed/);
  const lows = Object.fromEntries([...out.matchAll(/partition: (\S+)-(\d+)\s+low_watermark: (-?\d+)/g)].map((m) => [m[2], Number(m[3])]));
  assert.deepEqual(lows, { 0: 4, 1: 10 }, `low watermarks in:\n${out}`);

  const got = await kcatConsume(broker.bootstrap, topic);
  assert.deepEqual(got.filter((r) => r.partition === 0).map((r) => [r.offset, r.value?.toString()]),
    Array.from({ length: 6 }, (_, i) => [4 + i, `v0-${4 + i}`]), 'partition 0 from offset 4');
  assert.deepEqual(got.filter((r) => r.partition === 1), [], 'partition 1 emptied');

  // an offset past the end: the tool reports the error per partition
  await writeFile(file, JSON.stringify({ version: 1, partitions: [{ topic, partition: 0, offset: 50 }] }));
  const bad = await tool('org.apache.kafka.tools.DeleteRecordsCommand', ['--offset-json-file', file]);
  assert.match(bad.out + bad.stderr, /partition: \S+-0\s+error: org\.apache\.kafka\.common\.errors\.OffsetOutOfRangeException/,
    `past the end:\n${bad.out}\n${bad.stderr.slice(-1500)}`);
});
