/** LeaveGroup (key 13): one member (v0-2) or a batch of members (v3+) leave a group. */
import { LeaveGroupRequest } from '../protocol/messages/leave-group-request.generated.ts';
import { LeaveGroupResponse } from '../protocol/messages/leave-group-response.generated.ts';
import { defineApi } from './api.ts';
import { coordinatorContext, groupsReady } from './group-context.ts';

export const leaveGroup = defineApi({
  request: LeaveGroupRequest,
  response: LeaveGroupResponse,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const groups = await groupsReady(ctx);
    return groups.apply(groups.coordinator.leaveGroup(coordinatorContext(ctx), req));
  },
});
