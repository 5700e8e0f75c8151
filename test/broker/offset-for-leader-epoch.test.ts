/**
 * OffsetForLeaderEpoch (key 23): the end offset of a leader epoch. A single broker that has
 * led every partition since creation has one epoch (the one Metadata reports), whose end
 * offset is the log end offset. Expectations checked against Apache Kafka 4.3.1
 * (BOOTSTRAP_SERVERS=127.0.0.1:19092).
 *
 * FENCED_LEADER_EPOCH needs a current leader epoch below the broker's, which cannot be sent
 * while the broker's epoch is 0 (negative means "not given"); only the UNKNOWN side is testable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  batch,
  createTopic,
  E,
  K,
  metadata,
  produceOk,
  startTarget,
  tributaryOnly,
  uniqueTopic,
  type Any,
  type RawClient,
  type Target,
} from './helpers.ts';

describe('OffsetForLeaderEpoch', () => {
  let target: Target;
  let c: RawClient;
  let topic: string; // partition 0: 5 records; partition 1: empty
  let epoch: number;

  async function query(
    partitions: { partition: number; leaderEpoch: number; currentLeaderEpoch?: number }[],
    opts: { version?: number; topic?: string } = {},
  ): Promise<Any[]> {
    const res = await c.request(K.OffsetForLeaderEpoch, opts.version ?? 4, {
      replicaId: -1,
      topics: [
        {
          topic: opts.topic ?? topic,
          partitions: partitions.map((p) => ({ currentLeaderEpoch: -1, ...p })),
        },
      ],
    });
    assert.equal(res.topics.length, 1);
    return res.topics[0].partitions;
  }

  before(async () => {
    target = await startTarget();
    c = await target.connect();
    topic = uniqueTopic('oe');
    await createTopic(c, topic, 2);
    await produceOk(c, topic, 0, batch(['a', 'b', 'c']));
    await produceOk(c, topic, 0, batch(['d', 'e']));
    const md = await metadata(c, [topic]);
    epoch = md.topics[0].partitions[0].leaderEpoch;
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  test('the current epoch (0 for a new topic) ends at the log end offset (v2, v3, v4)', async () => {
    assert.equal(epoch, 0, 'a new single-broker topic is at leader epoch 0');
    for (const version of [2, 3, 4]) {
      const [r] = await query([{ partition: 0, leaderEpoch: epoch }], { version });
      assert.equal(r.errorCode, E.NONE);
      assert.equal(r.partition, 0);
      assert.equal(r.leaderEpoch, epoch, `v${version}`);
      assert.equal(r.endOffset, 5n);
    }
  });

  test('an empty partition: epoch 0 ends at offset 0', async () => {
    const [r] = await query([{ partition: 1, leaderEpoch: 0 }]);
    assert.equal(r.errorCode, E.NONE);
    assert.equal(r.leaderEpoch, 0);
    assert.equal(r.endOffset, 0n);
  });

  test('currentLeaderEpoch equal to the broker epoch is accepted', async () => {
    const [r] = await query([{ partition: 0, leaderEpoch: 0, currentLeaderEpoch: epoch }]);
    assert.equal(r.errorCode, E.NONE);
    assert.equal(r.endOffset, 5n);
  });

  test('a currentLeaderEpoch newer than the broker epoch → UNKNOWN_LEADER_EPOCH', async () => {
    const [r] = await query([{ partition: 0, leaderEpoch: 0, currentLeaderEpoch: epoch + 5 }]);
    assert.equal(r.errorCode, E.UNKNOWN_LEADER_EPOCH);
    assert.equal(r.leaderEpoch, -1);
    assert.equal(r.endOffset, -1n);
  });

  test('an epoch after the latest one, or -1 → undefined epoch and offset (-1, -1), no error', async () => {
    for (const leaderEpoch of [epoch + 3, -1]) {
      const [r] = await query([{ partition: 0, leaderEpoch }]);
      assert.equal(r.errorCode, E.NONE, `epoch ${leaderEpoch}`);
      assert.equal(r.leaderEpoch, -1, `epoch ${leaderEpoch}`);
      assert.equal(r.endOffset, -1n, `epoch ${leaderEpoch}`);
    }
  });

  test('an unknown partition or topic → UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const [p] = await query([{ partition: 7, leaderEpoch: 0 }]);
    assert.equal(p.errorCode, E.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(p.partition, 7);
    const [t] = await query([{ partition: 0, leaderEpoch: 0 }], { topic: uniqueTopic('oe-nope') });
    assert.equal(t.errorCode, E.UNKNOWN_TOPIC_OR_PARTITION);
  });

  test('several partitions in one request', async () => {
    const rs = await query([
      { partition: 0, leaderEpoch: 0 },
      { partition: 9, leaderEpoch: 0 },
      { partition: 0, leaderEpoch: 0, currentLeaderEpoch: epoch + 1 },
    ]);
    assert.equal(rs.length, 3);
    assert.deepEqual(
      rs.map((r: Any) => [r.partition, r.errorCode]),
      [
        [0, E.NONE],
        [9, E.UNKNOWN_TOPIC_OR_PARTITION],
        [0, E.UNKNOWN_LEADER_EPOCH],
      ],
    );
    assert.equal(rs[0].endOffset, 5n);
  });

  // Last: restarts the broker.
  test('the epoch end offsets survive a restart (the epoch cache is durable)', tributaryOnly, async () => {
    await c.close();
    await target.restart();
    c = await target.connect();
    const rs = await query([
      { partition: 0, leaderEpoch: 0 },
      { partition: 1, leaderEpoch: 0 },
    ]);
    assert.deepEqual(
      rs.map((r: Any) => [r.partition, r.errorCode, r.leaderEpoch, r.endOffset]),
      [
        [0, E.NONE, 0, 5n],
        [1, E.NONE, 0, 0n],
      ],
    );
  });
});
