/**
 * DescribeConfigs (key 32): topic configs (overrides, broker synonyms, defaults) and this
 * broker's configs. Resource types: 2 = topic, 4 = broker (our node id, or "" for the
 * cluster-wide dynamic defaults set with AlterConfigs).
 */
import { ErrorCode } from '../common/errors.ts';
import { topicNameProblem } from '../metadata/topic-names.ts';
import { DescribeConfigsRequest } from '../protocol/messages/describe-configs-request.generated.ts';
import { DescribeConfigsResponse } from '../protocol/messages/describe-configs-response.generated.ts';
import { defineApi } from './api.ts';
import { RESOURCE_BROKER, RESOURCE_TOPIC } from './config-alter.ts';
import { describeBrokerConfigs, describeClusterDefaults, describeTopicConfigs, type DescribedConfig } from './config-view.ts';

export const describeConfigs = defineApi({
  request: DescribeConfigsRequest,
  response: DescribeConfigsResponse,
  minVersion: 1,
  maxVersion: 4,
  handle(req, { broker }) {
    const res = DescribeConfigsResponse.default();
    const opts = { synonyms: req.includeSynonyms, documentation: req.includeDocumentation };
    res.results = req.resources.map((r) => {
      const result = {
        errorCode: ErrorCode.NONE as number,
        errorMessage: null as string | null,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        configs: [] as DescribedConfig[],
      };
      if (r.resourceType === RESOURCE_TOPIC) {
        const topic = broker.topics.get(r.resourceName);
        if (!topic) {
          const invalid = topicNameProblem(r.resourceName);
          result.errorCode = invalid ? ErrorCode.INVALID_TOPIC_EXCEPTION : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          result.errorMessage = invalid ?? `Topic ${r.resourceName} does not exist.`;
        } else {
          result.configs = describeTopicConfigs(broker.config, topic.configs, r.configurationKeys, opts);
        }
      } else if (r.resourceType === RESOURCE_BROKER) {
        if (r.resourceName === '') {
          result.configs = describeClusterDefaults(broker.config, r.configurationKeys, opts);
        } else if (r.resourceName === String(broker.nodeId)) {
          result.configs = describeBrokerConfigs(broker.config, broker.advertised, r.configurationKeys, opts);
        } else {
          result.errorCode = ErrorCode.INVALID_REQUEST;
          result.errorMessage = `Unexpected broker id, expected ${broker.nodeId} or empty string, but received ${r.resourceName}`;
        }
      } else {
        result.errorCode = ErrorCode.INVALID_REQUEST;
        result.errorMessage = `Unsupported resource type ${r.resourceType}`;
      }
      return result;
    });
    return res;
  },
});
