/**
 * IncrementalAlterConfigs (key 44): SET, DELETE, APPEND and SUBTRACT on single configs of a
 * topic or of the dynamic broker configs. Versions 0-1, as Kafka 4.x serves them. The walk
 * and the rules are in config-alter.ts and metadata/config-changes.ts.
 */
import { IncrementalAlterConfigsRequest } from '../protocol/messages/incremental-alter-configs-request.generated.ts';
import { IncrementalAlterConfigsResponse } from '../protocol/messages/incremental-alter-configs-response.generated.ts';
import { defineApi } from './api.ts';
import { alterConfigResources } from './config-alter.ts';

export const incrementalAlterConfigs = defineApi({
  request: IncrementalAlterConfigsRequest,
  response: IncrementalAlterConfigsResponse,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, { broker }) {
    const resources = req.resources.map((r) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      changes: r.configs.map((c) => ({ name: c.name, op: c.configOperation, value: c.value })),
    }));
    const res = IncrementalAlterConfigsResponse.default();
    res.responses = await alterConfigResources(broker.configAdmin, resources, 'incremental', req.validateOnly);
    return res;
  },
});
