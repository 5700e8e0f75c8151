/** OffsetDelete (key 47): removes committed offsets of partitions a group no longer reads. */
import { OffsetDeleteRequest } from '../protocol/messages/offset-delete-request.generated.ts';
import { OffsetDeleteResponse } from '../protocol/messages/offset-delete-response.generated.ts';
import { defineApi } from './api.ts';
import { coordinatorContext, groupsReady } from './group-context.ts';

export const offsetDelete = defineApi({
  request: OffsetDeleteRequest,
  response: OffsetDeleteResponse,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    const groups = await groupsReady(ctx);
    return groups.apply(groups.coordinator.offsetDelete(coordinatorContext(ctx), req));
  },
});
