/**
 * FIXTURE — invented numbers, not a measurement. A sample BenchRun covering every kind, both
 * durability classes, all four peers, the physical limits, a workload measured with two clients
 * (Kafka's Java perf tool and librdkafka's rdkperf) and a skipped list, for the report's
 * unit tests and for previewing the table and chart (bench/lib/report/preview.ts).
 */
import type { BenchRun, Better, Durability, Measurement, PeerName } from '../results.ts';
import { median } from '../results.ts';

const PERF = 'kafka-producer-perf 4.3.1 (FIXTURE)';
const CPERF = 'kafka-consumer-perf 4.3.1 (FIXTURE)';
const LAT = 'e2e-latency (FIXTURE)';
const RDK = 'rdkperf (librdkafka 2.6.1) (FIXTURE)';

function m(
  kind: Measurement['kind'],
  workload: string,
  peer: PeerName,
  durability: Durability,
  client: string,
  metric: string,
  unit: string,
  better: Better,
  values: number[],
  notes?: string[],
): Measurement {
  return { kind, workload, peer, durability, client, metric, unit, better, values, median: median(values), notes };
}

/** Three repeats around a median (the median is exactly `v`). */
function r(v: number): number[] {
  return [v * 0.97, v, v * 1.02];
}

function produce(
  workload: string,
  durability: Durability,
  batchBytes: number,
  mbps: Partial<Record<PeerName, number>>,
  recordBytes: number,
  kafkaClient = PERF,
): Measurement[] {
  const out: Measurement[] = [];
  for (const [peer, v] of Object.entries(mbps) as [PeerName, number][]) {
    const client = peer === 'redis' ? 'redis-benchmark 7.4 (FIXTURE)' : peer === 'nats' ? 'nats bench 0.1.5 (FIXTURE)' : kafkaClient;
    const notes = [`batchBytes=${batchBytes}`, `records=${Math.round((v * 1e6 * 30) / recordBytes)}`];
    out.push(m('produce', workload, peer, durability, client, 'MB/s', 'MB/s', 'higher', r(v), notes));
    out.push(m('produce', workload, peer, durability, client, 'records/s', 'records/s', 'higher', r(Math.round((v * 1e6) / recordBytes)), notes));
  }
  return out;
}

function latency(workload: string, durability: Durability, p: Partial<Record<PeerName, [number, number, number, number]>>): Measurement[] {
  const out: Measurement[] = [];
  for (const [peer, [p50, p99, p999, max]] of Object.entries(p) as [PeerName, [number, number, number, number]][]) {
    out.push(m('latency', workload, peer, durability, LAT, 'p50 ms', 'ms', 'lower', r(p50)));
    out.push(m('latency', workload, peer, durability, LAT, 'p99 ms', 'ms', 'lower', r(p99)));
    out.push(m('latency', workload, peer, durability, LAT, 'p99.9 ms', 'ms', 'lower', r(p999)));
    out.push(m('latency', workload, peer, durability, LAT, 'max ms', 'ms', 'lower', r(max)));
  }
  return out;
}

