/**
 * ConsumerGroupHeartbeat (key 68): the KIP-848 consumer protocol — members join, heartbeat,
 * reconcile their assignment toward the server-side target assignment, and leave, all through
 * this one API. A group id is of one kind at a time: an id that is a classic group with
 * members gets GROUP_ID_NOT_FOUND, as Kafka answers (it converts only empty classic groups,
 * which here simply become consumer groups; their offsets stay).
 */
import { ErrorCode } from '../common/errors.ts';
import { errorResponse } from '../coordinator/consumer/index.ts';
import { ConsumerGroupHeartbeatRequest } from '../protocol/messages/consumer-group-heartbeat-request.generated.ts';
import { ConsumerGroupHeartbeatResponse } from '../protocol/messages/consumer-group-heartbeat-response.generated.ts';
import { defineApi } from './api.ts';
import { coordinatorContext, groupsReady } from './group-context.ts';

export const consumerGroupHeartbeat = defineApi({
  request: ConsumerGroupHeartbeatRequest,
  response: ConsumerGroupHeartbeatResponse,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    const groups = await groupsReady(ctx);
    const classic = groups.coordinator.groupState(req.groupId);
    if (classic !== null && classic !== 'Empty' && classic !== 'Dead') {
      return errorResponse(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} is not a consumer group.`);
    }
    return groups.apply(groups.consumer.heartbeat(coordinatorContext(ctx), req));
  },
});
