/** DeleteGroups (key 42): removes empty groups and their committed offsets. */
import { DeleteGroupsRequest } from '../protocol/messages/delete-groups-request.generated.ts';
import { DeleteGroupsResponse } from '../protocol/messages/delete-groups-response.generated.ts';
import { defineApi } from './api.ts';
import { groupsReady } from './group-context.ts';

export const deleteGroups = defineApi({
  request: DeleteGroupsRequest,
  response: DeleteGroupsResponse,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const groups = await groupsReady(ctx);
    const res = DeleteGroupsResponse.default();
    res.results = await groups.apply(groups.coordinator.deleteGroups(req.groupsNames));
    return res;
  },
});
