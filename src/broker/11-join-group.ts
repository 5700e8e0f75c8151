/**
 * JoinGroup (key 11): a member joins (or rejoins) a classic group. The answer comes when the
 * rebalance's join phase completes, so the request stays parked until then (the connection
 * serves nothing else meanwhile, as in Kafka).
 */
import { JoinGroupRequest } from '../protocol/messages/join-group-request.generated.ts';
import { JoinGroupResponse } from '../protocol/messages/join-group-response.generated.ts';
import { defineApi } from './api.ts';
import { coordinatorContext, groupsReady } from './group-context.ts';

export const joinGroup = defineApi({
  request: JoinGroupRequest,
  response: JoinGroupResponse,
  minVersion: 0,
  maxVersion: 9,
  async handle(req, ctx) {
    const groups = await groupsReady(ctx);
    return new Promise((resolve) => {
      void groups.apply(groups.coordinator.joinGroup(coordinatorContext(ctx), req, resolve));
    });
  },
});
