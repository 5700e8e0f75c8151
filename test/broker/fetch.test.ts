/**
 * Fetch (key 1): exact bytes back, whole batches, offset out of range, min_bytes long-polls,
 * partition and response byte limits, sessions, topic ids (v13+), watermarks, leader epochs.
 * Expectations checked against Apache Kafka 4.3.1 (BOOTSTRAP_SERVERS=127.0.0.1:19092).
 * No timing assertions: timeouts are only safety nets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  batch,
  createTopic,
  E,
  fetchPartition,
  fetchRequest,
  K,
  metadata,
  offsetsOf,
  produceOk,
  startTarget,
  uniqueTopic,
  valuesOf,
  ZERO_UUID,
  type Any,
  type RawClient,
  type Target,
} from './helpers.ts';
import { decodeRecords } from '../../src/protocol/records.ts';

/** Splits a record set into its complete batches (a trailing partial batch is dropped, as clients do). */
function batchesOf(records: Buffer | null): Buffer[] {
  const out: Buffer[] = [];
  if (!records) return out;
  let pos = 0;
  while (pos + 12 <= records.length) {
    const size = 12 + records.readInt32BE(pos + 8);
    if (pos + size > records.length) break;
    out.push(records.subarray(pos, pos + size));
    pos += size;
  }
  return out;
}

