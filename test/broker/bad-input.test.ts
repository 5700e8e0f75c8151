/**
 * Bad input at the wire: malformed frames must close the connection (as Apache Kafka does) or
 * be answered, never hang, crash the broker or touch stored data. The broker runs with
 * socket.request.max.bytes=2048 so the size limit is cheap to hit. The tests run in order and
 * the last one checks, with a fresh connection, that the broker still answers correctly and
 * that the records produced before all of this are intact.
 *
 * Checked against Apache Kafka 4.3.1 (BOOTSTRAP_SERVERS=127.0.0.1:19092; its limit is the
 * default 100 MiB, so the oversize frame is sized above that).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  batch,
  createTopic,
  E,
  externalBootstrap,
  fetchPartition,
  fetchRequest,
  K,
  metadata,
  produceOk,
  produceRequest,
  startTarget,
  tributaryOnly,
  uniqueTopic,
  valuesOf,
  ZERO_UUID,
  type RawClient,
  type Target,
} from './helpers.ts';
import { encodeRequest, sizePrefixed } from '../testkit/raw-client.ts';
import {
  ApiVersionsRequest,
  DescribeConfigsRequest,
  FetchRequest,
  ListOffsetsRequest,
  MetadataRequest,
  OffsetForLeaderEpochRequest,
  requestHeaderVersion,
} from '../../src/protocol/messages/index.generated.ts';
import { RequestHeader } from '../../src/protocol/messages/request-header.generated.ts';
import { Reader } from '../../src/protocol/primitives/index.ts';

const MAX_FRAME = 2048;
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 300);
const SEED = process.env['FC_SEED'] === undefined ? undefined : Number(process.env['FC_SEED']);
const PROBE_ID = 0x7eadbeef;
/** An ApiVersions v0 request with correlation id PROBE_ID, size-prefixed. */
const PROBE = sizePrefixed(encodeRequest(K.ApiVersions, 0, PROBE_ID, ApiVersionsRequest.default()));

/** Safety timeout of `outcome` for one fuzzed frame. */
const OUTCOME_TIMEOUT_MS = 15_000;

/**
 * Whether `frame` is a well-formed Fetch that may legitimately stay parked past the outcome
 * timeout: a long poll (max_wait) longer than that timeout. Mutation finds these (e.g. a
 * max_wait of 4.6 hours with min_bytes of 16 MB); Kafka parks them too, so the probe behind
 * them is not answered in time, and that is not a bad-input failure.
 */