export const fixtureRun: BenchRun = {
  started: '2026-11-23T14:02:11.000Z',
  mode: 'quick',
  machine: {
    cpus: 2,
    cpuModel: 'Intel(R) Xeon(R) CPU @ 2.20GHz (FIXTURE)',
    memoryGiB: 7.8,
    kernel: '6.8.0-1017-gcp',
    node: 'v24.11.0',
    java: 'openjdk 21.0.5',
    disk: 'nvme0n1 (FIXTURE)',
  },
  peers: {
    tributary: { version: '0.1.0', config: { 'tributary.durability': 'fsync|pagecache' } },
    kafka: { version: '4.3.1', config: { 'flush.messages': '1 (durable) | default (pagecache)', 'KAFKA_HEAP_OPTS': '-Xmx1g' } },
    redis: { version: '7.4.1', config: { appendfsync: 'always' } },
    nats: { version: '2.11.0', config: { sync_interval: 'always' } },
  },
  measurements: [
    // Produce, durable: the first row is the one the tests lean on (200 vs 100 MB/s, 64 KiB batches).
    ...produce('produce/1KiB/p16/acks=all', 'durable', 65536, { tributary: 200, kafka: 100, redis: 41, nats: 88 }, 1024),
    ...produce('produce/100B/p16/acks=all', 'durable', 8192, { tributary: 31.5, kafka: 38.2 }, 100),
    // The same workload from a second client (librdkafka), with its own batch size and limit.
    ...produce('produce/100B/p16/acks=all', 'durable', 1048576, { tributary: 88, kafka: 71 }, 100, RDK),
    // A workload id with characters that need escaping in SVG/XML.
    ...produce('produce/1KiB/p1/acks=all/k<16&"x"', 'durable', 1048576, { tributary: 121, kafka: 97.3 }, 1024),
    // Produce, page cache.
    ...produce('produce/1KiB/p16/acks=all', 'pagecache', 65536, { tributary: 512, kafka: 430 }, 1024),
    ...produce('produce/100B/p16/acks=all', 'pagecache', 8192, { tributary: 96.4, kafka: 118 }, 100),
    ...produce('produce/1KiB/p16/acks=1', 'pagecache', 65536, { tributary: 655, kafka: 540, redis: 120, nats: 301 }, 1024),
    // Consume.
    m('consume', 'consume/1KiB/p16', 'tributary', 'n/a', CPERF, 'MB/s', 'MB/s', 'higher', r(1210)),
    m('consume', 'consume/1KiB/p16', 'kafka', 'n/a', CPERF, 'MB/s', 'MB/s', 'higher', r(980)),
    m('consume', 'consume/1KiB/p16', 'redis', 'n/a', 'redis XREAD (FIXTURE)', 'MB/s', 'MB/s', 'higher', r(310)),
    m('consume', 'consume/1KiB/p16', 'nats', 'n/a', 'nats bench 0.1.5 (FIXTURE)', 'MB/s', 'MB/s', 'higher', r(640)),
    m('consume', 'consume/1KiB/p16', 'tributary', 'n/a', CPERF, 'records/s', 'records/s', 'higher', r(1181640)),
    m('consume', 'consume/1KiB/p16', 'kafka', 'n/a', CPERF, 'records/s', 'records/s', 'higher', r(957031)),
    m('consume', 'consume/100B/p1', 'tributary', 'n/a', CPERF, 'MB/s', 'MB/s', 'higher', r(61.2)),
    m('consume', 'consume/100B/p1', 'kafka', 'n/a', CPERF, 'MB/s', 'MB/s', 'higher', r(74.9)),
    // Latency.
    ...latency('latency/1KiB/p1/acks=1/rate=5000', 'durable', {
      tributary: [0.9, 2.1, 4.4, 11],
      kafka: [1.6, 3.9, 8.2, 31],
      nats: [1.1, 2.8, 5.0, 14],
    }),
    ...latency('latency/1KiB/p1/acks=1/rate=20000', 'durable', {
      tributary: [1.4, 3.8, 9.7, 22],
      kafka: [2.2, 5.1, 12.4, 48],
      nats: [1.7, 4.6, 10.1, 25],
    }),
    ...latency('latency/1KiB/p1/acks=1/half-peak', 'durable', {
      tributary: [2.6, 7.9, 19.5, 41],
      kafka: [3.1, 9.4, 25.3, 77],
      redis: [1.9, 6.2, 14.8, 33],
      nats: [2.4, 8.8, 21.0, 45],
    }),
    ...latency('latency/1KiB/p1/acks=1/half-peak', 'pagecache', {
      tributary: [0.8, 3.6, 8.1, 19],
      kafka: [0.7, 3.0, 7.4, 26],
    }),
    // Startup, memory, CPU.
    m('startup', 'startup/ready', 'tributary', 'n/a', 'tcp-ready probe (FIXTURE)', 'ms', 'ms', 'lower', r(182)),
    m('startup', 'startup/ready', 'kafka', 'n/a', 'tcp-ready probe (FIXTURE)', 'ms', 'ms', 'lower', r(2410)),
    m('startup', 'startup/ready', 'redis', 'n/a', 'tcp-ready probe (FIXTURE)', 'ms', 'ms', 'lower', r(9)),
    m('startup', 'startup/ready', 'nats', 'n/a', 'tcp-ready probe (FIXTURE)', 'ms', 'ms', 'lower', r(41)),
    m('memory', 'memory/idle-rss', 'tributary', 'n/a', 'ps rss (FIXTURE)', 'MiB', 'MiB', 'lower', r(71.5)),
    m('memory', 'memory/idle-rss', 'kafka', 'n/a', 'ps rss (FIXTURE)', 'MiB', 'MiB', 'lower', r(406)),
    m('memory', 'memory/idle-rss', 'redis', 'n/a', 'ps rss (FIXTURE)', 'MiB', 'MiB', 'lower', r(8.2)),
    m('memory', 'memory/idle-rss', 'nats', 'n/a', 'ps rss (FIXTURE)', 'MiB', 'MiB', 'lower', r(17.9)),
    m('memory', 'memory/rss-under-load', 'tributary', 'n/a', 'ps rss (FIXTURE)', 'MiB', 'MiB', 'lower', r(188)),
    m('memory', 'memory/rss-under-load', 'kafka', 'n/a', 'ps rss (FIXTURE)', 'MiB', 'MiB', 'lower', r(742)),
    m('cpu', 'cpu/produce/1KiB/p16/acks=all', 'tributary', 'durable', PERF, 'CPU-s/GB', 'CPU-s/GB', 'lower', r(3.1)),
    m('cpu', 'cpu/produce/1KiB/p16/acks=all', 'kafka', 'durable', PERF, 'CPU-s/GB', 'CPU-s/GB', 'lower', r(2.6)),
    m('cpu', 'cpu/consume/1KiB/p16', 'tributary', 'n/a', CPERF, 'CPU-s/GB', 'CPU-s/GB', 'lower', r(0.9)),
    m('cpu', 'cpu/consume/1KiB/p16', 'kafka', 'n/a', CPERF, 'CPU-s/GB', 'CPU-s/GB', 'lower', r(1.4)),
  ],
  limits: [
    { name: 'loopback', metric: 'MB/s', values: r(3800), median: 3800, tool: 'iperf3 3.16 (FIXTURE)' },
    { name: 'disk-write', blockSize: 4096, metric: 'MB/s', values: r(610), median: 610, tool: 'fio 3.36 (FIXTURE)' },
    { name: 'disk-write', blockSize: 65536, metric: 'MB/s', values: r(1480), median: 1480, tool: 'fio 3.36 (FIXTURE)' },
    { name: 'disk-write', blockSize: 1048576, metric: 'MB/s', values: r(1650), median: 1650, tool: 'fio 3.36 (FIXTURE)' },
    { name: 'disk-write-fdatasync', blockSize: 4096, metric: 'MB/s', values: r(21.4), median: 21.4, tool: 'fio 3.36 (FIXTURE)' },
    { name: 'disk-write-fdatasync', blockSize: 65536, metric: 'MB/s', values: r(350), median: 350, tool: 'fio 3.36 (FIXTURE)' },
    { name: 'disk-write-fdatasync', blockSize: 1048576, metric: 'MB/s', values: r(905), median: 905, tool: 'fio 3.36 (FIXTURE)' },
  ],
  seconds: 1342,
  skipped: [
    'redis: consume/100B/p1 — XREAD client not built for this workload (FIXTURE)',
    'nats: memory/rss-under-load — process exited before the sample (FIXTURE)',
  ],
};
