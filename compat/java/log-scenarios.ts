/**
 * Log-management scenarios (issue 5) run through the common harness interface (`CliClient`):
 * topic and broker configs (describe with synonyms, incremental SET/APPEND/SUBTRACT/DELETE,
 * invalid values, validateOnly, legacy AlterConfigs), DeleteRecords with ListOffsets and
 * DescribeLogDirs, and reading a compacted topic (data plan and checks in ../compacted.ts).
 */
import assert from 'node:assert/strict';
import type { CompatBroker } from '../broker.ts';
import { uniqueTopic, type Rec } from '../harness.ts';
import type { CliClient, Line } from './client.ts';
import { delivered, PRODUCE_DEFAULTS } from './scenarios.ts';
import { COMPACTED_TOPIC_CONFIG, compactedPlan, expectedState, untilCompacted } from '../compacted.ts';

const short = (l: Line | undefined) => JSON.stringify(l)?.slice(0, 800);

// ---------------------------------------------------------------- configs

/** What a config step reports for one watched config. */
const cfg = (v: string, src: string) => ({ v, src, ro: false, sensitive: false });

/**
 * The `configs` scenario (compat/java/.../LogAdmin.java): `legacy` says whether this client still
 * has Admin.alterConfigs (3.x) or not (4.x: the step reports skipped).
 */
