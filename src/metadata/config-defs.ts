/**
 * Definitions of the topic and broker configs Tributary understands: Kafka's names, types,
 * defaults and validation, and for each topic config the broker config that supplies its
 * default (Kafka's "synonyms"). DescribeConfigs, CreateTopics and the log layer read these.
 */

/** DescribeConfigs ConfigType values. */
export const ConfigType = { UNKNOWN: 0, BOOLEAN: 1, STRING: 2, INT: 3, SHORT: 4, LONG: 5, DOUBLE: 6, LIST: 7, CLASS: 8, PASSWORD: 9 } as const;
export type ConfigType = (typeof ConfigType)[keyof typeof ConfigType];

/** DescribeConfigs ConfigSource values. */
export const ConfigSource = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
} as const;

export interface ConfigDef {
  name: string;
  type: ConfigType;
  /** Default as Kafka prints it (a string); null for "no default". */
  default: string | null;
  doc: string;
  /** For topic configs: the broker config whose value is this config's default. */
  brokerSynonym?: string;
  /** Returns an error message for an invalid value, or null. */
  validate?: (value: string) => string | null;
  readOnly?: boolean;
  sensitive?: boolean;
}

const LONG_MAX = '9223372036854775807';

function intRange(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): string | null => {
    if (!/^-?\d+$/.test(v.trim())) return `'${v}' is not an integer`;
    const n = Number(v);
    return n < min || n > max ? `value ${v} must be in [${min}, ${max}]` : null;
  };
}

function longAtLeast(min: number) {
  return (v: string): string | null => {
    if (!/^-?\d+$/.test(v.trim())) return `'${v}' is not an integer`;
    return BigInt(v.trim()) < BigInt(min) ? `value ${v} must be at least ${min}` : null;
  };
}

function oneOf(...allowed: string[]) {
  return (v: string): string | null => (allowed.includes(v) ? null : `'${v}' is not one of ${allowed.join(', ')}`);
}

function boolean(v: string): string | null {
  return v === 'true' || v === 'false' ? null : `'${v}' is not a boolean`;
}

function ratio(v: string): string | null {
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? null : `'${v}' must be a number in [0, 1]`;
}

function cleanupPolicy(v: string): string | null {
  const parts = v.split(',').map((s) => s.trim());
  return parts.length > 0 && parts.every((p) => p === 'delete' || p === 'compact')
    ? null
    : `'${v}' must be a list of delete and compact`;
}

