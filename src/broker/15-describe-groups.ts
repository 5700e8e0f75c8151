/**
 * DescribeGroups (key 15): state, protocol and members of classic groups. A KIP-848 consumer
 * group is not a classic group: Kafka 4.3 (v0-5) describes it as Dead with no protocol, and so do
 * we (its offsets would otherwise show through as an Empty "simple" group).
 */
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
    res.groups = groups.coordinator.describeGroups(req.groups).map((g) =>
      groups.consumer.groups.has(g.groupId)
        ? { ...g, groupState: 'Dead', protocolType: '', protocolData: '', members: [] }
        : g,
    );
    return res;
  },
});
