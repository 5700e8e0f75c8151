/**
 * The broker's configuration: what `startBroker` and the CLI accept, resolved against the
 * defaults in metadata/config-defs.ts. Keeps which keys the user set explicitly, because
 * DescribeConfigs reports those as STATIC_BROKER_CONFIG and the rest as DEFAULT_CONFIG, and the
 * dynamic configs set with AlterConfigs (per broker, then cluster-wide), which come first.
 */
import { BROKER_CONFIGS, ConfigSource, TOPIC_CONFIGS } from '../metadata/config-defs.ts';
import { invalidValueMessage } from '../metadata/config-validators.ts';
import type { LogConfig } from '../storage/log-config.ts';

export interface BrokerConfig {
  nodeId: number;
  dataDir: string;
  host: string;
  port: number;
  advertisedHost?: string;
  advertisedPort?: number;
  autoCreateTopics: boolean;
  numPartitions: number;
  deleteTopicEnable: boolean;
  socketRequestMaxBytes: number;
  retentionCheckIntervalMs: number;
  /** producer.id.expiration.ms */
  producerIdExpirationMs: number;
  durability: 'fsync' | 'pagecache';
  groups: {
    offsetsTopicPartitions: number;
    offsetsTopicSegmentBytes: number;
    initialRebalanceDelayMs: number;
    minSessionTimeoutMs: number;
    maxSessionTimeoutMs: number;
    maxGroupSize: number;
    offsetMetadataMaxBytes: number;
    offsetsRetentionMs: number;
    offsetsRetentionCheckIntervalMs: number;
    consumerSessionTimeoutMs: number;
    consumerHeartbeatIntervalMs: number;
    consumerMaxGroupSize: number;
  };
  transactions: {
    /** transaction.state.log.num.partitions */
    stateLogNumPartitions: number;
    /** transaction.state.log.segment.bytes */
    stateLogSegmentBytes: number;
    /** transaction.max.timeout.ms */
    maxTimeoutMs: number;
    /** transaction.abort.timed.out.transaction.cleanup.interval.ms */
    abortTimedOutIntervalMs: number;
    /** transactional.id.expiration.ms */
    idExpirationMs: number;
    /** transaction.remove.expired.transaction.cleanup.interval.ms */
    removeExpiredIntervalMs: number;
  };
  /** log.cleaner.enable: compact topics with cleanup.policy=compact. */
  cleanerEnable: boolean;
  /** log.cleaner.backoff.ms: the cleaner's sleep when no log needs cleaning. */
  cleanerBackoffMs: number;
  /** Broker config values set explicitly (by options or `config`), by Kafka name. */
  explicit: ReadonlyMap<string, string>;
  /** Dynamic broker configs (AlterConfigs); replaced as a whole when they change. */
  dynamic: DynamicBrokerConfigs;
}

export interface DynamicBrokerConfigs {
  /** This broker's own (resource name = node id): DYNAMIC_BROKER_CONFIG. */
  perBroker: ReadonlyMap<string, string>;
  /** Cluster-wide defaults (resource name ""): DYNAMIC_DEFAULT_BROKER_CONFIG. */
  clusterDefault: ReadonlyMap<string, string>;
}

export interface ConfigSynonym {
  name: string;
  value: string | null;
  source: number;
}

/**
 * Where a broker config's value comes from, first to last, as Kafka lists its synonyms:
 * per-broker dynamic, cluster-wide dynamic, static (startup), default (left out when null).
 */