const defs: ConfigDef[] = [
  { name: 'cleanup.policy', type: ConfigType.LIST, default: 'delete', brokerSynonym: 'log.cleanup.policy', validate: cleanupPolicy, doc: 'delete or compact (or both): how old log segments are discarded.' },
  { name: 'compression.type', type: ConfigType.STRING, default: 'producer', brokerSynonym: 'compression.type', validate: oneOf('producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'), doc: 'Final compression of the topic; producer keeps what the producer sent.' },
  { name: 'delete.retention.ms', type: ConfigType.LONG, default: '86400000', brokerSynonym: 'log.cleaner.delete.retention.ms', validate: longAtLeast(0), doc: 'How long delete tombstones are kept on compacted topics.' },
  { name: 'file.delete.delay.ms', type: ConfigType.LONG, default: '60000', brokerSynonym: 'log.segment.delete.delay.ms', validate: longAtLeast(0), doc: 'Delay before a deleted segment file is removed from disk.' },
  { name: 'flush.messages', type: ConfigType.LONG, default: LONG_MAX, brokerSynonym: 'log.flush.interval.messages', validate: longAtLeast(1), doc: 'Accepted for compatibility; acks=all writes are always synced before acknowledgement.' },
  { name: 'flush.ms', type: ConfigType.LONG, default: LONG_MAX, brokerSynonym: 'log.flush.interval.ms', validate: longAtLeast(0), doc: 'Accepted for compatibility; acks=all writes are always synced before acknowledgement.' },
  { name: 'index.interval.bytes', type: ConfigType.INT, default: '4096', brokerSynonym: 'log.index.interval.bytes', validate: intRange(0, 2 ** 31 - 1), doc: 'Bytes of log between offset index entries.' },
  { name: 'max.compaction.lag.ms', type: ConfigType.LONG, default: LONG_MAX, brokerSynonym: 'log.cleaner.max.compaction.lag.ms', validate: longAtLeast(1), doc: 'Longest time a record may stay uncompacted.' },
  { name: 'max.message.bytes', type: ConfigType.INT, default: '1048588', brokerSynonym: 'message.max.bytes', validate: intRange(0, 2 ** 31 - 1), doc: 'Largest record batch accepted, in bytes.' },
  { name: 'message.timestamp.after.max.ms', type: ConfigType.LONG, default: '3600000', brokerSynonym: 'log.message.timestamp.after.max.ms', validate: longAtLeast(0), doc: 'How far in the future a CreateTime timestamp may be.' },
  { name: 'message.timestamp.before.max.ms', type: ConfigType.LONG, default: LONG_MAX, brokerSynonym: 'log.message.timestamp.before.max.ms', validate: longAtLeast(0), doc: 'How far in the past a CreateTime timestamp may be.' },
  { name: 'message.timestamp.type', type: ConfigType.STRING, default: 'CreateTime', brokerSynonym: 'log.message.timestamp.type', validate: oneOf('CreateTime', 'LogAppendTime'), doc: 'CreateTime keeps the producer timestamp; LogAppendTime stamps the broker time.' },
  { name: 'min.cleanable.dirty.ratio', type: ConfigType.DOUBLE, default: '0.5', brokerSynonym: 'log.cleaner.min.cleanable.ratio', validate: ratio, doc: 'Dirty share of the log that makes it eligible for compaction.' },
  { name: 'min.compaction.lag.ms', type: ConfigType.LONG, default: '0', brokerSynonym: 'log.cleaner.min.compaction.lag.ms', validate: longAtLeast(0), doc: 'Shortest time a record stays uncompacted.' },
  { name: 'min.insync.replicas', type: ConfigType.INT, default: '1', brokerSynonym: 'min.insync.replicas', validate: intRange(1), doc: 'Replicas that must acknowledge an acks=all write.' },
  { name: 'preallocate', type: ConfigType.BOOLEAN, default: 'false', brokerSynonym: 'log.preallocate', validate: boolean, doc: 'Accepted for compatibility; segments are not preallocated.' },
  { name: 'retention.bytes', type: ConfigType.LONG, default: '-1', brokerSynonym: 'log.retention.bytes', validate: longAtLeast(-1), doc: 'Largest size of a partition before old segments are deleted; -1 for no limit.' },
  { name: 'retention.ms', type: ConfigType.LONG, default: '604800000', brokerSynonym: 'log.retention.ms', validate: longAtLeast(-1), doc: 'How long segments are kept; -1 for no limit.' },
  { name: 'segment.bytes', type: ConfigType.INT, default: '1073741824', brokerSynonym: 'log.segment.bytes', validate: intRange(14, 2 ** 31 - 1), doc: 'Size at which the active segment rolls.' },
  { name: 'segment.index.bytes', type: ConfigType.INT, default: '10485760', brokerSynonym: 'log.index.size.max.bytes', validate: intRange(4), doc: 'Largest offset index of a segment.' },
  { name: 'segment.jitter.ms', type: ConfigType.LONG, default: '0', brokerSynonym: 'log.roll.jitter.ms', validate: longAtLeast(0), doc: 'Accepted for compatibility; no jitter is applied.' },
  { name: 'segment.ms', type: ConfigType.LONG, default: '604800000', brokerSynonym: 'log.roll.ms', validate: longAtLeast(1), doc: 'Age at which the active segment rolls.' },
  { name: 'unclean.leader.election.enable', type: ConfigType.BOOLEAN, default: 'false', brokerSynonym: 'unclean.leader.election.enable', validate: boolean, doc: 'Whether an out-of-sync replica may become leader (cluster mode).' },
];

export const TOPIC_CONFIGS: ReadonlyMap<string, ConfigDef> = new Map(defs.map((d) => [d.name, d]));

