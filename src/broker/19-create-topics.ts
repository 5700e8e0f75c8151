/**
 * CreateTopics (key 19). Each topic is validated and created independently; a name given twice
 * in one request gets a single INVALID_REQUEST result, as in Kafka. Manual replica assignments must name
 * only this broker and cover partitions 0..n-1. From v5 the result carries the partition
 * count, replication factor and the topic's configs; from v7 its topic id.
 */
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { CreateTopicsRequest } from '../protocol/messages/create-topics-request.generated.ts';
import { CreateTopicsResponse } from '../protocol/messages/create-topics-response.generated.ts';
import { ZERO_UUID } from '../protocol/primitives/index.ts';
import { defineApi } from './api.ts';
import type { Broker } from './broker.ts';
import { describeTopicConfigs } from './config-view.ts';
import { RepeatedNames } from './request-duplicates.ts';

type CreatableTopic = ReturnType<typeof CreateTopicsRequest.default>['topics'][number];
type TopicResult = ReturnType<typeof CreateTopicsResponse.default>['topics'][number];

export const createTopics = defineApi({
  request: CreateTopicsRequest,
  response: CreateTopicsResponse,
  minVersion: 2,
  maxVersion: 7,
  async handle(req, { broker }) {
    const res = CreateTopicsResponse.default();
    const repeated = new RepeatedNames(req.topics.map((t) => t.name));
    for (const t of req.topics) {
      if (repeated.isRepeated(t.name)) {
        if (repeated.firstTime(t.name)) {
          res.topics.push(failed(t.name, new KafkaError(ErrorCode.INVALID_REQUEST, `Create topics request from client contains a duplicate topic: ${t.name}`)));
        }
        continue;
      }
      res.topics.push(await createOne(broker, t, req.validateOnly));
    }
    return res;
  },
});

async function createOne(broker: Broker, t: CreatableTopic, validateOnly: boolean): Promise<TopicResult> {
  let partitions = t.numPartitions;
  if (t.assignments.length > 0) {
    const problem = checkAssignments(broker, t);
    if (problem) return failed(t.name, problem);
    partitions = t.assignments.length;
  }
  const configs: Record<string, string | null> = {};
  for (const c of t.configs) configs[c.name] = c.value; // a repeated key: the last wins, as in Kafka
  const created = await broker.topics.create({
    name: t.name,
    partitions,
    replicationFactor: t.replicationFactor,
    configs,
    validateOnly,
  });
  if (created instanceof KafkaError) return failed(t.name, created);
  return {
    name: t.name,
    topicId: validateOnly ? ZERO_UUID : created.id,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    topicConfigErrorCode: ErrorCode.NONE,
    numPartitions: created.partitions,
    replicationFactor: 1,
    configs: describeTopicConfigs(broker.config, created.configs, null, { synonyms: false, documentation: false }).map(
      (c) => ({ name: c.name, value: c.value, readOnly: c.readOnly, configSource: c.configSource, isSensitive: c.isSensitive }),
    ),
  };
}

function checkAssignments(broker: Broker, t: CreatableTopic): KafkaError | null {
  if (t.numPartitions !== -1 || t.replicationFactor !== -1) {
    return new KafkaError(
      ErrorCode.INVALID_REQUEST,
      'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.',
    );
  }
  const indexes = t.assignments.map((a) => a.partitionIndex).sort((a, b) => a - b);
  if (indexes.some((p, i) => p !== i)) {
    return new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Partitions should be a consecutive 0-based integer sequence.');
  }
  for (const a of t.assignments) {
    if (a.brokerIds.length !== 1 || a.brokerIds[0] !== broker.nodeId) {
      return new KafkaError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `Replica assignment [${a.brokerIds.join(',')}] for partition ${a.partitionIndex} names brokers other than ${broker.nodeId}.`,
      );
    }
  }
  return null;
}

function failed(name: string, err: KafkaError): TopicResult {
  return {
    name,
    topicId: ZERO_UUID,
    errorCode: err.code,
    errorMessage: err.message,
    topicConfigErrorCode: ErrorCode.NONE,
    numPartitions: -1,
    replicationFactor: -1,
    configs: null,
  };
}