function isLongPoll(frame: Buffer): boolean {
  try {
    const r = new Reader(frame);
    const apiKey = frame.readInt16BE(0);
    const version = frame.readInt16BE(2);
    if (apiKey !== K.Fetch || version < 4 || version > 17) return false;
    RequestHeader.decode(r, requestHeaderVersion(apiKey, version));
    return FetchRequest.decode(r, version).maxWaitMs >= OUTCOME_TIMEOUT_MS;
  } catch {
    return false;
  }
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

describe('bad input', () => {
  let target: Target;
  let topic: string;
  let fuzzTopic: string;
  const before0 = ['keep-1', 'keep-2', 'keep-3'];

  /**
   * Sends `bytes`, then the probe, on a new connection. 'closed' if the server closes the
   * connection before answering the probe, 'answered' if the probe is answered (after any
   * answer to `bytes`), 'hung' if neither happens within the safety timeout.
   */
  async function outcome(bytes: Buffer, timeoutMs = OUTCOME_TIMEOUT_MS): Promise<'closed' | 'answered' | 'hung'> {
    const c = await target.connect();
    try {
      await c.sendRaw(Buffer.concat([bytes, PROBE]));
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const frame = await c.nextFrame(Math.max(1, deadline - Date.now()));
        if (frame === null) return c.closed ? 'closed' : (await c.waitClosed(10)) ? 'closed' : 'hung';
        if (frame.length >= 4 && frame.readInt32BE(0) === PROBE_ID) return 'answered';
      }
    } finally {
      c.destroy();
    }
  }

  /** Sends `bytes` on a new connection and asserts the server closes it. */
  async function assertClosed(bytes: Buffer, what: string): Promise<void> {
    const c = await target.connect();
    try {
      await c.sendRaw(bytes);
      assert.equal(await c.waitClosed(10_000), true, `${what}: connection closed`);
      assert.equal(await c.nextFrame(1), null, `${what}: no response`);
    } finally {
      c.destroy();
    }
  }

  before(async () => {
    target = await startTarget({ config: { 'socket.request.max.bytes': String(MAX_FRAME) } });
    const c = await target.connect();
    topic = uniqueTopic('bad-keep');
    fuzzTopic = uniqueTopic('bad-fuzz');
    await createTopic(c, topic, 1);
    await createTopic(c, fuzzTopic, 1);
    await produceOk(c, topic, 0, batch(before0));
    await produceOk(c, fuzzTopic, 0, batch(['f']));
    await c.close();
  });
  after(async () => {
    await target?.close();
  });

  test('a negative frame length → connection closed', async () => {
    await assertClosed(int32(-1), 'size -1');
    await assertClosed(int32(-2147483648), 'size MIN_INT32');
  });

  test('a frame length over socket.request.max.bytes → closed before the body is sent', async () => {
    // Only the 4-byte size goes out: a server that waited for (or allocated) the body would
    // keep the connection open.
    const size = externalBootstrap() ? 200 * 1024 * 1024 : 1_000_000;
    await assertClosed(int32(size), `size ${size}`);
    await assertClosed(int32(0x7fffffff), 'size MAX_INT32');
  });

  test('a frame of exactly socket.request.max.bytes is read; one byte more is refused', tributaryOnly, async () => {
    // A Produce request padded to the limit with a record value.
    const make = (total: number) => {
      const probe = (n: number) =>
        encodeRequest(K.Produce, 9, 1, produceRequest([{ topic: fuzzTopic, partition: 0, records: batch([{ value: Buffer.alloc(n, 0x61) }]) }], 1));
      const overhead = probe(0).length;
      let n = total - overhead;
      let frame = probe(n);
      while (frame.length > total) frame = probe(--n);
      while (frame.length < total) frame = probe(++n);
      return frame;
    };
    const atLimit = make(MAX_FRAME);
    assert.equal(atLimit.length, MAX_FRAME);
    const c = await target.connect();
    try {
      const res = await c.requestRawFrame(atLimit);
      assert.equal(res.readInt32BE(0), 1, 'answered');
    } finally {
      await c.close();
    }
    const overLimit = make(MAX_FRAME + 1);
    assert.equal(overLimit.length, MAX_FRAME + 1);
    await assertClosed(sizePrefixed(overLimit), 'one byte over');
  });

  test('a truncated frame followed by the client closing (or resetting) does no harm', async () => {
    for (const end of ['close', 'destroy'] as const) {
      const c = await target.connect();
      await c.sendRaw(Buffer.concat([int32(100), Buffer.from([0, 3, 0, 1, 0, 0])]));
      if (end === 'close') await c.close();
      else c.destroy();
    }
    const c = await target.connect();
    await c.sendRaw(int32(50)); // only the size
    await c.close();
    assert.equal(await outcome(Buffer.alloc(0)), 'answered');
  });

  test('frames too short for a request header → closed', async () => {
    await assertClosed(int32(0), 'empty frame');
    await assertClosed(Buffer.concat([int32(3), Buffer.from([0, 3, 0])]), '3-byte frame');
    await assertClosed(Buffer.concat([int32(7), Buffer.from([0, 3, 0, 1, 0, 0, 0])]), '7-byte frame');
  });

  test('an unknown API key → closed', async () => {
    for (const key of [999, 0x7fff, -1, 10_000]) {
      await assertClosed(sizePrefixed(encodeRequest(key, 0, 1, Buffer.alloc(0))), `api key ${key}`);
    }
  });

  test('a known API at a version it does not serve → closed', async () => {
    for (const [key, version] of [
      [K.Metadata, 50],
      [K.Produce, 0],
      [K.Produce, 2],
      [K.Fetch, 3],
      [K.Fetch, 99],
      [K.CreateTopics, 1],
      [K.DescribeCluster, 7],
      [K.Metadata, -1],
    ] as const) {
      await assertClosed(sizePrefixed(encodeRequest(key, version, 1, Buffer.alloc(16), 'c', 1)), `api ${key} v${version}`);
    }
  });

  test('a header whose client id runs past the frame → closed', async () => {
    const header = Buffer.concat([Buffer.from([0, 3, 0, 1]), int32(1), Buffer.from([0x7f, 0xff]), Buffer.from('abc')]);
    await assertClosed(sizePrefixed(header), 'client id length 32767');
  });

  test('Metadata whose topic array claims 1,000,000 entries but holds 3 bytes → closed', async () => {
    // v1: int32 array length; v12: compact (unsigned varint length + 1).
    await assertClosed(sizePrefixed(encodeRequest(K.Metadata, 1, 1, Buffer.concat([int32(1_000_000), Buffer.from([0, 1, 0x61])]))), 'v1');
    const varint = Buffer.from([0xc1, 0x84, 0x3d]); // 1_000_001
    await assertClosed(sizePrefixed(encodeRequest(K.Metadata, 12, 1, Buffer.concat([varint, Buffer.from([0, 2, 0x61])]))), 'v12');
    await assertClosed(sizePrefixed(encodeRequest(K.Metadata, 1, 1, int32(0x7fffffff))), 'v1 MAX_INT32 entries');
  });

  test('bytes after a complete request body are tolerated (answered), as Kafka', async () => {
    const body = encodeRequest(K.Metadata, 1, 5, { ...MetadataRequest.default(), topics: [] });
    assert.equal(await outcome(sizePrefixed(Buffer.concat([body, Buffer.from([1, 2, 3])]))), 'answered');
  });

  test('a request split into 1-byte writes, and several requests in one write, are answered', async () => {
    const c = await target.connect();
    try {
      const frame = sizePrefixed(encodeRequest(K.ApiVersions, 3, 42, { clientSoftwareName: 'slow', clientSoftwareVersion: '1' }));
      for (const byte of frame) {
        await c.sendRaw(Buffer.from([byte]));
        await new Promise((r) => setImmediate(r));
      }
      const first = await c.nextFrame(10_000);
      assert.ok(first);
      assert.equal(first.readInt32BE(0), 42);
      const three = Buffer.concat([1, 2, 3].map((id) => sizePrefixed(encodeRequest(K.ApiVersions, 0, 100 + id, {}))));
      await c.sendRaw(three);
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push((await c.nextFrame(10_000))!.readInt32BE(0));
      assert.deepEqual(ids, [101, 102, 103]);
    } finally {
      await c.close();
    }
  });

  test(`random and mutated frames (fast-check, ${RUNS} runs): each is answered or its connection closed`, async (t) => {
    const headerOnly = (key: number, version: number, corr: number, body: Uint8Array) => {
      try {
        return encodeRequest(key, version, corr, Buffer.from(body));
      } catch {
        return encodeRequest(key, version, corr, Buffer.from(body), 'fuzz', 1);
      }
    };
    const seeds: { name: string; frame: Buffer; wide: boolean }[] = [
      { name: 'ApiVersions v3', frame: encodeRequest(K.ApiVersions, 3, 1, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1.0' }), wide: true },
      { name: 'Metadata v1', frame: encodeRequest(K.Metadata, 1, 1, { ...MetadataRequest.default(), topics: [{ topicId: ZERO_UUID, name: fuzzTopic }] }), wide: true },
      { name: 'Metadata v12', frame: encodeRequest(K.Metadata, 12, 1, { ...MetadataRequest.default(), topics: [{ topicId: ZERO_UUID, name: fuzzTopic }], allowAutoTopicCreation: false }), wide: true },
      { name: 'Produce v9', frame: encodeRequest(K.Produce, 9, 1, produceRequest([{ topic: fuzzTopic, partition: 0, records: batch(['fz']) }], 1)), wide: true },
      { name: 'Produce v3', frame: encodeRequest(K.Produce, 3, 1, produceRequest([{ topic: fuzzTopic, partition: 0, records: batch(['fz']) }], -1)), wide: true },
      // Fetch gets single-byte mutations only: a 4-byte overwrite across max_wait and min_bytes
      // could legitimately park it for minutes.
      { name: 'Fetch v12', frame: encodeRequest(K.Fetch, 12, 1, fetchRequest([{ topic: fuzzTopic, partition: 0, offset: 0 }])), wide: false },
      { name: 'Fetch v4', frame: encodeRequest(K.Fetch, 4, 1, fetchRequest([{ topic: fuzzTopic, partition: 0, offset: 0 }])), wide: false },
      {
        name: 'ListOffsets v7',
        frame: encodeRequest(K.ListOffsets, 7, 1, {
          ...ListOffsetsRequest.default(),
          topics: [{ name: fuzzTopic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }] }],
        }),
        wide: true,
      },
      {
        name: 'OffsetForLeaderEpoch v4',
        frame: encodeRequest(K.OffsetForLeaderEpoch, 4, 1, {
          ...OffsetForLeaderEpochRequest.default(),
          topics: [{ topic: fuzzTopic, partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }],
        }),
        wide: true,
      },
      {
        name: 'DescribeConfigs v4',
        frame: encodeRequest(K.DescribeConfigs, 4, 1, {
          ...DescribeConfigsRequest.default(),
          resources: [{ resourceType: 2, resourceName: fuzzTopic, configurationKeys: null }],
        }),
        wide: true,
      },
      { name: 'DescribeCluster v1', frame: encodeRequest(K.DescribeCluster, 1, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 }), wide: true },
    ];
    type Mutation =
      | { kind: 'set'; at: number; value: number }
      | { kind: 'flip'; at: number; bit: number }
      | { kind: 'truncate'; at: number }
      | { kind: 'insert'; at: number; bytes: Uint8Array }
      | { kind: 'int32'; at: number; value: number };
    const mutation: fc.Arbitrary<Mutation> = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
      fc.record({
        kind: fc.constant('int32' as const),
        at: fc.nat(),
        value: fc.constantFrom(-1, 0, 1, 0x7fffffff, -0x80000000, 1_000_000, 0x7f7f7f7f),
      }),
    );
    const mutate = (seed: { frame: Buffer; wide: boolean }, m: Mutation): Buffer => {
      const b = Buffer.from(seed.frame);
      if (b.length === 0) return m.kind === 'insert' ? Buffer.from(m.bytes) : b;
      const at = m.at % b.length;
      switch (m.kind) {
        case 'set':
          b[at] = m.value;
          return b;
        case 'flip':
          b[at]! ^= 1 << m.bit;
          return b;
        case 'truncate':
          return b.subarray(0, at);
        case 'insert':
          return Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
        case 'int32':
          if (!seed.wide || at + 4 > b.length) {
            b[at] = m.value & 0xff;
            return b;
          }
          b.writeInt32BE(m.value, at);
          return b;
      }
    };
    const frameArb = fc.oneof(
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((u) => ({ how: 'random bytes', frame: Buffer.from(u) })) },
      {
        weight: 1,
        arbitrary: fc
          .record({
            key: fc.constantFrom(0, 1, 2, 3, 18, 19, 20, 23, 32, 37, 60),
            version: fc.integer({ min: 0, max: 17 }),
            corr: fc.integer(),
            body: fc.uint8Array({ maxLength: 200 }),
          })
          .map(({ key, version, corr, body }) => ({ how: `api ${key} v${version} + random body`, frame: headerOnly(key, version, corr, body) })),
      },
      {
        weight: 3,
        arbitrary: fc
          .record({ seed: fc.constantFrom(...seeds), mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }) })
          .map(({ seed, mutations }) => ({
            how: `${seed.name} with ${JSON.stringify(mutations)}`,
            frame: mutations.reduce((f, m) => mutate({ frame: f, wide: seed.wide }, m), seed.frame),
          })),
      },
    );
    const tally = { answered: 0, closed: 0, longPoll: 0 };
    await fc.assert(
      fc.asyncProperty(frameArb, async ({ how, frame }) => {
        // Keep every fuzzed frame under the limit: over-limit sizes are tested above.
        const sent = frame.subarray(0, MAX_FRAME);
        const result = await outcome(sizePrefixed(sent));
        if (result === 'hung' && isLongPoll(sent)) {
          tally.longPoll++;
          return;
        }
        if (result === 'hung') assert.fail(`neither answered nor closed: ${how}: ${frame.toString('hex')}`);
        tally[result]++;
      }),
      { numRuns: RUNS, seed: SEED },
    );
    t.diagnostic(`outcomes: ${JSON.stringify(tally)}`);
    assert.ok(tally.answered > 0 && tally.closed > 0, `both outcomes seen: ${JSON.stringify(tally)}`);
  });

  test('after all of that the broker answers a fresh client correctly and the data is intact', async () => {
    const c: RawClient = await target.connect();
    try {
      const av = await c.request(K.ApiVersions, 3, { clientSoftwareName: 'after', clientSoftwareVersion: '1' });
      assert.equal(av.errorCode, E.NONE);
      const md = await metadata(c, [topic], 12, false);
      assert.equal(md.topics[0].errorCode, E.NONE);
      assert.equal(md.topics[0].partitions.length, 1);
      const f = await fetchPartition(c, topic, 0, 0);
      assert.equal(f.errorCode, E.NONE);
      assert.deepEqual(valuesOf(f.records), before0, 'the records produced before are unchanged');
      assert.equal(f.highWatermark, 3n);
      assert.equal(await produceOk(c, topic, 0, batch(['after'])), 3);
      assert.deepEqual(valuesOf((await fetchPartition(c, topic, 0, 0)).records), [...before0, 'after']);
    } finally {
      await c.close();
    }
  });
});
