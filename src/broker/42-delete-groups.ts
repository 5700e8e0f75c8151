/**
 * DeleteGroups (key 42): removes empty groups and their committed offsets. A KIP-848 consumer
 * group is removed by its coordinator (NON_EMPTY_GROUP while it has members); its offsets, kept
 * in the shared store, are removed with it.
 */
import { DeleteGroupsRequest } from '../protocol/messages/delete-groups-request.generated.ts';
import { DeleteGroupsResponse } from '../protocol/messages/delete-groups-response.generated.ts';
import { ErrorCode } from '../common/errors.ts';
import { deleteConsumerGroup } from '../coordinator/consumer/index.ts';
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
    const codes = new Map<string, number>();
    for (const groupId of new Set(req.groupsNames)) {
      const consumer = deleteConsumerGroup(groups.consumer, groupId);
      if (consumer === null) continue;
      const code = await groups.apply(consumer);
      codes.set(groupId, code);
    }
    const classicIds = req.groupsNames.filter((id) => !codes.has(id) || codes.get(id) === ErrorCode.NONE);
    const classic = classicIds.length > 0 ? await groups.apply(groups.coordinator.deleteGroups(classicIds)) : [];
    for (const r of classic) {
      // A deleted consumer group may have had no offsets (no classic entry): that is success.
      if (codes.get(r.groupId) === ErrorCode.NONE && r.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) continue;
      codes.set(r.groupId, r.errorCode);
    }
    res.results = req.groupsNames.map((groupId) => ({ groupId, errorCode: codes.get(groupId) ?? ErrorCode.GROUP_ID_NOT_FOUND }));
    return res;
  },
});
