/**
 * TxnOffsetCommit (key 28) through the wire with raw requests: versions, the handler's and the
 * coordinator's errors, pending offsets (OffsetFetch shows the last committed offset; with
 * require_stable UNSTABLE_OFFSET_COMMIT, per partition), markers, and replay across restarts.
 * The end-to-end case (InitProducerId → AddOffsetsToTxn → TxnOffsetCommit → EndTxn) runs when
 * the broker advertises the transaction APIs. Passes against Apache Kafka (BOOTSTRAP_SERVERS)
 * for the cases not marked tributaryOnly.
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
import { createTopic, E, startTarget, tributaryOnly, uniqueTopic, type Any, type Target } from './helpers.ts';

const K = { OffsetCommit: 8, OffsetFetch: 9, FindCoordinator: 10, InitProducerId: 22, AddOffsetsToTxn: 25, EndTxn: 26, TxnOffsetCommit: 28, ApiVersions: 18 } as const;
const ERR = {
  ILLEGAL_GENERATION: 22,
  INVALID_GROUP_ID: 24,
  OFFSET_METADATA_TOO_LARGE: 12,
  UNSTABLE_OFFSET_COMMIT: 88,
  INVALID_PRODUCER_EPOCH: 47,
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
    const codes = await txnCommit(c, { groupId: '', parts: [['no-such-topic-txn', 0, 1], [topic, 0, 1], [topic, 7, 1]] });
    assert.deepEqual(codes, [E.UNKNOWN_TOPIC_OR_PARTITION, ERR.INVALID_GROUP_ID, E.UNKNOWN_TOPIC_OR_PARTITION]);
    // All unknown: answered without the coordinator.
    assert.deepEqual(await txnCommit(c, { groupId: 'g-unknown-only', parts: [['no-such-topic-txn', 0, 1]] }, 0), [E.UNKNOWN_TOPIC_OR_PARTITION]);
  });

  test('coordinator checks: an unknown group with a generation is ILLEGAL_GENERATION; metadata too large', tributaryOnly, async () => {
    // (Kafka first verifies the transaction with its coordinator, so these need a real transaction there.)
    assert.deepEqual(await txnCommit(c, { groupId: uniqueTopic('g'), generationId: 3, memberId: 'm', parts: [[topic, 0, 1]] }), [ERR.ILLEGAL_GENERATION]);
    assert.deepEqual(
      await txnCommit(c, { groupId: uniqueTopic('g'), parts: [[topic, 0, 1, 'x'.repeat(4097)], [topic, 1, 1, 'x'.repeat(4096)]] }),
      [ERR.OFFSET_METADATA_TOO_LARGE, E.NONE],
    );
  });

  test('pending offsets: OffsetFetch shows the committed offset, require_stable answers UNSTABLE_OFFSET_COMMIT (v7 and v8)', tributaryOnly, async () => {
    const group = uniqueTopic('pending');
    await plainCommit(c, group, topic, 0, 5);
    assert.deepEqual(await txnCommit(c, { groupId: group, producerId: 9001n, parts: [[topic, 0, 10], [topic, 1, 20]] }), [E.NONE, E.NONE]);
    assert.deepEqual(await fetchOne(c, group, topic, 0, false), [5, E.NONE]);
    assert.deepEqual(await fetchOne(c, group, topic, 1, false, 7), [-1, E.NONE]);
    assert.deepEqual(await fetchOne(c, group, topic, 0, true), [-1, ERR.UNSTABLE_OFFSET_COMMIT]);
    assert.deepEqual(await fetchOne(c, group, topic, 1, true, 7), [-1, ERR.UNSTABLE_OFFSET_COMMIT]);
  });

  test('the log checks the producer epoch of the transactional batch: an older epoch is INVALID_PRODUCER_EPOCH, nothing pending', tributaryOnly, async () => {
    const group = uniqueTopic('epoch');
    assert.deepEqual(await txnCommit(c, { groupId: group, producerId: 9100n, producerEpoch: 3, parts: [[topic, 0, 1]] }), [E.NONE]);
    assert.deepEqual(await txnCommit(c, { groupId: group, producerId: 9100n, producerEpoch: 2, parts: [[topic, 1, 1]] }), [ERR.INVALID_PRODUCER_EPOCH]);
    assert.deepEqual(await fetchOne(c, group, topic, 1, true), [-1, E.NONE]);
  });

  test('end to end: InitProducerId → AddOffsetsToTxn → TxnOffsetCommit → EndTxn commit shows the offset, abort does not', async (t) => {
    for (const key of [K.InitProducerId, K.AddOffsetsToTxn, K.EndTxn]) {
      if (!(await advertised(c, key))) {
        t.skip(`API ${key} not advertised`);
        return;
      }
    }
    const group = uniqueTopic('e2e');
    const transactionalId = uniqueTopic('txn');
    await plainCommit(c, group, topic, 0, 1);
    const init: Any = await retrying(
      () => c.request(K.InitProducerId, 4, { transactionalId, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 }),
      (r: Any) => [r.errorCode],
    );
    assert.equal(init.errorCode, E.NONE);
    const producer = { transactionalId, producerId: init.producerId as bigint, producerEpoch: init.producerEpoch as number };

    const runTxn = async (offset: number, committed: boolean): Promise<void> => {
      const added: Any = await retrying(() => c.request(K.AddOffsetsToTxn, 3, { ...producer, groupId: group }), (r: Any) => [r.errorCode]);
      assert.equal(added.errorCode, E.NONE);
      assert.deepEqual(await txnCommit(c, { ...producer, groupId: group, parts: [[topic, 0, offset]] }, 3), [E.NONE]);
      assert.deepEqual(await fetchOne(c, group, topic, 0, true), [-1, ERR.UNSTABLE_OFFSET_COMMIT]);
      const ended: Any = await retrying(() => c.request(K.EndTxn, 3, { ...producer, committed }), (r: Any) => [r.errorCode]);
      assert.equal(ended.errorCode, E.NONE);
    };

    const settled = async (): Promise<[number, number]> => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const got = await fetchOne(c, group, topic, 0, true);
        if (got[1] !== ERR.UNSTABLE_OFFSET_COMMIT || Date.now() > deadline) return got;
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    await runTxn(42, true);
    assert.deepEqual(await settled(), [42, E.NONE]);
    await runTxn(99, false);
    assert.deepEqual(await settled(), [42, E.NONE]);
    assert.deepEqual(await fetchOne(c, group, topic, 0, false), [42, E.NONE]);
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

  test('pending offsets are replayed as pending; markers (live, then replayed) commit or abort them; plain commits written later win', async () => {
    await withBroker(async (_b, c) => {
      await createTopic(c, 'rt', 3);
      await plainCommit(c, 'g1', 'rt', 0, 1);
      assert.deepEqual(await txnCommit(c, { groupId: 'g1', producerId: 501n, parts: [['rt', 0, 10], ['rt', 1, 11]] }), [E.NONE, E.NONE]);
      assert.deepEqual(await txnCommit(c, { groupId: 'g1', producerId: 502n, parts: [['rt', 2, 12]] }), [E.NONE]);
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
      assert.deepEqual(await txnCommit(c, { groupId: 'g1', producerId: 503n, parts: [['rt', 2, 30]] }), [E.NONE]);
    });
    await withBroker(async (b, c) => {
      assert.deepEqual(await fetchOne(c, 'g1', 'rt', 0, true), [10, E.NONE]);
      assert.deepEqual(await fetchOne(c, 'g1', 'rt', 1, true), [7, E.NONE]);
      assert.deepEqual(await fetchOne(c, 'g1', 'rt', 2, true), [-1, ERR.UNSTABLE_OFFSET_COMMIT]);
      await marker(b, 'g1', 503, true);
      assert.deepEqual(await fetchOne(c, 'g1', 'rt', 2, true), [30, E.NONE]);
    });
  });
});
