/**
 * Writes the COMMIT/ABORT markers of a transaction (Kafka's WriteTxnMarkers, done in-process on
 * this single broker): one control batch per partition of the transaction, appended through the
 * partition's producer state (origin 'coordinator': the epoch and coordinator epoch are checked)
 * and fsynced. A marker in `__consumer_offsets` also commits or drops the transaction's pending
 * offsets in the group coordinator, once it is durable. Partitions of deleted topics are skipped,
 * as Kafka's marker channel does. Resolves when every marker is durable; rejects with the first
 * failure, and the transaction coordinator retries (markers are idempotent for the log: a second
 * marker for a finished transaction changes nothing).
 */
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { buildTxnMarkerBatch } from '../protocol/control-batch.ts';
import type { Broker } from './broker.ts';
import { OFFSETS_TOPIC } from './group-service.ts';
import { LEADER_EPOCH } from './leader-epoch.ts';

export interface TxnMarkers {
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  committed: boolean;
  partitions: { topic: string; partition: number }[];
}

export async function writeTxnMarkers(broker: Broker, m: TxnMarkers): Promise<void> {
  const timestamp = broker.clock.now();
  await Promise.all(
    m.partitions.map(async ({ topic, partition }) => {
      const log = broker.topics.partition(topic, partition);
      if (log instanceof KafkaError) {
        if (log.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
          broker.logger.warn('skipping the transaction marker of a partition that no longer exists', { topic, partition, producerId: m.producerId });
          return;
        }
        throw log;
      }
      const batch = buildTxnMarkerBatch({ ...m, timestamp });
      await log.append(batch, { leaderEpoch: LEADER_EPOCH, origin: 'coordinator' });
      await log.sync();
      broker.waiters.notify(topic, partition);
      if (topic === OFFSETS_TOPIC) broker.groups.completeTransaction(partition, m.producerId, m.committed);
    }),
  );
}
