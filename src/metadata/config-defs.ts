/**
 * Definitions of the topic and broker configs Tributary understands: Kafka's names, types,
 * defaults and validation, and for each topic config the broker config that supplies its
 * default (Kafka's "synonyms"). DescribeConfigs, CreateTopics and the log layer read these.
 */
import { boolean, double, gzipLevel, int, listOf, long, oneOf, throttledReplicas, type Validator } from './config-validators.ts';

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
  /**
   * For topic configs: Kafka's broker synonym has no default of its own (log.retention.ms,
   * log.roll.ms, ...: Kafka derives them from the *.hours forms), so DescribeConfigs lists no
   * DEFAULT_CONFIG synonym for them.
   */
  synonymWithoutDefault?: boolean;
  /** Returns why a value is invalid (Kafka's wording), or null. */
  validate?: Validator;
  /** Broker configs: not changeable at runtime (DescribeConfigs readOnly; AlterConfigs refuses). */
  readOnly?: boolean;
  /** Broker configs: changeable with AlterConfigs / IncrementalAlterConfigs (Kafka's dynamic configs). */
  dynamic?: boolean;
  sensitive?: boolean;
}

const LONG_MAX = '9223372036854775807';
const INT_MAX = 2 ** 31 - 1;
const IGNORED = 'Accepted for compatibility and ignored by Tributary.';
const IGNORED_SHORT = 'Accepted and ignored: Tributary has one cleaner, sized by the logs it cleans.';
const NO_TIERED = 'Tiered storage is not available: accepted for compatibility and ignored by Tributary.';