export async function configsScenario(client: CliClient, broker: CompatBroker, prefix: string, legacy: boolean): Promise<void> {
  const topic = uniqueTopic(prefix);
  const { lines } = await client.run(broker.bootstrap, 'configs', topic);
  const step = Object.fromEntries(lines.map((l) => [l.step, l]));
  assert.deepEqual(Object.keys(step), ['describe-topic', 'describe-broker', 'set', 'append', 'subtract', 'delete',
    'validate-only', 'invalid-number', 'invalid-policy', 'unknown-name', 'legacy', 'unknown-topic']);

  // describeConfigs(topic, includeSynonyms): the override created with the topic, defaults with
  // their broker-level synonym
  const t = step['describe-topic'];
  assert.equal(t.error, null, `describe topic: ${short(t)}`);
  const tc = t.configs;
  const { syn: rsyn, ...retention } = tc['retention.ms'];
  assert.deepEqual(retention, cfg('86400000', 'DYNAMIC_TOPIC_CONFIG'), 'retention.ms: the topic override');
  assert.deepEqual(rsyn[0], ['retention.ms', '86400000', 'DYNAMIC_TOPIC_CONFIG'], 'retention.ms: itself the first synonym');
  // Kafka 4.3.1 lists no further synonym here (log.retention.ms has no default value); a broker
  // default would be harmless
  for (const s of rsyn.slice(1)) assert.ok(/^log\.retention\./.test(s[0]) && s[2] === 'DEFAULT_CONFIG', `retention.ms synonym ${s}`);
  assert.deepEqual(tc['cleanup.policy'], { ...cfg('delete', 'DEFAULT_CONFIG'), syn: [['log.cleanup.policy', 'delete', 'DEFAULT_CONFIG']] },
    'cleanup.policy: the default, its synonym the broker config log.cleanup.policy');
  assert.deepEqual(tc['segment.bytes']?.syn?.[0]?.slice(0, 1), ['log.segment.bytes'], 'segment.bytes synonym');
  for (const k of ['segment.ms', 'min.cleanable.dirty.ratio', 'delete.retention.ms', 'min.compaction.lag.ms',
    'max.compaction.lag.ms', 'retention.bytes', 'max.message.bytes', 'message.timestamp.type']) {
    assert.ok(tc[k], `topic config ${k} is described`);
    assert.equal(tc[k].src, 'DEFAULT_CONFIG', `${k} source`);
  }
  assert.equal(tc['min.cleanable.dirty.ratio'].v, '0.5');
  assert.equal(tc['delete.retention.ms'].v, '86400000');

  // describeConfigs(broker): every broker config with its source; a value the broker was started
  // with is STATIC_BROKER_CONFIG with the default as a further synonym
  const b = step['describe-broker'];
  assert.equal(b.error, null, `describe broker: ${short(b)}`);
  const bc = b.configs;
  for (const k of ['log.cleanup.policy', 'log.segment.bytes', 'log.retention.hours', 'log.cleaner.backoff.ms',
    'log.cleaner.min.cleanable.ratio', 'log.cleaner.delete.retention.ms', 'message.max.bytes', 'num.partitions']) {
    assert.ok(bc[k], `broker config ${k} is described`);
    assert.ok(['DEFAULT_CONFIG', 'STATIC_BROKER_CONFIG', 'DYNAMIC_BROKER_CONFIG', 'DYNAMIC_DEFAULT_BROKER_CONFIG'].includes(bc[k].src),
      `${k} source ${bc[k].src}`);
    assert.ok(Array.isArray(bc[k].syn) && bc[k].syn.length >= 1 && bc[k].syn[0][0] === k && bc[k].syn[0][2] === bc[k].src,
      `${k}: its own value is the first synonym: ${JSON.stringify(bc[k])}`);
  }
  assert.equal(bc['log.cleanup.policy'].v, 'delete');
  assert.equal(bc['message.max.bytes'].v, '1048588');
  const backoff = bc['log.cleaner.backoff.ms'];
  if (backoff.src === 'STATIC_BROKER_CONFIG') {
    assert.deepEqual(backoff.syn.at(-1), ['log.cleaner.backoff.ms', '15000', 'DEFAULT_CONFIG'], 'the default is the last synonym');
  }

  const after = (name: string) => {
    const s = step[name];
    assert.equal(s.error, null, `${name}: ${short(s)}`);
    return s.after;
  };
  // SET two configs
  let a = after('set');
  assert.deepEqual(a['retention.ms'], cfg('3600000', 'DYNAMIC_TOPIC_CONFIG'), 'SET retention.ms');
  assert.deepEqual(a['segment.ms'], cfg('600000', 'DYNAMIC_TOPIC_CONFIG'), 'SET segment.ms');
  assert.deepEqual(a['cleanup.policy'], cfg('delete', 'DEFAULT_CONFIG'));
  // APPEND to a list config starts from its current (default) value
  a = after('append');
  assert.deepEqual(a['cleanup.policy'], cfg('delete,compact', 'DYNAMIC_TOPIC_CONFIG'), 'APPEND cleanup.policy=compact');
  assert.deepEqual(a['retention.ms'], cfg('3600000', 'DYNAMIC_TOPIC_CONFIG'), 'other overrides untouched');
  a = after('subtract');
  assert.deepEqual(a['cleanup.policy'], cfg('compact', 'DYNAMIC_TOPIC_CONFIG'), 'SUBTRACT cleanup.policy=delete');
  // DELETE: back to the default
  a = after('delete');
  assert.deepEqual(a['retention.ms'], cfg('604800000', 'DEFAULT_CONFIG'), 'DELETE retention.ms');
  assert.deepEqual(a['segment.ms'], cfg('600000', 'DYNAMIC_TOPIC_CONFIG'));
  // validateOnly changes nothing
  a = after('validate-only');
  assert.deepEqual(a['retention.ms'], cfg('604800000', 'DEFAULT_CONFIG'), 'validateOnly: no change');
  // invalid values and unknown names: INVALID_CONFIG (40)
  for (const name of ['invalid-number', 'invalid-policy', 'unknown-name']) {
    assert.equal(step[name].error, 'InvalidConfigurationException', `${name}: ${short(step[name])}`);
    assert.equal(step[name].code, 40, `${name} code`);
  }
  assert.match(step['invalid-number'].message, /retention\.ms/);
  assert.match(step['invalid-policy'].message, /cleanup\.policy/);
  assert.match(step['unknown-name'].message, /no\.such\.config/);

  // legacy AlterConfigs (3.x clients): replaces all overrides of the topic
  const l = step.legacy;
  assert.equal(l.error, null, `legacy alterConfigs: ${short(l)}`);
  assert.equal(l.skipped, !legacy, 'alterConfigs exists exactly in the 3.x client');
  if (legacy) {
    assert.deepEqual(l.after['retention.ms'], cfg('7200000', 'DYNAMIC_TOPIC_CONFIG'), 'legacy: the new set');
    assert.deepEqual(l.after['cleanup.policy'], cfg('delete', 'DEFAULT_CONFIG'), 'legacy: overrides not in the request are removed');
    assert.deepEqual(l.after['segment.ms'], cfg('604800000', 'DEFAULT_CONFIG'), 'legacy: segment.ms override removed');
  }

  const u = step['unknown-topic'];
  assert.equal(u.error, 'UnknownTopicOrPartitionException', `describeConfigs of a missing topic: ${short(u)}`);
  assert.equal(u.code, 3);
}

// ---------------------------------------------------------------- delete records

const keyed = (p: number, n: number, tag: string): Rec[] => Array.from({ length: n }, (_, i) => ({
  partition: p, key: Buffer.from(`${tag}-${p}-${i}`), value: Buffer.from(`value ${tag} ${p}/${i}`), headers: [],
}));

/**
 * 3 partitions × 20 records; deleteRecords before 0:5, 1:-1 (the high watermark), 2:0; then
 * listOffsets earliest/latest, a consumer from the beginning, describeLogDirs; a delete past the
 * high watermark fails with OffsetOutOfRangeException (1); the log keeps growing from its end.
 */
