/**
 * AlterConfigs (key 33), the legacy whole-set API: a topic's overrides are replaced by the
 * request's set; validation errors (unknown names, bad values) leave them unchanged;
 * validateOnly; duplicate resources; null values; broker resources (dynamic and read-only
 * keys); live effect on the log; persistence across a restart. Expectations (codes and
 * messages) checked against Apache Kafka 4.3.1 (BOOTSTRAP_SERVERS=127.0.0.1:PORT), except
 * the Tributary-only tests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  batch,
  createTopic,
  E,
  eventually,
  fetchPartition,
  listOffsets,
  nodeIdOf,
  produceOk,
  startTarget,
  tributaryOnly,
  uniqueTopic,
  valuesOf,
  type Any,
  type RawClient,
  type Target,
} from './helpers.ts';
import { awaitTopicConfig, BROKER, BROKER_LOGGER, describeResource, K_ALTER, outcomes, Source, TOPIC, topicConfig } from './config-helpers.ts';

// Kafka 4.3 formats new clusters with a cluster-wide min.insync.replicas and refuses to remove
// it while ELR is enabled; cluster-wide sets here keep it.
const KEEP = { 'min.insync.replicas': '1' };

interface Resource {
  resourceType: number;
  resourceName: string;
  configs: Record<string, string | null>;
}

describe('AlterConfigs', () => {
  let target: Target;
  let c: RawClient;

  function alter(resources: Resource[], opts: { version?: number; validateOnly?: boolean } = {}): Promise<Any> {
    return c.request(K_ALTER, opts.version ?? 2, {
      resources: resources.map((r) => ({
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        configs: Object.entries(r.configs).map(([name, value]) => ({ name, value })),
      })),
      validateOnly: opts.validateOnly ?? false,
    });
  }

  before(async () => {
    target = await startTarget({ config: { 'log.retention.check.interval.ms': '100' } });
    c = await target.connect();
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  for (const version of [0, 1, 2]) {
    test(`v${version}: the request's set replaces every override of the topic`, async () => {
      const topic = uniqueTopic('ac');
      await createTopic(c, topic, 1, { 'retention.ms': '1234', 'max.message.bytes': '5000' });
      const res = await alter([{ resourceType: TOPIC, resourceName: topic, configs: { 'retention.ms': '5555', 'cleanup.policy': 'compact' } }], { version });
      assert.deepEqual(outcomes(res), [[E.NONE, null]]);
      assert.equal(res.responses[0].resourceType, TOPIC);
      assert.equal(res.responses[0].resourceName, topic);
      await awaitTopicConfig(c, topic, 'retention.ms', '5555', Source.DYNAMIC_TOPIC_CONFIG);
      const cfg = await describeResource(c, TOPIC, topic, ['retention.ms', 'cleanup.policy', 'max.message.bytes']);
      assert.equal(cfg.get('cleanup.policy').value, 'compact');
      assert.equal(cfg.get('cleanup.policy').configSource, Source.DYNAMIC_TOPIC_CONFIG);
      assert.equal(cfg.get('max.message.bytes').value, '1048588', 'an override left out of the set is removed');
      assert.equal(cfg.get('max.message.bytes').configSource, Source.DEFAULT_CONFIG);
    });
  }

  test('validateOnly validates and changes nothing', async () => {
    const topic = uniqueTopic('ac-vo');
    await createTopic(c, topic, 1, { 'retention.ms': '1234' });
    const ok = await alter([{ resourceType: TOPIC, resourceName: topic, configs: { 'retention.ms': '999' } }], { validateOnly: true });
    assert.deepEqual(outcomes(ok), [[E.NONE, null]]);
    const bad = await alter([{ resourceType: TOPIC, resourceName: topic, configs: { 'retention.ms': 'soon' } }], { validateOnly: true });
    assert.deepEqual(outcomes(bad), [[E.INVALID_CONFIG, 'Invalid value soon for configuration retention.ms: Not a number of type LONG']]);
    assert.deepEqual(await topicConfig(c, topic, 'retention.ms'), { value: '1234', source: Source.DYNAMIC_TOPIC_CONFIG });
  });

  test('bad values and unknown names → INVALID_CONFIG with Kafka\'s message; the overrides stay', async () => {
    const topic = uniqueTopic('ac-bad');
    await createTopic(c, topic, 1, { 'retention.ms': '1234' });
    const cases: [Record<string, string>, string][] = [
      [{ 'retention.ms': 'foo' }, 'Invalid value foo for configuration retention.ms: Not a number of type LONG'],
      [{ 'retention.ms': '-5' }, 'Invalid value -5 for configuration retention.ms: Value must be at least -1'],
      [{ 'max.message.bytes': '99999999999' }, 'Invalid value 99999999999 for configuration max.message.bytes: Not a number of type INT'],
      [{ 'cleanup.policy': 'shred' }, 'Invalid value shred for configuration cleanup.policy: String must be one of: compact, delete'],
      [{ 'message.timestamp.type': 'Now' }, 'Invalid value Now for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime'],
      [{ preallocate: 'yes' }, 'Invalid value yes for configuration preallocate: Expected value to be either true or false'],
      [{ 'min.cleanable.dirty.ratio': '2' }, 'Invalid value 2.0 for configuration min.cleanable.dirty.ratio: Value must be no more than 1'],
      [{ 'no.such.config': '1' }, 'Unknown topic config name: no.such.config'],
      [{ 'min.compaction.lag.ms': '10', 'max.compaction.lag.ms': '5' }, 'conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)'],
    ];
    for (const [configs, message] of cases) {
      const res = await alter([{ resourceType: TOPIC, resourceName: topic, configs }]);
      assert.deepEqual(outcomes(res), [[E.INVALID_CONFIG, message]], JSON.stringify(configs));
    }
    assert.deepEqual(await topicConfig(c, topic, 'retention.ms'), { value: '1234', source: Source.DYNAMIC_TOPIC_CONFIG });
  });

  test('null values and repeated keys → INVALID_REQUEST', async () => {
    const topic = uniqueTopic('ac-null');
    await createTopic(c, topic, 1);
    const nul = await alter([{ resourceType: TOPIC, resourceName: topic, configs: { 'retention.ms': null, 'segment.ms': null } }]);
    assert.deepEqual(outcomes(nul), [[E.INVALID_REQUEST, 'Null value not supported for : retention.ms, segment.ms']]);
    const twice = await c.request(K_ALTER, 2, {
      resources: [{ resourceType: TOPIC, resourceName: topic, configs: [{ name: 'retention.ms', value: '1' }, { name: 'retention.ms', value: '2' }] }],
      validateOnly: false,
    });
    assert.deepEqual(outcomes(twice), [[E.INVALID_REQUEST, 'Error due to duplicate config keys']]);
  });

  test('an unknown topic → UNKNOWN_TOPIC_OR_PARTITION; the other resources are applied', async () => {
    const other = uniqueTopic('ac-other');
    await createTopic(c, other, 1);
    const res = await alter([
      { resourceType: TOPIC, resourceName: uniqueTopic('ac-nope'), configs: { 'retention.ms': '1' } },
      { resourceType: TOPIC, resourceName: other, configs: { 'retention.ms': '777' } },
    ]);
    assert.deepEqual(outcomes(res).map(([code]) => code), [E.UNKNOWN_TOPIC_OR_PARTITION, E.NONE]);
    await awaitTopicConfig(c, other, 'retention.ms', '777');
  });

  // Kafka 4.3.1 means to answer INVALID_REQUEST for both (ConfigAdminManager.preprocess), but
  // building its response then fails (AlterConfigsResponse.errorCounts collects into a map
  // keyed by resource, IllegalStateException "Duplicate key") and the request is never
  // answered, so this runs on Tributary only.
  test('a resource named twice → INVALID_REQUEST for both, the rest is applied', tributaryOnly, async () => {
    const topic = uniqueTopic('ac-dup');
    const other = uniqueTopic('ac-other');
    await createTopic(c, topic, 1);
    await createTopic(c, other, 1);
    const res = await alter([
      { resourceType: TOPIC, resourceName: topic, configs: { 'retention.ms': '1' } },
      { resourceType: TOPIC, resourceName: other, configs: { 'retention.ms': '777' } },
      { resourceType: TOPIC, resourceName: topic, configs: { 'retention.ms': '2' } },
    ]);
    const dup = [E.INVALID_REQUEST, 'Each resource must appear at most once.'];
    assert.deepEqual(outcomes(res), [dup, [E.NONE, null], dup]);
    await awaitTopicConfig(c, other, 'retention.ms', '777');
    assert.equal((await topicConfig(c, topic, 'retention.ms')).source, Source.DEFAULT_CONFIG);
  });

  test('broker resources: another broker id and a read-only key → INVALID_REQUEST; broker loggers are not served by AlterConfigs', async () => {
    const node = await nodeIdOf(c);
    const res = await alter([
      { resourceType: BROKER, resourceName: String(node + 7), configs: { 'log.retention.ms': '1000' } },
      { resourceType: BROKER, resourceName: String(node), configs: { 'log.dirs': '/tmp/x' } },
      { resourceType: BROKER, resourceName: '', configs: { ...KEEP, 'log.retention.ms': 'later' } },
      { resourceType: BROKER_LOGGER, resourceName: String(node), configs: { root: 'DEBUG' } },
    ], { validateOnly: true });
    assert.deepEqual(outcomes(res), [
      [E.INVALID_REQUEST, `Unexpected broker id, expected ${node}, but received ${node + 7}`],
      [E.INVALID_REQUEST, 'Cannot update these configs dynamically: [log.dirs]'],
      [E.INVALID_REQUEST, 'Invalid value later for configuration log.retention.ms: Not a number of type LONG'],
      [E.INVALID_REQUEST, 'Unknown resource type 8'],
    ]);
  });

  test('a cluster-wide default (broker "") applies to every topic without an override, and the set replaces the previous one', async () => {
    const topic = uniqueTopic('ac-broker');
    await createTopic(c, topic, 1);
    try {
      const res = await alter([{ resourceType: BROKER, resourceName: '', configs: { ...KEEP, 'log.retention.bytes': '123456789', 'log.cleaner.backoff.ms': '600' } }]);
      assert.deepEqual(outcomes(res), [[E.NONE, null]]);
      await awaitTopicConfig(c, topic, 'retention.bytes', '123456789', Source.DYNAMIC_DEFAULT_BROKER_CONFIG);
      const cluster = await describeResource(c, BROKER, '', null, true);
      assert.equal(cluster.get('log.retention.bytes').value, '123456789');
      assert.equal(cluster.get('log.retention.bytes').configSource, Source.DYNAMIC_DEFAULT_BROKER_CONFIG);
      assert.deepEqual(cluster.get('log.retention.bytes').synonyms, [
        { name: 'log.retention.bytes', value: '123456789', source: Source.DYNAMIC_DEFAULT_BROKER_CONFIG },
      ]);
      const replaced = await alter([{ resourceType: BROKER, resourceName: '', configs: { ...KEEP, 'log.cleaner.backoff.ms': '700' } }]);
      assert.deepEqual(outcomes(replaced), [[E.NONE, null]]);
      await awaitTopicConfig(c, topic, 'retention.bytes', '-1', Source.DEFAULT_CONFIG);
    } finally {
      await alter([{ resourceType: BROKER, resourceName: '', configs: KEEP }]);
    }
  });

  test('a per-broker config (broker id) comes before the cluster-wide default', async () => {
    const node = await nodeIdOf(c);
    const topic = uniqueTopic('ac-node');
    await createTopic(c, topic, 1);
    try {
      assert.deepEqual(outcomes(await alter([{ resourceType: BROKER, resourceName: '', configs: { ...KEEP, 'log.retention.bytes': '2000000' } }])), [[E.NONE, null]]);
      assert.deepEqual(outcomes(await alter([{ resourceType: BROKER, resourceName: String(node), configs: { 'log.retention.bytes': '3000000' } }])), [[E.NONE, null]]);
      await awaitTopicConfig(c, topic, 'retention.bytes', '3000000', Source.DYNAMIC_BROKER_CONFIG);
      const described = await describeResource(c, TOPIC, topic, ['retention.bytes'], true);
      assert.deepEqual(described.get('retention.bytes').synonyms, [
        { name: 'log.retention.bytes', value: '3000000', source: Source.DYNAMIC_BROKER_CONFIG },
        { name: 'log.retention.bytes', value: '2000000', source: Source.DYNAMIC_DEFAULT_BROKER_CONFIG },
        { name: 'log.retention.bytes', value: '-1', source: Source.DEFAULT_CONFIG },
      ]);
      const broker = await describeResource(c, BROKER, String(node), ['log.retention.bytes'], true);
      assert.equal(broker.get('log.retention.bytes').value, '3000000');
      assert.equal(broker.get('log.retention.bytes').configSource, Source.DYNAMIC_BROKER_CONFIG);
      assert.equal(broker.get('log.retention.bytes').readOnly, false);
    } finally {
      await alter([{ resourceType: BROKER, resourceName: String(node), configs: {} }]);
      await alter([{ resourceType: BROKER, resourceName: '', configs: KEEP }]);
    }
  });

  test('live: retention.bytes and segment.bytes set on a topic with data delete its old segments', async () => {
    const topic = uniqueTopic('ac-live');
    await createTopic(c, topic, 1);
    const big = 'x'.repeat(300_000);
    const res = await alter([{ resourceType: TOPIC, resourceName: topic, configs: { 'segment.bytes': '1048576' } }]);
    assert.deepEqual(outcomes(res), [[E.NONE, null]]);
    await awaitTopicConfig(c, topic, 'segment.bytes', '1048576');
    for (let i = 0; i < 12; i++) await produceOk(c, topic, 0, batch([big]));
    const [start] = await listOffsets(c, topic, [{ partition: 0, timestamp: -2n }]);
    assert.equal(Number(start.offset), 0);
    const set = await alter([{ resourceType: TOPIC, resourceName: topic, configs: { 'segment.bytes': '1048576', 'retention.bytes': '1' } }]);
    assert.deepEqual(outcomes(set), [[E.NONE, null]]);
    const earliest = await eventually(async () => {
      const [p] = await listOffsets(c, topic, [{ partition: 0, timestamp: -2n }]);
      return Number(p.offset) > 0 ? Number(p.offset) : null;
    }, 'retention to delete old segments', 30_000);
    const fetched = await fetchPartition(c, topic, 0, earliest);
    assert.equal(fetched.errorCode, E.NONE);
    assert.ok(valuesOf(fetched.records).length > 0, 'the rest stays readable');
  });

  test('persisted: topic overrides and dynamic broker configs survive a restart', tributaryOnly, async () => {
    const topic = uniqueTopic('ac-restart');
    await createTopic(c, topic, 1);
    assert.deepEqual(outcomes(await alter([{ resourceType: TOPIC, resourceName: topic, configs: { 'retention.ms': '4242', 'cleanup.policy': 'compact,delete' } }])), [[E.NONE, null]]);
    assert.deepEqual(outcomes(await alter([{ resourceType: BROKER, resourceName: '', configs: { ...KEEP, 'log.segment.bytes': '2097152' } }])), [[E.NONE, null]]);
    await c.close();
    await target.restart();
    c = await target.connect();
    const cfg = await describeResource(c, TOPIC, topic, ['retention.ms', 'cleanup.policy', 'segment.bytes']);
    assert.equal(cfg.get('retention.ms').value, '4242');
    assert.equal(cfg.get('cleanup.policy').value, 'compact,delete');
    assert.equal(cfg.get('segment.bytes').value, '2097152');
    assert.equal(cfg.get('segment.bytes').configSource, Source.DYNAMIC_DEFAULT_BROKER_CONFIG);
    await alter([{ resourceType: BROKER, resourceName: '', configs: KEEP }]);
  });
});
