/**
 * AlterConfigs (key 33), the legacy API: each resource's configs in the request replace its
 * whole set (topic overrides, or the dynamic configs of a broker resource). Versions 0-2, as
 * Kafka 4.x serves them. The walk and the rules are in config-alter.ts.
 */
import { AlterConfigsRequest } from '../protocol/messages/alter-configs-request.generated.ts';
import { AlterConfigsResponse } from '../protocol/messages/alter-configs-response.generated.ts';
import { ConfigOp } from '../metadata/config-changes.ts';
import { defineApi } from './api.ts';
import { alterConfigResources } from './config-alter.ts';

export const alterConfigs = defineApi({
  request: AlterConfigsRequest,
  response: AlterConfigsResponse,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, { broker }) {
    const resources = req.resources.map((r) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      changes: r.configs.map((c) => ({ name: c.name, op: ConfigOp.SET, value: c.value })),
    }));
    const res = AlterConfigsResponse.default();
    res.responses = await alterConfigResources(broker.configAdmin, resources, 'replace', req.validateOnly);
    return res;
  },
});
