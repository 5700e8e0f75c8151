/**
 * What the group handlers share: waiting for `__consumer_offsets` to be ready, and the
 * coordinator's view of a request (client id, client host as Kafka prints it, version).
 */
import type { RequestContext as CoordinatorContext } from '../coordinator/group/types.ts';
import type { RequestContext } from './api.ts';
import type { GroupService } from './group-service.ts';
import { ErrorCode } from '../common/errors.ts';
import { partitionKey } from './partition-waiters.ts';

export async function groupsReady(ctx: RequestContext): Promise<GroupService> {
  await ctx.broker.groups.ready();
  return ctx.broker.groups;
}

export function coordinatorContext(ctx: RequestContext): CoordinatorContext {
  const remote = ctx.connection.remoteAddress;
  const host = remote.slice(0, remote.lastIndexOf(':')).replace(/^::ffff:/, '');
  return { clientId: ctx.clientId ?? '', clientHost: `/${host}`, apiVersion: ctx.apiVersion };
}

/**
 * The topics of an offset commit with only the partitions this broker has; each other one gets
 * UNKNOWN_TOPIC_OR_PARTITION in `codes` (keyed by partitionKey), as Kafka answers it.
 */
export function knownPartitions<T extends { name: string; partitions: { partitionIndex: number }[] }>(
  ctx: RequestContext,
  topics: readonly T[],
  codes: Map<string, number>,
): T[] {
  return topics
    .map((t) => {
      const topic = ctx.broker.topics.get(t.name);
      const partitions = t.partitions.filter((p) => {
        const exists = topic !== undefined && p.partitionIndex >= 0 && p.partitionIndex < topic.partitions;
        if (!exists) codes.set(partitionKey(t.name, p.partitionIndex), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        return exists;
      });
      return { ...t, partitions };
    })
    .filter((t) => t.partitions.length > 0);
}
