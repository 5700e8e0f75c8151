/**
 * 10,000+ records produced by each client and consumed by both, compared byte for byte:
 * count, sha256 of the key-sorted key+value stream, contiguous offsets and per-partition order.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { brokerSkipReason, startCompatBroker, type CompatBroker } from '../broker.ts';
import {
  byPartition, digest, genRecords, kcatConsume, kcatProduce, pyConsume, pyCreateTopic, pyProduce, sortByKey,
  uniqueTopic, type Rec,
} from '../harness.ts';

const skip = brokerSkipReason();
let broker: CompatBroker;
before(async () => { if (!skip) broker = await startCompatBroker(); });
after(async () => { await broker?.close(); });

const N = 10_000;
const T = { skip, timeout: 240_000 };

function verify(who: string, got: Rec[], expected: Rec[]): void {
  assert.equal(got.length, expected.length, `${who}: count`);
  assert.equal(digest(sortByKey(got)), digest(sortByKey(expected)), `${who}: sha256 of key-sorted key+value stream`);
  for (const [p, recs] of byPartition(got)) {
    recs.forEach((r, i) => assert.equal(r.offset, i, `${who}: partition ${p} offsets contiguous from 0`));
    for (let i = 1; i < recs.length; i++) {
      // keys were produced in increasing order, so each partition must hold them increasing
      assert.ok(Buffer.compare(recs[i - 1]!.key!, recs[i]!.key!) < 0, `${who}: partition ${p} order at offset ${i}`);
    }
  }
}

test(`python produces ${N} records (key-partitioned, random bytes, some null/empty), both clients consume`, T, async () => {
  const topic = uniqueTopic('bulk-py');
  await pyCreateTopic(broker.bootstrap, topic, 3);
  const recs: Rec[] = genRecords(N, 'py', { maxLen: 600 }).map((r, i) => ({
    ...r,
    value: i % 997 === 0 ? null : r.value, // nulls (tombstones) and empties (i % 601 == 0 → len 0)
  }));
  const { done, deliveries } = await pyProduce(broker.bootstrap, topic, recs, { 'linger.ms': 10 });
  assert.equal(done.ok, N, JSON.stringify(deliveries.find((d) => d.error)));
  const partitions = new Set(deliveries.map((d) => d.p));
  assert.ok(partitions.size > 1, 'the key partitioner spread records over partitions');

  verify('python', await pyConsume(broker.bootstrap, topic), recs);
  verify('kcat', await kcatConsume(broker.bootstrap, topic), recs);
});

test(`kcat produces ${N} records, both clients consume`, T, async () => {
  const topic = uniqueTopic('bulk-kcat');
  await pyCreateTopic(broker.bootstrap, topic, 3);
  const recs = genRecords(N, 'kc', { maxLen: 600 });
  await kcatProduce(broker.bootstrap, topic, recs, { config: { 'linger.ms': 10 } });
  verify('python', await pyConsume(broker.bootstrap, topic), recs);
  verify('kcat', await kcatConsume(broker.bootstrap, topic), recs);
});
