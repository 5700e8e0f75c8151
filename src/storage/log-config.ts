/**
 * Per-partition log settings: Kafka's topic configs that the storage layer acts on, as plain
 * numbers (milliseconds and bytes). The broker resolves them from topic overrides, broker
 * synonyms and defaults; a PartitionLog's `config` may be replaced at runtime.
 */
export interface LogConfig {
  /** segment.bytes: roll the active segment before it would grow past this. */
  segmentBytes: number;
  /** segment.ms: roll a non-empty active segment older than this. */
  segmentMs: number;
  /** index.interval.bytes: bytes of log between two sparse offset-index entries. */
  indexIntervalBytes: number;
  /** segment.index.bytes: maximum size of a segment's offset index; roll when it is full. */
  segmentIndexBytes: number;
  /** retention.ms: delete closed segments whose newest record is older; negative = unlimited. */
  retentionMs: number;
  /** retention.bytes: per-partition size bound for retention; negative = unlimited. */
  retentionBytes: number;
  /**
   * file.delete.delay.ms. Accepted for compatibility but not waited for: deleted segments are
   * renamed to `.deleted` and removed as soon as the reads in progress on them finish.
   */
  fileDeleteDelayMs: number;
  /**
   * 'fsync' (default): `sync()` (acks=all) waits for a group-committed fdatasync.
   * 'pagecache': Kafka's mode, `sync()` resolves at once and durability relies on the OS
   * (and, in a cluster, on replication).
   */
  durability: 'fsync' | 'pagecache';
  /** cleanup.policy contains `compact`: the cleaner keeps the latest record per key. */
  compact: boolean;
  /** delete.retention.ms: how long a tombstone survives after the cleaner first retains it. */
  deleteRetentionMs: number;
  /** min.compaction.lag.ms: records younger than this are never compacted. */
  minCompactionLagMs: number;
  /** max.compaction.lag.ms: a dirty record older than this makes the log cleanable regardless of the ratio. */
  maxCompactionLagMs: number;
  /** min.cleanable.dirty.ratio: dirty bytes / cleanable bytes at which the log is cleaned. */
  minCleanableDirtyRatio: number;
}

export const defaultLogConfig: LogConfig = Object.freeze({
  segmentBytes: 1_073_741_824,
  segmentMs: 604_800_000,
  indexIntervalBytes: 4096,
  segmentIndexBytes: 10_485_760,
  retentionMs: 604_800_000,
  retentionBytes: -1,
  fileDeleteDelayMs: 60_000,
  durability: 'fsync',
  compact: false,
  deleteRetentionMs: 86_400_000,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
  minCleanableDirtyRatio: 0.5,
}) as LogConfig;

/** Fills unset fields from the defaults (handy in tests and tools). */
export function logConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return { ...defaultLogConfig, ...overrides };
}