export async function deleteRecordsScenario(client: CliClient, broker: CompatBroker, prefix: string): Promise<void> {
  const topic = uniqueTopic(prefix);
  await client.create(broker.bootstrap, topic, 3);
  const recs = [0, 1, 2].flatMap((p) => keyed(p, 20, 'a'));
  delivered(client.name, recs, await client.produce(broker.bootstrap, topic, recs, PRODUCE_DEFAULTS));

  const { lines } = await client.run(broker.bootstrap, 'delete-records', topic, { before: '0:5,1:-1,2:0' });
  const step = Object.fromEntries(lines.map((l) => [l.step, l]));
  assert.equal(step.delete.error, null, `deleteRecords: ${short(step.delete)}`);
  assert.deepEqual(step.delete.parts, { 0: { low: 5 }, 1: { low: 20 }, 2: { low: 0 } }, 'low watermarks');
  assert.equal(step.offsets.error, null, `listOffsets: ${short(step.offsets)}`);
  assert.deepEqual(step.offsets.parts, {
    0: { earliest: 5, latest: 20 }, 1: { earliest: 20, latest: 20 }, 2: { earliest: 0, latest: 20 },
  }, 'listOffsets earliest = the new log start offset, latest unchanged');
  const ld = step['log-dirs'];
  assert.equal(ld.error, null, `describeLogDirs: ${short(ld)}`);
  const dirs = (ld.dirs as Line[]).filter((d) => Object.keys(d.parts).length > 0);
  assert.equal(dirs.length, 1, `one log dir holds the topic: ${short(ld)}`);
  assert.equal(dirs[0]!.error, null);
  assert.ok(typeof dirs[0]!.path === 'string' && dirs[0]!.path.length > 0, 'log dir path');
  assert.deepEqual(Object.keys(dirs[0]!.parts).sort(), ['0', '1', '2'], 'all three replicas listed');
  for (const [p, size] of Object.entries(dirs[0]!.parts)) assert.ok(typeof size === 'number' && size >= 0, `partition ${p} size ${size}`);

  // consumer from the beginning starts at the log start offset
  const { recs: got, info } = await client.consume(broker.bootstrap, topic);
  assert.deepEqual(info.filter((l) => l.error), [], 'no fetch errors');
  const offs = (p: number) => got.filter((r) => r.partition === p).map((r) => r.offset);
  assert.deepEqual(offs(0), Array.from({ length: 15 }, (_, i) => 5 + i), 'partition 0 from offset 5');
  assert.deepEqual(offs(1), [], 'partition 1 empty');
  assert.deepEqual(offs(2), Array.from({ length: 20 }, (_, i) => i), 'partition 2 untouched');
  for (const r of got) assert.equal(r.value?.toString(), `value a ${r.partition}/${r.offset}`, 'values kept');

  // past the high watermark: OFFSET_OUT_OF_RANGE, nothing changes
  const bad = Object.fromEntries((await client.run(broker.bootstrap, 'delete-records', topic, { before: '2:21' })).lines
    .map((l) => [l.step, l]));
  assert.equal(bad.delete.parts['2'].error, 'OffsetOutOfRangeException', `delete past the end: ${short(bad.delete)}`);
  assert.equal(bad.delete.parts['2'].code, 1);
  assert.deepEqual(bad.offsets.parts['2'], { earliest: 0, latest: 20 });

  // the log goes on from its end
  const more = keyed(1, 3, 'b');
  const d = delivered(client.name, more, await client.produce(broker.bootstrap, topic, more, PRODUCE_DEFAULTS));
  assert.deepEqual(d.map((r) => r.offset), [20, 21, 22], 'appends continue at the high watermark');
  const again = await client.consume(broker.bootstrap, topic);
  assert.deepEqual(again.recs.filter((r) => r.partition === 1).map((r) => r.offset), [20, 21, 22]);
}

// ---------------------------------------------------------------- compacted topic

/**
 * A compacted single-partition topic written by `client` in rounds (overwrites, tombstones,
 * a revived key, then the roll record), read from the beginning by `client` until compaction
 * shows (at most `waitMs`), then checked with `checkCompacted`.
 */
export async function compactedScenario(client: CliClient, broker: CompatBroker, prefix: string, waitMs = 60_000): Promise<void> {
  const topic = uniqueTopic(prefix);
  const tconfig = Object.entries(COMPACTED_TOPIC_CONFIG).map(([k, v]) => `${k}=${v}`).join(',');
  await client.run(broker.bootstrap, 'create', topic, { partitions: 1, tconfig });
  const plan = compactedPlan(prefix);
  const written: Array<{ key: string; value: string | null }> = [];
  for (const round of [...plan.rounds, plan.roll]) {
    await new Promise((r) => setTimeout(r, 150)); // > segment.ms: each round rolls a segment
    const recs: Rec[] = round.recs.map((r) => ({
      partition: 0, key: Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value), headers: [],
    }));
    const d = delivered(client.name, recs, await client.produce(broker.bootstrap, topic, recs, PRODUCE_DEFAULTS));
    d.forEach((r, i) => assert.equal(r.offset, written.length + i, 'offsets assigned in order'));
    written.push(...round.recs);
  }
  const state = await untilCompacted(client.name, written, waitMs, async () => {
    const { recs, info } = await client.consume(broker.bootstrap, topic);
    assert.deepEqual(info.filter((l) => l.error), [], 'no fetch errors');
    return recs.map((r) => ({ offset: r.offset!, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null }));
  });
  assert.deepEqual(state, expectedState(written), 'the rebuilt state: latest value per key, tombstoned keys absent');
}

