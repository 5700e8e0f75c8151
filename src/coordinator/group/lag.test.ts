import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consumerLag } from './lag.ts';
import { Harness } from './test-helpers.ts';

test('consumer lag per partition: log end offset minus committed offset', () => {
  const h = new Harness();
  h.run(h.coordinator.offsetCommit(h.ctx(8), {
    groupId: 'g', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n,
    topics: [
      { name: 'u', partitions: [{ partitionIndex: 0, committedOffset: 5n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' }] },
      { name: 't', partitions: [1, 0].map((p) => ({ partitionIndex: p, committedOffset: 10n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' })) },
    ],
  }));
  const leo = new Map([['t/0', 15n], ['t/1', 10n], ['u/0', 3n]]);
  assert.deepEqual(consumerLag(h.coordinator, 'g', (t, p) => leo.get(`${t}/${p}`) ?? null), [
    { topic: 't', partition: 0, committedOffset: 10n, logEndOffset: 15n, lag: 5n },
    { topic: 't', partition: 1, committedOffset: 10n, logEndOffset: 10n, lag: 0n },
    { topic: 'u', partition: 0, committedOffset: 5n, logEndOffset: 3n, lag: 0n },
  ]);
  assert.deepEqual(consumerLag(h.coordinator, 'g', () => null)[0]!.lag, null);
  assert.deepEqual(consumerLag(h.coordinator, 'none', () => 0n), []);
});
