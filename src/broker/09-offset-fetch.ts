/** OffsetFetch (key 9): committed offsets of one group (v0-7) or several (v8+). */
import { OffsetFetchRequest } from '../protocol/messages/offset-fetch-request.generated.ts';
import { OffsetFetchResponse } from '../protocol/messages/offset-fetch-response.generated.ts';
import { defineApi } from './api.ts';
import { coordinatorContext, groupsReady } from './group-context.ts';

export const offsetFetch = defineApi({
  request: OffsetFetchRequest,
  response: OffsetFetchResponse,
  minVersion: 1,
  maxVersion: 9,
  async handle(req, ctx) {
    const groups = await groupsReady(ctx);
    return groups.coordinator.offsetFetch(coordinatorContext(ctx), req);
  },
});
