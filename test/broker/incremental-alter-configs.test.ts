/**
 * IncrementalAlterConfigs (key 44): SET, DELETE, APPEND and SUBTRACT on topic overrides and on
 * dynamic broker configs; one failing operation fails its whole resource; validateOnly;
 * Kafka's errors and messages; switching cleanup.policy between delete and compact on a topic
 * with data. Expectations checked against Apache Kafka 4.3.1 (BOOTSTRAP_SERVERS=127.0.0.1:PORT),
 * except the Tributary-only tests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  batch,
  createTopic,
  E,
  eventually,
  fetchPartition,
  nodeIdOf,
  produce,
  produceOk,
  startTarget,
  tributaryOnly,
  uniqueTopic,
  valuesOf,
  type Any,
  type RawClient,
  type Target,
} from './helpers.ts';
import { awaitTopicConfig, BROKER, describeResource, K_INCREMENTAL, Op, outcomes, Source, TOPIC, topicConfig } from './config-helpers.ts';

type Change = [name: string, op: number, value: string | null];

interface Resource {
  resourceType: number;
  resourceName: string;
  changes: Change[];
}

describe('IncrementalAlterConfigs', () => {
  let target: Target;
  let c: RawClient;

  function alter(resources: Resource[], opts: { version?: number; validateOnly?: boolean } = {}): Promise<Any> {
    return c.request(K_INCREMENTAL, opts.version ?? 1, {
      resources: resources.map((r) => ({
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        configs: r.changes.map(([name, configOperation, value]) => ({ name, configOperation, value })),
      })),
      validateOnly: opts.validateOnly ?? false,
    });
  }
  const onTopic = (topic: string, ...changes: Change[]): Resource => ({ resourceType: TOPIC, resourceName: topic, changes });

  before(async () => {
    target = await startTarget();
    c = await target.connect();
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  for (const version of [0, 1]) {
    test(`v${version}: SET adds or replaces one override and leaves the others; DELETE removes one`, async () => {
      const topic = uniqueTopic('iac');
      await createTopic(c, topic, 1, { 'retention.ms': '1234', 'max.message.bytes': '5000' });
      const res = await alter([onTopic(topic, ['retention.ms', Op.SET, '5555'], ['segment.ms', Op.SET, '60000'])], { version });
      assert.deepEqual(outcomes(res), [[E.NONE, null]]);
      assert.equal(res.responses[0].resourceName, topic);
      assert.equal(res.responses[0].resourceType, TOPIC);
      await awaitTopicConfig(c, topic, 'retention.ms', '5555', Source.DYNAMIC_TOPIC_CONFIG);
      const cfg = await describeResource(c, TOPIC, topic, ['max.message.bytes', 'segment.ms']);
      assert.equal(cfg.get('max.message.bytes').value, '5000', 'other overrides stay');
      assert.equal(cfg.get('segment.ms').value, '60000');
      const del = await alter([onTopic(topic, ['max.message.bytes', Op.DELETE, null])], { version });
      assert.deepEqual(outcomes(del), [[E.NONE, null]]);
      await awaitTopicConfig(c, topic, 'max.message.bytes', '1048588', Source.DEFAULT_CONFIG);
    });
  }

  test('APPEND and SUBTRACT edit a LIST config, starting from its default', async () => {
    const topic = uniqueTopic('iac-list');
    await createTopic(c, topic, 1);
    assert.deepEqual(outcomes(await alter([onTopic(topic, ['cleanup.policy', Op.APPEND, 'compact'])])), [[E.NONE, null]]);
    await awaitTopicConfig(c, topic, 'cleanup.policy', 'delete,compact', Source.DYNAMIC_TOPIC_CONFIG);
    assert.deepEqual(outcomes(await alter([onTopic(topic, ['cleanup.policy', Op.APPEND, 'compact'])])), [[E.NONE, null]]);
    await awaitTopicConfig(c, topic, 'cleanup.policy', 'delete,compact');
    assert.deepEqual(outcomes(await alter([onTopic(topic, ['cleanup.policy', Op.SUBTRACT, 'delete'])])), [[E.NONE, null]]);
    await awaitTopicConfig(c, topic, 'cleanup.policy', 'compact');
    assert.deepEqual(outcomes(await alter([onTopic(topic, ['leader.replication.throttled.replicas', Op.APPEND, '0:1'])])), [[E.NONE, null]]);
    await awaitTopicConfig(c, topic, 'leader.replication.throttled.replicas', '0:1');
  });

  test('APPEND or SUBTRACT on a non-LIST config → INVALID_CONFIG; the resource\'s other operations are not applied', async () => {
    const topic = uniqueTopic('iac-notlist');
    await createTopic(c, topic, 1);
    const res = await alter([onTopic(topic, ['segment.ms', Op.SET, '60000'], ['retention.ms', Op.APPEND, '5'])]);
    assert.deepEqual(outcomes(res), [[E.INVALID_CONFIG, "Can't APPEND to key retention.ms because its type is not LIST."]]);
    const sub = await alter([onTopic(topic, ['retention.ms', Op.SUBTRACT, '5'])]);
    assert.deepEqual(outcomes(sub), [[E.INVALID_CONFIG, "Can't SUBTRACT to key retention.ms because its type is not LIST."]]);
    assert.equal((await topicConfig(c, topic, 'segment.ms')).source, Source.DEFAULT_CONFIG);
  });

  test('unknown names and bad values → INVALID_CONFIG; null values → INVALID_REQUEST; validateOnly applies nothing', async () => {
    const topic = uniqueTopic('iac-bad');
    await createTopic(c, topic, 1);
    const cases: [Change[], [number, string]][] = [
      [[['no.such.config', Op.SET, '1']], [E.INVALID_CONFIG, 'Unknown topic config name: no.such.config']],
      [[['retention.ms', Op.SET, 'foo']], [E.INVALID_CONFIG, 'Invalid value foo for configuration retention.ms: Not a number of type LONG']],
      [[['cleanup.policy', Op.APPEND, 'shred']], [E.INVALID_CONFIG, 'Invalid value shred for configuration cleanup.policy: String must be one of: compact, delete']],
      [[['retention.ms', Op.SET, null]], [E.INVALID_REQUEST, 'Null value not supported for : retention.ms']],
      [[['retention.ms', Op.SET, '1'], ['retention.ms', Op.DELETE, null]], [E.INVALID_REQUEST, 'Error due to duplicate config keys']],
    ];
    for (const [changes, outcome] of cases) {
      assert.deepEqual(outcomes(await alter([onTopic(topic, ...changes)])), [outcome], JSON.stringify(changes));
    }
    const vo = await alter([onTopic(topic, ['retention.ms', Op.SET, '999'])], { validateOnly: true });
    assert.deepEqual(outcomes(vo), [[E.NONE, null]]);
    assert.deepEqual(await topicConfig(c, topic, 'retention.ms'), { value: '604800000', source: Source.DEFAULT_CONFIG });
  });

  test('DELETE of a config that is not set succeeds; an unknown topic → UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const topic = uniqueTopic('iac-del');
    await createTopic(c, topic, 1);
    const res = await alter([
      onTopic(topic, ['retention.ms', Op.DELETE, null]),
      onTopic(uniqueTopic('iac-nope'), ['retention.ms', Op.SET, '1']),
    ]);
    assert.deepEqual(outcomes(res).map(([code]) => code), [E.NONE, E.UNKNOWN_TOPIC_OR_PARTITION]);
  });

  test('dynamic broker configs: SET and DELETE on the cluster default; APPEND to a non-list and read-only keys are refused', async () => {
    const node = await nodeIdOf(c);
    const topic = uniqueTopic('iac-broker');
    await createTopic(c, topic, 1);
    try {
      const set = await alter([{ resourceType: BROKER, resourceName: '', changes: [['log.retention.ms', Op.SET, '7200000']] }]);
      assert.deepEqual(outcomes(set), [[E.NONE, null]]);
      await awaitTopicConfig(c, topic, 'retention.ms', '7200000', Source.DYNAMIC_DEFAULT_BROKER_CONFIG);
      const refused = await alter([
        { resourceType: BROKER, resourceName: String(node), changes: [['log.retention.ms', Op.APPEND, '1']] },
        { resourceType: BROKER, resourceName: '', changes: [['log.dirs', Op.SET, '/tmp/x']] },
        { resourceType: BROKER, resourceName: 'x', changes: [['log.retention.ms', Op.SET, '1']] },
      ]);
      assert.deepEqual(outcomes(refused), [
        [E.INVALID_CONFIG, 'Config value append is not allowed for config key: log.retention.ms'],
        [E.INVALID_REQUEST, 'Cannot update these configs dynamically: [log.dirs]'],
        [E.INVALID_REQUEST, 'Node id must be an integer, but it is: x'],
      ]);
      const bad = await alter([{ resourceType: BROKER, resourceName: '', changes: [['log.segment.bytes', Op.SET, 'big']] }]);
      assert.deepEqual(outcomes(bad), [[E.INVALID_REQUEST, 'Invalid value big for configuration log.segment.bytes: Not a number of type INT']]);
    } finally {
      const del = await alter([{ resourceType: BROKER, resourceName: '', changes: [['log.retention.ms', Op.DELETE, null]] }]);
      assert.deepEqual(outcomes(del), [[E.NONE, null]]);
    }
    await awaitTopicConfig(c, topic, 'retention.ms', '604800000', Source.DEFAULT_CONFIG);
  });

  test('a resource named twice → INVALID_REQUEST for both; the rest is applied', async () => {
    const topic = uniqueTopic('iac-dup');
    const other = uniqueTopic('iac-other');
    await createTopic(c, topic, 1);
    await createTopic(c, other, 1);
    const res = await alter([
      onTopic(topic, ['retention.ms', Op.SET, '1']),
      onTopic(other, ['retention.ms', Op.SET, '777']),
      onTopic(topic, ['retention.ms', Op.SET, '2']),
    ]);
    const dup = [E.INVALID_REQUEST, 'Each resource must appear at most once.'];
    assert.deepEqual(outcomes(res), [dup, [E.NONE, null], dup]);
    await awaitTopicConfig(c, other, 'retention.ms', '777');
    assert.equal((await topicConfig(c, topic, 'retention.ms')).source, Source.DEFAULT_CONFIG);
  });

  test('cleanup.policy switched between delete and compact on a topic with data: it stays producible and readable', async () => {
    const topic = uniqueTopic('iac-switch');
    await createTopic(c, topic, 1);
    const keyed = (k: string, v: string) => ({ key: Buffer.from(k), value: Buffer.from(v) });
    await produceOk(c, topic, 0, batch([keyed('a', 'a1'), keyed('b', 'b1')]));
    assert.deepEqual(outcomes(await alter([onTopic(topic, ['cleanup.policy', Op.SET, 'compact'])])), [[E.NONE, null]]);
    await awaitTopicConfig(c, topic, 'cleanup.policy', 'compact');
    await produceOk(c, topic, 0, batch([keyed('a', 'a2')]));
    assert.deepEqual(outcomes(await alter([onTopic(topic, ['cleanup.policy', Op.SET, 'delete'])])), [[E.NONE, null]]);
    await awaitTopicConfig(c, topic, 'cleanup.policy', 'delete');
    // Kafka's describe shows the new policy a moment before the partition's log has it.
    await eventually(async () => (await produce(c, topic, 0, batch(['no key']))).errorCode === E.NONE, 'a record without key accepted');
    assert.deepEqual(outcomes(await alter([onTopic(topic, ['cleanup.policy', Op.DELETE, null])])), [[E.NONE, null]]);
    const fetched = await fetchPartition(c, topic, 0, 0);
    assert.equal(fetched.errorCode, E.NONE);
    assert.deepEqual(valuesOf(fetched.records), ['a1', 'b1', 'a2', 'no key']);
  });

  test('a broker logger resource of another broker → INVALID_REQUEST', async () => {
    const node = await nodeIdOf(c);
    const res = await alter([{ resourceType: 8, resourceName: String(node + 7), changes: [['root', Op.SET, 'INFO']] }], { validateOnly: true });
    assert.equal(res.responses[0].errorCode, E.INVALID_REQUEST);
  });

  test('persisted: incremental changes survive a restart and are in force', tributaryOnly, async () => {
    const topic = uniqueTopic('iac-restart');
    await createTopic(c, topic, 1);
    assert.deepEqual(outcomes(await alter([onTopic(topic, ['cleanup.policy', Op.APPEND, 'compact'], ['max.message.bytes', Op.SET, '200'])])), [[E.NONE, null]]);
    await c.close();
    await target.restart();
    c = await target.connect();
    assert.deepEqual(await topicConfig(c, topic, 'cleanup.policy'), { value: 'delete,compact', source: Source.DYNAMIC_TOPIC_CONFIG });
    const big = { key: Buffer.from('k'), value: Buffer.alloc(500, 1) };
    const res = await c.request(0, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records: batch([big]) }] }],
    });
    assert.equal(res.responses[0].partitionResponses[0].errorCode, E.MESSAGE_TOO_LARGE, 'max.message.bytes=200 is in force');
  });
});
