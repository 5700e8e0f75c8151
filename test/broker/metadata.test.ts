/**
 * Metadata (key 3) against one broker with auto-creation on (Kafka's default) and
 * num.partitions=2. Topic selection, auto-creation, invalid names, topic ids (including across
 * a restart), lookups by id, leader epochs, cluster id and controller. Checked against Apache
 * Kafka 4.3.1 (BOOTSTRAP_SERVERS=127.0.0.1:19092), except the Tributary-only tests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createTopic,
  E,
  eventually,
  K,
  metadata,
  startTarget,
  tributaryOnly,
  uniqueTopic,
  ZERO_UUID,
  type Any,
  type RawClient,
  type Target,
} from './helpers.ts';

const MIN_INT32 = -2147483648;

/** A Metadata request by topic id (v10+). */
function byId(c: RawClient, topicIds: string[], version = 12): Promise<Any> {
  return c.request(K.Metadata, version, {
    topics: topicIds.map((topicId) => ({ topicId, name: null })),
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
}

describe('Metadata', () => {
  let target: Target;
  let c: RawClient;
  const t1 = uniqueTopic('md-a');
  const t2 = uniqueTopic('md-b');
  let t1Id: string;

  before(async () => {
    target = await startTarget({ numPartitions: 2 });
    c = await target.connect();
    ({ topicId: t1Id } = await createTopic(c, t1, 3));
    await createTopic(c, t2, 1);
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  test('v0 with an empty topic list describes every topic', async () => {
    const res = await c.request(K.Metadata, 0, { topics: [] });
    const names = res.topics.map((t: Any) => t.name);
    assert.ok(names.includes(t1) && names.includes(t2), names.join(','));
    assert.equal(res.topics.find((t: Any) => t.name === t1).partitions.length, 3);
  });

  for (const version of [1, 4, 9, 12]) {
    test(`v${version}: a null topic list means every topic, an empty one means none`, async () => {
      const all = await metadata(c, null, version);
      const names = all.topics.map((t: Any) => t.name);
      assert.ok(names.includes(t1) && names.includes(t2));
      for (const t of all.topics) assert.equal(t.errorCode, E.NONE, `${t.name}`);
      const none = await metadata(c, [], version);
      assert.deepEqual(none.topics, []);
      assert.ok(none.brokers.length >= 1, 'brokers are listed even for no topics');
    });
  }

  test('describes partitions: leader, replicas, ISR, no offline replicas (v12)', async () => {
    const res = await metadata(c, [t1]);
    assert.equal(res.topics.length, 1);
    const t = res.topics[0];
    assert.equal(t.errorCode, E.NONE);
    assert.equal(t.name, t1);
    assert.equal(t.isInternal, false);
    const node = res.brokers[0].nodeId;
    assert.deepEqual(
      t.partitions.map((p: Any) => p.partitionIndex).sort(),
      [0, 1, 2],
    );
    for (const p of t.partitions) {
      assert.equal(p.errorCode, E.NONE);
      assert.equal(p.leaderId, node);
      assert.deepEqual(p.replicaNodes, [node]);
      assert.deepEqual(p.isrNodes, [node]);
      assert.deepEqual(p.offlineReplicas, []);
    }
  });

  test('leader epoch is present from v7 (and absent, -1, before)', async () => {
    for (const version of [7, 9, 12]) {
      const res = await metadata(c, [t1], version);
      for (const p of res.topics[0].partitions) assert.ok(p.leaderEpoch >= 0, `v${version} epoch ${p.leaderEpoch}`);
    }
    const v6 = await metadata(c, [t1], 6);
    for (const p of v6.topics[0].partitions) assert.equal(p.leaderEpoch, -1);
  });

  test('clusterId (v2+), controllerId (v1+) and the broker list', async () => {
    const res = await metadata(c, [], 12);
    assert.equal(typeof res.clusterId, 'string');
    assert.ok(res.clusterId.length > 0);
    assert.equal(res.brokers.length, 1);
    const b = res.brokers[0];
    assert.equal(b.host, target.host);
    assert.equal(b.port, target.port);
    assert.equal(res.controllerId, b.nodeId);
    const v1 = await metadata(c, [], 1);
    assert.equal(v1.controllerId, b.nodeId);
    assert.equal(v1.clusterId, null, 'clusterId is not in v1');
    const v2 = await metadata(c, [], 2);
    assert.equal(v2.clusterId, res.clusterId, 'the cluster id is the same at every version');
  });

  test('authorized operations when asked (v8+), MIN_INT32 when not', async () => {
    const asked = await c.request(K.Metadata, 8, {
      topics: [{ topicId: ZERO_UUID, name: t1 }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: true,
      includeTopicAuthorizedOperations: true,
    });
    // Without an authorizer everything is allowed: READ..ALTER_CONFIGS for topics.
    assert.equal(asked.topics[0].topicAuthorizedOperations, 3576);
    assert.equal(asked.clusterAuthorizedOperations, 8096);
    const notAsked = await metadata(c, [t1], 8);
    assert.equal(notAsked.topics[0].topicAuthorizedOperations, MIN_INT32);
    assert.equal(notAsked.clusterAuthorizedOperations, MIN_INT32);
  });

  test('an unknown topic is auto-created at v1-v3 (no flag) and at v4+ when allowed', async () => {
    for (const version of [1, 3, 4, 12]) {
      const name = uniqueTopic(`md-auto-v${version}`);
      const first = await metadata(c, [name], version, true);
      assert.equal(first.topics.length, 1);
      assert.equal(first.topics[0].name, name);
      // Kafka 4.3.1 answers the creating request with UNKNOWN_TOPIC_OR_PARTITION (or
      // LEADER_NOT_AVAILABLE) and creates the topic in the background; Tributary awaits it.
      assert.ok(
        [E.NONE, E.LEADER_NOT_AVAILABLE, E.UNKNOWN_TOPIC_OR_PARTITION].includes(first.topics[0].errorCode),
        `v${version}: ${first.topics[0].errorCode}`,
      );
      const described = await eventually(async () => {
        const r = await metadata(c, [name], 12, false);
        const t = r.topics[0];
        return t.errorCode === E.NONE && t.partitions.length > 0 && t.partitions.every((p: Any) => p.errorCode === E.NONE) ? t : null;
      }, `auto-created ${name}`);
      assert.notEqual(described.topicId, ZERO_UUID);
    }
  });

  test('auto-created topics get num.partitions partitions', tributaryOnly, async () => {
    const name = uniqueTopic('md-auto-n');
    const res = await metadata(c, [name], 12, true);
    assert.equal(res.topics[0].errorCode, E.NONE, 'Tributary answers once the topic exists');
    assert.notEqual(res.topics[0].topicId, ZERO_UUID);
    assert.equal(res.topics[0].partitions.length, 2);
  });

  test('AllowAutoTopicCreation=false (v4+) → UNKNOWN_TOPIC_OR_PARTITION, nothing created', async () => {
    const name = uniqueTopic('md-noauto');
    for (const version of [4, 9, 12]) {
      const res = await metadata(c, [name], version, false);
      assert.equal(res.topics.length, 1);
      assert.equal(res.topics[0].errorCode, E.UNKNOWN_TOPIC_OR_PARTITION);
      assert.equal(res.topics[0].name, name);
      assert.deepEqual(res.topics[0].partitions, []);
    }
    const all = await metadata(c, null);
    assert.ok(!all.topics.some((t: Any) => t.name === name), 'the topic was not created');
  });

  test('a known and an unknown topic in one request: each gets its own answer', async () => {
    const name = uniqueTopic('md-mixed');
    const res = await metadata(c, [t2, name], 12, false);
    const byName = new Map(res.topics.map((t: Any) => [t.name, t]));
    assert.equal((byName.get(t2) as Any).errorCode, E.NONE);
    assert.equal((byName.get(name) as Any).errorCode, E.UNKNOWN_TOPIC_OR_PARTITION);
  });

  test('a topic asked for twice is described once, as Kafka', async () => {
    const res = await metadata(c, [t1, t1, t2], 12, false);
    assert.deepEqual(res.topics.map((t: Any) => t.name), [t1, t2]);
  });

  test('an invalid topic name → INVALID_TOPIC_EXCEPTION (even with auto-creation allowed)', async () => {
    for (const [version, name] of [
      [1, 'bad name!'],
      [4, 'a'.repeat(250)],
      [12, 'bad/name'],
      [12, '..'],
    ] as const) {
      const res = await metadata(c, [name], version, true);
      assert.equal(res.topics.length, 1);
      assert.equal(res.topics[0].errorCode, E.INVALID_TOPIC_EXCEPTION, `v${version} ${name.slice(0, 20)}`);
      assert.equal(res.topics[0].name, name);
      assert.deepEqual(res.topics[0].partitions, []);
    }
  });

  test('topic ids (v10+) are non-zero, the CreateTopics id, and the same at every version', async () => {
    assert.notEqual(t1Id, ZERO_UUID);
    for (const version of [10, 11, 12]) {
      const res = await metadata(c, [t1, t2], version);
      const ids = res.topics.map((t: Any) => t.topicId);
      assert.equal(res.topics.find((t: Any) => t.name === t1).topicId, t1Id);
      for (const id of ids) assert.notEqual(id, ZERO_UUID);
      assert.notEqual(ids[0], ids[1], 'two topics, two ids');
    }
    const all = await metadata(c, null);
    assert.equal(all.topics.find((t: Any) => t.name === t1).topicId, t1Id);
  });

  test('lookup by topic id (v12)', async () => {
    const res = await byId(c, [t1Id]);
    assert.equal(res.topics.length, 1);
    const t = res.topics[0];
    assert.equal(t.errorCode, E.NONE);
    assert.equal(t.name, t1);
    assert.equal(t.topicId, t1Id);
    assert.equal(t.partitions.length, 3);
  });

  test('an unknown topic id (v12) → UNKNOWN_TOPIC_ID with a null name', async () => {
    const unknown = 'AAAAAAAAAAAAAAAAAAAAAQ';
    const res = await byId(c, [unknown, t1Id]);
    assert.equal(res.topics.length, 2);
    const miss = res.topics.find((t: Any) => t.topicId === unknown);
    assert.equal(miss.errorCode, E.UNKNOWN_TOPIC_ID);
    assert.equal(miss.name, null);
    assert.deepEqual(miss.partitions, []);
    assert.equal(res.topics.find((t: Any) => t.topicId === t1Id).name, t1);
  });

  // Kafka 4.3.1: "Topic IDs are not supported on versions 10 and 11": a by-id lookup at v10 or
  // v11 gets INVALID_REQUEST (name "", the id echoed), and the connection stays open.
  test('lookup by topic id at v10/v11 → INVALID_REQUEST, as in Kafka', async () => {
    for (const version of [10, 11]) {
      const res = await byId(c, [t1Id], version);
      assert.equal(res.topics.length, 1);
      assert.equal(res.topics[0].errorCode, E.INVALID_REQUEST, `v${version}`);
      assert.equal(res.topics[0].topicId, t1Id);
      assert.deepEqual(res.topics[0].partitions, []);
    }
  });

  // Last: restarts the broker.
  test('topic ids and partitions survive a restart on the same data dir', tributaryOnly, async () => {
    const before = await metadata(c, [t1, t2]);
    const clusterId = before.clusterId;
    await c.close();
    await target.restart();
    c = await target.connect();
    const afterRes = await metadata(c, [t1, t2], 12, false);
    assert.equal(afterRes.clusterId, clusterId, 'cluster id is stable');
    for (const t of before.topics) {
      const now = afterRes.topics.find((x: Any) => x.name === t.name);
      assert.equal(now.errorCode, E.NONE);
      assert.equal(now.topicId, t.topicId, `${t.name} keeps its id`);
      assert.equal(now.partitions.length, t.partitions.length);
    }
    const found = await byId(c, [t1Id]);
    assert.equal(found.topics[0].name, t1);
  });
});
