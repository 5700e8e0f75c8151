/**
 * TxnOffsetCommit (key 28) through the wire with raw requests: versions, the handler's and the
 * coordinator's errors, pending offsets (OffsetFetch shows the last committed offset; with
 * require_stable UNSTABLE_OFFSET_COMMIT, per partition), markers, and replay across restarts.
 * Cases that need a transaction (InitProducerId → AddOffsetsToTxn → TxnOffsetCommit → EndTxn)
 * skip themselves when the broker does not advertise those APIs. The first suite passes against
 * Apache Kafka 4.3.1 (BOOTSTRAP_SERVERS); the second starts in-process brokers to restart them
 * and writes markers by hand where no transaction exists.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startBroker, type BrokerHandle } from '../../src/broker/broker.ts';
import { silentLogger } from '../../src/common/logger.ts';
import { buildTxnMarkerBatch } from '../../src/protocol/control-batch.ts';
import { partitionFor } from '../../src/coordinator/group/partition-for.ts';
import { RawClient } from '../testkit/raw-client.ts';
import { createTopic, E, startTarget, uniqueTopic, type Any, type Target } from './helpers.ts';

const K = { OffsetCommit: 8, OffsetFetch: 9, FindCoordinator: 10, InitProducerId: 22, AddOffsetsToTxn: 25, EndTxn: 26, TxnOffsetCommit: 28, ApiVersions: 18, ConsumerGroupHeartbeat: 68 } as const;
const ERR = {
  ILLEGAL_GENERATION: 22,
  INVALID_GROUP_ID: 24,
  OFFSET_METADATA_TOO_LARGE: 12,
  UNSTABLE_OFFSET_COMMIT: 88,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  INVALID_PRODUCER_ID_MAPPING: 49,
  TRANSACTION_ABORTABLE: 120,
} as const;
/** Errors a client retries: coordinator loading / not available / not coordinator, concurrent transactions. */
const RETRIABLE = new Set([14, 15, 16, 51]);

