/**
 * Consumer lag of a group from its committed offsets and the partitions' log end offsets, as
 * kafka-consumer-groups.sh --describe reports it: lag = log end offset − committed offset
 * (never negative); unknown when the log end offset is unknown (e.g. a deleted topic).
 */
import type { GroupCoordinator } from './coordinator.ts';

export interface PartitionLag {
  topic: string;
  partition: number;
  committedOffset: bigint;
  /** null when the partition's log end offset is unknown. */
  logEndOffset: bigint | null;
  lag: bigint | null;
}

export function consumerLag(
  coordinator: GroupCoordinator,
  groupId: string,
  logEndOffset: (topic: string, partition: number) => bigint | null,
): PartitionLag[] {
  return coordinator
    .committedOffsets(groupId)
    .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
    .map(({ topic, partition, offset }) => {
      const leo = logEndOffset(topic, partition);
      const lag = leo === null ? null : leo > offset.offset ? leo - offset.offset : 0n;
      return { topic, partition, committedOffset: offset.offset, logEndOffset: leo, lag };
    });
}
