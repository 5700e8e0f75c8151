/** DescribeGroups (key 15): state, protocol and members of classic groups. */
import { DescribeGroupsRequest } from '../protocol/messages/describe-groups-request.generated.ts';
import { DescribeGroupsResponse } from '../protocol/messages/describe-groups-response.generated.ts';
import { defineApi } from './api.ts';
import { groupsReady } from './group-context.ts';

export const describeGroups = defineApi({
  request: DescribeGroupsRequest,
  response: DescribeGroupsResponse,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const groups = await groupsReady(ctx);
    const res = DescribeGroupsResponse.default();
    res.groups = groups.coordinator.describeGroups(req.groups);
    return res;
  },
});
