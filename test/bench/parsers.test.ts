/**
 * The benchmark's parsers for external tool output (bench/lib/parsers.ts), on output captured
 * verbatim on the benchmark machine: iperf3 3.12 -J and fio 3.33 --output-format=json (files in
 * fixtures/), redis-benchmark 7.0.15 -q --csv and natscli v0.1.6 `nats bench` (inline below).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseFio, parseIperf3, parseNatsBench, parseRedisBenchmarkCsv } from '../../bench/lib/parsers.ts';
import { sizeLabel } from '../../bench/lib/tools.ts';

const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');

// redis-benchmark -h 127.0.0.1 -p 16399 -n 20000 -c 50 -P 100 -q --csv XADD bench:stream '*' f <100 x>
const REDIS_CSV = `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"XADD bench:stream * f xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","224719.09","20.745","1.896","18.303","33.951","34.495","34.559"
`;

// nats -s nats://127.0.0.1:14333 bench bench.s --js --pub 1 --msgs 20000 --size 100 --pubbatch 100 --no-progress --purge
const NATS_PUB = `16:06:28 Starting JetStream benchmark [subject=bench.s, multisubject=false, multisubjectmax=100000, js=true, msgs=20,000, msgsize=100 B, pubs=1, subs=0, stream=benchstream, maxbytes=1.0 GiB, storage=file, syncpub=false, pubbatch=100, jstimeout=30s, pull=false, consumerbatch=100, push=false, consumername=natscli-bench, replicas=1, purge=true, pubsleep=0s, subsleep=0s, dedup=false, dedupwindow=2m0s]
16:06:29 Purging the stream
16:06:29 Starting publisher, publishing 20,000 messages

Pub stats: 70,561 msgs/sec ~ 6.73 MB/sec

`;

// nats -s nats://127.0.0.1:14333 bench bench.s --js --sub 1 --msgs 20000 --size 100 --no-progress
const NATS_SUB = `16:06:29 JetStream ephemeral ordered push consumer mode, subscribers will not acknowledge the consumption of messages
16:06:29 Starting JetStream benchmark [subject=bench.s, multisubject=false, multisubjectmax=100000, js=true, msgs=20,000, msgsize=100 B, pubs=0, subs=1, stream=benchstream, maxbytes=1.0 GiB, storage=file, syncpub=false, pubbatch=100, jstimeout=30s, pull=false, consumerbatch=100, push=false, consumername=natscli-bench, replicas=1, purge=false, pubsleep=0s, subsleep=0s, dedup=false, dedupwindow=2m0s]
16:06:29 Starting subscriber, expecting 20,000 messages

Sub stats: 221,720 msgs/sec ~ 21.14 MB/sec

`;

test('iperf3 -J: receiver bits/s to MB/s (1e6 bytes)', () => {
  const r = parseIperf3(fixture('iperf3-3.12.json'));
  assert.equal(r.version, 'iperf 3.12');
  // end.sum_received.bits_per_second = 5858497758.0844
  assert.ok(Math.abs(r.mbPerSec - 5858497758.0844 / 8 / 1e6) < 1e-9);
  assert.throws(() => parseIperf3('{"start":{},"intervals":[],"end":{},"error":"unable to connect to server: Connection refused"}'), /Connection refused/);
});

test('fio json: jobs[0].write.bw_bytes to MB/s, warnings before the JSON ignored', () => {
  const text = fixture('fio-3.33-fdatasync.json');
  const r = parseFio(text);
  assert.equal(r.version, 'fio-3.33');
  assert.equal(r.mbPerSec, 9815015 / 1e6);
  assert.equal(r.ioBytes, 10452992);
  assert.equal(parseFio(`fio: some warning\n${text}`).mbPerSec, 9815015 / 1e6);
  assert.throws(() => parseFio('fio: pid=1, err=28/file:io_u.c:1845, func=io_u error, error=No space left on device'), /no JSON/);
});

test('redis-benchmark --csv: rps and latencies of the arbitrary-command row', () => {
  const rows = parseRedisBenchmarkCsv(REDIS_CSV);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].test, `XADD bench:stream * f ${'x'.repeat(100)}`);
  assert.equal(rows[0].rps, 224719.09);
  assert.equal(rows[0].avgLatencyMs, 20.745);
  assert.equal(rows[0].p50LatencyMs, 18.303);
  assert.equal(rows[0].p99LatencyMs, 34.495);
  assert.throws(() => parseRedisBenchmarkCsv('Could not connect to Redis at 127.0.0.1:1: Connection refused\n'), /no CSV rows/);
});

test('nats bench: Pub and Sub stats lines', () => {
  assert.deepEqual(parseNatsBench(NATS_PUB), [{ label: 'Pub', msgsPerSec: 70561, rateText: '6.73 MB/sec' }]);
  assert.deepEqual(parseNatsBench(NATS_SUB), [{ label: 'Sub', msgsPerSec: 221720, rateText: '21.14 MB/sec' }]);
  assert.throws(() => parseNatsBench('nats: error: context deadline exceeded\n'), /no "stats/);
});

test('size labels match the Kafka peers\' workload ids', () => {
  assert.equal(sizeLabel(100), '100B');
  assert.equal(sizeLabel(1024), '1KiB');
  assert.equal(sizeLabel(16384), '16KiB');
  assert.equal(sizeLabel(1048576), '1MiB');
});
