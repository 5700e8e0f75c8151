/**
 * JoinGroup (key 11): a member joins (or rejoins) a classic group. The answer comes when the
 * rebalance's join phase completes, so the request stays parked until then (the connection
 * serves nothing else meanwhile, as in Kafka). An id that is a live KIP-848 consumer group gets
 * INCONSISTENT_GROUP_PROTOCOL (Kafka without online migration).
 */
import { JoinGroupRequest } from '../protocol/messages/join-group-request.generated.ts';
import { JoinGroupResponse } from '../protocol/messages/join-group-response.generated.ts';
import { ErrorCode } from '../common/errors.ts';
import { defineApi } from './api.ts';
import { coordinatorContext, groupsReady } from './group-context.ts';

export const joinGroup = defineApi({
  request: JoinGroupRequest,
  response: JoinGroupResponse,
  minVersion: 0,
  maxVersion: 9,
  async handle(req, ctx) {
    const groups = await groupsReady(ctx);
    const consumerState = groups.consumer.groups.has(req.groupId) ? groups.consumer.groupState(req.groupId) : null;
    if (consumerState !== null && consumerState !== 'Empty' && consumerState !== 'Dead') {
      return { ...JoinGroupResponse.default(), errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL, memberId: req.memberId, protocolName: ctx.apiVersion >= 7 ? null : '' };
    }
    return new Promise((resolve) => {
      void groups.apply(groups.coordinator.joinGroup(coordinatorContext(ctx), req, resolve));
    });
  },
});
