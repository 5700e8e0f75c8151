/**
 * Metadata (key 3): brokers, controller, and topics with their partitions, leaders and epochs.
 *
 * Topic selection follows Kafka: v0 with an empty list, or v1+ with a null list, means every
 * topic; v1+ with an empty list means none. v12+ may name topics by id (v10 and v11 carry the
 * field but Kafka refuses by-id lookups there with INVALID_REQUEST). An unknown topic is
 * created when auto.create.topics.enable is on and the request allows it (always before v4,
 * AllowAutoTopicCreation from v4); creation is awaited, so the response already describes it.
 */
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { isInternalTopic, topicNameProblem } from '../metadata/topic-names.ts';
import type { TopicRecord } from '../metadata/topic-store.ts';
import { MetadataRequest } from '../protocol/messages/metadata-request.generated.ts';
import { MetadataResponse } from '../protocol/messages/metadata-response.generated.ts';
import { ZERO_UUID } from '../protocol/primitives/index.ts';
import { defineApi } from './api.ts';
import { CLUSTER_ALL_OPERATIONS, NOT_REQUESTED, TOPIC_ALL_OPERATIONS } from './authorized-operations.ts';
import type { Broker } from './broker.ts';
import { LEADER_EPOCH } from './leader-epoch.ts';


type TopicEntry = ReturnType<typeof MetadataResponse.default>['topics'][number];

export const metadata = defineApi({
  request: MetadataRequest,
  response: MetadataResponse,
  minVersion: 0,
  maxVersion: 12,
  async handle(req, { broker, apiVersion }) {
    const res = MetadataResponse.default();
    res.brokers = [{ nodeId: broker.nodeId, host: broker.advertised.host, port: broker.advertised.port, rack: null }];
    res.clusterId = broker.clusterId;
    res.controllerId = broker.nodeId;
    const withOps = req.includeTopicAuthorizedOperations;
    const all = req.topics === null || (apiVersion === 0 && req.topics.length === 0);
    if (all) {
      res.topics = broker.topics
        .list()
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((t) => describeTopic(broker, t, withOps));
    } else {
      const allowCreate = broker.config.autoCreateTopics && (apiVersion < 4 || req.allowAutoTopicCreation);
      res.topics = [];
      const asked = new Set<string>();
      for (const wanted of req.topics!) {
        const key = wanted.name ?? `id:${wanted.topicId}`;
        if (asked.has(key)) continue; // a topic asked twice is described once, as in Kafka
        asked.add(key);
        const byId = wanted.name === null || (wanted.topicId !== ZERO_UUID && wanted.name === '');
        if (byId && apiVersion < 12) {
          // Kafka: "Topic IDs are not supported on versions 10 and 11".
          res.topics.push(errorTopic('', wanted.topicId, ErrorCode.INVALID_REQUEST));
          continue;
        }
        res.topics.push(await resolveTopic(broker, wanted, allowCreate, withOps));
      }
    }
    res.clusterAuthorizedOperations = req.includeClusterAuthorizedOperations ? CLUSTER_ALL_OPERATIONS : NOT_REQUESTED;
    return res;
  },
});

async function resolveTopic(
  broker: Broker,
  wanted: { topicId: string; name: string | null },
  allowCreate: boolean,
  withOps: boolean,
): Promise<TopicEntry> {
  if (wanted.name === null || (wanted.topicId !== ZERO_UUID && wanted.name === '')) {
    const byId = broker.topics.getById(wanted.topicId);
    if (!byId) return errorTopic(null, wanted.topicId, ErrorCode.UNKNOWN_TOPIC_ID);
    return describeTopic(broker, byId, withOps);
  }
  const name = wanted.name;
  const existing = broker.topics.get(name);
  if (existing) return describeTopic(broker, existing, withOps);
  if (topicNameProblem(name)) return errorTopic(name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION);
  if (!allowCreate || isInternalTopic(name)) return errorTopic(name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const created = await broker.topics.create({ name, partitions: -1, replicationFactor: -1, configs: {} });
  if (created instanceof KafkaError) {
    // Lost a race with a concurrent creation of the same topic: describe the winner.
    const now = broker.topics.get(name);
    if (now) return describeTopic(broker, now, withOps);
    return errorTopic(name, ZERO_UUID, created.code);
  }
  broker.logger.info('auto-created topic', { topic: name, partitions: created.partitions });
  return describeTopic(broker, created, withOps);
}

function errorTopic(name: string | null, topicId: string, errorCode: number): TopicEntry {
  return {
    errorCode,
    name,
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: NOT_REQUESTED,
  };
}

function describeTopic(broker: Broker, t: TopicRecord, withOps: boolean): TopicEntry {
  const node = broker.nodeId;
  const partitions = [];
  for (let p = 0; p < t.partitions; p++) {
    const offline = broker.topics.failedPartitions.has(`${t.name}-${p}`) || broker.topics.logs.get(t.name, p)?.offline;
    partitions.push({
      errorCode: offline ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
      partitionIndex: p,
      leaderId: offline ? -1 : node,
      leaderEpoch: LEADER_EPOCH,
      replicaNodes: [node],
      isrNodes: offline ? [] : [node],
      offlineReplicas: offline ? [node] : [],
    });
  }
  return {
    errorCode: ErrorCode.NONE,
    name: t.name,
    topicId: t.id,
    isInternal: isInternalTopic(t.name),
    partitions,
    topicAuthorizedOperations: withOps ? TOPIC_ALL_OPERATIONS : NOT_REQUESTED,
  };
}
