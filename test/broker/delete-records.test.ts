/**
 * DeleteRecords (key 21): the log start offset moves up to the requested offset (-1: the high
 * watermark), Fetch below it is OFFSET_OUT_OF_RANGE, ListOffsets EARLIEST returns it, and it
 * survives a restart; Kafka's errors for out-of-range offsets, unknown partitions, internal
 * and compact-only topics, offline logs. Checked against Apache Kafka 4.3.1
 * (BOOTSTRAP_SERVERS=127.0.0.1:PORT).
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
  offsetsOf,
  produceOk,
  startTarget,
  tributaryOnly,
  uniqueTopic,
  type Any,
  type RawClient,
  type Target,
} from './helpers.ts';
import { offlinePartition } from './offline-partition.ts';

const DeleteRecords = 21;
const FindCoordinator = 10;
const POLICY_VIOLATION = 44;
const KAFKA_STORAGE_ERROR = 56;

interface Part {
  topic: string;
  partition: number;
  offset: bigint;
}

/** One DeleteRecords request; returns `${topic}-${partition}` → result (order-free, as Kafka's). */
async function deleteRecords(c: RawClient, parts: Part[], opts: { version?: number; timeoutMs?: number } = {}): Promise<Map<string, Any>> {
  const topics: { name: string; partitions: { partitionIndex: number; offset: bigint }[] }[] = [];
  for (const p of parts) {
    let t = topics.find((x) => x.name === p.topic);
    if (!t) topics.push((t = { name: p.topic, partitions: [] }));
    t.partitions.push({ partitionIndex: p.partition, offset: p.offset });
  }
  const res = await c.request(DeleteRecords, opts.version ?? 2, { topics, timeoutMs: opts.timeoutMs ?? 30_000 });
  const out = new Map<string, Any>();
  for (const t of res.topics) for (const p of t.partitions) {
    assert.ok(!out.has(`${t.name}-${p.partitionIndex}`), 'one result per partition');
    out.set(`${t.name}-${p.partitionIndex}`, p);
  }
  return out;
}

async function deleteOne(c: RawClient, topic: string, partition: number, offset: bigint, version = 2): Promise<Any> {
  return (await deleteRecords(c, [{ topic, partition, offset }], { version })).get(`${topic}-${partition}`);
}

async function earliest(c: RawClient, topic: string, partition = 0): Promise<bigint> {
  const [r] = await listOffsets(c, topic, [{ partition, timestamp: -2n }]);
  assert.equal(r.errorCode, E.NONE);
  return r.offset;
}

/** A topic with 10 records in partition 0: five batches of two. */
async function filledTopic(c: RawClient, prefix: string, configs: Record<string, string> = {}): Promise<string> {
  const topic = uniqueTopic(prefix);
  await createTopic(c, topic, 2, configs);
  for (let i = 0; i < 5; i++) await produceOk(c, topic, 0, batch([`v${2 * i}`, `v${2 * i + 1}`]));
  return topic;
}

