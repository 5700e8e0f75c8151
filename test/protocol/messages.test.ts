/**
 * Hand-written byte vectors for the generated codecs (independent of the
 * generator's own version logic), the API table and the header version rules.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiVersionsResponse } from '../../src/protocol/messages/api-versions-response.generated.ts';
import { DescribeTopicPartitionsRequest } from '../../src/protocol/messages/describe-topic-partitions-request.generated.ts';
import { FetchRequest } from '../../src/protocol/messages/fetch-request.generated.ts';
import { FetchResponse, defaultPartitionData } from '../../src/protocol/messages/fetch-response.generated.ts';
import {
  API_KEYS, apiMessages, requestHeaderVersion, responseHeaderVersion, MetadataResponse, ProduceRequest, RequestHeader,
  ResponseHeader,
} from '../../src/protocol/messages/index.generated.ts';
import { ProtocolError } from '../../src/protocol/primitives/errors.ts';
import { Reader } from '../../src/protocol/primitives/reader.ts';
import { Writer } from '../../src/protocol/primitives/writer.ts';
import { ZERO_UUID } from '../../src/protocol/primitives/uuid.ts';

const hex = (s: string) => s.replace(/[\s|]+/g, '');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function enc(codec: { encode(w: Writer, m: any, v: number): void }, msg: unknown, v: number): string {
  const w = new Writer();
  codec.encode(w, msg, v);
  return w.toBuffer().toString('hex');
}
function dec<T>(codec: { decode(r: Reader, v: number): T }, h: string, v: number): T {
  const r = new Reader(Buffer.from(hex(h), 'hex'));
  const m = codec.decode(r, v);
  assert.equal(r.remaining, 0);
  return m;
}

describe('API table', () => {
  test('API_KEYS and apiMessages agree', () => {
    assert.equal(API_KEYS.Produce, 0);
    assert.equal(API_KEYS.Fetch, 1);
    assert.equal(API_KEYS.Metadata, 3);
    assert.equal(API_KEYS.ApiVersions, 18);
    assert.equal(API_KEYS.CreateTopics, 19);
    for (const [name, key] of Object.entries(API_KEYS)) {
      const m = apiMessages[key]!;
      assert.equal(m.name, name);
      assert.equal(m.apiKey, key);
      assert.equal(m.request.apiKey, key);
      assert.equal(m.response.apiKey, key);
      assert.equal(m.request.name, name);
      assert.equal(m.minVersion, m.request.minVersion);
      assert.equal(m.maxVersion, m.response.maxVersion);
    }
    assert.equal(apiMessages[0]!.flexibleMinVersion, 9);
    assert.equal(apiMessages[17]!.flexibleMinVersion, null, 'SaslHandshake is never flexible');
    assert.equal(apiMessages[0]!.request, ProduceRequest);
  });

  test('header version rules', () => {
    assert.equal(requestHeaderVersion(0, 8), 1);
    assert.equal(requestHeaderVersion(0, 9), 2);
    assert.equal(responseHeaderVersion(0, 8), 0);
    assert.equal(responseHeaderVersion(0, 9), 1);
    assert.equal(requestHeaderVersion(7, 0), 0, 'ControlledShutdown v0 uses request header v0');
    assert.equal(requestHeaderVersion(7, 1), 1);
    assert.equal(requestHeaderVersion(7, 3), 2);
    assert.equal(requestHeaderVersion(18, 2), 1);
    assert.equal(requestHeaderVersion(18, 3), 2);
    assert.equal(requestHeaderVersion(18, 99), 2, 'future ApiVersions requests are flexible too');
    for (const v of [0, 1, 2, 3, 4, 99]) assert.equal(responseHeaderVersion(18, v), 0, 'ApiVersions responses always use header v0');
    assert.equal(requestHeaderVersion(17, 1), 1, 'SaslHandshake is never flexible');
    assert.throws(() => requestHeaderVersion(9999, 0), ProtocolError);
    assert.throws(() => responseHeaderVersion(-1, 0), ProtocolError);
  });
});

describe('headers', () => {
  test('request header v2 keeps the non-compact client id (field-level flexibleVersions "none")', () => {
    const h = { requestApiKey: 18, requestApiVersion: 3, correlationId: 7, clientId: 'ab' };
    assert.equal(enc(RequestHeader, h, 2), hex('0012 0003 00000007 0002 6162 00'));
    assert.equal(enc(RequestHeader, h, 1), hex('0012 0003 00000007 0002 6162'));
    assert.equal(enc(RequestHeader, { ...h, clientId: null }, 1), hex('0012 0003 00000007 ffff'));
    assert.equal(enc(RequestHeader, h, 0), hex('0012 0003 00000007'));
    assert.deepEqual(dec(RequestHeader, '0012 0003 00000007', 0), { ...h, clientId: '' });
    // Unknown header tags are skipped.
    assert.deepEqual(dec(RequestHeader, '0012 0003 00000007 0002 6162 01 05 02 aabb', 2), h);
  });

  test('response header', () => {
    assert.equal(enc(ResponseHeader, { correlationId: 258 }, 0), '00000102');
    assert.equal(enc(ResponseHeader, { correlationId: 258 }, 1), '0000010200');
  });
});

describe('tagged fields', () => {
  const fetchV12 = {
    ...FetchRequest.default(),
    clusterId: 'c1', replicaId: -1, maxWaitMs: 500, minBytes: 1, maxBytes: 1024, sessionEpoch: -1,
  };
  const fetchV12Body = hex('ffffffff 000001f4 00000001 00000400 00 00000000 ffffffff 01 01 01');

  test('a set tagged field is written as count, tag, size, value', () => {
    assert.equal(enc(FetchRequest, fetchV12, 12), fetchV12Body + hex('01 00 03 036331'));
    assert.deepEqual(dec(FetchRequest, fetchV12Body + '01 00 03 036331', 12), fetchV12);
  });

  test('a tagged field at its default is not written (Kafka rule)', () => {
    assert.equal(enc(FetchRequest, { ...fetchV12, clusterId: null }, 12), fetchV12Body + '00');
  });

  test('unknown tags are skipped; known tags are bounded by their size', () => {
    const withUnknown = fetchV12Body + hex('02 00 03 036331 07 02 aabb');
    assert.deepEqual(dec(FetchRequest, withUnknown, 12), fetchV12);
    // Size larger than the value: the rest of the field is skipped.
    assert.deepEqual(dec(FetchRequest, fetchV12Body + hex('01 00 05 036331 eeee'), 12), fetchV12);
    // Size smaller than the value: the value cannot be read from its field.
    assert.throws(() => dec(FetchRequest, fetchV12Body + hex('01 00 02 036331'), 12), ProtocolError);
  });

  test('tagged struct fields in a nested struct (FetchResponse v12 CurrentLeader)', () => {
    const partition = {
      ...defaultPartitionData(),
      highWatermark: 5n, lastStableOffset: 5n, logStartOffset: 0n, abortedTransactions: null,
      currentLeader: { leaderId: 3, leaderEpoch: 5 },
    };
    const msg = { ...FetchResponse.default(), responses: [{ topic: 't', topicId: ZERO_UUID, partitions: [partition] }] };
    const expected = hex(`
      00000000 0000 00000000 | 02 | 0274 | 02 |
      00000000 0000 0000000000000005 0000000000000005 0000000000000000 | 00 | ffffffff | 00 |
      01 01 09 00000003 00000005 00 | 00 | 00`);
    assert.equal(enc(FetchResponse, msg, 12), expected);
    assert.deepEqual(dec(FetchResponse, expected, 12), msg);
    // At its default the struct is omitted.
    const plain = { ...msg, responses: [{ ...msg.responses[0]!, partitions: [{ ...partition, currentLeader: { leaderId: -1, leaderEpoch: -1 } }] }] };
    assert.ok(enc(FetchResponse, plain, 12).endsWith(hex('ffffffff 00 00 00 00')));
  });

  test('ApiVersionsResponse v3 tagged top-level fields', () => {
    const base = { ...ApiVersionsResponse.default(), apiKeys: [{ apiKey: 0, minVersion: 0, maxVersion: 11 }] };
    const body = hex('0000 02 0000 0000 000b 00 00000000');
    assert.equal(enc(ApiVersionsResponse, base, 3), body + '00');
    assert.equal(enc(ApiVersionsResponse, { ...base, finalizedFeaturesEpoch: 0n }, 3), body + hex('01 01 08 0000000000000000'));
    assert.equal(enc(ApiVersionsResponse, { ...base, zkMigrationReady: true }, 3), body + hex('01 03 01 01'));
    assert.equal(enc(ApiVersionsResponse, base, 0), hex('0000 00000001 0000 0000 000b'));
  });
});

describe('struct and version semantics', () => {
  test('nullable struct fields use an int8 marker', () => {
    const base = DescribeTopicPartitionsRequest.default();
    assert.equal(base.responsePartitionLimit, 2000, 'JSON default');
    assert.equal(base.cursor, null);
    assert.equal(enc(DescribeTopicPartitionsRequest, base, 0), hex('01 000007d0 ff 00'));
    const withCursor = { ...base, cursor: { topicName: 't', partitionIndex: 2 } };
    assert.equal(enc(DescribeTopicPartitionsRequest, withCursor, 0), hex('01 000007d0 01 0274 00000002 00 00'));
    assert.deepEqual(dec(DescribeTopicPartitionsRequest, '01 000007d0 01 0274 00000002 00 00', 0), withCursor);
  });

  test('defaults from the JSON (hex, negative, null)', () => {
    const f = FetchRequest.default();
    assert.equal(f.maxBytes, 0x7fffffff);
    assert.equal(f.replicaId, -1);
    assert.equal(f.clusterId, null);
    assert.equal(f.isolationLevel, 0);
    assert.deepEqual(f.replicaState, { replicaId: -1, replicaEpoch: -1n });
  });

  test('fields absent in a version are skipped on encode and defaulted on decode', () => {
    const msg = { transactionalId: 'tx', acks: -1, timeoutMs: 1000, topicData: [] };
    const v2 = enc(ProduceRequest, msg, 2);
    assert.equal(v2, hex('ffff 000003e8 00000000'));
    assert.deepEqual(dec(ProduceRequest, v2, 2), { ...msg, transactionalId: null });
    assert.equal(enc(ProduceRequest, msg, 3), hex('0002 7478 ffff 000003e8 00000000'));
    assert.equal(enc(ProduceRequest, msg, 9), hex('03 7478 ffff 000003e8 01 00'));
  });

  test('records stay a zero-copy view of the frame, large ones are written by reference', () => {
    const records = Buffer.alloc(4096, 0xab);
    const msg = { transactionalId: null, acks: 1, timeoutMs: 1, topicData: [{ name: 't', partitionData: [{ index: 0, records }] }] };
    const w = new Writer();
    ProduceRequest.encode(w, msg, 9);
    assert.ok(w.toBuffers().includes(records), 'encode references the records buffer');
    const frame = w.toBuffer();
    const decoded = ProduceRequest.decode(new Reader(frame), 9);
    const out = decoded.topicData[0]!.partitionData[0]!.records!;
    assert.equal(out.buffer, frame.buffer);
    assert.ok(out.equals(records));
  });

  test('null in a non-nullable field is a TypeError naming the field', () => {
    // MetadataResponse topic names are nullable only from v12 on.
    const topic = { errorCode: 0, name: null, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: 0 };
    const msg = { ...MetadataResponse.default(), topics: [topic] };
    assert.throws(() => enc(MetadataResponse, msg, 11), /MetadataResponseTopic\.name is null, but it is not nullable in version 11/);
    assert.ok(enc(MetadataResponse, msg, 12).length > 0);
    assert.throws(() => enc(ProduceRequest, { ...ProduceRequest.default(), topicData: null }, 3), TypeError);
  });

  test('unsupported versions', () => {
    assert.throws(() => enc(ProduceRequest, ProduceRequest.default(), 12), RangeError);
    assert.throws(() => enc(ProduceRequest, ProduceRequest.default(), -1), RangeError);
    assert.throws(() => enc(ProduceRequest, ProduceRequest.default(), 1.5), RangeError);
    assert.throws(() => ProduceRequest.decode(new Reader(Buffer.alloc(16)), 12), ProtocolError);
  });
});
