/** SyncGroup (key 14): the leader hands out assignments; every member waits for its own. */
import { SyncGroupRequest } from '../protocol/messages/sync-group-request.generated.ts';
import { SyncGroupResponse } from '../protocol/messages/sync-group-response.generated.ts';
import { defineApi } from './api.ts';
import { coordinatorContext, groupsReady } from './group-context.ts';

export const syncGroup = defineApi({
  request: SyncGroupRequest,
  response: SyncGroupResponse,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const groups = await groupsReady(ctx);
    return new Promise((resolve) => {
      void groups.apply(groups.coordinator.syncGroup(coordinatorContext(ctx), req, resolve));
    });
  },
});
