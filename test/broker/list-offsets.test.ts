/**
 * ListOffsets (key 2): earliest, latest, by timestamp (batches with known timestamps, out of
 * order inside a batch), beyond every timestamp, max timestamp (v7+), earliest-local (v8+),
 * latest-tiered (v9+), unknown partitions, leader epochs. Expectations checked against Apache
 * Kafka 4.3.1 (BOOTSTRAP_SERVERS=127.0.0.1:19092).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  batch,
  createTopic,
  E,
  K,
  listOffsets,
  metadata,
  produceOk,
  startTarget,
  uniqueTopic,
  type Any,
  type RawClient,
  type Target,
} from './helpers.ts';

const LATEST = -1n;
const EARLIEST = -2n;
const MAX_TIMESTAMP = -3n;
const EARLIEST_LOCAL = -4n;
const LATEST_TIERED = -5n;

describe('ListOffsets', () => {
  let target: Target;
  let c: RawClient;
  let topic: string; // partition 0 holds 5 records, partition 1 is empty
  // Record timestamps: offset 0: T, 1: T+10 | 2: T+50, 3: T+20 | 4: T+30
  const T = Date.now() - 100_000;

  async function one(timestamp: bigint, opts: { partition?: number; version?: number; currentLeaderEpoch?: number } = {}): Promise<Any> {
    const [r] = await listOffsets(c, topic, [{ partition: opts.partition ?? 0, timestamp, currentLeaderEpoch: opts.currentLeaderEpoch }], opts.version ?? 9);
    return r;
  }

  before(async () => {
    target = await startTarget();
    c = await target.connect();
    topic = uniqueTopic('lo');
    await createTopic(c, topic, 2);
    const rec = (v: string, ts: number) => ({ value: Buffer.from(v), timestamp: ts });
    await produceOk(c, topic, 0, batch([rec('a', T), rec('b', T + 10)], { baseTimestamp: T }));
    await produceOk(c, topic, 0, batch([rec('c', T + 50), rec('d', T + 20)], { baseTimestamp: T + 50 }));
    await produceOk(c, topic, 0, batch([rec('e', T + 30)], { baseTimestamp: T + 30 }));
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  test('latest (-1) is the log end offset, earliest (-2) the log start offset', async () => {
    for (const version of [1, 4, 7, 10]) {
      const latest = await one(LATEST, { version });
      assert.equal(latest.errorCode, E.NONE);
      assert.equal(latest.offset, 5n, `v${version}`);
      assert.equal(latest.timestamp, -1n);
      const earliest = await one(EARLIEST, { version });
      assert.equal(earliest.offset, 0n);
      assert.equal(earliest.timestamp, -1n);
    }
  });

  test('an empty partition: latest and earliest are 0', async () => {
    assert.equal((await one(LATEST, { partition: 1 })).offset, 0n);
    assert.equal((await one(EARLIEST, { partition: 1 })).offset, 0n);
  });

  test('by timestamp: the first offset whose timestamp is at least the target', async () => {
    const cases: [number, bigint, number][] = [
      // [target - T, expected offset, expected timestamp - T]
      [-1, 0n, 0],
      [0, 0n, 0],
      [5, 1n, 10],
      [10, 1n, 10],
      [11, 2n, 50], // offset 2 (T+50) comes before offset 3 (T+20)
      [20, 2n, 50],
      [25, 2n, 50],
      [50, 2n, 50],
    ];
    for (const [delta, offset, tsDelta] of cases) {
      const r = await one(BigInt(T + delta));
      assert.equal(r.errorCode, E.NONE);
      assert.equal(r.offset, offset, `T+${delta}`);
      assert.equal(r.timestamp, BigInt(T + tsDelta), `T+${delta} timestamp`);
      assert.ok(r.leaderEpoch >= 0, 'v4+ carries the leader epoch');
    }
  });

  test('a timestamp beyond every record → offset -1, timestamp -1', async () => {
    const r = await one(BigInt(T + 51));
    assert.equal(r.errorCode, E.NONE);
    assert.equal(r.offset, -1n);
    assert.equal(r.timestamp, -1n);
    const empty = await one(BigInt(T), { partition: 1 });
    assert.equal(empty.errorCode, E.NONE);
    assert.equal(empty.offset, -1n, 'an empty partition has no record at or after any timestamp');
  });

  test('max timestamp (-3, v7+): the offset of the record with the largest timestamp', async () => {
    for (const version of [7, 9]) {
      const r = await one(MAX_TIMESTAMP, { version });
      assert.equal(r.errorCode, E.NONE);
      assert.equal(r.offset, 2n, `v${version}`);
      assert.equal(r.timestamp, BigInt(T + 50));
    }
  });

  // Kafka 4.3.1 answers a special timestamp the request version does not know (-3 below v7,
  // -4 below v8, -5 below v9, -6 below v11) and any other negative one with UNSUPPORTED_VERSION.
  test('a special timestamp too new for the version, or an unknown negative one → UNSUPPORTED_VERSION, as Kafka', async () => {
    for (const [timestamp, version] of [
      [MAX_TIMESTAMP, 6],
      [MAX_TIMESTAMP, 1],
      [EARLIEST_LOCAL, 7],
      [LATEST_TIERED, 8],
      [-6n, 10],
      [-100n, 9],
    ] as const) {
      const r = await one(timestamp, { version });
      assert.equal(r.errorCode, E.UNSUPPORTED_VERSION, `timestamp ${timestamp} at v${version}`);
      assert.equal(r.offset, -1n);
    }
  });

  test('earliest local (-4, v8+) is the log start offset; latest tiered (-5, v9+) is -1 without tiered storage', async () => {
    const local = await one(EARLIEST_LOCAL, { version: 8 });
    assert.equal(local.errorCode, E.NONE);
    assert.equal(local.offset, 0n);
    const tiered = await one(LATEST_TIERED, { version: 9 });
    assert.equal(tiered.errorCode, E.NONE);
    assert.equal(tiered.offset, -1n);
    assert.equal(tiered.timestamp, -1n);
  });

  test('READ_COMMITTED latest is the last stable offset (= high watermark without transactions)', async () => {
    const res = await c.request(K.ListOffsets, 7, {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: LATEST, maxNumOffsets: 1 }] }],
      timeoutMs: 0,
    });
    assert.equal(res.topics[0].partitions[0].offset, 5n);
  });

  test('an unknown partition or topic → UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const p = await one(LATEST, { partition: 9 });
    assert.equal(p.errorCode, E.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(p.offset, -1n);
    const [t] = await listOffsets(c, uniqueTopic('lo-nope'), [{ partition: 0, timestamp: LATEST }]);
    assert.equal(t.errorCode, E.UNKNOWN_TOPIC_OR_PARTITION);
  });

  test('current leader epoch: the current one is fine, a newer one → UNKNOWN_LEADER_EPOCH', async () => {
    const md = await metadata(c, [topic]);
    const epoch = md.topics[0].partitions.find((p: Any) => p.partitionIndex === 0).leaderEpoch;
    assert.equal((await one(LATEST, { currentLeaderEpoch: epoch })).errorCode, E.NONE);
    assert.equal((await one(LATEST, { currentLeaderEpoch: epoch + 5 })).errorCode, E.UNKNOWN_LEADER_EPOCH);
  });

  test('several partitions in one request', async () => {
    const rs = await listOffsets(c, topic, [
      { partition: 0, timestamp: LATEST },
      { partition: 1, timestamp: LATEST },
      { partition: 2, timestamp: LATEST },
    ]);
    const by = new Map<number, Any>(rs.map((r: Any) => [r.partitionIndex, r]));
    assert.equal(by.get(0).offset, 5n);
    assert.equal(by.get(1).offset, 0n);
    assert.equal(by.get(2).errorCode, E.UNKNOWN_TOPIC_OR_PARTITION);
  });

  // Kafka 4.3.1: a partition named twice in one request → INVALID_REQUEST (one entry).
  test('the same partition twice in one request → INVALID_REQUEST, as Kafka', async () => {
    const rs = await listOffsets(c, topic, [
      { partition: 0, timestamp: LATEST },
      { partition: 0, timestamp: EARLIEST },
    ]);
    assert.ok(rs.length >= 1);
    for (const r of rs) assert.equal(r.errorCode, E.INVALID_REQUEST);
  });
});
