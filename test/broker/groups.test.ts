/**
 * The group coordinator through the wire, with raw requests: FindCoordinator, a join → sync →
 * heartbeat → leave cycle, simple (group-less) commits and fetches, unknown partitions in a
 * commit, the protection of `__consumer_offsets`, and committed offsets across a restart.
 * Real-client group suites are in test/integration/groups-*.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startBroker } from '../../src/broker/broker.ts';
import { silentLogger } from '../../src/common/logger.ts';
import { RawClient } from '../testkit/raw-client.ts';
import {
  batch,
  createTopic,
  E,
  eventually,
  metadata,
  produce,
  produceOk,
  startTarget,
  tributaryOnly,
  uniqueTopic,
  type Any,
  type Target,
} from './helpers.ts';

const K = { OffsetCommit: 8, OffsetFetch: 9, FindCoordinator: 10, JoinGroup: 11, Heartbeat: 12, LeaveGroup: 13, SyncGroup: 14 } as const;
const COORDINATOR_NOT_AVAILABLE = 15;
const MEMBER_ID_REQUIRED = 79;

function commitRequest(groupId: string, topics: { name: string; partitions: [number, number][] }[], member = { generation: -1, memberId: '' }): Any {
  return {
    groupId,
    generationIdOrMemberEpoch: member.generation,
    memberId: member.memberId,
    groupInstanceId: null,
    retentionTimeMs: -1n,
    topics: topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map(([partitionIndex, offset]) => ({
        partitionIndex,
        committedOffset: BigInt(offset),
        committedLeaderEpoch: 0,
        commitTimestamp: -1n,
        committedMetadata: `meta-${offset}`,
      })),
    })),
  };
}

/** Coordinator errors a client retries (loading, not available, not coordinator). */
const RETRIABLE = new Set([14, 15, 16]);

/**
 * Repeats a group request while it answers a retriable coordinator error, as clients do.
 * Tributary answers at once; Kafka loads each __consumer_offsets partition after creating it.
 */
