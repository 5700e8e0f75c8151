// Parsers for Kafka's perf tools, on output captured from kafka-tools 4.3.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConsumerPerformance, parseEndToEndLatency, parseProducerPerformance } from '../../bench/lib/clients/kafka-perf.ts';

test('ProducerPerformance: the final summary line, not the periodic ones; MB/s from records/s × size', () => {
  const out = [
    'Option --producer-props has been deprecated and will be removed in a future version. Use --command-property instead.',
    '204466 records sent, 40893.2 records/sec (39.93 MB/sec), 616.0 ms avg latency, 1001.0 ms max latency.',
    '1000000 records sent, 77411.363988 records/sec (75.60 MB/sec), 374.29 ms avg latency, 1001.00 ms max latency, 290 ms 50th, 681 ms 95th, 906 ms 99th, 988 ms 99.9th.',
  ].join('\n');
  const r = parseProducerPerformance(out, 1024);
  assert.equal(r.records, 1_000_000);
  assert.equal(r.recordsPerSec, 77411.363988);
  assert.ok(Math.abs(r.mbPerSec - (77411.363988 * 1024) / 1e6) < 1e-9);
  assert.deepEqual(r.latencyMs, { avg: 374.29, max: 1001, p50: 290, p95: 681, p99: 906, p999: 988 });
  assert.throws(() => parseProducerPerformance(out.split('\n').slice(0, 2).join('\n'), 1024), /no ProducerPerformance summary/);
});

test('ConsumerPerformance: throughput of the fetch phase, MiB converted to MB', () => {
  const out = [
    'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec',
    '2026-11-23 16:06:25:119, 2026-11-23 16:06:30:253, 976.5625, 190.2147, 1000000, 194779.8987, 1199, 3935, 248.1734, 254129.6061',
  ].join('\n');
  const r = parseConsumerPerformance(out);
  assert.equal(r.records, 1_000_000);
  assert.equal(r.bytes, 1_024_000_000);
  assert.equal(r.rebalanceMs, 1199);
  assert.equal(r.fetchMs, 3935);
  assert.ok(Math.abs(r.mbPerSec - 1024 / 3.935) < 1e-9);
  assert.throws(() => parseConsumerPerformance('WARNING: Exiting before consuming the expected number of records'), /no ConsumerPerformance result/);
});

test('EndToEndLatency: average and percentiles', () => {
  const out = 'Topic "e2e1" does not exist. Will create topic with 1 partition(s) and replication factor = 1\n0\t94.279497\nAvg latency: 3.6902 ms\nPercentiles: 50th = 2, 99th = 13, 99.9th = 94\n';
  assert.deepEqual(parseEndToEndLatency(out), { avgMs: 3.6902, p50: 2, p99: 13, p999: 94 });
  assert.throws(() => parseEndToEndLatency('0\t94.2\n'), /no EndToEndLatency summary/);
});
