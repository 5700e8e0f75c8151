/**
 * OffsetFetch (key 9): committed offsets of one group (v0-7) or several (v8+). From v9 a member
 * of a KIP-848 consumer group is checked (STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID), as in Kafka;
 * admin clients (null member id, epoch -1) read freely.
 */
import { OffsetFetchRequest } from '../protocol/messages/offset-fetch-request.generated.ts';
import { OffsetFetchResponse } from '../protocol/messages/offset-fetch-response.generated.ts';
import { ErrorCode } from '../common/errors.ts';
import { validateOffsetFetch } from '../coordinator/consumer/index.ts';
import { defineApi } from './api.ts';
import { coordinatorContext, groupsReady } from './group-context.ts';

export const offsetFetch = defineApi({
  request: OffsetFetchRequest,
  response: OffsetFetchResponse,
  minVersion: 1,
  maxVersion: 9,
  async handle(req, ctx) {
    const groups = await groupsReady(ctx);
    const res = groups.coordinator.offsetFetch(coordinatorContext(ctx), req);
    if (ctx.apiVersion >= 9) {
      res.groups = res.groups.map((g, i) => {
        const asked = req.groups[i]!;
        const check = validateOffsetFetch(groups.consumer, asked.groupId, asked.memberId, asked.memberEpoch);
        return check === null || check === ErrorCode.NONE ? g : { ...g, topics: [], errorCode: check };
      });
    }
    return res;
  },
});