const brokerDefs: ConfigDef[] = [
  { name: 'node.id', type: ConfigType.INT, default: '0', readOnly: true, doc: 'This broker\'s id.' },
  { name: 'broker.id', type: ConfigType.INT, default: '0', readOnly: true, doc: 'Alias of node.id.' },
  { name: 'listeners', type: ConfigType.STRING, default: 'PLAINTEXT://127.0.0.1:9092', readOnly: true, doc: 'Address the broker listens on.' },
  { name: 'advertised.listeners', type: ConfigType.STRING, default: null, readOnly: true, doc: 'Address given to clients in Metadata.' },
  { name: 'log.dirs', type: ConfigType.STRING, default: './data', readOnly: true, doc: 'Data directory.' },
  { name: 'num.partitions', type: ConfigType.INT, default: '1', validate: intRange(1), doc: 'Partitions of an auto-created topic or one created with -1 partitions.' },
  { name: 'default.replication.factor', type: ConfigType.INT, default: '1', validate: intRange(1), doc: 'Replication factor of auto-created topics.' },
  { name: 'auto.create.topics.enable', type: ConfigType.BOOLEAN, default: 'true', validate: boolean, doc: 'Create a topic when Metadata asks for an unknown one.' },
  { name: 'delete.topic.enable', type: ConfigType.BOOLEAN, default: 'true', validate: boolean, doc: 'Allow DeleteTopics.' },
  { name: 'socket.request.max.bytes', type: ConfigType.INT, default: '104857600', validate: intRange(1024), doc: 'Largest request frame accepted.' },
  { name: 'log.retention.check.interval.ms', type: ConfigType.LONG, default: '300000', validate: longAtLeast(1), doc: 'How often retention runs.' },
  { name: 'offsets.topic.num.partitions', type: ConfigType.INT, default: '50', validate: intRange(1, 10_000), readOnly: true, doc: 'Partitions of __consumer_offsets (fixed once the topic exists).' },
  { name: 'offsets.topic.segment.bytes', type: ConfigType.INT, default: '104857600', validate: intRange(14), readOnly: true, doc: 'Segment size of __consumer_offsets.' },
  { name: 'group.initial.rebalance.delay.ms', type: ConfigType.INT, default: '3000', validate: intRange(0), doc: 'How long a new group waits for more members before its first rebalance.' },
  { name: 'group.min.session.timeout.ms', type: ConfigType.INT, default: '6000', validate: intRange(0), doc: 'Smallest session timeout a consumer may ask for.' },
  { name: 'group.max.session.timeout.ms', type: ConfigType.INT, default: '1800000', validate: intRange(0), doc: 'Largest session timeout a consumer may ask for.' },
  { name: 'group.max.size', type: ConfigType.INT, default: '2147483647', validate: intRange(1), doc: 'Most members of a classic group.' },
  { name: 'group.consumer.session.timeout.ms', type: ConfigType.INT, default: '45000', validate: intRange(1), doc: 'Session timeout of KIP-848 consumer group members.' },
  { name: 'group.consumer.heartbeat.interval.ms', type: ConfigType.INT, default: '5000', validate: intRange(1), doc: 'Heartbeat interval given to KIP-848 consumer group members.' },
  { name: 'group.consumer.max.size', type: ConfigType.INT, default: '2147483647', validate: intRange(1), doc: 'Most members of a KIP-848 consumer group.' },
  { name: 'offset.metadata.max.bytes', type: ConfigType.INT, default: '4096', validate: intRange(0), doc: 'Largest metadata string of a committed offset.' },
  { name: 'offsets.retention.minutes', type: ConfigType.INT, default: '10080', validate: intRange(1), doc: 'How long the offsets of an empty group are kept.' },
  { name: 'offsets.retention.check.interval.ms', type: ConfigType.LONG, default: '600000', validate: longAtLeast(1), doc: 'How often expired offsets are removed.' },
  { name: 'tributary.durability', type: ConfigType.STRING, default: 'fsync', validate: oneOf('fsync', 'pagecache'), doc: 'fsync: acks=all waits for fdatasync (group-committed). pagecache: Kafka\'s mode, no fsync before acknowledging.' },
];
// Every topic config's broker synonym is a broker config with the same default.
for (const d of defs) {
  if (d.brokerSynonym && !brokerDefs.some((b) => b.name === d.brokerSynonym)) {
    brokerDefs.push({ ...d, name: d.brokerSynonym, brokerSynonym: undefined });
  }
}

export const BROKER_CONFIGS: ReadonlyMap<string, ConfigDef> = new Map(brokerDefs.map((d) => [d.name, d]));

/** Validates a topic config override; returns an error message or null. */
export function validateTopicConfig(name: string, value: string | null): string | null {
  const def = TOPIC_CONFIGS.get(name);
  if (!def) return `unknown topic config '${name}'`;
  if (value === null) return `null value for topic config '${name}'`;
  return def.validate?.(value) ?? null;
}