async function retrying<T>(send: () => Promise<T>, codes: (res: T) => number[]): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await send();
    if (!codes(res).some((code) => RETRIABLE.has(code)) || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const commitCodes = (res: Any): number[] => res.topics.flatMap((t: Any) => t.partitions.map((p: Any) => p.errorCode));

async function fetchOffsets(c: RawClient, groupId: string, topic: string, partitions: number[]): Promise<Any[]> {
  const res = await c.request(K.OffsetFetch, 7, { groupId, topics: [{ name: topic, partitionIndexes: partitions }], groups: [], requireStable: false });
  assert.equal(res.errorCode, E.NONE);
  return res.topics[0].partitions;
}

describe('groups over the wire', () => {
  let target: Target;
  let c: RawClient;
  const topic = uniqueTopic('grp');

  before(async () => {
    target = await startTarget({ config: { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '4' } });
    c = await target.connect();
    await createTopic(c, topic, 3);
    // Kafka creates __consumer_offsets in the background and answers COORDINATOR_NOT_AVAILABLE
    // until it is ready; clients retry, and so do we (Tributary is ready at the first answer).
    await eventually(async () => {
      const r = await c.request(K.FindCoordinator, 3, { key: 'warm-up', keyType: 0, coordinatorKeys: [] });
      return r.errorCode === E.NONE;
    }, 'the group coordinator is ready', 30_000);
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  test('FindCoordinator: this broker for groups (v3 and batched v4)', async () => {
    const md = await metadata(c, [], 12);
    const v3 = await c.request(K.FindCoordinator, 3, { key: 'some-group', keyType: 0, coordinatorKeys: [] });
    assert.equal(v3.errorCode, E.NONE);
    assert.equal(v3.nodeId, md.brokers[0].nodeId);
    assert.equal(v3.port, md.brokers[0].port);
    const v4 = await c.request(K.FindCoordinator, 4, { key: '', keyType: 0, coordinatorKeys: ['a', 'b'] });
    assert.deepEqual(v4.coordinators.map((x: Any) => [x.key, x.errorCode, x.nodeId]), [
      ['a', E.NONE, md.brokers[0].nodeId],
      ['b', E.NONE, md.brokers[0].nodeId],
    ]);
  });

  test('FindCoordinator for a transactional id: this broker too (see transactions.test.ts)', async () => {
    // Kafka answers COORDINATOR_NOT_AVAILABLE while it creates __transaction_state.
    const found = await eventually(async () => {
      const r = await c.request(K.FindCoordinator, 4, { key: '', keyType: 1, coordinatorKeys: ['tx'] });
      return r.coordinators[0].errorCode === COORDINATOR_NOT_AVAILABLE ? null : r.coordinators[0];
    }, 'the transaction coordinator', 30_000);
    assert.equal(found.errorCode, E.NONE);
    assert.equal(found.nodeId, (await metadata(c, [], 12)).brokers[0].nodeId);
  });

  test('__consumer_offsets is internal: listed as such, and clients may not produce to it', tributaryOnly, async () => {
    const md = await metadata(c, ['__consumer_offsets'], 12, false);
    assert.equal(md.topics[0].errorCode, E.NONE);
    assert.equal(md.topics[0].isInternal, true);
    assert.equal(md.topics[0].partitions.length, 4);
    const p = await produce(c, '__consumer_offsets', 0, batch(['x']));
    assert.equal(p.errorCode, E.INVALID_TOPIC_EXCEPTION);
  });

  test('simple commits round-trip offset, leader epoch and metadata; unknown partitions fail alone, in request order', async () => {
    const group = uniqueTopic('simple');
    const res = await retrying(
      () =>
        c.request(
          K.OffsetCommit,
          8,
          commitRequest(group, [
            { name: topic, partitions: [[0, 5], [7, 1], [2, 9]] },
            { name: 'no-such-topic-here', partitions: [[0, 1]] },
          ]),
        ),
      commitCodes,
    );
    // Kafka lists the failed partitions of a topic first; the order carries no meaning.
    const codes = (t: Any) => t.partitions.map((p: Any) => [p.partitionIndex, p.errorCode]).sort((a: number[], b: number[]) => a[0]! - b[0]!);
    assert.deepEqual(
      res.topics.map((t: Any) => [t.name, codes(t)]),
      [
        [topic, [[0, E.NONE], [2, E.NONE], [7, E.UNKNOWN_TOPIC_OR_PARTITION]]],
        ['no-such-topic-here', [[0, E.UNKNOWN_TOPIC_OR_PARTITION]]],
      ],
    );
    const fetched = await fetchOffsets(c, group, topic, [0, 1, 2]);
    // require_stable: without pending transactional offsets every offset is stable (as Kafka).
    const stable = await c.request(K.OffsetFetch, 7, { groupId: group, topics: [{ name: topic, partitionIndexes: [0] }], groups: [], requireStable: true });
    assert.equal(stable.errorCode, E.NONE);
    assert.equal(Number(stable.topics[0].partitions[0].committedOffset), 5);
    assert.deepEqual(
      fetched.map((p: Any) => [p.partitionIndex, Number(p.committedOffset), p.committedLeaderEpoch, p.metadata]),
      [
        [0, 5, 0, 'meta-5'],
        [1, -1, -1, ''],
        [2, 9, 0, 'meta-9'],
      ],
    );
  });

  test('join (MEMBER_ID_REQUIRED first), sync, heartbeat, commit as a member, leave', async () => {
    const group = uniqueTopic('cycle');
    const join = (memberId: string) =>
      c.request(K.JoinGroup, 7, {
        groupId: group,
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) }],
        reason: null,
      });
    const first = await retrying(() => join(''), (r: Any) => [r.errorCode]);
    assert.equal(first.errorCode, MEMBER_ID_REQUIRED);
    assert.ok(first.memberId.startsWith('raw-client-'), first.memberId);
    const joined = await join(first.memberId);
    assert.equal(joined.errorCode, E.NONE);
    assert.equal(joined.leader, first.memberId);
    assert.equal(joined.protocolName, 'range');
    assert.equal(joined.members.length, 1);
    const generation = joined.generationId;

    const assignment = Buffer.from('my-assignment');
    const synced = await c.request(K.SyncGroup, 5, {
      groupId: group,
      generationId: generation,
      memberId: first.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: first.memberId, assignment }],
    });
    assert.equal(synced.errorCode, E.NONE);
    assert.deepEqual(synced.assignment, assignment);

    const hb = await c.request(K.Heartbeat, 4, { groupId: group, generationId: generation, memberId: first.memberId, groupInstanceId: null });
    assert.equal(hb.errorCode, E.NONE);
    const stale = await c.request(K.Heartbeat, 4, { groupId: group, generationId: generation + 1, memberId: first.memberId, groupInstanceId: null });
    assert.equal(stale.errorCode, E.ILLEGAL_GENERATION);

    const committed = await c.request(K.OffsetCommit, 8, commitRequest(group, [{ name: topic, partitions: [[1, 42]] }], { generation, memberId: first.memberId }));
    assert.equal(committed.topics[0].partitions[0].errorCode, E.NONE);
    const asStranger = await c.request(K.OffsetCommit, 8, commitRequest(group, [{ name: topic, partitions: [[1, 43]] }], { generation, memberId: 'someone-else' }));
    assert.equal(asStranger.topics[0].partitions[0].errorCode, E.UNKNOWN_MEMBER_ID);

    const left = await c.request(K.LeaveGroup, 5, { groupId: group, memberId: '', members: [{ memberId: first.memberId, groupInstanceId: null, reason: null }] });
    assert.equal(left.errorCode, E.NONE);
    assert.equal(left.members[0].errorCode, E.NONE);
    const after = await c.request(K.Heartbeat, 4, { groupId: group, generationId: generation, memberId: first.memberId, groupInstanceId: null });
    assert.equal(after.errorCode, E.UNKNOWN_MEMBER_ID);
    assert.equal((await fetchOffsets(c, group, topic, [1]))[0].committedOffset, 42n);
  });

  test('committed offsets survive a restart', tributaryOnly, async () => {
    const group = uniqueTopic('durable');
    const res = await c.request(K.OffsetCommit, 8, commitRequest(group, [{ name: topic, partitions: [[0, 11], [1, 12]] }]));
    assert.deepEqual(commitCodes(res), [E.NONE, E.NONE]);
    await c.close();
    await target.restart();
    c = await target.connect();
    const fetched = await fetchOffsets(c, group, topic, [0, 1]);
    assert.deepEqual(fetched.map((p: Any) => Number(p.committedOffset)), [11, 12]);
  });
});

describe('consumer lag (library)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tributary-lag-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('reports committed offset, log end offset and lag per partition', async () => {
    const broker = await startBroker({ dataDir, port: 0, logger: silentLogger, config: { 'offsets.topic.num.partitions': '2' } });
    try {
      const c = await RawClient.connect(broker.host, broker.port);
      await createTopic(c, 'lagging', 2);
      await produceOk(c, 'lagging', 0, batch(['a', 'b', 'c', 'd']));
      await produceOk(c, 'lagging', 1, batch(['e', 'f']));
      await c.request(K.OffsetCommit, 8, commitRequest('lag-group', [{ name: 'lagging', partitions: [[0, 1], [1, 2]] }]));
      await c.close();
      assert.deepEqual(broker.broker.consumerLag('lag-group'), [
        { topic: 'lagging', partition: 0, committedOffset: 1n, logEndOffset: 4n, lag: 3n },
        { topic: 'lagging', partition: 1, committedOffset: 2n, logEndOffset: 2n, lag: 0n },
      ]);
      assert.deepEqual(broker.broker.consumerLag('no-such-group'), []);
    } finally {
      await broker.close();
    }
  });
});
