/**
 * Produce (key 0): acks 1 / -1 / 0, base offsets, invalid acks, unknown partitions, corrupt,
 * oversized and inconsistent batches, LogAppendTime, several partitions and topics in one
 * request, pipelining. Expectations checked against Apache Kafka 4.3.1
 * (BOOTSTRAP_SERVERS=127.0.0.1:19092).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { crc32c } from '@node-rs/crc32';
import {
  batch,
  createTopic,
  E,
  fetchPartition,
  K,
  listOffsets,
  produce,
  produceOk,
  produceRequest,
  startTarget,
  uniqueTopic,
  valuesOf,
  type Any,
  type RawClient,
  type Target,
} from './helpers.ts';
import { decodeRecords } from '../../src/protocol/records.ts';

const INVALID_TIMESTAMP = 32;

/** Recomputes a batch's CRC after a header edit. */
function fixCrc(b: Buffer): Buffer {
  b.writeUInt32BE(crc32c(b.subarray(21)) >>> 0, 17);
  return b;
}

describe('Produce', () => {
  let target: Target;
  let c: RawClient;
  let topic: string; // 3 partitions

  async function leo(t: string, partition: number): Promise<bigint> {
    const [r] = await listOffsets(c, t, [{ partition, timestamp: -1n }]);
    assert.equal(r.errorCode, E.NONE);
    return r.offset;
  }

  before(async () => {
    target = await startTarget();
    c = await target.connect();
    topic = uniqueTopic('pr');
    await createTopic(c, topic, 3);
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  test('acks=1 and acks=-1 return increasing base offsets; logAppendTime -1 (CreateTime), logStartOffset 0', async () => {
    const t = uniqueTopic('pr-acks');
    await createTopic(c, t, 1);
    const a = await produce(c, t, 0, batch(['a', 'b']), { acks: 1 });
    const b = await produce(c, t, 0, batch(['c']), { acks: -1 });
    const d = await produce(c, t, 0, batch(['d', 'e', 'f']), { acks: 1 });
    for (const r of [a, b, d]) {
      assert.equal(r.errorCode, E.NONE);
      assert.equal(r.index, 0);
      assert.equal(r.logAppendTimeMs, -1n);
      assert.equal(r.logStartOffset, 0n);
      assert.deepEqual(r.recordErrors, []);
      assert.equal(r.errorMessage, null);
    }
    assert.deepEqual([a.baseOffset, b.baseOffset, d.baseOffset], [0n, 2n, 3n]);
    assert.equal(await leo(t, 0), 6n);
  });

  for (const version of [3, 5, 7, 8, 9, 10, 11]) {
    test(`v${version} is served`, async () => {
      const t = uniqueTopic(`pr-v${version}`);
      await createTopic(c, t, 1);
      const r = await produce(c, t, 0, batch(['x', 'y']), { version });
      assert.equal(r.errorCode, E.NONE);
      assert.equal(r.baseOffset, 0n);
      assert.equal(r.logStartOffset, version >= 5 ? 0n : -1n);
      assert.deepEqual(valuesOf((await fetchPartition(c, t, 0, 0)).records), ['x', 'y']);
    });
  }

  test('acks=0 gets no response; the next request on the connection gets its own, in order', async () => {
    const t = uniqueTopic('pr-acks0');
    await createTopic(c, t, 1);
    const conn = await target.connect();
    try {
      const sentId = await conn.send(K.Produce, 9, produceRequest([{ topic: t, partition: 0, records: batch(['zero']) }], 0));
      // If the broker answered the acks=0 request, that answer would reach this request first
      // and the client would reject it for its correlation id.
      const next = await conn.requestFull(K.Produce, 9, produceRequest([{ topic: t, partition: 0, records: batch(['one']) }], 1));
      assert.equal(next.correlationId, sentId + 1);
      const r = next.body.responses[0].partitionResponses[0];
      assert.equal(r.errorCode, E.NONE);
      assert.equal(r.baseOffset, 1n, 'the acks=0 batch was appended first');
      assert.equal(await conn.nextFrame(100), null, 'no stray response');
      assert.deepEqual(valuesOf((await fetchPartition(conn, t, 0, 0)).records), ['zero', 'one']);
    } finally {
      await conn.close();
    }
  });

  test('acks=0 between pipelined acks=1 requests: responses keep correlation order', async () => {
    const t = uniqueTopic('pr-acks0-pipe');
    await createTopic(c, t, 1);
    const conn = await target.connect();
    try {
      const first = conn.requestFull(K.Produce, 9, produceRequest([{ topic: t, partition: 0, records: batch(['a']) }], 1));
      const silentId = await conn.send(K.Produce, 9, produceRequest([{ topic: t, partition: 0, records: batch(['b']) }], 0));
      const third = conn.requestFull(K.Produce, 9, produceRequest([{ topic: t, partition: 0, records: batch(['c']) }], -1));
      const [r1, r3] = await Promise.all([first, third]);
      assert.equal(r1.correlationId, silentId - 1);
      assert.equal(r3.correlationId, silentId + 1);
      assert.equal(r1.body.responses[0].partitionResponses[0].baseOffset, 0n);
      assert.equal(r3.body.responses[0].partitionResponses[0].baseOffset, 2n);
    } finally {
      await conn.close();
    }
  });

  test('acks=0 to an unknown topic closes the connection (how Kafka reports acks=0 failures)', async () => {
    const conn = await target.connect();
    await conn.send(K.Produce, 9, produceRequest([{ topic: uniqueTopic('pr-nope'), partition: 0, records: batch(['x']) }], 0));
    assert.equal(await conn.waitClosed(10_000), true);
  });

  test('acks=2 → INVALID_REQUIRED_ACKS for every partition; nothing appended', async () => {
    const before0 = await leo(topic, 0);
    const res = await c.request(
      K.Produce,
      9,
      produceRequest(
        [
          { topic, partition: 0, records: batch(['x']) },
          { topic, partition: 1, records: batch(['y']) },
        ],
        2,
      ),
    );
    const parts = res.responses.flatMap((t: Any) => t.partitionResponses);
    assert.equal(parts.length, 2);
    for (const p of parts) {
      assert.equal(p.errorCode, E.INVALID_REQUIRED_ACKS);
      assert.equal(p.baseOffset, -1n);
    }
    assert.equal(await leo(topic, 0), before0);
  });

  test('an unknown topic or partition → UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const unknownTopic = await produce(c, uniqueTopic('pr-nope'), 0, batch(['x']));
    assert.equal(unknownTopic.errorCode, E.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(unknownTopic.baseOffset, -1n);
    const unknownPartition = await produce(c, topic, 7, batch(['x']));
    assert.equal(unknownPartition.errorCode, E.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(unknownPartition.index, 7);
    const negative = await produce(c, topic, -1, batch(['x']));
    assert.equal(negative.errorCode, E.UNKNOWN_TOPIC_OR_PARTITION);
  });

  test('a corrupt CRC → CORRUPT_MESSAGE; nothing appended', async () => {
    const before0 = await leo(topic, 0);
    const bad = batch(['x', 'y']);
    bad[bad.length - 1] ^= 0xff;
    const r = await produce(c, topic, 0, bad);
    assert.equal(r.errorCode, E.CORRUPT_MESSAGE);
    assert.equal(r.baseOffset, -1n);
    const junk = await produce(c, topic, 0, Buffer.alloc(30, 7));
    assert.equal(junk.errorCode, E.CORRUPT_MESSAGE, 'bytes that are no batch at all');
    assert.equal(await leo(topic, 0), before0);
  });

  test('a batch larger than the topic max.message.bytes → MESSAGE_TOO_LARGE', async () => {
    const t = uniqueTopic('pr-big');
    await createTopic(c, t, 1, { 'max.message.bytes': '1000' });
    const r = await produce(c, t, 0, batch(['x'.repeat(2000)]));
    assert.equal(r.errorCode, E.MESSAGE_TOO_LARGE);
    assert.equal(r.baseOffset, -1n);
    assert.equal(await leo(t, 0), 0n);
    const small = await produce(c, t, 0, batch(['x'.repeat(500)]));
    assert.equal(small.errorCode, E.NONE, 'a batch under the limit is fine');
  });

  test('lastOffsetDelta inconsistent with the record count → INVALID_RECORD', async () => {
    const before0 = await leo(topic, 0);
    for (const delta of [5, 1]) {
      const b = batch(['a', 'b', 'c']);
      b.writeInt32BE(delta, 23);
      const r = await produce(c, topic, 0, fixCrc(b));
      assert.equal(r.errorCode, E.INVALID_RECORD, `lastOffsetDelta ${delta}`);
    }
    assert.equal(await leo(topic, 0), before0);
  });

  test('a control batch from a producer → INVALID_RECORD', async () => {
    const r = await produce(c, topic, 0, batch(['a'], { attributes: 0x20 }));
    assert.equal(r.errorCode, E.INVALID_RECORD);
  });

  test('a CreateTime timestamp more than message.timestamp.after.max.ms ahead → INVALID_TIMESTAMP', async () => {
    const r = await produce(c, topic, 0, batch(['future'], { baseTimestamp: Date.now() + 2 * 3600_000 }));
    assert.equal(r.errorCode, INVALID_TIMESTAMP);
    const old = await produce(c, topic, 0, batch(['old'], { baseTimestamp: 1000 }));
    assert.equal(old.errorCode, E.NONE, 'old timestamps are fine by default');
  });

  // Kafka 4.3.1 (v3+): "must contain exactly one record batch" → INVALID_RECORD.
  test('two batches in one partition record set → INVALID_RECORD, as Kafka', async () => {
    const t = uniqueTopic('pr-two');
    await createTopic(c, t, 1);
    const r = await produce(c, t, 0, Buffer.concat([batch(['a', 'b']), batch(['c'])]));
    assert.equal(r.errorCode, E.INVALID_RECORD);
    assert.equal(await leo(t, 0), 0n);
  });

  // Kafka 4.3.1: a batch with magic 0 or 1 in a v3+ request → INVALID_RECORD.
  test('a batch with magic 1 → INVALID_RECORD, as Kafka', async () => {
    const b = batch(['a']);
    b.writeInt8(1, 16);
    const r = await produce(c, topic, 0, b);
    assert.equal(r.errorCode, E.INVALID_RECORD);
  });

  test('LogAppendTime topic: logAppendTimeMs is set and the fetched batch carries it', async () => {
    const t = uniqueTopic('pr-lat');
    await createTopic(c, t, 1, { 'message.timestamp.type': 'LogAppendTime' });
    const createTime = 1000;
    const r = await produce(c, t, 0, batch(['a', 'b'], { baseTimestamp: createTime }));
    assert.equal(r.errorCode, E.NONE);
    assert.ok(r.logAppendTimeMs > 0n);
    assert.notEqual(r.logAppendTimeMs, BigInt(createTime));
    const f = await fetchPartition(c, t, 0, 0);
    const records: Buffer = f.records;
    assert.ok((records.readInt16BE(21) & 0x08) !== 0, 'timestamp type bit (LogAppendTime) set');
    assert.equal(records.readBigInt64BE(35), r.logAppendTimeMs, 'maxTimestamp is the append time');
    assert.equal(records.readUInt32BE(17), crc32c(records.subarray(21, 12 + records.readInt32BE(8))) >>> 0, 'CRC was recomputed');
    for (const rec of decodeRecords(records)) assert.equal(BigInt(rec.timestamp), r.logAppendTimeMs);
  });

  test('several partitions and topics in one request, each with its own result', async () => {
    const other = uniqueTopic('pr-multi');
    await createTopic(c, other, 1);
    const missing = uniqueTopic('pr-multi-missing');
    const base0 = await leo(topic, 0);
    const base1 = await leo(topic, 1);
    const res = await c.request(
      K.Produce,
      9,
      produceRequest([
        { topic, partition: 0, records: batch(['p0']) },
        { topic, partition: 1, records: batch(['p1a', 'p1b']) },
        { topic: other, partition: 0, records: batch(['o0']) },
        { topic: missing, partition: 0, records: batch(['m']) },
        { topic, partition: 2, records: batch(['x'], { attributes: 0x20 }) },
      ]),
    );
    const find = (name: string, index: number) =>
      res.responses.find((t: Any) => t.name === name).partitionResponses.find((p: Any) => p.index === index);
    assert.equal(find(topic, 0).errorCode, E.NONE);
    assert.equal(find(topic, 0).baseOffset, base0);
    assert.equal(find(topic, 1).errorCode, E.NONE);
    assert.equal(find(topic, 1).baseOffset, base1);
    assert.equal(find(other, 0).errorCode, E.NONE);
    assert.equal(find(other, 0).baseOffset, 0n);
    assert.equal(find(missing, 0).errorCode, E.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(find(topic, 2).errorCode, E.INVALID_RECORD, 'one bad partition does not fail the others');
    assert.deepEqual(valuesOf((await fetchPartition(c, topic, 1, base1)).records), ['p1a', 'p1b']);
    assert.deepEqual(valuesOf((await fetchPartition(c, other, 0, 0)).records), ['o0']);
  });

  test('pipelined produce requests are answered in order with consecutive offsets', async () => {
    const t = uniqueTopic('pr-pipe');
    await createTopic(c, t, 1);
    const n = 30;
    const pending = [];
    for (let i = 0; i < n; i++) {
      pending.push(c.requestFull(K.Produce, 9, produceRequest([{ topic: t, partition: 0, records: batch([`m${i}`]) }], i % 2 ? 1 : -1)));
    }
    const results = await Promise.all(pending);
    for (let i = 1; i < n; i++) assert.equal(results[i]!.correlationId, results[i - 1]!.correlationId + 1);
    assert.deepEqual(
      results.map((r) => r.body.responses[0].partitionResponses[0].baseOffset),
      [...Array(n).keys()].map((i) => BigInt(i)),
    );
    const f = await fetchPartition(c, t, 0, 0);
    assert.deepEqual(valuesOf(f.records), [...Array(n).keys()].map((i) => `m${i}`));
  });

  test('a record set with keys, headers and null values round-trips', async () => {
    const t = uniqueTopic('pr-rich');
    await createTopic(c, t, 1);
    const ts = Date.now() - 5000;
    await produceOk(
      c,
      t,
      0,
      batch(
        [
          { key: Buffer.from('k1'), value: Buffer.from('v1'), headers: [{ key: 'h', value: Buffer.from('hv') }], timestamp: ts },
          { key: null, value: null, timestamp: ts + 7 },
          { key: Buffer.alloc(0), value: Buffer.alloc(3, 1), headers: [{ key: 'n', value: null }], timestamp: ts + 3 },
        ],
        { baseTimestamp: ts },
      ),
    );
    const got = decodeRecords((await fetchPartition(c, t, 0, 0)).records);
    assert.equal(got.length, 3);
    assert.deepEqual(got.map((r) => r.offset), [0, 1, 2]);
    assert.deepEqual(got.map((r) => r.timestamp), [ts, ts + 7, ts + 3]);
    assert.equal(got[0]!.key!.toString(), 'k1');
    assert.deepEqual(got[0]!.headers.map((h) => [h.key, h.value?.toString()]), [['h', 'hv']]);
    assert.equal(got[1]!.key, null);
    assert.equal(got[1]!.value, null);
    assert.equal(got[2]!.key!.length, 0);
    assert.equal(got[2]!.headers[0]!.value, null);
  });
});