describe('Fetch', () => {
  let target: Target;
  let c: RawClient;
  let topic: string; // partition 0: batches [0-2], [3-4]; partition 1: two ~370-byte batches
  let topicId: string;
  const produced: Buffer[] = [];
  const bases: number[] = [];

  before(async () => {
    target = await startTarget();
    c = await target.connect();
    topic = uniqueTopic('fe');
    ({ topicId } = await createTopic(c, topic, 3));
    const ts = Date.now() - 60_000;
    produced.push(
      batch(
        [
          { key: Buffer.from('k0'), value: Buffer.from('a'), headers: [{ key: 'h', value: Buffer.from('1') }], timestamp: ts },
          { key: null, value: Buffer.from('b'), timestamp: ts + 1 },
          { key: Buffer.from('k2'), value: null, timestamp: ts + 2 },
        ],
        { baseTimestamp: ts },
      ),
      batch(['d', 'e'], { baseTimestamp: ts + 10 }),
    );
    for (const b of produced) bases.push(await produceOk(c, topic, 0, Buffer.from(b)));
    await produceOk(c, topic, 1, batch(['x'.repeat(300)]));
    await produceOk(c, topic, 1, batch(['y'.repeat(300)]));
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  test('returns exactly the produced batches: same bytes apart from base offset and leader epoch', async () => {
    assert.deepEqual(bases, [0, 3]);
    const f = await fetchPartition(c, topic, 0, 0);
    assert.equal(f.errorCode, E.NONE);
    const got = batchesOf(f.records);
    assert.equal(got.length, produced.length);
    for (let i = 0; i < got.length; i++) {
      const g = got[i]!;
      const p = produced[i]!;
      assert.equal(g.length, p.length, `batch ${i} size`);
      assert.equal(g.readBigInt64BE(0), BigInt(bases[i]!), `batch ${i} base offset`);
      assert.ok(g.readInt32BE(12) >= 0, 'the broker stamps its leader epoch');
      assert.ok(g.subarray(16).equals(p.subarray(16)), `batch ${i}: magic, CRC, attributes and records are unchanged`);
    }
    const records = decodeRecords(f.records);
    assert.deepEqual(records.map((r) => r.offset), [0, 1, 2, 3, 4]);
    assert.deepEqual(records.map((r) => r.value?.toString() ?? null), ['a', 'b', null, 'd', 'e']);
    assert.deepEqual(records.map((r) => r.key?.toString() ?? null), ['k0', null, 'k2', null, null]);
    assert.deepEqual(records[0]!.headers.map((h) => [h.key, h.value?.toString()]), [['h', '1']]);
    assert.deepEqual(decodeRecords(Buffer.concat(produced)).map((r) => r.timestamp), records.map((r) => r.timestamp));
  });

  test('high watermark, last stable offset and log start offset', async () => {
    const f = await fetchPartition(c, topic, 0, 0);
    assert.equal(f.highWatermark, 5n);
    assert.equal(f.lastStableOffset, 5n);
    assert.equal(f.logStartOffset, 0n);
    assert.equal(f.preferredReadReplica, -1);
    const empty = await fetchPartition(c, topic, 2, 0);
    assert.equal(empty.errorCode, E.NONE);
    assert.equal(empty.highWatermark, 0n);
    assert.equal(empty.logStartOffset, 0n);
    assert.equal(empty.records?.length ?? 0, 0);
  });

  test('a fetch offset in the middle of a batch returns that whole batch', async () => {
    const f = await fetchPartition(c, topic, 0, 1);
    assert.equal(f.errorCode, E.NONE);
    const offsets = offsetsOf(f.records);
    assert.equal(offsets[0], 0, 'starts at the batch base offset, before the fetch offset');
    assert.deepEqual(offsets, [0, 1, 2, 3, 4]);
    const second = await fetchPartition(c, topic, 0, 4);
    assert.deepEqual(offsetsOf(second.records), [3, 4]);
  });

  test('the log end offset is in range (empty answer); beyond it or negative → OFFSET_OUT_OF_RANGE', async () => {
    const atEnd = await fetchPartition(c, topic, 0, 5);
    assert.equal(atEnd.errorCode, E.NONE);
    assert.equal(atEnd.records?.length ?? 0, 0);
    assert.equal(atEnd.highWatermark, 5n);
    for (const offset of [6, 1000, -1]) {
      const f = await fetchPartition(c, topic, 0, offset);
      assert.equal(f.errorCode, E.OFFSET_OUT_OF_RANGE, `offset ${offset}`);
      assert.equal(f.records?.length ?? 0, 0);
    }
  });

  test('partitionMaxBytes smaller than the first batch still returns that batch whole', async () => {
    for (const partitionMaxBytes of [1, 10, 80]) {
      const f = await fetchPartition(c, topic, 0, 0, { partitionMaxBytes });
      const got = batchesOf(f.records);
      assert.equal(got.length, 1, `limit ${partitionMaxBytes}: exactly the first batch`);
      assert.ok(got[0]!.subarray(16).equals(produced[0]!.subarray(16)));
    }
  });

  test('the response maxBytes limit applies across partitions; the first batch is always whole', async () => {
    const tiny = await c.request(
      K.Fetch,
      12,
      fetchRequest([{ topic, partition: 0, offset: 0 }, { topic, partition: 1, offset: 0 }], { maxBytes: 10 }),
    );
    const parts = tiny.responses[0].partitions;
    assert.deepEqual(offsetsOf(parts.find((p: Any) => p.partitionIndex === 0).records), [0, 1, 2], 'one whole batch');
    assert.deepEqual(offsetsOf(parts.find((p: Any) => p.partitionIndex === 1).records), [], 'no room for more');
    for (const p of parts) assert.equal(p.errorCode, E.NONE);

    // Partition 1 first: its first ~370-byte batch fits in 400 bytes, its second does not, and
    // nothing is left for partition 0. (Kafka may add a partial batch up to the limit.)
    const res = await c.request(
      K.Fetch,
      12,
      fetchRequest([{ topic, partition: 1, offset: 0 }, { topic, partition: 0, offset: 0 }], { maxBytes: 400 }),
    );
    const p1 = res.responses[0].partitions.find((p: Any) => p.partitionIndex === 1);
    const p0 = res.responses[0].partitions.find((p: Any) => p.partitionIndex === 0);
    assert.deepEqual(offsetsOf(p1.records), [0]);
    assert.deepEqual(offsetsOf(p0.records), []);
    const total = res.responses[0].partitions.reduce((n: number, p: Any) => n + (p.records?.length ?? 0), 0);
    assert.ok(total <= 400, `total ${total} bytes within maxBytes`);
  });

  test('several partitions at once, each with its own watermark', async () => {
    const res = await c.request(
      K.Fetch,
      12,
      fetchRequest([
        { topic, partition: 0, offset: 3 },
        { topic, partition: 1, offset: 1 },
        { topic, partition: 2, offset: 0 },
      ]),
    );
    const by = new Map<number, Any>(res.responses[0].partitions.map((p: Any) => [p.partitionIndex, p]));
    assert.deepEqual(valuesOf(by.get(0).records), ['d', 'e']);
    assert.deepEqual(valuesOf(by.get(1).records), ['y'.repeat(300)]);
    assert.deepEqual(valuesOf(by.get(2).records), []);
    assert.deepEqual([by.get(0).highWatermark, by.get(1).highWatermark, by.get(2).highWatermark], [5n, 2n, 0n]);
  });

  test('min_bytes: a parked fetch completes with the data another connection produces', async () => {
    const t = uniqueTopic('fe-poll');
    await createTopic(c, t, 1);
    const poller = await target.connect();
    try {
      const pending = poller.request(
        K.Fetch,
        12,
        fetchRequest([{ topic: t, partition: 0, offset: 0 }], { minBytes: 1, maxWaitMs: 5000 }),
        { timeoutMs: 30_000 },
      );
      // Make sure the fetch has reached the broker before producing (a request on the same
      // connection would queue behind it, so use the other one and just yield a little).
      await new Promise((r) => setTimeout(r, 50));
      await produceOk(c, t, 0, batch(['hello']));
      const res = await pending;
      assert.equal(res.errorCode, E.NONE);
      const p = res.responses[0].partitions[0];
      assert.equal(p.errorCode, E.NONE);
      assert.deepEqual(valuesOf(p.records), ['hello']);
      assert.equal(p.highWatermark, 1n);
    } finally {
      await poller.close();
    }
  });

  test('min_bytes with nothing produced completes empty after max_wait', async () => {
    const t = uniqueTopic('fe-idle');
    await createTopic(c, t, 1);
    const res = await c.request(K.Fetch, 12, fetchRequest([{ topic: t, partition: 0, offset: 0 }], { minBytes: 1, maxWaitMs: 200 }));
    assert.equal(res.errorCode, E.NONE);
    const p = res.responses[0].partitions[0];
    assert.equal(p.errorCode, E.NONE);
    assert.equal(p.records?.length ?? 0, 0);
    assert.equal(p.highWatermark, 0n);
  });

  test('min_bytes larger than what exists: answers with what there is after max_wait', async () => {
    const res = await c.request(K.Fetch, 12, fetchRequest([{ topic, partition: 0, offset: 0 }], { minBytes: 1_000_000, maxWaitMs: 200 }));
    assert.deepEqual(offsetsOf(res.responses[0].partitions[0].records), [0, 1, 2, 3, 4]);
  });

  test('a session id other than 0 → FETCH_SESSION_ID_NOT_FOUND, no partitions', async () => {
    const res = await c.request(K.Fetch, 12, fetchRequest([{ topic, partition: 0, offset: 0 }], { sessionId: 12345, sessionEpoch: 1 }));
    assert.equal(res.errorCode, E.FETCH_SESSION_ID_NOT_FOUND);
    assert.deepEqual(res.responses, []);
  });

  test('session epoch 0 or -1 with session id 0 is a full fetch and creates no session we must track', async () => {
    for (const sessionEpoch of [-1, 0]) {
      const res = await c.request(K.Fetch, 12, fetchRequest([{ topic, partition: 0, offset: 0 }], { sessionId: 0, sessionEpoch }));
      assert.equal(res.errorCode, E.NONE);
      assert.deepEqual(offsetsOf(res.responses[0].partitions[0].records), [0, 1, 2, 3, 4]);
    }
  });

  // Kafka 4.3.1: an incremental fetch (epoch > 0) names session 0, which does not exist →
  // FETCH_SESSION_ID_NOT_FOUND.
  test('session id 0 with a positive epoch → FETCH_SESSION_ID_NOT_FOUND, as Kafka', async () => {
    const res = await c.request(K.Fetch, 12, fetchRequest([{ topic, partition: 0, offset: 0 }], { sessionId: 0, sessionEpoch: 5 }));
    assert.equal(res.errorCode, E.FETCH_SESSION_ID_NOT_FOUND);
  });

  test('v13+: fetch by topic id; the response names the id', async () => {
    for (const version of [13, 15, 17]) {
      const res = await c.request(K.Fetch, version, fetchRequest([{ topic: '', topicId, partition: 0, offset: 0 }]));
      assert.equal(res.errorCode, E.NONE);
      assert.equal(res.responses.length, 1);
      assert.equal(res.responses[0].topicId, topicId);
      assert.deepEqual(offsetsOf(res.responses[0].partitions[0].records), [0, 1, 2, 3, 4], `v${version}`);
    }
  });

  test('v13+: an unknown topic id → UNKNOWN_TOPIC_ID for its partitions', async () => {
    const unknown = 'AAAAAAAAAAAAAAAAAAAAAQ';
    const res = await c.request(K.Fetch, 13, fetchRequest([{ topic: '', topicId: unknown, partition: 0, offset: 0 }]));
    assert.equal(res.errorCode, E.NONE);
    assert.equal(res.responses[0].topicId, unknown);
    assert.equal(res.responses[0].partitions[0].errorCode, E.UNKNOWN_TOPIC_ID);
  });

  test('an unknown topic name or partition → UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const res = await c.request(
      K.Fetch,
      12,
      fetchRequest([
        { topic: uniqueTopic('fe-nope'), partition: 0, offset: 0 },
        { topic, partition: 9, offset: 0 },
      ]),
    );
    const parts = res.responses.flatMap((t: Any) => t.partitions);
    assert.equal(parts.length, 2);
    for (const p of parts) assert.equal(p.errorCode, E.UNKNOWN_TOPIC_OR_PARTITION);
  });

  test('current leader epoch: the current one is fine, a newer one → UNKNOWN_LEADER_EPOCH', async () => {
    const md = await metadata(c, [topic]);
    const epoch = md.topics[0].partitions.find((p: Any) => p.partitionIndex === 0).leaderEpoch;
    const ok = await c.request(K.Fetch, 12, fetchRequest([{ topic, partition: 0, offset: 0, currentLeaderEpoch: epoch }]));
    assert.equal(ok.responses[0].partitions[0].errorCode, E.NONE);
    const newer = await c.request(K.Fetch, 12, fetchRequest([{ topic, partition: 0, offset: 0, currentLeaderEpoch: epoch + 5 }]));
    assert.equal(newer.responses[0].partitions[0].errorCode, E.UNKNOWN_LEADER_EPOCH);
  });

  for (const version of [4, 7, 11]) {
    test(`v${version} is served`, async () => {
      const res = await c.request(K.Fetch, version, fetchRequest([{ topic, partition: 0, offset: 0 }]));
      assert.equal(res.responses[0].topic, topic);
      const p = res.responses[0].partitions[0];
      assert.equal(p.errorCode, E.NONE);
      assert.equal(p.highWatermark, 5n);
      assert.deepEqual(offsetsOf(p.records), [0, 1, 2, 3, 4]);
      assert.equal(p.logStartOffset, version >= 5 ? 0n : -1n);
    });
  }

  test('topic ids are ignored below v13 (a name is required)', async () => {
    const res = await c.request(K.Fetch, 12, fetchRequest([{ topic, topicId: ZERO_UUID, partition: 0, offset: 3 }]));
    assert.deepEqual(valuesOf(res.responses[0].partitions[0].records), ['d', 'e']);
  });
});
