/**
 * DescribeConfigs (key 32): topic configs with their sources (DEFAULT_CONFIG, DYNAMIC_TOPIC_CONFIG,
 * STATIC_BROKER_CONFIG), synonyms and documentation when asked, the configurationKeys filter,
 * the broker resource, errors. The broker runs with log.segment.bytes set, so the topics'
 * segment.bytes comes from a static broker config. Expectations checked against Apache Kafka
 * 4.3.1 (BOOTSTRAP_SERVERS=127.0.0.1:19092), except the Tributary-only tests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createTopic,
  E,
  K,
  nodeIdOf,
  startTarget,
  tributaryOnly,
  uniqueTopic,
  type Any,
  type RawClient,
  type Target,
} from './helpers.ts';

const TOPIC = 2;
const BROKER = 4;
const Source = { DYNAMIC_TOPIC_CONFIG: 1, STATIC_BROKER_CONFIG: 4, DEFAULT_CONFIG: 5 } as const;
const Type = { BOOLEAN: 1, STRING: 2, INT: 3, LONG: 5, LIST: 7 } as const;

interface Resource {
  resourceType: number;
  resourceName: string;
  configurationKeys: string[] | null;
}

describe('DescribeConfigs', () => {
  let target: Target;
  let c: RawClient;
  let topic: string;

  function describeConfigs(resources: Resource[], opts: { version?: number; synonyms?: boolean; documentation?: boolean } = {}): Promise<Any> {
    return c.request(K.DescribeConfigs, opts.version ?? 4, {
      resources,
      includeSynonyms: opts.synonyms ?? false,
      includeDocumentation: opts.documentation ?? false,
    });
  }

  async function topicConfigs(keys: string[] | null, opts: { version?: number; synonyms?: boolean; documentation?: boolean } = {}): Promise<Map<string, Any>> {
    const res = await describeConfigs([{ resourceType: TOPIC, resourceName: topic, configurationKeys: keys }], opts);
    assert.equal(res.results.length, 1);
    const r = res.results[0];
    assert.equal(r.errorCode, E.NONE, r.errorMessage);
    assert.equal(r.resourceType, TOPIC);
    assert.equal(r.resourceName, topic);
    return new Map(r.configs.map((x: Any) => [x.name, x]));
  }

  before(async () => {
    target = await startTarget({ config: { 'log.segment.bytes': '1048576' } });
    c = await target.connect();
    topic = uniqueTopic('dc');
    await createTopic(c, topic, 1, { 'retention.ms': '1234', 'max.message.bytes': '5000' });
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  for (const version of [1, 2, 3, 4]) {
    test(`v${version}: every topic config; overrides are DYNAMIC_TOPIC_CONFIG, the rest DEFAULT_CONFIG`, async () => {
      const res = await describeConfigs([{ resourceType: TOPIC, resourceName: topic, configurationKeys: null }], { version });
      const configs: Any[] = res.results[0].configs;
      const names = configs.map((x) => x.name);
      assert.equal(new Set(names).size, names.length, 'no config twice');
      for (const name of ['cleanup.policy', 'retention.ms', 'retention.bytes', 'segment.bytes', 'max.message.bytes', 'message.timestamp.type', 'min.insync.replicas']) {
        assert.ok(names.includes(name), `${name} is listed`);
      }
      const by = new Map<string, Any>(configs.map((x) => [x.name, x]));
      assert.equal(by.get('retention.ms').value, '1234');
      assert.equal(by.get('retention.ms').configSource, Source.DYNAMIC_TOPIC_CONFIG);
      assert.equal(by.get('max.message.bytes').value, '5000');
      assert.equal(by.get('max.message.bytes').configSource, Source.DYNAMIC_TOPIC_CONFIG);
      assert.equal(by.get('cleanup.policy').value, 'delete');
      assert.equal(by.get('cleanup.policy').configSource, Source.DEFAULT_CONFIG);
      assert.equal(by.get('retention.bytes').value, '-1');
      assert.equal(by.get('retention.bytes').configSource, Source.DEFAULT_CONFIG);
      for (const x of configs) {
        assert.equal(x.isSensitive, false, x.name);
        assert.equal(x.readOnly, false, `${x.name}: topic configs are not read-only`);
        assert.deepEqual(x.synonyms, [], 'no synonyms unless asked');
      }
    });
  }

  test('a topic config whose broker synonym is set statically is STATIC_BROKER_CONFIG with that value', tributaryOnly, async () => {
    const cfg = await topicConfigs(['segment.bytes'], { synonyms: true });
    const seg = cfg.get('segment.bytes');
    assert.equal(seg.value, '1048576');
    assert.equal(seg.configSource, Source.STATIC_BROKER_CONFIG);
    assert.deepEqual(seg.synonyms, [
      { name: 'log.segment.bytes', value: '1048576', source: Source.STATIC_BROKER_CONFIG },
      { name: 'log.segment.bytes', value: '1073741824', source: Source.DEFAULT_CONFIG },
    ]);
  });

  test('configurationKeys selects configs; unknown keys are left out', async () => {
    const cfg = await topicConfigs(['retention.ms', 'cleanup.policy', 'no.such.config']);
    assert.deepEqual([...cfg.keys()].sort(), ['cleanup.policy', 'retention.ms']);
  });

  // Kafka 4.3.1 (ConfigHelper): an empty configurationKeys list means every config, like null
  // (33 topic configs, 340 broker configs there).
  test('an empty configurationKeys list describes every config, as Kafka', async () => {
    const all = await topicConfigs(null);
    const empty = await topicConfigs([]);
    assert.deepEqual([...empty.keys()].sort(), [...all.keys()].sort());
    const node = await nodeIdOf(c);
    const broker = await describeConfigs([{ resourceType: BROKER, resourceName: String(node), configurationKeys: [] }]);
    assert.ok(broker.results[0].configs.length > 0, 'broker configs too');
  });

  test('synonyms when asked: the override first, then the broker default', async () => {
    const cfg = await topicConfigs(['retention.ms', 'cleanup.policy'], { synonyms: true });
    const retention = cfg.get('retention.ms');
    assert.deepEqual(retention.synonyms[0], { name: 'retention.ms', value: '1234', source: Source.DYNAMIC_TOPIC_CONFIG });
    const cleanup = cfg.get('cleanup.policy');
    assert.deepEqual(cleanup.synonyms, [{ name: 'log.cleanup.policy', value: 'delete', source: Source.DEFAULT_CONFIG }]);
    const v1 = await topicConfigs(['retention.ms'], { version: 1, synonyms: true });
    assert.deepEqual(v1.get('retention.ms').synonyms[0], { name: 'retention.ms', value: '1234', source: Source.DYNAMIC_TOPIC_CONFIG });
  });

  test('config types (v3+)', async () => {
    const cfg = await topicConfigs(['retention.ms', 'segment.bytes', 'cleanup.policy', 'message.timestamp.type', 'preallocate']);
    assert.equal(cfg.get('retention.ms').configType, Type.LONG);
    assert.equal(cfg.get('segment.bytes').configType, Type.INT);
    assert.equal(cfg.get('cleanup.policy').configType, Type.LIST);
    assert.equal(cfg.get('message.timestamp.type').configType, Type.STRING);
    assert.equal(cfg.get('preallocate').configType, Type.BOOLEAN);
  });

  test('documentation at v3+ when asked, null when not', async () => {
    for (const version of [3, 4]) {
      const withDoc = await topicConfigs(['retention.ms', 'segment.bytes'], { version, documentation: true });
      for (const x of withDoc.values()) {
        assert.equal(typeof x.documentation, 'string', `${x.name} v${version}`);
        assert.ok(x.documentation.length > 10, `${x.name} has documentation`);
      }
      const without = await topicConfigs(['retention.ms'], { version });
      assert.equal(without.get('retention.ms').documentation, null);
    }
  });

  test('the broker resource (its node id) describes broker configs; "" (cluster defaults) is accepted', async () => {
    const node = await nodeIdOf(c);
    const res = await describeConfigs([{ resourceType: BROKER, resourceName: String(node), configurationKeys: ['num.partitions', 'log.segment.bytes'] }], {
      synonyms: true,
    });
    const r = res.results[0];
    assert.equal(r.errorCode, E.NONE, r.errorMessage);
    assert.equal(r.resourceType, BROKER);
    const by = new Map<string, Any>(r.configs.map((x: Any) => [x.name, x]));
    assert.deepEqual([...by.keys()].sort(), ['log.segment.bytes', 'num.partitions']);
    assert.match(by.get('num.partitions').value, /^\d+$/);
    for (const x of r.configs) assert.ok(x.synonyms.length >= 1, `${x.name} synonyms`);
    const cluster = await describeConfigs([{ resourceType: BROKER, resourceName: '', configurationKeys: null }]);
    assert.equal(cluster.results[0].errorCode, E.NONE);
  });

  test('the broker resource reports the static log.segment.bytes', tributaryOnly, async () => {
    const node = await nodeIdOf(c);
    const res = await describeConfigs([{ resourceType: BROKER, resourceName: String(node), configurationKeys: ['log.segment.bytes'] }]);
    const seg = res.results[0].configs[0];
    assert.equal(seg.value, '1048576');
    assert.equal(seg.configSource, Source.STATIC_BROKER_CONFIG);
  });

  // The 33 topic configs Kafka 4.3.1 describes (message.timestamp.difference.max.ms is gone).
  test('exactly the topic configs Kafka 4.3 describes', async () => {
    const cfg = await topicConfigs(null);
    assert.deepEqual([...cfg.keys()].sort(), [
      'cleanup.policy', 'compression.gzip.level', 'compression.lz4.level', 'compression.type', 'compression.zstd.level',
      'delete.retention.ms', 'file.delete.delay.ms', 'flush.messages', 'flush.ms', 'follower.replication.throttled.replicas',
      'index.interval.bytes', 'leader.replication.throttled.replicas', 'local.retention.bytes', 'local.retention.ms',
      'max.compaction.lag.ms', 'max.message.bytes', 'message.timestamp.after.max.ms', 'message.timestamp.before.max.ms',
      'message.timestamp.type', 'min.cleanable.dirty.ratio', 'min.compaction.lag.ms', 'min.insync.replicas', 'preallocate',
      'remote.log.copy.disable', 'remote.log.delete.on.disable', 'remote.storage.enable', 'retention.bytes', 'retention.ms',
      'segment.bytes', 'segment.index.bytes', 'segment.jitter.ms', 'segment.ms', 'unclean.leader.election.enable',
    ]);
    const lists = await topicConfigs(['leader.replication.throttled.replicas', 'local.retention.ms', 'compression.zstd.level']);
    assert.equal(lists.get('leader.replication.throttled.replicas').value, '');
    assert.equal(lists.get('leader.replication.throttled.replicas').configType, Type.LIST);
    assert.equal(lists.get('local.retention.ms').value, '-2');
    assert.equal(lists.get('compression.zstd.level').value, '3');
  });

  // Kafka lists a topic config's broker synonyms from the broker name on (log.retention.ms);
  // that name has no default of its own (log.retention.hours supplies it), so none is listed.
  test('synonyms: none for a default whose broker config has no default; none for configs without a broker synonym', async () => {
    const cfg = await topicConfigs(['segment.ms', 'flush.ms', 'remote.storage.enable', 'flush.messages'], { synonyms: true });
    assert.deepEqual(cfg.get('segment.ms').synonyms, []);
    assert.equal(cfg.get('segment.ms').value, '604800000');
    assert.equal(cfg.get('segment.ms').configSource, Source.DEFAULT_CONFIG);
    assert.deepEqual(cfg.get('flush.ms').synonyms, []);
    assert.deepEqual(cfg.get('remote.storage.enable').synonyms, []);
    assert.deepEqual(cfg.get('flush.messages').synonyms, [
      { name: 'log.flush.interval.messages', value: '9223372036854775807', source: Source.DEFAULT_CONFIG },
    ]);
  });

  test('broker configs are read-only unless Kafka can change them dynamically', async () => {
    const node = await nodeIdOf(c);
    const keys = ['log.retention.bytes', 'log.cleaner.backoff.ms', 'log.cleaner.threads', 'message.max.bytes', 'compression.type',
      'num.partitions', 'log.cleaner.enable', 'node.id', 'log.retention.check.interval.ms', 'log.dirs'];
    const res = await describeConfigs([{ resourceType: BROKER, resourceName: String(node), configurationKeys: keys }]);
    const by = new Map<string, Any>(res.results[0].configs.map((x: Any) => [x.name, x]));
    assert.deepEqual([...by.keys()].sort(), [...keys].sort());
    for (const k of keys.slice(0, 5)) assert.equal(by.get(k).readOnly, false, k);
    for (const k of keys.slice(5)) assert.equal(by.get(k).readOnly, true, k);
    assert.equal(by.get('log.cleaner.backoff.ms').value, '15000');
    assert.equal(by.get('log.cleaner.enable').value, 'true');
  });

  test('configs Tributary accepts and ignores say so in their documentation', tributaryOnly, async () => {
    const cfg = await topicConfigs(['preallocate', 'flush.ms', 'segment.jitter.ms', 'compression.gzip.level', 'local.retention.ms',
      'leader.replication.throttled.replicas'], { documentation: true });
    for (const x of cfg.values()) assert.match(x.documentation, /ignored/, x.name);
  });

  test('another broker id → INVALID_REQUEST; an unknown resource type → INVALID_REQUEST', async () => {
    const node = await nodeIdOf(c);
    const other = await describeConfigs([{ resourceType: BROKER, resourceName: String(node + 7), configurationKeys: null }]);
    assert.equal(other.results[0].errorCode, E.INVALID_REQUEST);
    assert.deepEqual(other.results[0].configs, []);
    const type = await describeConfigs([{ resourceType: 99, resourceName: 'x', configurationKeys: null }]);
    assert.equal(type.results[0].errorCode, E.INVALID_REQUEST);
  });

  test('an unknown topic → UNKNOWN_TOPIC_OR_PARTITION; an invalid name → INVALID_TOPIC_EXCEPTION', async () => {
    const res = await describeConfigs([
      { resourceType: TOPIC, resourceName: uniqueTopic('dc-nope'), configurationKeys: null },
      { resourceType: TOPIC, resourceName: 'bad name!', configurationKeys: null },
      { resourceType: TOPIC, resourceName: topic, configurationKeys: ['retention.ms'] },
    ]);
    assert.equal(res.results.length, 3);
    assert.equal(res.results[0].errorCode, E.UNKNOWN_TOPIC_OR_PARTITION);
    assert.deepEqual(res.results[0].configs, []);
    assert.equal(res.results[1].errorCode, E.INVALID_TOPIC_EXCEPTION);
    assert.equal(res.results[2].errorCode, E.NONE, 'the other resources are still described');
    assert.equal(res.results[2].configs[0].value, '1234');
  });
});