const defs: ConfigDef[] = [
  { name: 'cleanup.policy', type: ConfigType.LIST, default: 'delete', brokerSynonym: 'log.cleanup.policy', validate: listOf('compact', 'delete'), doc: 'delete or compact (or both): how old log segments are discarded.' },
  { name: 'compression.gzip.level', type: ConfigType.INT, default: '-1', brokerSynonym: 'compression.gzip.level', validate: gzipLevel, doc: `Level of gzip when compression.type is gzip. ${IGNORED}` },
  { name: 'compression.lz4.level', type: ConfigType.INT, default: '9', brokerSynonym: 'compression.lz4.level', validate: int(1, 17), doc: `Level of lz4 when compression.type is lz4. ${IGNORED}` },
  { name: 'compression.type', type: ConfigType.STRING, default: 'producer', brokerSynonym: 'compression.type', validate: oneOf('uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'), doc: 'Final compression of the topic; producer keeps what the producer sent.' },
  { name: 'compression.zstd.level', type: ConfigType.INT, default: '3', brokerSynonym: 'compression.zstd.level', validate: int(-131072, 22), doc: `Level of zstd when compression.type is zstd. ${IGNORED}` },
  { name: 'delete.retention.ms', type: ConfigType.LONG, default: '86400000', brokerSynonym: 'log.cleaner.delete.retention.ms', validate: long(0), doc: 'How long delete tombstones are kept on compacted topics.' },
  { name: 'file.delete.delay.ms', type: ConfigType.LONG, default: '60000', brokerSynonym: 'log.segment.delete.delay.ms', validate: long(0), doc: 'Delay before a deleted segment file is removed from disk. Accepted; Tributary removes a deleted segment as soon as the reads on it finish.' },
  { name: 'flush.messages', type: ConfigType.LONG, default: LONG_MAX, brokerSynonym: 'log.flush.interval.messages', validate: long(1), doc: 'Accepted for compatibility and ignored; acks=all writes are always synced before acknowledgement.' },
  { name: 'flush.ms', type: ConfigType.LONG, default: LONG_MAX, brokerSynonym: 'log.flush.interval.ms', synonymWithoutDefault: true, validate: long(0), doc: 'Accepted for compatibility and ignored; acks=all writes are always synced before acknowledgement.' },
  { name: 'follower.replication.throttled.replicas', type: ConfigType.LIST, default: '', validate: throttledReplicas('follower.replication.throttled.replicas'), doc: `Replicas whose follower-side replication is throttled. ${IGNORED}` },
  { name: 'index.interval.bytes', type: ConfigType.INT, default: '4096', brokerSynonym: 'log.index.interval.bytes', validate: int(0), doc: 'Bytes of log between offset index entries.' },
  { name: 'leader.replication.throttled.replicas', type: ConfigType.LIST, default: '', validate: throttledReplicas('leader.replication.throttled.replicas'), doc: `Replicas whose leader-side replication is throttled. ${IGNORED}` },
  { name: 'local.retention.bytes', type: ConfigType.LONG, default: '-2', brokerSynonym: 'log.local.retention.bytes', validate: long(-2), doc: `Local retention size of a tiered topic. ${NO_TIERED}` },
  { name: 'local.retention.ms', type: ConfigType.LONG, default: '-2', brokerSynonym: 'log.local.retention.ms', validate: long(-2), doc: `Local retention time of a tiered topic. ${NO_TIERED}` },
  { name: 'max.compaction.lag.ms', type: ConfigType.LONG, default: LONG_MAX, brokerSynonym: 'log.cleaner.max.compaction.lag.ms', validate: long(1), doc: 'Longest time a record may stay uncompacted.' },
  { name: 'max.message.bytes', type: ConfigType.INT, default: '1048588', brokerSynonym: 'message.max.bytes', validate: int(0), doc: 'Largest record batch accepted, in bytes.' },
  { name: 'message.timestamp.after.max.ms', type: ConfigType.LONG, default: '3600000', brokerSynonym: 'log.message.timestamp.after.max.ms', validate: long(0), doc: 'How far in the future a CreateTime timestamp may be.' },
  { name: 'message.timestamp.before.max.ms', type: ConfigType.LONG, default: LONG_MAX, brokerSynonym: 'log.message.timestamp.before.max.ms', validate: long(0), doc: 'How far in the past a CreateTime timestamp may be.' },
  { name: 'message.timestamp.type', type: ConfigType.STRING, default: 'CreateTime', brokerSynonym: 'log.message.timestamp.type', validate: oneOf('CreateTime', 'LogAppendTime'), doc: 'CreateTime keeps the producer timestamp; LogAppendTime stamps the broker time.' },
  { name: 'min.cleanable.dirty.ratio', type: ConfigType.DOUBLE, default: '0.5', brokerSynonym: 'log.cleaner.min.cleanable.ratio', validate: double(0, 1), doc: 'Dirty share of the log that makes it eligible for compaction.' },
  { name: 'min.compaction.lag.ms', type: ConfigType.LONG, default: '0', brokerSynonym: 'log.cleaner.min.compaction.lag.ms', validate: long(0), doc: 'Shortest time a record stays uncompacted.' },
  { name: 'min.insync.replicas', type: ConfigType.INT, default: '1', brokerSynonym: 'min.insync.replicas', validate: int(1), doc: 'Replicas that must acknowledge an acks=all write.' },
  { name: 'preallocate', type: ConfigType.BOOLEAN, default: 'false', brokerSynonym: 'log.preallocate', validate: boolean, doc: 'Accepted for compatibility and ignored; segments are not preallocated.' },
  { name: 'remote.log.copy.disable', type: ConfigType.BOOLEAN, default: 'false', validate: boolean, doc: `Stop copying segments of a tiered topic to remote storage. ${NO_TIERED}` },
  { name: 'remote.log.delete.on.disable', type: ConfigType.BOOLEAN, default: 'false', validate: boolean, doc: `Delete remote data when tiered storage is turned off for the topic. ${NO_TIERED}` },
  { name: 'remote.storage.enable', type: ConfigType.BOOLEAN, default: 'false', validate: boolean, doc: 'Tiered storage for the topic; only false is accepted, as on a Kafka broker without remote storage.' },
  { name: 'retention.bytes', type: ConfigType.LONG, default: '-1', brokerSynonym: 'log.retention.bytes', validate: long(), doc: 'Largest size of a partition before old segments are deleted; -1 for no limit.' },
  { name: 'retention.ms', type: ConfigType.LONG, default: '604800000', brokerSynonym: 'log.retention.ms', synonymWithoutDefault: true, validate: long(-1), doc: 'How long segments are kept; -1 for no limit.' },
  { name: 'segment.bytes', type: ConfigType.INT, default: '1073741824', brokerSynonym: 'log.segment.bytes', validate: int(1048576), doc: 'Size at which the active segment rolls.' },
  { name: 'segment.index.bytes', type: ConfigType.INT, default: '10485760', brokerSynonym: 'log.index.size.max.bytes', validate: int(4), doc: 'Largest offset index of a segment.' },
  { name: 'segment.jitter.ms', type: ConfigType.LONG, default: '0', brokerSynonym: 'log.roll.jitter.ms', synonymWithoutDefault: true, validate: long(0), doc: 'Accepted for compatibility and ignored; no jitter is applied.' },
  { name: 'segment.ms', type: ConfigType.LONG, default: '604800000', brokerSynonym: 'log.roll.ms', synonymWithoutDefault: true, validate: long(1), doc: 'Age at which the active segment rolls.' },
  { name: 'unclean.leader.election.enable', type: ConfigType.BOOLEAN, default: 'false', brokerSynonym: 'unclean.leader.election.enable', validate: boolean, doc: 'Whether an out-of-sync replica may become leader (cluster mode).' },
];

