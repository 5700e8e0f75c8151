/**
 * DescribeLogDirs (key 35): one log directory, an absolute path, with the byte size of each
 * requested partition (exactly the batches written), offsetLag 0, isFutureKey false; v4 adds
 * the file system's total and usable bytes. Unknown partitions are left out without an error.
 * v0 is not served (removed in Kafka 4, KIP-896). Checked against Apache Kafka 4.3.1 (BOOTSTRAP_SERVERS=127.0.0.1:PORT).
 */
import assert from 'node:assert/strict';
import { isAbsolute } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { batch, createTopic, E, produceOk, startTarget, tributaryOnly, uniqueTopic, type Any, type RawClient, type Target } from './helpers.ts';
import { offlinePartition } from './offline-partition.ts';

const DescribeLogDirs = 35;

async function describeLogDirs(c: RawClient, topics: { topic: string; partitions: number[] }[] | null, version = 4): Promise<Any> {
  return c.request(DescribeLogDirs, version, { topics });
}

/** The one log dir of the response, with its partitions as `topic-partition` → entry. */
function onlyDir(res: Any): { dir: Any; partitions: Map<string, Any> } {
  assert.equal(res.results.length, 1, 'one log dir');
  const dir = res.results[0];
  const partitions = new Map<string, Any>();
  for (const t of dir.topics) {
    assert.ok(t.partitions.length > 0, `topic ${t.name} is listed only with partitions`);
    for (const p of t.partitions) partitions.set(`${t.name}-${p.partitionIndex}`, p);
  }
  return { dir, partitions };
}

describe('DescribeLogDirs', () => {
  let target: Target;
  let c: RawClient;
  let topic: string; // 3 partitions: 0 has two batches, 1 one, 2 none
  let sizes: number[];

  before(async () => {
    target = await startTarget();
    c = await target.connect();
    topic = uniqueTopic('ld');
    await createTopic(c, topic, 3);
    const b0 = [batch(['a', 'b', 'c']), batch(['d'.repeat(500)])];
    const b1 = [batch(['x'])];
    for (const b of b0) await produceOk(c, topic, 0, b);
    for (const b of b1) await produceOk(c, topic, 1, b);
    sizes = [b0, b1, []].map((bs) => bs.reduce((n, b) => n + b.length, 0));
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  for (const version of [1, 2, 3, 4]) {
    test(`v${version}: the partitions asked for, with their sizes in bytes`, async () => {
      const res = await describeLogDirs(c, [{ topic, partitions: [0, 1, 2] }], version);
      const { dir, partitions } = onlyDir(res);
      assert.equal(res.errorCode, E.NONE);
      assert.equal(dir.errorCode, E.NONE);
      assert.ok(isAbsolute(dir.logDir), dir.logDir);
      if (!target.external) assert.equal(dir.logDir, target.dataDir);
      assert.deepEqual([...partitions.keys()].sort(), [0, 1, 2].map((p) => `${topic}-${p}`));
      for (const p of [0, 1, 2]) {
        assert.deepEqual(partitions.get(`${topic}-${p}`), { partitionIndex: p, partitionSize: BigInt(sizes[p]!), offsetLag: 0n, isFutureKey: false });
      }
      if (version >= 4) {
        assert.ok(dir.totalBytes > 0n, 'total bytes');
        assert.ok(dir.usableBytes >= 0n && dir.usableBytes <= dir.totalBytes, 'usable bytes');
      } else {
        assert.deepEqual([dir.totalBytes, dir.usableBytes], [-1n, -1n], 'not in this version');
      }
    });
  }

  test('v0 (removed in Kafka 4) → the connection is closed', async () => {
    const c0 = await target.connect();
    await assert.rejects(describeLogDirs(c0, null, 0), { name: 'ConnectionClosedError' });
    assert.equal(await c0.waitClosed(10_000), true);
    await c0.close();
  });

  test('topics=null describes every partition log', async () => {
    const { partitions } = onlyDir(await describeLogDirs(c, null));
    for (const p of [0, 1, 2]) assert.equal(partitions.get(`${topic}-${p}`)?.partitionSize, BigInt(sizes[p]!));
  });

  test('a subset of partitions; unknown topics and partitions are left out without an error', async () => {
    const res = await describeLogDirs(c, [
      { topic, partitions: [1, 9] },
      { topic: uniqueTopic('ld-missing'), partitions: [0] },
    ]);
    const { dir, partitions } = onlyDir(res);
    assert.equal(dir.errorCode, E.NONE);
    assert.deepEqual([...partitions.keys()], [`${topic}-1`]);
  });

  test('no topics asked (an empty list) → the log dir with no topics', async () => {
    const { dir, partitions } = onlyDir(await describeLogDirs(c, []));
    assert.equal(dir.errorCode, E.NONE);
    assert.equal(partitions.size, 0);
  });

  test('an offline partition log is left out; the others are described', tributaryOnly, async () => {
    const t = uniqueTopic('ld-offline');
    c = await offlinePartition(target, c, t);
    const { dir, partitions } = onlyDir(await describeLogDirs(c, [{ topic: t, partitions: [0, 1] }]));
    assert.equal(dir.errorCode, E.NONE);
    assert.deepEqual([...partitions.keys()], [`${t}-1`]);
  });
});
