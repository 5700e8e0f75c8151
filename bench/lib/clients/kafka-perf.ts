/**
 * Apache Kafka's own load generators from the kafka-tools jar (the classes behind
 * bin/kafka-producer-perf-test.sh and bin/kafka-consumer-perf-test.sh), run with the heap those
 * scripts use, against any Kafka-protocol peer. We only start them and read what they print.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const QUIET_LOG4J = join(tmpdir(), 'tributary-bench-log4j2.properties');
writeFileSync(
  QUIET_LOG4J,
  ['status = error', 'rootLogger.level = error', 'appender.c.type = Console', 'appender.c.name = c', 'appender.c.layout.type = PatternLayout', 'appender.c.layout.pattern = %m%n', 'rootLogger.appenderRef.c.ref = c'].join('\n') + '\n',
);

function java(libsDir: string, mainClass: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', ['-Xmx512M', '-server', '-XX:+UseG1GC', `-Dlog4j2.configurationFile=${QUIET_LOG4J}`, '-cp', `${libsDir}/*`, mainClass, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${mainClass} ${signal ? `killed (${signal}) after ${timeoutMs} ms` : `exited ${code}`}:\n${out.slice(-3000)}`));
    });
  });
}

export interface ProducePerfResult {
  records: number;
  recordsPerSec: number;
  /** Payload MB/s, 1 MB = 1e6 bytes. */
  mbPerSec: number;
  latencyMs: { avg: number; max: number; p50: number; p95: number; p99: number; p999: number };
}

/** Parses ProducerPerformance's final summary line. */
export function parseProducerPerformance(out: string, recordSize: number): ProducePerfResult {
  const line = out.split('\n').reverse().find((l) => /records sent, .* records\/sec .* 99\.9th/.test(l));
  if (!line) throw new Error(`no ProducerPerformance summary in:\n${out.slice(-2000)}`);
  const num = (re: RegExp) => Number(re.exec(line)?.[1] ?? NaN);
  const records = num(/^(\d+) records sent/);
  const recordsPerSec = num(/([\d.]+) records\/sec/);
  return {
    records,
    recordsPerSec,
    mbPerSec: (recordsPerSec * recordSize) / 1e6,
    latencyMs: {
      avg: num(/([\d.]+) ms avg latency/),
      max: num(/([\d.]+) ms max latency/),
      p50: num(/(\d+) ms 50th/),
      p95: num(/(\d+) ms 95th/),
      p99: num(/(\d+) ms 99th/),
      p999: num(/(\d+) ms 99\.9th/),
    },
  };
}

export async function producerPerformance(o: {
  libsDir: string;
  bootstrap: string;
  topic: string;
  records: number;
  size: number;
  acks: '1' | 'all';
  props?: Record<string, string>;
  timeoutMs: number;
}): Promise<ProducePerfResult> {
  // The client's defaults on both peers: the Java producer is idempotent for acks=all (and turns
  // idempotence off by itself for acks=1).
  const props = { 'bootstrap.servers': o.bootstrap, acks: o.acks, ...o.props };
  const args = ['--topic', o.topic, '--num-records', String(o.records), '--record-size', String(o.size), '--throughput', '-1', '--producer-props'];
  for (const [k, v] of Object.entries(props)) args.push(`${k}=${v}`);
  const out = await java(o.libsDir, 'org.apache.kafka.tools.ProducerPerformance', args, o.timeoutMs);
  return parseProducerPerformance(out, o.size);
}

export interface ConsumePerfResult {
  records: number;
  bytes: number;
  /** Fetch phase only (after the group's first assignment), 1 MB = 1e6 bytes. */
  mbPerSec: number;
  recordsPerSec: number;
  rebalanceMs: number;
  fetchMs: number;
}

/**
 * Parses ConsumerPerformance's CSV line: start.time, end.time, data.consumed.in.MB, MB.sec,
 * data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec,
 * fetch.nMsg.sec (its MB are MiB).
 */
export function parseConsumerPerformance(out: string): ConsumePerfResult {
  const line = out.split('\n').reverse().find((l) => /^\d{4}-\d\d-\d\d .*, .*, [\d.]+, [\d.]+, \d+,/.test(l));
  if (!line) throw new Error(`no ConsumerPerformance result in:\n${out.slice(-2000)}`);
  const f = line.split(',').map((s) => s.trim());
  const bytes = Number(f[2]) * 1024 * 1024;
  const records = Number(f[4]);
  const rebalanceMs = Number(f[6]);
  const fetchMs = Number(f[7]);
  return { records, bytes, rebalanceMs, fetchMs, mbPerSec: bytes / 1e6 / (fetchMs / 1000), recordsPerSec: records / (fetchMs / 1000) };
}

export async function consumerPerformance(o: {
  libsDir: string;
  bootstrap: string;
  topic: string;
  records: number;
  timeoutMs: number;
}): Promise<ConsumePerfResult> {
  const args = ['--bootstrap-server', o.bootstrap, '--topic', o.topic, '--messages', String(o.records), '--timeout', '30000'];
  const res = parseConsumerPerformance(await java(o.libsDir, 'org.apache.kafka.tools.ConsumerPerformance', args, o.timeoutMs));
  if (res.records < o.records) throw new Error(`ConsumerPerformance read ${res.records} of ${o.records} records`);
  return res;
}

export interface EndToEndResult {
  avgMs: number;
  p50: number;
  p99: number;
  p999: number;
}

/** Parses EndToEndLatency's summary: "Avg latency: 1.2345 ms" and "Percentiles: 50th = 1, …". */
export function parseEndToEndLatency(out: string): EndToEndResult {
  const avg = /Avg latency: ([\d.]+) ms/.exec(out);
  const pct = /Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)/.exec(out);
  if (!avg || !pct) throw new Error(`no EndToEndLatency summary in:\n${out.slice(-2000)}`);
  return { avgMs: Number(avg[1]), p50: Number(pct[1]), p99: Number(pct[2]), p999: Number(pct[3]) };
}

/**
 * Kafka's EndToEndLatency (kafka-e2e-latency.sh): closed loop, one record at a time — send,
 * wait until the consumer has it, send the next. It measures the round trip of a lone record
 * through an idle broker (whole milliseconds), not behaviour under load; the open-loop rdkperf
 * runs do that.
 */
export async function endToEndLatency(o: {
  libsDir: string;
  bootstrap: string;
  topic: string;
  records: number;
  size: number;
  acks: '1' | 'all';
  timeoutMs: number;
}): Promise<EndToEndResult> {
  const configFile = join(tmpdir(), `tributary-bench-e2e-${process.pid}.properties`);
  writeFileSync(configFile, '# the client defaults (idempotent producer)\n');
  const args = [o.bootstrap, o.topic, String(o.records), o.acks, String(o.size), configFile];
  return parseEndToEndLatency(await java(o.libsDir, 'org.apache.kafka.tools.EndToEndLatency', args, o.timeoutMs));
}
