/**
 * `__consumer_offsets` is a compacted topic: with the cleaner running, a group that commits
 * the same partition many times leaves one record per key in the closed segments. After a
 * restart the coordinator replays the compacted log (with its gaps and shortened batches)
 * and answers OffsetFetch with the last commit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startBroker } from '../../src/broker/broker.ts';
import { silentLogger } from '../../src/common/logger.ts';
import { RawClient } from '../testkit/raw-client.ts';

const CONFIG = {
  'offsets.topic.num.partitions': '1',
  'offsets.topic.segment.bytes': '2048',
  'log.cleaner.backoff.ms': '20',
};

function commit(groupId: string, offset: number, partitions = [0, 1]) {
  return {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1n,
    topics: [{ name: 'orders', partitions: partitions.map((partitionIndex) => ({ partitionIndex, committedOffset: BigInt(offset + partitionIndex), committedLeaderEpoch: 0, commitTimestamp: -1n, committedMetadata: `m${offset}` })) }],
  };
}

test('committed offsets survive compaction of __consumer_offsets and a restart', async (t) => {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tributary-offsets-compaction-'));
  t.after(() => fs.rm(dataDir, { recursive: true, force: true }));
  let broker = await startBroker({ dataDir, port: 0, logger: silentLogger, config: CONFIG, numPartitions: 2 });
  let client = await RawClient.connect(broker.host, broker.port);
  await client.request(19, 5, { topics: [{ name: 'orders', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  for (let i = 1; i <= 150; i++) {
    const res = await client.request(8, 8, commit(i % 3 === 0 ? 'other' : 'g', i, [1, 0]));
    assert.equal(res.topics[0].partitions[0].errorCode, 0);
  }
  // Later commits of partition 0 alone: compaction then removes the LAST record of the
  // batches above and keeps their first, so batches end past their last remaining record.
  for (let i = 151; i <= 160; i++) await client.request(8, 8, commit('g', i, [0]));
  const log = broker.broker.topics.logs.get('__consumer_offsets', 0)!;
  const segmentsBefore = log.segmentCount;
  assert.ok(segmentsBefore > 5, `several segments (${segmentsBefore})`);
  // The cleaner runs every 20 ms; wait (bounded) until it has merged the segments.
  const deadline = Date.now() + 20_000;
  while (log.segmentCount >= segmentsBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(log.segmentCount < segmentsBefore, `compacted: ${segmentsBefore} → ${log.segmentCount} segments`);
  client.close();
  await broker.close();

  broker = await startBroker({ dataDir, port: 0, logger: silentLogger, config: CONFIG });
  t.after(() => broker.close());
  client = await RawClient.connect(broker.host, broker.port);
  t.after(() => client.close());
  const expected = { g: [[160, 'm160'], [150, 'm149']], other: [[150, 'm150'], [151, 'm150']] };
  for (const [group, want] of Object.entries(expected)) {
    const res = await client.request(9, 7, { groupId: group, topics: [{ name: 'orders', partitionIndexes: [0, 1] }], groups: [], requireStable: false });
    assert.deepEqual(
      res.topics[0].partitions.map((p: { committedOffset: bigint; metadata: string }) => [Number(p.committedOffset), p.metadata]),
      want,
      `${group} resumes from its last commits`,
    );
  }
});