export const TOPIC_CONFIGS: ReadonlyMap<string, ConfigDef> = new Map(defs.map((d) => [d.name, d]));

const brokerDefs: ConfigDef[] = [
  { name: 'node.id', type: ConfigType.INT, default: '0', readOnly: true, doc: 'This broker\'s id.' },
  { name: 'broker.id', type: ConfigType.INT, default: '0', readOnly: true, doc: 'Alias of node.id.' },
  { name: 'listeners', type: ConfigType.LIST, default: 'PLAINTEXT://127.0.0.1:9092', readOnly: true, doc: 'Address the broker listens on.' },
  { name: 'advertised.listeners', type: ConfigType.LIST, default: null, readOnly: true, doc: 'Address given to clients in Metadata.' },
  { name: 'log.dirs', type: ConfigType.LIST, default: './data', readOnly: true, doc: 'Data directory.' },
  { name: 'num.partitions', type: ConfigType.INT, default: '1', validate: int(1), doc: 'Partitions of an auto-created topic or one created with -1 partitions.' },
  { name: 'default.replication.factor', type: ConfigType.INT, default: '1', validate: int(1), doc: 'Replication factor of auto-created topics.' },
  { name: 'auto.create.topics.enable', type: ConfigType.BOOLEAN, default: 'true', validate: boolean, doc: 'Create a topic when Metadata asks for an unknown one.' },
  { name: 'delete.topic.enable', type: ConfigType.BOOLEAN, default: 'true', validate: boolean, doc: 'Allow DeleteTopics.' },
  { name: 'socket.request.max.bytes', type: ConfigType.INT, default: '104857600', validate: int(1024), doc: 'Largest request frame accepted.' },
  { name: 'log.retention.check.interval.ms', type: ConfigType.LONG, default: '300000', validate: long(1), doc: 'How often retention runs.' },
  { name: 'offsets.topic.num.partitions', type: ConfigType.INT, default: '50', validate: int(1, 10_000), readOnly: true, doc: 'Partitions of __consumer_offsets (fixed once the topic exists).' },
  { name: 'offsets.topic.segment.bytes', type: ConfigType.INT, default: '104857600', validate: int(14), readOnly: true, doc: 'Segment size of __consumer_offsets.' },
  { name: 'group.initial.rebalance.delay.ms', type: ConfigType.INT, default: '3000', validate: int(0), doc: 'How long a new group waits for more members before its first rebalance.' },
  { name: 'group.min.session.timeout.ms', type: ConfigType.INT, default: '6000', validate: int(0), doc: 'Smallest session timeout a consumer may ask for.' },
  { name: 'group.max.session.timeout.ms', type: ConfigType.INT, default: '1800000', validate: int(0), doc: 'Largest session timeout a consumer may ask for.' },
  { name: 'group.max.size', type: ConfigType.INT, default: '2147483647', validate: int(1), doc: 'Most members of a classic group.' },
  { name: 'group.consumer.session.timeout.ms', type: ConfigType.INT, default: '45000', validate: int(1), doc: 'Session timeout of KIP-848 consumer group members.' },
  { name: 'group.consumer.heartbeat.interval.ms', type: ConfigType.INT, default: '5000', validate: int(1), doc: 'Heartbeat interval given to KIP-848 consumer group members.' },
  { name: 'group.consumer.max.size', type: ConfigType.INT, default: '2147483647', validate: int(1), doc: 'Most members of a KIP-848 consumer group.' },
  { name: 'offset.metadata.max.bytes', type: ConfigType.INT, default: '4096', validate: int(0), doc: 'Largest metadata string of a committed offset.' },
  { name: 'offsets.retention.minutes', type: ConfigType.INT, default: '10080', validate: int(1), doc: 'How long the offsets of an empty group are kept.' },
  { name: 'offsets.retention.check.interval.ms', type: ConfigType.LONG, default: '600000', validate: long(1), doc: 'How often expired offsets are removed.' },
  { name: 'transaction.state.log.num.partitions', type: ConfigType.INT, default: '50', validate: int(1), readOnly: true, doc: 'Partitions of __transaction_state (fixed once the topic exists).' },
  { name: 'transaction.state.log.segment.bytes', type: ConfigType.INT, default: '104857600', validate: int(1), readOnly: true, doc: 'Segment size of __transaction_state.' },
  { name: 'transaction.max.timeout.ms', type: ConfigType.INT, default: '900000', validate: int(1), readOnly: true, doc: 'Largest transaction timeout a producer may ask for (InitProducerId answers INVALID_TRANSACTION_TIMEOUT above it).' },
  { name: 'transaction.abort.timed.out.transaction.cleanup.interval.ms', type: ConfigType.INT, default: '10000', validate: int(1), readOnly: true, doc: 'How often transactions older than their timeout are aborted.' },
  { name: 'transactional.id.expiration.ms', type: ConfigType.INT, default: '604800000', validate: int(1), readOnly: true, doc: 'How long a transactional id without transaction activity is kept.' },
  { name: 'transaction.remove.expired.transaction.cleanup.interval.ms', type: ConfigType.INT, default: '3600000', validate: int(1), readOnly: true, doc: 'How often expired transactional ids are removed.' },
  { name: 'producer.id.expiration.ms', type: ConfigType.INT, default: '86400000', validate: int(1), readOnly: true, doc: 'How long a producer id without an open transaction is remembered by a partition after its last write (duplicate detection for its retries).' },
  { name: 'log.retention.hours', type: ConfigType.INT, default: '168', readOnly: true, validate: int(), doc: 'Retention in hours, used when log.retention.ms is not set.' },
  { name: 'log.roll.hours', type: ConfigType.INT, default: '168', readOnly: true, validate: int(1), doc: 'Segment age before a roll in hours, used when log.roll.ms is not set.' },
  { name: 'log.segment.bytes', type: ConfigType.INT, default: '1073741824', dynamic: true, validate: int(14), doc: 'Default segment.bytes of topics. Kafka requires at least 1 MiB (and so do AlterConfigs on Tributary); a smaller value is accepted at startup for tests.' },
  { name: 'log.cleaner.enable', type: ConfigType.BOOLEAN, default: 'true', readOnly: true, validate: boolean, doc: 'Run the log cleaner, which compacts topics with cleanup.policy=compact.' },
  { name: 'log.cleaner.backoff.ms', type: ConfigType.LONG, default: '15000', dynamic: true, validate: long(0), doc: 'How long the cleaner sleeps when no log needs cleaning. A change takes effect at the next broker start.' },
  { name: 'log.cleaner.threads', type: ConfigType.INT, default: '1', dynamic: true, validate: int(0), doc: `Cleaner threads. ${IGNORED_SHORT}` },
  { name: 'log.cleaner.dedupe.buffer.size', type: ConfigType.LONG, default: '134217728', dynamic: true, validate: long(), doc: `Memory for the cleaner's key map. ${IGNORED_SHORT}` },
  { name: 'log.cleaner.io.buffer.size', type: ConfigType.INT, default: '524288', dynamic: true, validate: int(0), doc: `I/O buffer of the cleaner. ${IGNORED_SHORT}` },
  { name: 'log.cleaner.io.buffer.load.factor', type: ConfigType.DOUBLE, default: '0.9', dynamic: true, validate: double(), doc: `Load factor of the cleaner's key map. ${IGNORED_SHORT}` },
  { name: 'log.cleaner.io.max.bytes.per.second', type: ConfigType.DOUBLE, default: '1.7976931348623157E308', dynamic: true, validate: double(), doc: `I/O throttle of the cleaner. ${IGNORED_SHORT}` },
  { name: 'tributary.durability', type: ConfigType.STRING, default: 'fsync', validate: oneOf('fsync', 'pagecache'), doc: 'fsync: acks=all waits for fdatasync (group-committed). pagecache: Kafka\'s mode, no fsync before acknowledging.' },
];
// Every topic config's broker synonym is a dynamic broker config with the same default (none
// where Kafka's has none), as in Kafka's DynamicLogConfig.
for (const d of defs) {
  if (d.brokerSynonym && !brokerDefs.some((b) => b.name === d.brokerSynonym)) {
    const { brokerSynonym: _, synonymWithoutDefault, ...rest } = d;
    brokerDefs.push({ ...rest, name: d.brokerSynonym, default: synonymWithoutDefault ? null : d.default, dynamic: true });
  }
}

export const BROKER_CONFIGS: ReadonlyMap<string, ConfigDef> = new Map(brokerDefs.map((d) => [d.name, d]));

/** The topic config a broker config supplies the default of (log.retention.ms → retention.ms). */
const SYNONYM_OF = new Map(defs.filter((d) => d.brokerSynonym).map((d) => [d.brokerSynonym!, d]));
export function topicConfigOfSynonym(brokerName: string): ConfigDef | undefined {
  return SYNONYM_OF.get(brokerName);
}
