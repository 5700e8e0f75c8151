/** ListGroups (key 16): every group, optionally filtered by state (v4+) and type (v5+). */
import { ListGroupsRequest } from '../protocol/messages/list-groups-request.generated.ts';
import { ListGroupsResponse } from '../protocol/messages/list-groups-response.generated.ts';
import { defineApi } from './api.ts';
import { groupsReady } from './group-context.ts';

export const listGroups = defineApi({
  request: ListGroupsRequest,
  response: ListGroupsResponse,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const groups = await groupsReady(ctx);
    const res = ListGroupsResponse.default();
    res.groups = groups.coordinator.listGroups(req.statesFilter, req.typesFilter);
    return res;
  },
});