async function retrying<T>(send: () => Promise<T>, codes: (res: T) => number[]): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await send();
    if (!codes(res).some((code) => RETRIABLE.has(code)) || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface TxnCommit {
  transactionalId?: string;
  groupId: string;
  producerId?: bigint;
  producerEpoch?: number;
  generationId?: number;
  memberId?: string;
  parts: [string, number, number, string?][];
}

function txnCommitBody(t: TxnCommit): Any {
  const byTopic = new Map<string, Any>();
  for (const [name, partitionIndex, offset, metadata] of t.parts) {
    if (!byTopic.has(name)) byTopic.set(name, { name, partitions: [] });
    byTopic.get(name).partitions.push({ partitionIndex, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: metadata ?? `m${offset}` });
  }
  return {
    transactionalId: t.transactionalId ?? 'txn-offsets-test',
    groupId: t.groupId,
    producerId: t.producerId ?? 4242n,
    producerEpoch: t.producerEpoch ?? 0,
    generationId: t.generationId ?? -1,
    memberId: t.memberId ?? '',
    groupInstanceId: null,
    topics: [...byTopic.values()],
  };
}

const codesOf = (res: Any): number[] => res.topics.flatMap((t: Any) => t.partitions.map((p: Any) => p.errorCode));

async function txnCommit(c: RawClient, t: TxnCommit, version = 4): Promise<number[]> {
  return codesOf(await retrying(() => c.request(K.TxnOffsetCommit, version, txnCommitBody(t)), codesOf));
}

async function plainCommit(c: RawClient, groupId: string, topic: string, partition: number, offset: number): Promise<void> {
  const body = {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1n,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, committedOffset: BigInt(offset), committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' }] }],
  };
  assert.deepEqual(codesOf(await retrying(() => c.request(K.OffsetCommit, 8, body), codesOf)), [E.NONE]);
}

/** OffsetFetch of one partition at `version` (7: single group, 8: groups): [offset, partition error]. */
async function fetchOne(c: RawClient, groupId: string, topic: string, partition: number, requireStable: boolean, version = 8): Promise<[number, number]> {
  const topics = [{ name: topic, partitionIndexes: [partition] }];
  const res: Any =
    version >= 8
      ? await c.request(K.OffsetFetch, version, { groupId: '', topics: null, requireStable, groups: [{ groupId, memberId: null, memberEpoch: -1, topics }] })
      : await c.request(K.OffsetFetch, version, { groupId, topics, requireStable, groups: [] });
  const g = version >= 8 ? res.groups[0] : res;
  assert.equal(g.errorCode, E.NONE, 'unstable offsets are a partition error, not a group error');
  const p = g.topics[0].partitions[0];
  return [Number(p.committedOffset), p.errorCode];
}

/** InitProducerId for a new transactional id (Tributary and Kafka 4.3.1 both advertise the transaction APIs). */
async function beginTxn(c: RawClient): Promise<Producer> {
  for (const key of [K.InitProducerId, K.AddOffsetsToTxn, K.EndTxn]) assert.ok(await advertised(c, key), `API ${key} is advertised`);
  const transactionalId = uniqueTopic('txn');
  const init: Any = await retrying(
    () => c.request(K.InitProducerId, 4, { transactionalId, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 }),
    (r: Any) => [r.errorCode],
  );
  assert.equal(init.errorCode, E.NONE);
  return { transactionalId, producerId: init.producerId as bigint, producerEpoch: init.producerEpoch as number };
}

type Producer = { transactionalId: string; producerId: bigint; producerEpoch: number };

async function addOffsets(c: RawClient, producer: Producer, groupId: string): Promise<void> {
  const added: Any = await retrying(() => c.request(K.AddOffsetsToTxn, 3, { ...producer, groupId }), (r: Any) => [r.errorCode]);
  assert.equal(added.errorCode, E.NONE);
}

async function endTxn(c: RawClient, producer: Producer, committed: boolean): Promise<void> {
  const ended: Any = await retrying(() => c.request(K.EndTxn, 3, { ...producer, committed }), (r: Any) => [r.errorCode]);
  assert.equal(ended.errorCode, E.NONE);
}

/** OffsetFetch with require_stable until the partition is stable (markers are written after EndTxn answers). */
async function stable(c: RawClient, groupId: string, topic: string, partition: number): Promise<[number, number]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const got = await fetchOne(c, groupId, topic, partition, true);
    if (got[1] !== ERR.UNSTABLE_OFFSET_COMMIT || Date.now() > deadline) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function advertised(c: RawClient, key: number): Promise<{ minVersion: number; maxVersion: number } | undefined> {
  const res: Any = await c.request(K.ApiVersions, 2, {});
  return res.apiKeys.find((k: Any) => k.apiKey === key);
}

describe('TxnOffsetCommit over the wire', () => {
  let target: Target;
  let c: RawClient;
  let topic: string;

  before(async () => {
    target = await startTarget();
    c = await target.connect();
    topic = uniqueTopic('txn-offsets');
    await createTopic(c, topic, 2);
  });

  after(async () => {
    await c?.close();
    await target?.close();
  });

  test('ApiVersions lists TxnOffsetCommit from v0 (Tributary: up to v4)', async () => {
    const api = await advertised(c, K.TxnOffsetCommit);
    assert.ok(api, 'TxnOffsetCommit advertised');
    assert.equal(api.minVersion, 0);
    assert.ok(api.maxVersion >= 4);
    if (!target.external) assert.equal(api.maxVersion, 4);
  });

  test('partitions of unknown topics or beyond the partition count are UNKNOWN_TOPIC_OR_PARTITION; the empty group id is INVALID_GROUP_ID', async () => {
    // Kafka lists the handler's errors first; Tributary keeps the request order: compare by partition.
    const res: Any = await c.request(K.TxnOffsetCommit, 4, txnCommitBody({ groupId: '', parts: [['no-such-topic-txn', 0, 1], [topic, 0, 1], [topic, 7, 1]] }));
    const codes = Object.fromEntries(res.topics.flatMap((t: Any) => t.partitions.map((p: Any) => [`${t.name === topic ? 'topic' : t.name}-${p.partitionIndex}`, p.errorCode])));
    assert.deepEqual(codes, { 'no-such-topic-txn-0': E.UNKNOWN_TOPIC_OR_PARTITION, 'topic-0': ERR.INVALID_GROUP_ID, 'topic-7': E.UNKNOWN_TOPIC_OR_PARTITION });
    // All unknown: answered without the coordinator.
    assert.deepEqual(await txnCommit(c, { groupId: 'g-unknown-only', parts: [['no-such-topic-txn', 0, 1]] }, 0), [E.UNKNOWN_TOPIC_OR_PARTITION]);
  });

  test('pending offsets: OffsetFetch shows the committed offset, require_stable answers UNSTABLE_OFFSET_COMMIT (v7 and v8)', async () => {
    const producer = await beginTxn(c);
    const group = uniqueTopic('pending');
    await plainCommit(c, group, topic, 0, 5);
    await addOffsets(c, producer, group);
    assert.deepEqual(await txnCommit(c, { ...producer, groupId: group, parts: [[topic, 0, 10], [topic, 1, 20]] }, 3), [E.NONE, E.NONE]);
    assert.deepEqual(await fetchOne(c, group, topic, 0, false), [5, E.NONE]);
    assert.deepEqual(await fetchOne(c, group, topic, 1, false, 7), [-1, E.NONE]);
    assert.deepEqual(await fetchOne(c, group, topic, 0, true), [-1, ERR.UNSTABLE_OFFSET_COMMIT]);
    assert.deepEqual(await fetchOne(c, group, topic, 1, true, 7), [-1, ERR.UNSTABLE_OFFSET_COMMIT]);
    await endTxn(c, producer, false);
  });

  test('transaction verification: no AddOffsetsToTxn INVALID_TXN_STATE (v4 TRANSACTION_ABORTABLE), another producer id INVALID_PRODUCER_ID_MAPPING, a zombie INVALID_PRODUCER_EPOCH', async () => {
    const producer = await beginTxn(c);
    const group = uniqueTopic('outside');
    assert.deepEqual(await txnCommit(c, { ...producer, groupId: group, parts: [[topic, 0, 1]] }, 3), [ERR.INVALID_TXN_STATE]);
    assert.deepEqual(await txnCommit(c, { ...producer, groupId: group, parts: [[topic, 0, 1]] }, 4), [ERR.TRANSACTION_ABORTABLE]);
    assert.deepEqual(await fetchOne(c, group, topic, 0, true), [-1, E.NONE]);
    // Another producer id for the transactional id.
    assert.deepEqual(await txnCommit(c, { ...producer, producerId: producer.producerId + 1000n, groupId: group, parts: [[topic, 0, 1]] }, 3), [ERR.INVALID_PRODUCER_ID_MAPPING]);
    // A zombie: the transactional id was initialized again (epoch bumped); the old epoch is fenced.
    const again: Any = await retrying(
      () => c.request(K.InitProducerId, 4, { transactionalId: producer.transactionalId, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 }),
      (r: Any) => [r.errorCode],
    );
    assert.equal(again.errorCode, E.NONE);
    const current: Producer = { transactionalId: producer.transactionalId, producerId: again.producerId, producerEpoch: again.producerEpoch };
    await addOffsets(c, current, group);
    for (const v of [3, 4]) {
      assert.deepEqual(await txnCommit(c, { ...producer, producerId: current.producerId, groupId: group, parts: [[topic, 0, 1]] }, v), [ERR.INVALID_PRODUCER_EPOCH]);
    }
    assert.deepEqual(await fetchOne(c, group, topic, 0, true), [-1, E.NONE]);
    await endTxn(c, current, false);
  });

  test('coordinator checks inside a real transaction: unknown group with a generation, metadata size', async () => {
    const producer = await beginTxn(c);
    const group = uniqueTopic('checks');
    await addOffsets(c, producer, group);
    assert.deepEqual(await txnCommit(c, { ...producer, groupId: group, generationId: 3, memberId: 'm', parts: [[topic, 0, 1]] }, 3), [ERR.ILLEGAL_GENERATION]);
    assert.deepEqual(
      await txnCommit(c, { ...producer, groupId: group, parts: [[topic, 0, 1, 'x'.repeat(4097)], [topic, 1, 2, 'x'.repeat(4096)]] }, 3),
      [ERR.OFFSET_METADATA_TOO_LARGE, E.NONE],
    );
    assert.deepEqual(await fetchOne(c, group, topic, 1, true), [-1, ERR.UNSTABLE_OFFSET_COMMIT]);
    await endTxn(c, producer, false);
  });

  test('a KIP-848 consumer group: member and epoch checked (a wrong epoch is ILLEGAL_GENERATION)', async () => {
    assert.ok(await advertised(c, K.ConsumerGroupHeartbeat), 'ConsumerGroupHeartbeat is advertised');
    const producer = await beginTxn(c);
    const group = uniqueTopic('kip848');
    const joined: Any = await retrying(
      () =>
        c.request(K.ConsumerGroupHeartbeat, 0, {
          groupId: group,
          memberId: '',
          memberEpoch: 0,
          instanceId: null,
          rackId: null,
          rebalanceTimeoutMs: 30_000,
          subscribedTopicNames: [topic],
          serverAssignor: null,
          topicPartitions: [],
        }),
      (r: Any) => [r.errorCode],
    );
    assert.equal(joined.errorCode, E.NONE);
    const memberId: string = joined.memberId;
    const epoch: number = joined.memberEpoch;
    await addOffsets(c, producer, group);
    assert.deepEqual(await txnCommit(c, { ...producer, groupId: group, memberId: 'not-a-member', generationId: epoch, parts: [[topic, 0, 1]] }, 3), [E.UNKNOWN_MEMBER_ID]);
    assert.deepEqual(await txnCommit(c, { ...producer, groupId: group, memberId, generationId: epoch + 1, parts: [[topic, 0, 1]] }, 3), [ERR.ILLEGAL_GENERATION]);
    assert.deepEqual(await txnCommit(c, { ...producer, groupId: group, memberId, generationId: epoch, parts: [[topic, 0, 8]] }, 3), [E.NONE]);
    assert.deepEqual(await fetchOne(c, group, topic, 0, true), [-1, ERR.UNSTABLE_OFFSET_COMMIT]);
    await endTxn(c, producer, true);
    assert.deepEqual(await stable(c, group, topic, 0), [8, E.NONE]);
    // Leave the group (epoch -1).
    await c.request(K.ConsumerGroupHeartbeat, 0, { groupId: group, memberId, memberEpoch: -1, instanceId: null, rackId: null, rebalanceTimeoutMs: -1, subscribedTopicNames: null, serverAssignor: null, topicPartitions: null });
  });

  test('end to end: InitProducerId → AddOffsetsToTxn → TxnOffsetCommit → EndTxn commit shows the offset, abort does not', async () => {
    const producer = await beginTxn(c);
    const group = uniqueTopic('e2e');
    await plainCommit(c, group, topic, 0, 1);

    const runTxn = async (offset: number, committed: boolean): Promise<void> => {
      await addOffsets(c, producer, group);
      assert.deepEqual(await txnCommit(c, { ...producer, groupId: group, parts: [[topic, 0, offset]] }, 3), [E.NONE]);
      assert.deepEqual(await fetchOne(c, group, topic, 0, true), [-1, ERR.UNSTABLE_OFFSET_COMMIT]);
      await endTxn(c, producer, committed);
    };

    const settled = () => stable(c, group, topic, 0);

    await runTxn(42, true);
    assert.deepEqual(await settled(), [42, E.NONE]);
    await runTxn(99, false);
    assert.deepEqual(await settled(), [42, E.NONE]);
    assert.deepEqual(await fetchOne(c, group, topic, 0, false), [42, E.NONE]);
  });

  test('TxnOffsetCommit racing EndTxn (two connections): accepted offsets are committed with the transaction, refused ones never become pending', async (t) => {
    // A client that sends EndTxn before its TxnOffsetCommit is answered: whichever the broker takes
    // first, offsets it accepts must precede the marker (else they would stay pending forever).
    const producer = await beginTxn(c);
    const c2 = await target.connect();
    try {
      const group = uniqueTopic('race');
      let committed = 0;
      const outcomes = new Set<string>();
      for (let i = 1; i <= 20; i++) {
        await addOffsets(c, producer, group);
        const [commitRes, endRes]: Any[] = await Promise.all([
          c2.request(K.TxnOffsetCommit, 3, txnCommitBody({ ...producer, groupId: group, parts: [[topic, 1, i]] })),
          c.request(K.EndTxn, 3, { ...producer, committed: true }),
        ]);
        assert.equal(endRes.errorCode, E.NONE, `round ${i}: EndTxn`);
        const code = codesOf(commitRes)[0];
        outcomes.add(code === E.NONE ? 'accepted' : `refused ${code}`);
        if (code === E.NONE) committed = i;
        assert.deepEqual(await stable(c, group, topic, 1), [committed === 0 ? -1 : committed, E.NONE],
          `round ${i}: TxnOffsetCommit answered ${code}; the offset must be stable`);
      }
      t.diagnostic(`TxnOffsetCommit outcomes over 20 races: ${[...outcomes].join(', ')}`);
    } finally {
      await c2.close();
    }
  });
});

describe('transactional offsets across restarts (Tributary)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tributary-txn-offsets-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = { 'offsets.topic.num.partitions': '3' };
  /** As the marker writer appends (coordinator origin: epoch checks only). */
  const MARKER_APPEND = { leaderEpoch: 0, origin: 'coordinator' as const };

  async function withBroker(fn: (b: BrokerHandle, c: RawClient) => Promise<void>): Promise<void> {
    const b = await startBroker({ dataDir, port: 0, logger: silentLogger, config });
    const c = await RawClient.connect(b.host, b.port);
    try {
      await fn(b, c);
    } finally {
      await c.close();
      await b.close();
    }
  }

  /** Writes a transaction marker to the group's __consumer_offsets partition, as the marker writer does. */
  async function marker(b: BrokerHandle, groupId: string, producerId: number, committed: boolean): Promise<void> {
    const partition = partitionFor(groupId, b.broker.groups.numPartitions);
    const log = b.broker.topics.partition('__consumer_offsets', partition);
    assert.ok(!(log instanceof Error));
    await log.append(buildTxnMarkerBatch({ producerId, producerEpoch: 0, coordinatorEpoch: 0, committed, timestamp: Date.now() }), MARKER_APPEND);
    await log.sync();
    b.broker.groups.completeTransaction(partition, producerId, committed);
  }

  /**
   * A TxnOffsetCommit straight to the group service (as the handler does after verifying the
   * transaction): the producer ids here have no transaction, the markers are written by hand.
   */
  async function direct(b: BrokerHandle, t: TxnCommit): Promise<number[]> {
    const groups = b.broker.groups;
    return codesOf(await groups.apply(groups.coordinator.txnOffsetCommit({ clientId: 'test', clientHost: '/127.0.0.1', apiVersion: 4 }, txnCommitBody(t))));
  }

  test('pending offsets are replayed as pending; markers (live, then replayed) commit or abort them; plain commits written later win', async () => {
    await withBroker(async (b, c) => {
      await createTopic(c, 'rt', 3);
      await plainCommit(c, 'g1', 'rt', 0, 1);
      assert.deepEqual(await direct(b, { groupId: 'g1', producerId: 501n, parts: [['rt', 0, 10], ['rt', 1, 11]] }), [E.NONE, E.NONE]);
      assert.deepEqual(await direct(b, { groupId: 'g1', producerId: 502n, parts: [['rt', 2, 12]] }), [E.NONE]);
      await plainCommit(c, 'g1', 'rt', 1, 7); // after producer 501's offset for rt-1
    });
    await withBroker(async (b, c) => {
      assert.deepEqual(await fetchOne(c, 'g1', 'rt', 0, false), [1, E.NONE]);
      assert.deepEqual(await fetchOne(c, 'g1', 'rt', 0, true), [-1, ERR.UNSTABLE_OFFSET_COMMIT]);
      assert.deepEqual(await fetchOne(c, 'g1', 'rt', 2, true, 7), [-1, ERR.UNSTABLE_OFFSET_COMMIT]);
      await marker(b, 'g1', 501, true);
      await marker(b, 'g1', 502, false);
      assert.deepEqual(await fetchOne(c, 'g1', 'rt', 0, true), [10, E.NONE]);
      assert.deepEqual(await fetchOne(c, 'g1', 'rt', 1, true), [7, E.NONE], 'the later plain commit wins');
      assert.deepEqual(await fetchOne(c, 'g1', 'rt', 2, true), [-1, E.NONE]);
      // A transaction left open at the end of the log.
      assert.deepEqual(await direct(b, { groupId: 'g1', producerId: 503n, parts: [['rt', 2, 30]] }), [E.NONE]);
    });
    await withBroker(async (b, c) => {
      assert.deepEqual(await fetchOne(c, 'g1', 'rt', 0, true), [10, E.NONE]);
      assert.deepEqual(await fetchOne(c, 'g1', 'rt', 1, true), [7, E.NONE]);
      assert.deepEqual(await fetchOne(c, 'g1', 'rt', 2, true), [-1, ERR.UNSTABLE_OFFSET_COMMIT]);
      await marker(b, 'g1', 503, true);
      assert.deepEqual(await fetchOne(c, 'g1', 'rt', 2, true), [30, E.NONE]);
    });
  });

  test('through the transaction APIs: the offsets of an open transaction stay pending across a restart, then EndTxn commits them', async () => {
    let producer: Producer | null = null;
    await withBroker(async (_b, c) => {
      producer = await beginTxn(c);
      await createTopic(c, 'rt2', 1);
      await addOffsets(c, producer, 'g2');
      assert.deepEqual(await txnCommit(c, { ...producer, groupId: 'g2', parts: [['rt2', 0, 77]] }, 3), [E.NONE]);
    });
    assert.ok(producer, 'the first broker began the transaction');
    const open: Producer = producer;
    await withBroker(async (_b, c) => {
      assert.deepEqual(await fetchOne(c, 'g2', 'rt2', 0, true), [-1, ERR.UNSTABLE_OFFSET_COMMIT]);
      await endTxn(c, open, true);
      assert.deepEqual(await stable(c, 'g2', 'rt2', 0), [77, E.NONE]);
    });
    await withBroker(async (_b, c) => {
      assert.deepEqual(await fetchOne(c, 'g2', 'rt2', 0, true), [77, E.NONE]);
    });
  });
});
