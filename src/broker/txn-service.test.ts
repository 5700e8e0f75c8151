/**
 * TxnService around the coordinator: records go to partitionFor(transactionalId) of
 * `__transaction_state`; failed marker writes and failed Complete appends are retried with
 * backoff (never dropped); partitions of deleted topics are dropped from the markers.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ManualClock } from '../common/clock.ts';
import { KafkaError, ErrorCode } from '../common/errors.ts';
import { silentLogger } from '../common/logger.ts';
import { partitionFor } from '../coordinator/group/partition-for.ts';
import { decodeRecord } from '../coordinator/txn/records.ts';
import { decodeRecords } from '../protocol/records.ts';
import type { TopicManager } from './topics.ts';
import { TXN_TOPIC, TxnService, type MarkerRequest } from './txn-service.ts';

/** Just enough of TopicManager: topics by name, and partitions that keep their appended batches. */
function fakeTopics(existing: string[]) {
  const topics = new Map<string, { partitions: number }>(existing.map((t) => [t, { partitions: 1 }]));
  const appended: { partition: number; batch: Buffer }[] = [];
  let failAppends = 0;
  const manager = {
    get: (name: string) => topics.get(name),
    async createInternal(name: string, partitions: number) {
      topics.set(name, { partitions });
      return { name, partitions };
    },
    partition(name: string, partition: number) {
      if (!topics.has(name)) return new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      return {
        async append(batch: Buffer) {
          if (failAppends > 0) {
            failAppends--;
            throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER);
          }
          if (name === TXN_TOPIC) appended.push({ partition, batch });
        },
        async sync() {},
      };
    },
  };
  return {
    manager: manager as unknown as TopicManager,
    topics,
    appended,
    failNextAppends(n: number) {
      failAppends = n;
    },
    states: () => appended.flatMap((a) => decodeRecords(a.batch).map((r) => decodeRecord(r.key!, r.value)!.value?.state ?? null)),
  };
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

test('markers are retried with backoff until written, then the Complete record; deleted topics are dropped', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'txn-service-'));
  const clock = new ManualClock();
  const fake = fakeTopics(['a', 'b']);
  const calls: MarkerRequest[] = [];
  let failures = 2;
  const svc = new TxnService({
    topics: fake.manager,
    clock,
    logger: silentLogger,
    dataDir: dir,
    numPartitions: 5,
    segmentBytes: 1 << 20,
    offsetsTopicPartitions: 50,
    config: {},
    producerIdBlockSize: 10,
    async writeMarkers(m) {
      calls.push(structuredClone(m));
      if (failures-- > 0) throw new Error('marker write failed');
    },
  });
  try {
    await svc.ready();
    assert.ok(fake.topics.has(TXN_TOPIC));
    await svc.producerIdReady();
    const c = svc.coordinator;
    const p = await svc.apply(c.initProducerId('t', 60_000));
    assert.equal(p.errorCode, ErrorCode.NONE);
    assert.equal(await svc.apply(c.addPartitions('t', p.producerId, 0, [{ topic: 'a', partition: 0 }, { topic: 'b', partition: 0 }])), ErrorCode.NONE);
    assert.deepEqual(new Set(fake.appended.map((a) => a.partition)), new Set([partitionFor('t', 5)]), "the id's partition");
    const end = await svc.apply(c.endTxn('t', p.producerId, 0, true));
    assert.equal(end.errorCode, ErrorCode.NONE);
    await settle();
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0], {
      producerId: p.producerId,
      producerEpoch: 0,
      coordinatorEpoch: 0,
      committed: true,
      partitions: [{ topic: 'a', partition: 0 }, { topic: 'b', partition: 0 }],
    });
    clock.advance(99);
    await settle();
    assert.equal(calls.length, 1, 'backoff');
    fake.topics.delete('b'); // deleted meanwhile: no marker needed there
    clock.advance(1);
    await settle();
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[1]!.partitions, [{ topic: 'a', partition: 0 }]);
    assert.equal(c.state('t'), 'PrepareCommit');
    fake.failNextAppends(1); // the Complete record's first append fails too
    clock.advance(200);
    await settle();
    assert.equal(calls.length, 3);
    assert.equal(c.state('t'), 'PrepareCommit', 'Complete append failed: retried');
    clock.advance(100);
    await settle();
    assert.equal(calls.length, 3, 'markers are not written again');
    assert.equal(c.state('t'), 'CompleteCommit');
    assert.deepEqual(fake.states(), ['Empty', 'Ongoing', 'PrepareCommit', 'CompleteCommit']);
  } finally {
    svc.close();
    await rm(dir, { recursive: true, force: true });
  }
});
