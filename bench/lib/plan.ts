/**
 * What a run measures, by mode. The quick mode runs the whole matrix once with small counts so
 * it finishes in a few minutes; the full mode repeats every figure (medians of `repeats`) with
 * counts large enough that start-up effects fade, and a multi-GiB consume backlog.
 */

export interface ProduceWorkload {
  id: string;
  size: number;
  partitions: number;
  acks: '1' | 'all';
  records: number;
}

export interface Plan {
  mode: 'quick' | 'full';
  repeats: number;
  /** Produce workloads for the page-cache class (acks=1 and acks=all). */
  pagecache: ProduceWorkload[];
  /**
   * Produce workloads for the durable class: acks=all only. With acks=1 neither peer promises
   * an fsync before the answer in its default mode (Tributary answers after write(2); Kafka
   * answers after the append), so acks=1 is compared in the page-cache class only.
   */
  durable: ProduceWorkload[];
  /** Produce workloads also driven by the librdkafka client (the rest use Kafka's tool only). */
  rdkafkaProduce: 'all' | 'peaks';
  consume: { size: number; partitions: number; records: number };
  latency: { size: number; partitions: number; seconds: number; warmupSeconds: number; fixedRates: number[]; closedLoopRecords: number };
  /** Startup (and idle RSS) measured this many times per peer. */
  startups: number;
  limits: { seconds: number; blockSizes: number[] };
  secondary: { records: number };
  /** Hard stop for one client run. */
  clientTimeoutMs: number;
}

export function sizeLabel(size: number): string {
  return size % 1024 === 0 ? `${size / 1024}KiB` : `${size}B`;
}

export function produceId(size: number, partitions: number, acks: string): string {
  return `produce/${sizeLabel(size)}/p${partitions}/acks=${acks}`;
}

function matrix(recordsFor: (size: number) => number, acksList: Array<'1' | 'all'>): ProduceWorkload[] {
  const out: ProduceWorkload[] = [];
  for (const size of [100, 1024]) {
    for (const partitions of [1, 16]) {
      for (const acks of acksList) out.push({ id: produceId(size, partitions, acks), size, partitions, acks, records: recordsFor(size) });
    }
  }
  return out;
}

export function makePlan(mode: 'quick' | 'full'): Plan {
  if (mode === 'quick') {
    const records = (size: number) => (size === 100 ? 500_000 : 100_000); // 50 MB / 100 MB
    return {
      mode,
      repeats: 1,
      pagecache: matrix(records, ['1', 'all']),
      durable: matrix(records, ['all']),
      rdkafkaProduce: 'peaks',
      consume: { size: 1024, partitions: 16, records: 262_144 }, // 256 MiB
      latency: { size: 1024, partitions: 1, seconds: 5, warmupSeconds: 1, fixedRates: [1000], closedLoopRecords: 2000 },
      startups: 1,
      limits: { seconds: 2, blockSizes: [16_384, 1_048_576] },
      secondary: { records: 100_000 },
      clientTimeoutMs: 120_000,
    };
  }
  const records = (size: number) => (size === 100 ? 2_500_000 : 600_000); // 250 MB / 614 MB
  return {
    mode,
    repeats: 3,
    pagecache: matrix(records, ['1', 'all']),
    durable: matrix(records, ['all']),
    rdkafkaProduce: 'all',
    consume: { size: 1024, partitions: 16, records: 3 * 1_048_576 }, // 3 GiB
    latency: { size: 1024, partitions: 1, seconds: 10, warmupSeconds: 2, fixedRates: [1000, 10_000], closedLoopRecords: 10_000 },
    startups: 3,
    limits: { seconds: 5, blockSizes: [16_384, 65_536, 1_048_576] },
    secondary: { records: 1_000_000 },
    clientTimeoutMs: 600_000,
  };
}