export function brokerConfigChain(config: BrokerConfig, name: string): ConfigSynonym[] {
  const chain: ConfigSynonym[] = [];
  const add = (value: string | null | undefined, source: number) => {
    if (value !== undefined && value !== null) chain.push({ name, value, source });
  };
  add(config.dynamic.perBroker.get(name), ConfigSource.DYNAMIC_BROKER_CONFIG);
  add(config.dynamic.clusterDefault.get(name), ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
  add(config.explicit.get(name), ConfigSource.STATIC_BROKER_CONFIG);
  add(BROKER_CONFIGS.get(name)?.default, ConfigSource.DEFAULT_CONFIG);
  return chain;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Resolves explicit broker settings (Kafka names) into a BrokerConfig; throws ConfigError. */
export function resolveBrokerConfig(base: {
  dataDir: string;
  host: string;
  port: number;
  advertisedHost?: string;
  advertisedPort?: number;
  nodeId?: number;
  settings: Record<string, string>;
}): BrokerConfig {
  const explicit = new Map<string, string>();
  for (const [name, value] of Object.entries(base.settings)) {
    const def = BROKER_CONFIGS.get(name);
    if (!def) throw new ConfigError(`unknown broker config '${name}'`);
    const problem = def.validate?.(value);
    if (problem) throw new ConfigError(invalidValueMessage(name, problem));
    explicit.set(name, value);
  }
  const get = (name: string): string => explicit.get(name) ?? BROKER_CONFIGS.get(name)!.default ?? '';
  return {
    nodeId: base.nodeId ?? Number(get('node.id')),
    dataDir: base.dataDir,
    host: base.host,
    port: base.port,
    advertisedHost: base.advertisedHost,
    advertisedPort: base.advertisedPort,
    autoCreateTopics: get('auto.create.topics.enable') === 'true',
    numPartitions: Number(get('num.partitions')),
    deleteTopicEnable: get('delete.topic.enable') === 'true',
    socketRequestMaxBytes: Number(get('socket.request.max.bytes')),
    retentionCheckIntervalMs: Number(get('log.retention.check.interval.ms')),
    producerIdExpirationMs: Number(get('producer.id.expiration.ms')),
    durability: get('tributary.durability') as 'fsync' | 'pagecache',
    groups: {
      offsetsTopicPartitions: Number(get('offsets.topic.num.partitions')),
      offsetsTopicSegmentBytes: Number(get('offsets.topic.segment.bytes')),
      initialRebalanceDelayMs: Number(get('group.initial.rebalance.delay.ms')),
      minSessionTimeoutMs: Number(get('group.min.session.timeout.ms')),
      maxSessionTimeoutMs: Number(get('group.max.session.timeout.ms')),
      maxGroupSize: Number(get('group.max.size')),
      offsetMetadataMaxBytes: Number(get('offset.metadata.max.bytes')),
      offsetsRetentionMs: Number(get('offsets.retention.minutes')) * 60_000,
      offsetsRetentionCheckIntervalMs: Number(get('offsets.retention.check.interval.ms')),
      consumerSessionTimeoutMs: Number(get('group.consumer.session.timeout.ms')),
      consumerHeartbeatIntervalMs: Number(get('group.consumer.heartbeat.interval.ms')),
      consumerMaxGroupSize: Number(get('group.consumer.max.size')),
    },
    transactions: {
      stateLogNumPartitions: Number(get('transaction.state.log.num.partitions')),
      stateLogSegmentBytes: Number(get('transaction.state.log.segment.bytes')),
      maxTimeoutMs: Number(get('transaction.max.timeout.ms')),
      abortTimedOutIntervalMs: Number(get('transaction.abort.timed.out.transaction.cleanup.interval.ms')),
      idExpirationMs: Number(get('transactional.id.expiration.ms')),
      removeExpiredIntervalMs: Number(get('transaction.remove.expired.transaction.cleanup.interval.ms')),
    },
    cleanerEnable: get('log.cleaner.enable') === 'true',
    cleanerBackoffMs: Number(get('log.cleaner.backoff.ms')),
    explicit,
    dynamic: { perBroker: new Map(), clusterDefault: new Map() },
  };
}

/** Static broker configs in hours that stand in for an unset millisecond synonym, as in Kafka. */
const HOURS_FALLBACK: Record<string, string> = { 'retention.ms': 'log.retention.hours', 'segment.ms': 'log.roll.hours' };

/**
 * A topic config's effective value: topic override, else its broker synonym (dynamic per
 * broker, dynamic cluster-wide, static), else the topic config's default.
 */
export function topicConfigValue(config: BrokerConfig, overrides: Record<string, string>, name: string): string {
  const override = overrides[name];
  if (override !== undefined) return override;
  const def = TOPIC_CONFIGS.get(name);
  if (!def) throw new Error(`unknown topic config ${name}`);
  if (def.brokerSynonym) {
    const set = brokerConfigChain(config, def.brokerSynonym).find((s) => s.source !== ConfigSource.DEFAULT_CONFIG);
    if (set) return set.value!;
  }
  const hours = HOURS_FALLBACK[name] && config.explicit.get(HOURS_FALLBACK[name]);
  if (hours) return String(Number(hours) * 3_600_000);
  return def.default ?? '';
}

/** Safe-integer view of a long config ("9223372036854775807" becomes MAX_SAFE_INTEGER). */
function longValue(v: string): number {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : n > 0 ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
}

export interface TopicSettings {
  log: LogConfig;
  maxMessageBytes: number;
  logAppendTime: boolean;
  timestampBeforeMaxMs: number;
  timestampAfterMaxMs: number;
  /** compression.type: 'producer' (keep the producer's codec), 'uncompressed', 'gzip', 'snappy', 'lz4' or 'zstd'. */
  compressionType: string;
}

/** Everything the produce path and the log need from a topic's configs. */
export function topicSettings(config: BrokerConfig, overrides: Record<string, string>): TopicSettings {
  const v = (name: string) => topicConfigValue(config, overrides, name);
  // Time and size retention delete segments only under cleanup.policy=delete; a compact-only
  // topic keeps its segments (the cleaner bounds it), as in Kafka.
  const policy = v('cleanup.policy').split(',').map((s) => s.trim());
  const deletes = policy.includes('delete');
  return {
    log: {
      segmentBytes: longValue(v('segment.bytes')),
      segmentMs: longValue(v('segment.ms')),
      indexIntervalBytes: longValue(v('index.interval.bytes')),
      segmentIndexBytes: longValue(v('segment.index.bytes')),
      retentionMs: deletes ? longValue(v('retention.ms')) : -1,
      retentionBytes: deletes ? longValue(v('retention.bytes')) : -1,
      fileDeleteDelayMs: longValue(v('file.delete.delay.ms')),
      durability: config.durability,
      compact: policy.includes('compact'),
      deleteRetentionMs: longValue(v('delete.retention.ms')),
      minCompactionLagMs: longValue(v('min.compaction.lag.ms')),
      maxCompactionLagMs: longValue(v('max.compaction.lag.ms')),
      minCleanableDirtyRatio: Number(v('min.cleanable.dirty.ratio')),
    },
    maxMessageBytes: longValue(v('max.message.bytes')),
    logAppendTime: v('message.timestamp.type') === 'LogAppendTime',
    timestampBeforeMaxMs: longValue(v('message.timestamp.before.max.ms')),
    timestampAfterMaxMs: longValue(v('message.timestamp.after.max.ms')),
    compressionType: v('compression.type'),
  };
}
