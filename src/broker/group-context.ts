/**
 * What the group handlers share: waiting for `__consumer_offsets` to be ready, and the
 * coordinator's view of a request (client id, client host as Kafka prints it, version).
 */
import type { RequestContext as CoordinatorContext } from '../coordinator/group/types.ts';
import type { RequestContext } from './api.ts';
import type { GroupService } from './group-service.ts';

export async function groupsReady(ctx: RequestContext): Promise<GroupService> {
  await ctx.broker.groups.ready();
  return ctx.broker.groups;
}

export function coordinatorContext(ctx: RequestContext): CoordinatorContext {
  const remote = ctx.connection.remoteAddress;
  const host = remote.slice(0, remote.lastIndexOf(':')).replace(/^::ffff:/, '');
  return { clientId: ctx.clientId ?? '', clientHost: `/${host}`, apiVersion: ctx.apiVersion };
}
