/** ConsumerGroupDescribe (key 69): KIP-848 groups with members, assignments and targets. */
import { ErrorCode } from '../common/errors.ts';
import { describeConsumerGroups } from '../coordinator/consumer/index.ts';
import { ConsumerGroupDescribeRequest } from '../protocol/messages/consumer-group-describe-request.generated.ts';
import { ConsumerGroupDescribeResponse } from '../protocol/messages/consumer-group-describe-response.generated.ts';
import { defineApi } from './api.ts';
import { groupsReady } from './group-context.ts';

export const consumerGroupDescribe = defineApi({
  request: ConsumerGroupDescribeRequest,
  response: ConsumerGroupDescribeResponse,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    const groups = await groupsReady(ctx);
    const res = ConsumerGroupDescribeResponse.default();
    res.groups = describeConsumerGroups(groups.consumer, req.groupIds).map((g) => {
      const classic = groups.coordinator.groupState(g.groupId);
      if (g.errorCode !== ErrorCode.GROUP_ID_NOT_FOUND || classic === null || classic === 'Dead') return g;
      return { ...g, errorMessage: `Group ${g.groupId} is not a consumer group.` };
    });
    return res;
  },
});
