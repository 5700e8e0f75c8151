/**
 * ListGroups (key 16): every group, classic and KIP-848 consumer groups, optionally filtered by
 * state (v4+, case-insensitive) and type (v5+).
 */
import { ListGroupsRequest } from '../protocol/messages/list-groups-request.generated.ts';
import { ListGroupsResponse } from '../protocol/messages/list-groups-response.generated.ts';
import { listConsumerGroups } from '../coordinator/consumer/index.ts';
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
    const states = new Set(req.statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(req.typesFilter.map((s) => s.toLowerCase()));
    const consumer = listConsumerGroups(groups.consumer).filter(
      (g) => (states.size === 0 || states.has(g.groupState.toLowerCase())) && (types.size === 0 || types.has('consumer')),
    );
    // A consumer group's offsets also make a classic (simple) entry; list the group once.
    const consumerIds = new Set(groups.consumer.groupIds());
    const classic = groups.coordinator.listGroups(req.statesFilter, req.typesFilter).filter((g) => !consumerIds.has(g.groupId));
    res.groups = [...classic, ...consumer];
    return res;
  },
});
