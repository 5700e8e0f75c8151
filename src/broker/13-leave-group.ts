/**
 * LeaveGroup (key 13): one member (v0-2) or a batch of members (v3+) leave a group. Members of
 * a KIP-848 consumer group (e.g. the AdminClient's removeMembersFromConsumerGroup) leave as if
 * they had sent a leaving heartbeat (member epoch -1), found by instance id or member id.
 */
import { LeaveGroupRequest } from '../protocol/messages/leave-group-request.generated.ts';
import { LeaveGroupResponse } from '../protocol/messages/leave-group-response.generated.ts';
import { ErrorCode } from '../common/errors.ts';
import { staticMember } from '../coordinator/consumer/group.ts';
import { defineApi, type RequestContext } from './api.ts';
import type { GroupService } from './group-service.ts';
import { coordinatorContext, groupsReady } from './group-context.ts';

export const leaveGroup = defineApi({
  request: LeaveGroupRequest,
  response: LeaveGroupResponse,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const groups = await groupsReady(ctx);
    if (ctx.apiVersion >= 3 && groups.consumer.groups.has(req.groupId)) return leaveConsumerGroup(groups, ctx, req);
    return groups.apply(groups.coordinator.leaveGroup(coordinatorContext(ctx), req));
  },
});

async function leaveConsumerGroup(
  groups: GroupService,
  ctx: RequestContext,
  req: { groupId: string; members: { memberId: string; groupInstanceId: string | null }[] },
) {
  const res = { ...LeaveGroupResponse.default(), members: [] as { memberId: string; groupInstanceId: string | null; errorCode: number }[] };
  for (const who of req.members) {
    const group = groups.consumer.groups.get(req.groupId);
    const member = who.groupInstanceId !== null && group ? staticMember(group, who.groupInstanceId) : group?.members.get(who.memberId);
    let errorCode: number = ErrorCode.NONE;
    if (!member || (who.memberId !== '' && who.memberId !== member.memberId)) {
      errorCode = who.groupInstanceId !== null && member ? ErrorCode.FENCED_INSTANCE_ID : ErrorCode.UNKNOWN_MEMBER_ID;
    } else {
      const left = await groups.apply(
        groups.consumer.heartbeat(
          { ...coordinatorContext(ctx), apiVersion: 1 },
          {
            groupId: req.groupId,
            memberId: member.memberId,
            memberEpoch: -1,
            instanceId: member.instanceId,
            rackId: null,
            rebalanceTimeoutMs: -1,
            subscribedTopicNames: null,
            subscribedTopicRegex: null,
            serverAssignor: null,
            topicPartitions: null,
          },
        ),
      );
      errorCode = left.errorCode;
    }
    res.members.push({ memberId: who.memberId, groupInstanceId: who.groupInstanceId, errorCode });
  }
  return res;
}
