/**
 * Produce rules that depend on topic configs: compression.type (the broker recompresses a
 * batch whose codec differs from the topic's, keeping the records) and cleanup.policy=compact
 * (records without a key are refused with INVALID_RECORD). Fetches the data back and checks
 * the codec bits of the stored batches and the records. Checked against Apache Kafka 4.3.1
 * (BOOTSTRAP_SERVERS=127.0.0.1:PORT).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createTopic,
  E,
  fetchPartition,
  produce,
  produceOk,
  startTarget,
  uniqueTopic,
  type RawClient,
  type Target,
} from './helpers.ts';
import { Compression } from '../../src/protocol/record-batch.ts';
import { buildRecordBatch, decodeRecords, type RecordInput } from '../../src/protocol/records.ts';

const TOPIC_CODECS = { uncompressed: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
const PRODUCER_CODECS = Object.entries(Compression);

/** Codec of every batch in a fetched record set. */
function codecsOf(records: Buffer | null): number[] {
  const out: number[] = [];
  if (!records) return out;
  for (let pos = 0; pos + 61 <= records.length; pos += 12 + records.readInt32BE(pos + 8)) {
    out.push(records.readInt16BE(pos + 21) & 7);
  }
  return out;
}

const BASE_TS = Date.now();
function recordsFor(tag: string): RecordInput[] {
  return [
    { key: Buffer.from(`${tag}-k0`), value: Buffer.from(`${tag}-value-0 `.repeat(20)), timestamp: BASE_TS },
    { key: Buffer.from(`${tag}-k1`), value: null, headers: [{ key: 'h', value: Buffer.from('hv') }], timestamp: BASE_TS + 3 },
    { key: Buffer.from(`${tag}-k2`), value: Buffer.from('v2'), headers: [{ key: 'n', value: null }], timestamp: BASE_TS + 1 },
  ];
}

/** What a fetched record carries, offsets made relative to the produce's base offset. */
function plain(records: Buffer | null, base: number) {
  return decodeRecords(records ?? Buffer.alloc(0)).map((r) => ({
    offset: r.offset - base,
    timestamp: r.timestamp,
    key: r.key?.toString() ?? null,
    value: r.value?.toString() ?? null,
    headers: r.headers.map((h) => [h.key, h.value?.toString() ?? null]),
  }));
}

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

describe('topic compression.type', () => {
  for (const [topicCodec, expected] of Object.entries(TOPIC_CODECS)) {
    test(`compression.type=${topicCodec}: batches in every codec are stored as ${topicCodec}, records unchanged`, async () => {
      const topic = uniqueTopic(`tc-${topicCodec}`);
      await createTopic(c, topic, 1, { 'compression.type': topicCodec });
      for (const [name, codec] of PRODUCER_CODECS) {
        const records = recordsFor(name);
        const base = await produceOk(c, topic, 0, buildRecordBatch({ compression: codec, baseTimestamp: BASE_TS, records }));
        const fetched = await fetchPartition(c, topic, 0, base);
        assert.equal(fetched.errorCode, E.NONE);
        assert.deepEqual(codecsOf(fetched.records).slice(0, 1), [expected], `${name} batch stored as ${topicCodec}`);
        const got = plain(fetched.records, base).slice(0, 3);
        assert.deepEqual(got, plain(buildRecordBatch({ baseTimestamp: BASE_TS, records }), 0), `${name} records`);
      }
    });
  }

  test('compression.type=producer (the default) keeps each producer codec', async () => {
    const topic = uniqueTopic('tc-producer');
    await createTopic(c, topic, 1);
    for (const [name, codec] of PRODUCER_CODECS) {
      const base = await produceOk(c, topic, 0, buildRecordBatch({ compression: codec, baseTimestamp: BASE_TS, records: recordsFor(name) }));
      const fetched = await fetchPartition(c, topic, 0, base);
      assert.deepEqual(codecsOf(fetched.records).slice(0, 1), [codec], name);
    }
  });
});

describe('compacted topics refuse records without a key', () => {
  for (const policy of ['compact', 'compact,delete']) {
    for (const [name, codec] of [['uncompressed', Compression.NONE], ['zstd', Compression.ZSTD]] as const) {
      test(`cleanup.policy=${policy}, ${name}: null keys → INVALID_RECORD with one record error each; nothing is appended`, async () => {
        const topic = uniqueTopic('cmp');
        await createTopic(c, topic, 1, { 'cleanup.policy': policy });
        const records: RecordInput[] = [
          { key: Buffer.from('a'), value: Buffer.from('1') },
          { key: null, value: Buffer.from('2') },
          { key: null, value: Buffer.from('3') },
        ];
        const p = await produce(c, topic, 0, buildRecordBatch({ compression: codec, records }));
        assert.equal(p.errorCode, E.INVALID_RECORD);
        assert.equal(p.baseOffset, -1n);
        const message = `Compacted topic cannot accept message without key in topic partition ${topic}-0`;
        assert.deepEqual(p.recordErrors, [
          { batchIndex: 1, batchIndexErrorMessage: message },
          { batchIndex: 2, batchIndexErrorMessage: message },
        ]);
        assert.equal(
          p.errorMessage,
          'One or more records have been rejected due to 2 record errors in total, and only showing the first three errors at most: ' +
            `[RecordError(batchIndex=1, message='${message}'), RecordError(batchIndex=2, message='${message}')]`,
        );
        assert.equal(p.logStartOffset, 0n);

        // Keys present (an empty key counts as a key) → accepted at offset 0: the refused batch took no offsets.
        const ok = buildRecordBatch({ compression: codec, records: [{ key: Buffer.from('a'), value: Buffer.from('1') }, { key: Buffer.alloc(0), value: null }] });
        assert.equal(await produceOk(c, topic, 0, ok), 0);
      });
    }
  }

  test('more than three keyless records: every one in recordErrors, the first three in the message', async () => {
    const topic = uniqueTopic('cmp-many');
    await createTopic(c, topic, 1, { 'cleanup.policy': 'compact' });
    const p = await produce(c, topic, 0, buildRecordBatch({ records: [0, 1, 2, 3, 4].map(() => ({ key: null, value: Buffer.from('x') })) }));
    assert.equal(p.errorCode, E.INVALID_RECORD);
    assert.deepEqual(p.recordErrors.map((e: { batchIndex: number }) => e.batchIndex), [0, 1, 2, 3, 4]);
    assert.match(p.errorMessage, /^One or more records have been rejected due to 5 record errors in total/);
    assert.equal(p.errorMessage.match(/RecordError\(/g).length, 3);
  });

  test('cleanup.policy=delete accepts records without a key', async () => {
    const topic = uniqueTopic('cmp-del');
    await createTopic(c, topic, 1, { 'cleanup.policy': 'delete' });
    assert.equal(await produceOk(c, topic, 0, buildRecordBatch({ records: [{ key: null, value: Buffer.from('x') }] })), 0);
  });
});