describe('DeleteRecords', () => {
  let target: Target;
  let c: RawClient;

  before(async () => {
    target = await startTarget();
    c = await target.connect();
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  for (const version of [0, 1, 2]) {
    test(`v${version}: moves the log start offset; Fetch below it → OFFSET_OUT_OF_RANGE, ListOffsets EARLIEST returns it`, async () => {
      const topic = await filledTopic(c, `dr-v${version}`);
      assert.deepEqual(await deleteOne(c, topic, 0, 4n, version), { partitionIndex: 0, lowWatermark: 4n, errorCode: E.NONE });
      assert.equal(await earliest(c, topic), 4n);
      assert.equal((await fetchPartition(c, topic, 0, 3)).errorCode, E.OFFSET_OUT_OF_RANGE);
      const fetched = await fetchPartition(c, topic, 0, 4);
      assert.equal(fetched.errorCode, E.NONE);
      assert.equal(fetched.logStartOffset, 4n);
      assert.deepEqual(offsetsOf(fetched.records).filter((o) => o >= 4), [4, 5, 6, 7, 8, 9]);
      // Inside a batch: the batch is still served whole, the start offset is exact.
      assert.equal((await deleteOne(c, topic, 0, 7n, version)).lowWatermark, 7n);
      assert.equal(await earliest(c, topic), 7n);
      assert.equal((await fetchPartition(c, topic, 0, 6)).errorCode, E.OFFSET_OUT_OF_RANGE);
      assert.ok(offsetsOf((await fetchPartition(c, topic, 0, 7)).records).includes(7));
    });
  }

  test('offset -1 means the high watermark; producing continues after it', async () => {
    const topic = await filledTopic(c, 'dr-hw');
    assert.deepEqual(await deleteOne(c, topic, 0, -1n), { partitionIndex: 0, lowWatermark: 10n, errorCode: E.NONE });
    assert.equal(await earliest(c, topic), 10n);
    const [latest] = await listOffsets(c, topic, [{ partition: 0, timestamp: -1n }]);
    assert.equal(latest.offset, 10n);
    assert.equal(await produceOk(c, topic, 0, batch(['after'])), 10);
    assert.deepEqual(offsetsOf((await fetchPartition(c, topic, 0, 10)).records), [10]);
    // An empty partition: -1 is offset 0.
    assert.deepEqual(await deleteOne(c, topic, 1, -1n), { partitionIndex: 1, lowWatermark: 0n, errorCode: E.NONE });
  });

  test('an offset at or below the log start offset changes nothing and answers the current start', async () => {
    const topic = await filledTopic(c, 'dr-below');
    assert.equal((await deleteOne(c, topic, 0, 6n)).lowWatermark, 6n);
    assert.deepEqual(await deleteOne(c, topic, 0, 2n), { partitionIndex: 0, lowWatermark: 6n, errorCode: E.NONE });
    assert.deepEqual(await deleteOne(c, topic, 0, 6n), { partitionIndex: 0, lowWatermark: 6n, errorCode: E.NONE });
    assert.deepEqual(await deleteOne(c, topic, 0, 0n), { partitionIndex: 0, lowWatermark: 6n, errorCode: E.NONE });
    assert.equal(await earliest(c, topic), 6n);
  });

  test('an offset above the high watermark, or below -1 → OFFSET_OUT_OF_RANGE, low watermark -1, nothing moves', async () => {
    const topic = await filledTopic(c, 'dr-range');
    for (const offset of [11n, 1000n, -2n, -100n]) {
      assert.deepEqual(await deleteOne(c, topic, 0, offset), { partitionIndex: 0, lowWatermark: -1n, errorCode: E.OFFSET_OUT_OF_RANGE }, `offset ${offset}`);
    }
    assert.equal(await earliest(c, topic), 0n);
    assert.equal((await deleteOne(c, topic, 0, 10n)).lowWatermark, 10n, 'the high watermark itself is allowed');
  });

  test('unknown topic or partition → UNKNOWN_TOPIC_OR_PARTITION; other partitions of the request still succeed', async () => {
    const topic = await filledTopic(c, 'dr-unknown');
    const res = await deleteRecords(c, [
      { topic: uniqueTopic('dr-missing'), partition: 0, offset: 0n },
      { topic, partition: 7, offset: 0n },
      { topic, partition: 0, offset: 3n },
    ]);
    assert.equal(res.size, 3);
    for (const [key, r] of res) {
      if (key === `${topic}-0`) assert.deepEqual(r, { partitionIndex: 0, lowWatermark: 3n, errorCode: E.NONE });
      else assert.deepEqual([r.errorCode, r.lowWatermark], [E.UNKNOWN_TOPIC_OR_PARTITION, -1n], key);
    }
  });

  test('a partition named twice is answered once, with the last offset asked', async () => {
    const topic = await filledTopic(c, 'dr-twice');
    const res = await deleteRecords(c, [
      { topic, partition: 0, offset: 2n },
      { topic, partition: 0, offset: 5n },
    ]);
    assert.deepEqual([...res.values()], [{ partitionIndex: 0, lowWatermark: 5n, errorCode: E.NONE }]);
  });

  test('timeoutMs 0 still deletes and answers at once (one replica: nothing to wait for)', async () => {
    const topic = await filledTopic(c, 'dr-timeout');
    const res = await deleteRecords(c, [{ topic, partition: 0, offset: 8n }], { timeoutMs: 0 });
    assert.deepEqual(res.get(`${topic}-0`), { partitionIndex: 0, lowWatermark: 8n, errorCode: E.NONE });
  });

  test('cleanup.policy=compact → POLICY_VIOLATION; compact,delete is allowed', async () => {
    const compact = uniqueTopic('dr-compact');
    await createTopic(c, compact, 1, { 'cleanup.policy': 'compact' });
    await produceOk(c, compact, 0, batch([{ key: Buffer.from('k'), value: Buffer.from('v') }]));
    assert.deepEqual(await deleteOne(c, compact, 0, 1n), { partitionIndex: 0, lowWatermark: -1n, errorCode: POLICY_VIOLATION });
    const both = uniqueTopic('dr-compact-delete');
    await createTopic(c, both, 1, { 'cleanup.policy': 'compact,delete' });
    await produceOk(c, both, 0, batch([{ key: Buffer.from('k'), value: Buffer.from('v') }]));
    assert.deepEqual(await deleteOne(c, both, 0, 1n), { partitionIndex: 0, lowWatermark: 1n, errorCode: E.NONE });
  });

  test('the internal topic __consumer_offsets → INVALID_TOPIC_EXCEPTION', async () => {
    // Finding a group coordinator creates __consumer_offsets (Kafka: a moment later).
    await c.request(FindCoordinator, 4, { key: '', keyType: 0, coordinatorKeys: ['dr-group'] });
    const r = await eventually(async () => {
      const res = await deleteOne(c, '__consumer_offsets', 0, 0n);
      return res.errorCode === E.UNKNOWN_TOPIC_OR_PARTITION ? null : res;
    }, '__consumer_offsets to exist');
    assert.deepEqual(r, { partitionIndex: 0, lowWatermark: -1n, errorCode: E.INVALID_TOPIC_EXCEPTION });
  });

  test('the log start offset survives a restart', tributaryOnly, async () => {
    const topic = await filledTopic(c, 'dr-restart');
    assert.equal((await deleteOne(c, topic, 0, 5n)).lowWatermark, 5n);
    await c.close();
    await target.restart();
    c = await target.connect();
    assert.equal(await earliest(c, topic), 5n);
    assert.equal((await fetchPartition(c, topic, 0, 4)).errorCode, E.OFFSET_OUT_OF_RANGE);
    assert.equal((await deleteOne(c, topic, 0, 3n)).lowWatermark, 5n);
  });

  test('an offline log → KAFKA_STORAGE_ERROR; the topic\'s other partitions still work', tributaryOnly, async () => {
    const topic = uniqueTopic('dr-offline');
    c = await offlinePartition(target, c, topic);
    assert.deepEqual(await deleteOne(c, topic, 0, 1n), { partitionIndex: 0, lowWatermark: -1n, errorCode: KAFKA_STORAGE_ERROR });
    assert.deepEqual(await deleteOne(c, topic, 1, -1n), { partitionIndex: 1, lowWatermark: 0n, errorCode: E.NONE });
  });
});
