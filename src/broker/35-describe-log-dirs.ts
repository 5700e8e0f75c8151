/**
 * DescribeLogDirs (key 35): the broker's one log directory (its data dir, as an absolute
 * path) with the size of each partition log in it. As Kafka's ReplicaManager.describeLogDirs:
 * topics=null describes every log; requested partitions the broker has no log for are left
 * out (no error), and so are topics left with no partition; offsetLag is 0 and isFutureKey
 * false (no replica is ever being moved between directories). v4 adds the file system's
 * total and usable bytes (statfs: blocks and blocks available to unprivileged users).
 * Partitions whose log is offline are left out, as Kafka leaves out the logs of a failed
 * directory; a statfs failure answers the directory with KAFKA_STORAGE_ERROR.
 */
import { statfs } from 'node:fs/promises';
import { ErrorCode } from '../common/errors.ts';
import { DescribeLogDirsRequest } from '../protocol/messages/describe-log-dirs-request.generated.ts';
import { DescribeLogDirsResponse } from '../protocol/messages/describe-log-dirs-response.generated.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import { defineApi } from './api.ts';

type LogDirTopic = ReturnType<typeof DescribeLogDirsResponse.default>['results'][number]['topics'][number];

export const describeLogDirs = defineApi({
  request: DescribeLogDirsRequest,
  response: DescribeLogDirsResponse,
  // v0 was removed in Kafka 4 (KIP-896); Kafka 4.3 serves 1-5, our codecs stop at 4.
  minVersion: 1,
  maxVersion: 4,
  async handle(req, { broker }) {
    const logDir = broker.config.dataDir;
    const res = DescribeLogDirsResponse.default();
    let space: { totalBytes: bigint; usableBytes: bigint };
    try {
      const s = await statfs(logDir, { bigint: true });
      space = { totalBytes: s.blocks * s.bsize, usableBytes: s.bavail * s.bsize };
    } catch (err) {
      broker.logger.warn('cannot describe the log dir', { dir: logDir, error: err as Error });
      res.results.push({ errorCode: ErrorCode.KAFKA_STORAGE_ERROR, logDir, topics: [], totalBytes: -1n, usableBytes: -1n });
      return res;
    }
    const wanted = req.topics === null ? null : new Set(req.topics.flatMap((t) => t.partitions.map((p) => `${t.topic}\u0000${p}`)));
    const byTopic = new Map<string, LogDirTopic>();
    for (const log of broker.topics.logs.all()) {
      if (log.offline || (wanted && !wanted.has(`${log.topic}\u0000${log.partition}`))) continue;
      let topic = byTopic.get(log.topic);
      if (!topic) byTopic.set(log.topic, (topic = { name: log.topic, partitions: [] }));
      topic.partitions.push(describePartition(log));
    }
    res.results.push({ errorCode: ErrorCode.NONE, logDir, topics: [...byTopic.values()], ...space });
    return res;
  },
});

function describePartition(log: PartitionLog): LogDirTopic['partitions'][number] {
  return { partitionIndex: log.partition, partitionSize: BigInt(log.sizeInBytes), offsetLag: 0n, isFutureKey: false };
}
