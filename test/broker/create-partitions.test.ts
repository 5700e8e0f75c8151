/**
 * CreatePartitions (key 37): grow, shrink and same count (INVALID_PARTITIONS), validateOnly,
 * unknown topics, manual assignments, duplicates. Checked against Apache Kafka 4.3.1
 * (BOOTSTRAP_SERVERS=127.0.0.1:19092).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  batch,
  createTopic,
  E,
  eventually,
  K,
  metadata,
  nodeIdOf,
  produceOk,
  startTarget,
  uniqueTopic,
  waitForLeaders,
  type Any,
  type RawClient,
  type Target,
} from './helpers.ts';

interface Grow {
  name: string;
  count: number;
  assignments?: { brokerIds: number[] }[] | null;
}

describe('CreatePartitions', () => {
  let target: Target;
  let c: RawClient;

  function grow(topics: Grow[], opts: { validateOnly?: boolean; version?: number } = {}): Promise<Any> {
    return c.request(K.CreatePartitions, opts.version ?? 3, {
      topics: topics.map((t) => ({ assignments: null, ...t })),
      timeoutMs: 30_000,
      validateOnly: opts.validateOnly ?? false,
    });
  }

  async function growOne(t: Grow, opts: { validateOnly?: boolean; version?: number } = {}): Promise<Any> {
    const res = await grow([t], opts);
    assert.equal(res.results.length, 1);
    assert.equal(res.results[0].name, t.name);
    return res.results[0];
  }

  async function partitionCount(name: string): Promise<number> {
    return (await metadata(c, [name], 12, false)).topics[0].partitions.length;
  }

  before(async () => {
    target = await startTarget();
    c = await target.connect();
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  for (const version of [0, 1, 2, 3]) {
    test(`v${version}: grows a topic; the new partitions take records`, async () => {
      const name = uniqueTopic(`cp-v${version}`);
      await createTopic(c, name, 2);
      await produceOk(c, name, 0, batch(['before']));
      const r = await growOne({ name, count: 4 }, { version });
      assert.equal(r.errorCode, E.NONE, r.errorMessage);
      assert.equal(r.errorMessage, null);
      await eventually(async () => (await partitionCount(name)) === 4, `${name} has 4 partitions`);
      await waitForLeaders(c, name, 4);
      assert.equal(await produceOk(c, name, 3, batch(['new'])), 0);
      assert.equal(await produceOk(c, name, 0, batch(['after'])), 1, 'existing partitions keep their data');
    });
  }

  test('fewer partitions → INVALID_PARTITIONS', async () => {
    const name = uniqueTopic('cp-shrink');
    await createTopic(c, name, 3);
    for (const count of [2, 1, 0]) {
      const r = await growOne({ name, count });
      assert.equal(r.errorCode, E.INVALID_PARTITIONS, `count ${count}`);
      assert.ok(r.errorMessage);
    }
    assert.equal(await partitionCount(name), 3);
  });

  test('the same count → INVALID_PARTITIONS', async () => {
    const name = uniqueTopic('cp-same');
    await createTopic(c, name, 2);
    const r = await growOne({ name, count: 2 });
    assert.equal(r.errorCode, E.INVALID_PARTITIONS);
    assert.equal(await partitionCount(name), 2);
  });

  test('validateOnly validates but changes nothing', async () => {
    const name = uniqueTopic('cp-validate');
    await createTopic(c, name, 2);
    const ok = await growOne({ name, count: 5 }, { validateOnly: true });
    assert.equal(ok.errorCode, E.NONE);
    const bad = await growOne({ name, count: 1 }, { validateOnly: true });
    assert.equal(bad.errorCode, E.INVALID_PARTITIONS);
    assert.equal(await partitionCount(name), 2);
    const real = await growOne({ name, count: 5 });
    assert.equal(real.errorCode, E.NONE, 'the real request still works');
  });

  test('an unknown topic → UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const r = await growOne({ name: uniqueTopic('cp-unknown'), count: 4 });
    assert.equal(r.errorCode, E.UNKNOWN_TOPIC_OR_PARTITION);
  });

  test('manual assignments: one per new partition on this broker; wrong count or unknown broker → INVALID_REPLICA_ASSIGNMENT', async () => {
    const node = await nodeIdOf(c);
    const name = uniqueTopic('cp-assign');
    await createTopic(c, name, 1);
    const tooFew = await growOne({ name, count: 3, assignments: [{ brokerIds: [node] }] });
    assert.equal(tooFew.errorCode, E.INVALID_REPLICA_ASSIGNMENT);
    const otherBroker = await growOne({ name, count: 2, assignments: [{ brokerIds: [node + 9] }] });
    assert.equal(otherBroker.errorCode, E.INVALID_REPLICA_ASSIGNMENT);
    assert.equal(await partitionCount(name), 1);
    const ok = await growOne({ name, count: 3, assignments: [{ brokerIds: [node] }, { brokerIds: [node] }] });
    assert.equal(ok.errorCode, E.NONE, ok.errorMessage);
    await eventually(async () => (await partitionCount(name)) === 3, `${name} has 3 partitions`);
  });

  test('several topics in one request succeed or fail independently', async () => {
    const a = uniqueTopic('cp-multi');
    const b = uniqueTopic('cp-multi');
    await createTopic(c, a, 1);
    await createTopic(c, b, 2);
    const res = await grow([{ name: a, count: 2 }, { name: b, count: 1 }]);
    const by = new Map<string, Any>(res.results.map((r: Any) => [r.name, r]));
    assert.equal(by.get(a).errorCode, E.NONE);
    assert.equal(by.get(b).errorCode, E.INVALID_PARTITIONS);
  });

  test('a topic twice in one request → INVALID_REQUEST (one result, as Kafka), nothing changed', async () => {
    const name = uniqueTopic('cp-dup');
    await createTopic(c, name, 1);
    const res = await grow([{ name, count: 2 }, { name, count: 3 }]);
    const forName = res.results.filter((r: Any) => r.name === name);
    assert.ok(forName.length >= 1);
    for (const r of forName) assert.equal(r.errorCode, E.INVALID_REQUEST);
    assert.equal(await partitionCount(name), 1);
    // Kafka 4.3.1 answers one result per distinct name.
    assert.equal(forName.length, 1, 'one result for the duplicated name');
  });
});
