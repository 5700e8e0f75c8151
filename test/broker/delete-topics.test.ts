/**
 * DeleteTopics (key 20): by name (v1-v5) and by name or id (v6); unknown names and ids; the
 * data is really gone (a topic re-created under the same name starts empty, with a new id).
 * Checked against Apache Kafka 4.3.1 (BOOTSTRAP_SERVERS=127.0.0.1:19092).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  batch,
  createTopic,
  E,
  eventually,
  fetchPartition,
  K,
  listOffsets,
  metadata,
  produceOk,
  sleep,
  startTarget,
  uniqueTopic,
  ZERO_UUID,
  type Any,
  type RawClient,
  type Target,
} from './helpers.ts';

describe('DeleteTopics', () => {
  let target: Target;
  let c: RawClient;

  function deleteByName(names: string[], version: number): Promise<Any> {
    if (version >= 6) {
      return c.request(K.DeleteTopics, version, { topics: names.map((name) => ({ name, topicId: ZERO_UUID })), topicNames: [], timeoutMs: 30_000 });
    }
    return c.request(K.DeleteTopics, version, { topics: [], topicNames: names, timeoutMs: 30_000 });
  }

  function deleteById(ids: string[]): Promise<Any> {
    return c.request(K.DeleteTopics, 6, { topics: ids.map((topicId) => ({ name: null, topicId })), topicNames: [], timeoutMs: 30_000 });
  }

  async function gone(name: string): Promise<void> {
    await eventually(async () => (await metadata(c, [name], 12, false)).topics[0].errorCode === E.UNKNOWN_TOPIC_OR_PARTITION, `${name} deleted`);
  }

  before(async () => {
    target = await startTarget();
    c = await target.connect();
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  for (const version of [1, 2, 3, 4, 5, 6]) {
    test(`v${version}: delete by name`, async () => {
      const name = uniqueTopic(`dt-v${version}`);
      await createTopic(c, name, 2);
      const res = await deleteByName([name], version);
      assert.equal(res.responses.length, 1);
      assert.equal(res.responses[0].name, name);
      assert.equal(res.responses[0].errorCode, E.NONE);
      await gone(name);
    });
  }

  test('v6: delete by id; the result carries the name and the id', async () => {
    const name = uniqueTopic('dt-id');
    const { topicId } = await createTopic(c, name);
    const res = await deleteById([topicId]);
    assert.equal(res.responses.length, 1);
    const r = res.responses[0];
    assert.equal(r.errorCode, E.NONE);
    assert.equal(r.name, name);
    assert.equal(r.topicId, topicId);
    await gone(name);
  });

  for (const version of [1, 4, 5, 6]) {
    test(`v${version}: an unknown name → UNKNOWN_TOPIC_OR_PARTITION`, async () => {
      const res = await deleteByName([uniqueTopic('dt-unknown')], version);
      assert.equal(res.responses[0].errorCode, E.UNKNOWN_TOPIC_OR_PARTITION);
      if (version >= 5) assert.ok(res.responses[0].errorMessage, 'v5+ carries a message');
    });
  }

  test('v6: an unknown id → UNKNOWN_TOPIC_ID', async () => {
    const unknown = 'AAAAAAAAAAAAAAAAAAAAAQ';
    const res = await deleteById([unknown]);
    assert.equal(res.responses[0].errorCode, E.UNKNOWN_TOPIC_ID);
    assert.equal(res.responses[0].topicId, unknown);
    assert.equal(res.responses[0].name, null);
  });

  test('v6: both a name and an id → INVALID_REQUEST, nothing deleted', async () => {
    const name = uniqueTopic('dt-both');
    const { topicId } = await createTopic(c, name);
    const res = await c.request(K.DeleteTopics, 6, { topics: [{ name, topicId }], topicNames: [], timeoutMs: 30_000 });
    assert.equal(res.responses[0].errorCode, E.INVALID_REQUEST);
    const md = await metadata(c, [name], 12, false);
    assert.equal(md.topics[0].errorCode, E.NONE, 'still there');
  });

  test('several topics in one request: each its own result', async () => {
    const a = uniqueTopic('dt-multi');
    const b = uniqueTopic('dt-multi');
    await createTopic(c, a);
    await createTopic(c, b);
    const missing = uniqueTopic('dt-missing');
    const res = await deleteByName([a, missing, b], 5);
    const by = new Map<string, Any>(res.responses.map((r: Any) => [r.name, r]));
    assert.equal(by.get(a).errorCode, E.NONE);
    assert.equal(by.get(b).errorCode, E.NONE);
    assert.equal(by.get(missing).errorCode, E.UNKNOWN_TOPIC_OR_PARTITION);
    await gone(a);
    await gone(b);
  });

  // Kafka 4.3.1: a name given twice → one INVALID_REQUEST result, and the topic is not deleted.
  test('a name twice in one request → INVALID_REQUEST (one result), nothing deleted, as Kafka', async () => {
    const name = uniqueTopic('dt-dup');
    await createTopic(c, name);
    const res = await deleteByName([name, name], 5);
    for (const r of res.responses) assert.equal(r.errorCode, E.INVALID_REQUEST);
    assert.equal(res.responses.length, 1, 'one result for the duplicated name');
    const md = await metadata(c, [name], 12, false);
    assert.equal(md.topics[0].errorCode, E.NONE, 'still there');
  });

  test('the data is gone: produce and fetch on the deleted topic fail; the re-created topic is empty with a new id', async () => {
    const name = uniqueTopic('dt-data');
    const { topicId: oldId } = await createTopic(c, name, 1);
    await produceOk(c, name, 0, batch(['a', 'b', 'c']));
    await produceOk(c, name, 0, batch(['d']));
    const del = await deleteByName([name], 6);
    assert.equal(del.responses[0].errorCode, E.NONE);
    await gone(name);

    const fetched = await fetchPartition(c, name, 0, 0);
    assert.equal(fetched.errorCode, E.UNKNOWN_TOPIC_OR_PARTITION);

    // Kafka may refuse to re-create for a moment while the deletion completes.
    let recreated: Any;
    for (let i = 0; i < 100; i++) {
      const r = await c.request(K.CreateTopics, 7, {
        topics: [{ name, numPartitions: 1, replicationFactor: -1, assignments: [], configs: [] }],
        timeoutMs: 30_000,
        validateOnly: false,
      });
      recreated = r.topics[0];
      if (recreated.errorCode !== E.TOPIC_ALREADY_EXISTS) break;
      await sleep(100);
    }
    assert.equal(recreated.errorCode, E.NONE, recreated.errorMessage);
    assert.notEqual(recreated.topicId, oldId, 'a new topic id');
    await eventually(async () => (await listOffsets(c, name, [{ partition: 0, timestamp: -1n }]))[0].errorCode === E.NONE, 'leader');

    const [latest] = await listOffsets(c, name, [{ partition: 0, timestamp: -1n }]);
    assert.equal(latest.offset, 0n, 'the re-created log is empty');
    const [earliest] = await listOffsets(c, name, [{ partition: 0, timestamp: -2n }]);
    assert.equal(earliest.offset, 0n);
    const empty = await fetchPartition(c, name, 0, 0);
    assert.equal(empty.errorCode, E.NONE);
    assert.equal(empty.highWatermark, 0n);
    assert.equal(empty.records?.length ?? 0, 0);
    assert.equal(await produceOk(c, name, 0, batch(['fresh'])), 0, 'offsets start again at 0');
  });
});
