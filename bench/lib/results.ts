/**
 * The shape of one benchmark run's results, shared by every peer driver, the terminal table, the
 * JSON file under bench/results/ and the SVG chart.
 *
 * A Measurement is one figure (e.g. "MB/s") of one workload on one peer in one durability mode,
 * with every repeat kept; the median is what tables and charts show. Ratios are computed by the
 * report from measurements that share workload, client, metric and durability *class*: Tributary
 * is compared with Kafka in the same class, and with the physical limit of the same kind.
 */

/** Who served the workload. Secondary peers are shown, but ratios are always to 'kafka'. */
export type PeerName = 'tributary' | 'kafka' | 'redis' | 'nats';

/**
 * Durability class of a figure, stated for every figure:
 * - 'durable':   the write is on disk before it is acknowledged. Tributary's default
 *                (fsync before ack, group-committed) against Kafka with flush.messages=1
 *                (it fsyncs the partition log after every append), NATS JetStream with sync
 *                always, Redis with appendfsync always.
 * - 'pagecache': acknowledged once in the OS page cache. Tributary with
 *                tributary.durability=pagecache against Kafka's default.
 * - 'n/a':       the figure does not depend on it (startup, idle RSS, consume).
 */
export type Durability = 'durable' | 'pagecache' | 'n/a';

/** Which way is better for a metric. */
export type Better = 'higher' | 'lower';

export interface Measurement {
  /** Stable id of the workload, e.g. "produce/1KiB/p16/acks=all". Same id across peers. */
  workload: string;
  /** Group for the table and chart: produce, consume, latency, startup, memory, cpu, limit. */
  kind: 'produce' | 'consume' | 'latency' | 'startup' | 'memory' | 'cpu' | 'limit';
  peer: PeerName | 'machine';
  durability: Durability;
  /** The load generator, e.g. "kafka-producer-perf 4.3.1", "rdkperf (librdkafka 2.0.2)". */
  client: string;
  /** e.g. "MB/s", "records/s", "p99 ms", "ms", "MiB", "CPU-s/GB". */
  metric: string;
  unit: string;
  better: Better;
  /** Every repeat, in run order. */
  values: number[];
  median: number;
  /** Free-form facts worth keeping next to the figure (record counts, errors, configs). */
  notes?: string[];
}

/** A physical limit of this machine measured in the same run, e.g. fio fdatasync at 64 KiB. */
export interface Limit {
  /** e.g. "loopback", "disk-write", "disk-write-fdatasync". */
  name: string;
  /** Block size in bytes for disk figures; absent for loopback. */
  blockSize?: number;
  metric: 'MB/s';
  values: number[];
  median: number;
  tool: string;
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  java?: string;
  disk?: string;
}

export interface BenchRun {
  /** ISO time the run started. */
  started: string;
  mode: 'quick' | 'full';
  machine: MachineInfo;
  /** Versions and configs of each peer as started. */
  peers: Record<string, { version: string; config: Record<string, string> }>;
  measurements: Measurement[];
  limits: Limit[];
  /** Seconds the whole run took. */
  seconds: number;
  /** Anything that failed or was skipped, with the reason: never silently dropped. */
  skipped: string[];
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function measurement(m: Omit<Measurement, 'median'>): Measurement {
  return { ...m, median: median(m.values) };
}
