/**
 * CreateTopics (key 19): success with configs, the v5+/v7 result fields, and each validation
 * error. Expectations checked against Apache Kafka 4.3.1 (BOOTSTRAP_SERVERS=127.0.0.1:19092).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createTopic,
  E,
  eventually,
  K,
  metadata,
  nodeIdOf,
  produceOk,
  batch,
  startTarget,
  tributaryOnly,
  uniqueTopic,
  ZERO_UUID,
  type Any,
  type RawClient,
  type Target,
} from './helpers.ts';

const DYNAMIC_TOPIC_CONFIG = 1;
const DEFAULT_CONFIG = 5;

interface TopicSpec {
  name: string;
  numPartitions?: number;
  replicationFactor?: number;
  assignments?: { partitionIndex: number; brokerIds: number[] }[];
  configs?: { name: string; value: string | null }[];
}

describe('CreateTopics', () => {
  let target: Target;
  let c: RawClient;

  function create(topics: TopicSpec[], opts: { validateOnly?: boolean; version?: number } = {}): Promise<Any> {
    return c.request(K.CreateTopics, opts.version ?? 7, {
      topics: topics.map((t) => ({ numPartitions: 1, replicationFactor: -1, assignments: [], configs: [], ...t })),
      timeoutMs: 30_000,
      validateOnly: opts.validateOnly ?? false,
    });
  }

  async function createOne(spec: TopicSpec, opts: { validateOnly?: boolean; version?: number } = {}): Promise<Any> {
    const res = await create([spec], opts);
    assert.equal(res.topics.length, 1);
    assert.equal(res.topics[0].name, spec.name);
    return res.topics[0];
  }

  async function assertNotCreated(name: string): Promise<void> {
    const res = await metadata(c, [name], 12, false);
    assert.equal(res.topics[0].errorCode, E.UNKNOWN_TOPIC_OR_PARTITION, `${name} must not exist`);
  }

  before(async () => {
    target = await startTarget();
    c = await target.connect();
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  test('v7: creates a topic with configs; the result has id, partitions, replication factor and configs', async () => {
    const name = uniqueTopic('ct');
    const r = await createOne({
      name,
      numPartitions: 3,
      configs: [
        { name: 'retention.ms', value: '1234' },
        { name: 'cleanup.policy', value: 'compact' },
      ],
    });
    assert.equal(r.errorCode, E.NONE, r.errorMessage);
    assert.equal(r.errorMessage, null);
    assert.notEqual(r.topicId, ZERO_UUID);
    assert.equal(r.numPartitions, 3);
    assert.equal(r.replicationFactor, 1);
    const cfg = new Map<string, Any>(r.configs.map((x: Any) => [x.name, x]));
    assert.equal(cfg.get('retention.ms').value, '1234');
    assert.equal(cfg.get('retention.ms').configSource, DYNAMIC_TOPIC_CONFIG);
    assert.equal(cfg.get('cleanup.policy').value, 'compact');
    assert.equal(cfg.get('cleanup.policy').configSource, DYNAMIC_TOPIC_CONFIG);
    assert.equal(cfg.get('segment.bytes').value, '1073741824');
    assert.equal(cfg.get('segment.bytes').configSource, DEFAULT_CONFIG);
    assert.equal(cfg.get('max.message.bytes').value, '1048588');
    for (const x of r.configs) assert.equal(x.isSensitive, false, x.name);

    const md = await eventually(async () => {
      const m = await metadata(c, [name], 12, false);
      return m.topics[0].errorCode === E.NONE && m.topics[0].partitions.length === 3 ? m : null;
    }, `${name} in metadata`);
    assert.equal(md.topics[0].topicId, r.topicId, 'Metadata gives the same topic id');
  });

  test('v5/v6 results carry partitions, replication factor and configs; v4 does not', async () => {
    for (const version of [5, 6]) {
      const r = await createOne({ name: uniqueTopic(`ct-v${version}`), numPartitions: 2 }, { version });
      assert.equal(r.errorCode, E.NONE);
      assert.equal(r.numPartitions, 2);
      assert.equal(r.replicationFactor, 1);
      assert.ok(Array.isArray(r.configs) && r.configs.length > 0);
      assert.equal(r.topicId, ZERO_UUID, 'no topic id before v7');
    }
    const v4 = await createOne({ name: uniqueTopic('ct-v4'), numPartitions: 2 }, { version: 4 });
    assert.equal(v4.errorCode, E.NONE);
    assert.equal(v4.numPartitions, -1, 'not in v4');
  });

  test('numPartitions -1 and replicationFactor -1 take the broker defaults', async () => {
    const name = uniqueTopic('ct-defaults');
    const r = await createOne({ name, numPartitions: -1, replicationFactor: -1 });
    assert.equal(r.errorCode, E.NONE);
    assert.equal(r.numPartitions, 1);
    assert.equal(r.replicationFactor, 1);
  });

  test('a manual assignment to this broker is accepted; with numPartitions set → INVALID_REQUEST; to another broker → INVALID_REPLICA_ASSIGNMENT', async () => {
    const node = await nodeIdOf(c);
    const ok = await createOne({
      name: uniqueTopic('ct-assign'),
      numPartitions: -1,
      replicationFactor: -1,
      assignments: [
        { partitionIndex: 0, brokerIds: [node] },
        { partitionIndex: 1, brokerIds: [node] },
      ],
    });
    assert.equal(ok.errorCode, E.NONE, ok.errorMessage);
    assert.equal(ok.numPartitions, 2);
    const both = await createOne({
      name: uniqueTopic('ct-assign'),
      numPartitions: 2,
      assignments: [{ partitionIndex: 0, brokerIds: [node] }],
    });
    assert.equal(both.errorCode, E.INVALID_REQUEST);
    const other = await createOne({
      name: uniqueTopic('ct-assign'),
      numPartitions: -1,
      replicationFactor: -1,
      assignments: [{ partitionIndex: 0, brokerIds: [node + 7] }],
    });
    assert.equal(other.errorCode, E.INVALID_REPLICA_ASSIGNMENT);
  });

  test('the same name again → TOPIC_ALREADY_EXISTS', async () => {
    const name = uniqueTopic('ct-exists');
    assert.equal((await createOne({ name })).errorCode, E.NONE);
    const again = await createOne({ name, numPartitions: 5 });
    assert.equal(again.errorCode, E.TOPIC_ALREADY_EXISTS);
    assert.equal(again.topicId, ZERO_UUID);
    assert.equal(again.numPartitions, -1);
    assert.equal(again.replicationFactor, -1);
    const md = await metadata(c, [name], 12, false);
    assert.equal(md.topics[0].partitions.length, 1, 'the existing topic is unchanged');
  });

  test('invalid names → INVALID_TOPIC_EXCEPTION: bad characters, too long, ".", "..", empty', async () => {
    for (const name of ['bad/name', 'bad name', 'ünïcode', 'x'.repeat(250), '.', '..', '']) {
      const r = await createOne({ name });
      assert.equal(r.errorCode, E.INVALID_TOPIC_EXCEPTION, `name ${JSON.stringify(name.slice(0, 20))}`);
      assert.equal(r.topicId, ZERO_UUID);
    }
    const longest = await createOne({ name: 'y'.repeat(249) }, { validateOnly: true });
    assert.equal(longest.errorCode, E.NONE, '249 characters are allowed');
  });

  test("names that differ only by '.' and '_' collide → INVALID_TOPIC_EXCEPTION", async () => {
    const base = uniqueTopic('ct_coll').replaceAll('-', '_');
    assert.equal((await createOne({ name: `${base}_a` })).errorCode, E.NONE);
    const r = await createOne({ name: `${base}.a` });
    assert.equal(r.errorCode, E.INVALID_TOPIC_EXCEPTION);
    await assertNotCreated(`${base}.a`);
  });

  test('0 or fewer partitions (other than -1) → INVALID_PARTITIONS', async () => {
    for (const numPartitions of [0, -2]) {
      const name = uniqueTopic('ct-parts');
      const r = await createOne({ name, numPartitions });
      assert.equal(r.errorCode, E.INVALID_PARTITIONS, `${numPartitions}`);
      await assertNotCreated(name);
    }
  });

  test('replication factor 3 on one broker, or 0 → INVALID_REPLICATION_FACTOR', async () => {
    for (const replicationFactor of [3, 0]) {
      const name = uniqueTopic('ct-rf');
      const r = await createOne({ name, replicationFactor });
      assert.equal(r.errorCode, E.INVALID_REPLICATION_FACTOR, `rf ${replicationFactor}`);
      await assertNotCreated(name);
    }
  });

  test('an unknown config, a bad value or a null value → INVALID_CONFIG, nothing created', async () => {
    for (const cfg of [
      { name: 'no.such.config', value: '1' },
      { name: 'retention.ms', value: 'abc' },
      { name: 'cleanup.policy', value: 'bogus' },
      { name: 'max.message.bytes', value: '-5' },
      { name: 'message.timestamp.type', value: 'WallClock' },
      { name: 'retention.ms', value: null },
    ]) {
      const name = uniqueTopic('ct-cfg');
      const r = await createOne({ name, configs: [cfg] });
      assert.equal(r.errorCode, E.INVALID_CONFIG, `${cfg.name}=${cfg.value}`);
      assert.ok(r.errorMessage, 'carries a message');
      await assertNotCreated(name);
    }
  });

  // Kafka 4.3.1 (KRaft) accepts a config given twice and keeps the last value.
  test('a config key given twice is accepted, the last value wins, as Kafka', async () => {
    const r = await createOne({
      name: uniqueTopic('ct-cfgdup'),
      configs: [
        { name: 'retention.ms', value: '1' },
        { name: 'retention.ms', value: '2' },
      ],
    });
    assert.equal(r.errorCode, E.NONE, r.errorMessage);
    assert.equal(r.configs.find((x: Any) => x.name === 'retention.ms').value, '2');
  });

  test('validateOnly checks and describes but creates nothing', async () => {
    const name = uniqueTopic('ct-validate');
    const r = await createOne({ name, numPartitions: 4, configs: [{ name: 'retention.ms', value: '99' }] }, { validateOnly: true });
    assert.equal(r.errorCode, E.NONE);
    assert.equal(r.numPartitions, 4);
    assert.equal(r.replicationFactor, 1);
    assert.equal(r.configs.find((x: Any) => x.name === 'retention.ms').value, '99');
    await assertNotCreated(name);
    const bad = await createOne({ name, numPartitions: 0 }, { validateOnly: true });
    assert.equal(bad.errorCode, E.INVALID_PARTITIONS, 'validateOnly still validates');
    const real = await createOne({ name, numPartitions: 4 });
    assert.equal(real.errorCode, E.NONE, 'the name is still free');
  });

  test('a name twice in one request → INVALID_REQUEST for it (one result, as Kafka); the others are created', async () => {
    const dup = uniqueTopic('ct-dup');
    const other = uniqueTopic('ct-dup-other');
    const res = await create([{ name: dup }, { name: other }, { name: dup }]);
    const forDup = res.topics.filter((t: Any) => t.name === dup);
    assert.ok(forDup.length >= 1);
    for (const t of forDup) assert.equal(t.errorCode, E.INVALID_REQUEST);
    assert.equal(res.topics.find((t: Any) => t.name === other).errorCode, E.NONE);
    await assertNotCreated(dup);
    // Kafka 4.3.1 answers one result per distinct name.
    assert.equal(forDup.length, 1, 'one result for the duplicated name');
    assert.equal(res.topics.length, 2);
  });

  test('several topics in one request succeed or fail independently', async () => {
    const a = uniqueTopic('ct-multi');
    const b = uniqueTopic('ct-multi');
    const res = await create([{ name: a, numPartitions: 2 }, { name: 'bad name' }, { name: b, numPartitions: 0 }]);
    const by = new Map<string, Any>(res.topics.map((t: Any) => [t.name, t]));
    assert.equal(by.get(a).errorCode, E.NONE);
    assert.equal(by.get('bad name').errorCode, E.INVALID_TOPIC_EXCEPTION);
    assert.equal(by.get(b).errorCode, E.INVALID_PARTITIONS);
  });

  test('a created topic takes produce requests right away', tributaryOnly, async () => {
    const name = uniqueTopic('ct-produce');
    await createTopic(c, name, 2);
    assert.equal(await produceOk(c, name, 1, batch(['x'])), 0);
  });
});
