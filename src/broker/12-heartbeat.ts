/** Heartbeat (key 12): keeps a member's session alive; tells it when to rejoin. */
import { HeartbeatRequest } from '../protocol/messages/heartbeat-request.generated.ts';
import { HeartbeatResponse } from '../protocol/messages/heartbeat-response.generated.ts';
import { defineApi } from './api.ts';
import { coordinatorContext, groupsReady } from './group-context.ts';

export const heartbeat = defineApi({
  request: HeartbeatRequest,
  response: HeartbeatResponse,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, ctx) {
    const groups = await groupsReady(ctx);
    return groups.apply(groups.coordinator.heartbeat(coordinatorContext(ctx), req));
  },
});
