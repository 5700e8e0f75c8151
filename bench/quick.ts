/**
 * Quick throughput check: produce N records of S bytes with @platformatic/kafka (acks=1, then
 * acks=all, each into its own topic), then fetch the acks=1 topic back without a consumer group,
 * and print records/s and MB/s for each phase. Not a test: nothing is asserted beyond counts.
 *
 *   npm run bench -- [--bootstrap host:port] [--records 200000] [--size 100] [--partitions 3]
 *                    [--batch 1000] [--concurrency 4] [--compression none] [--time-limit 60]
 *                    [--warmup 20000] [--json] [--spawn]
 *
 * Without --bootstrap (or BOOTSTRAP_SERVERS) it starts an in-process Tributary (startBroker on
 * port 0 with a temp data dir) and removes it afterwards; the broker then shares this process's
 * event loop with the client. --spawn runs the CLI as a child process instead. Each phase stops at --time-limit
 * seconds and reports what it did by then.
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { randomFillSync } from 'node:crypto';
import type { Consumer } from '@platformatic/kafka';
import { externalBootstrap, makeTempDir, removeDir, spawnBrokerProcess, uniqueTopic, waitFor, BROKER_ENTRY } from '../test/testkit/broker.ts';
import { createAdmin, createFetcher, createProducer } from '../test/testkit/platformatic.ts';

const { values } = parseArgs({
  options: {
    bootstrap: { type: 'string' },
    records: { type: 'string', default: '200000' },
    size: { type: 'string', default: '100' },
    partitions: { type: 'string', default: '3' },
    batch: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '4' },
    compression: { type: 'string', default: 'none' },
    'time-limit': { type: 'string', default: '60' },
    warmup: { type: 'string', default: '20000' },
    json: { type: 'boolean', default: false },
    spawn: { type: 'boolean', default: false },
  },
});

const records = Number(values.records);
const size = Number(values.size);
const partitions = Number(values.partitions);
const batch = Number(values.batch);
const concurrency = Number(values.concurrency);
const compression = values.compression as 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
const timeLimitMs = Number(values['time-limit']) * 1000;
const warmup = Number(values.warmup);

interface PhaseResult {
  phase: string;
  records: number;
  bytes: number;
  seconds: number;
  complete: boolean;
}

function fmt(r: PhaseResult): string {
  const rps = r.records / r.seconds;
  const mbps = r.bytes / r.seconds / 1e6;
  return `${r.phase.padEnd(16)} ${String(r.records).padStart(9)} records  ${r.seconds.toFixed(2).padStart(7)} s  ${Math.round(rps).toLocaleString('en-US').padStart(10)} rec/s  ${mbps.toFixed(1).padStart(7)} MB/s${r.complete ? '' : '  (time limit hit)'}`;
}

async function startInProcess(): Promise<{ bootstrap: string; close(): Promise<void> }> {
  const mod = (await import(new URL('../src/index.ts', import.meta.url).href)) as {
    startBroker(o: Record<string, unknown>): Promise<{ bootstrap: string; close(): Promise<void> }>;
    silentLogger?: unknown;
  };
  const dataDir = await makeTempDir('tributary-bench-');
  const b = await mod.startBroker({ dataDir, host: '127.0.0.1', port: 0, logger: mod.silentLogger });
  return { bootstrap: b.bootstrap, close: async () => { await b.close(); await removeDir(dataDir); } };
}

async function startChild(): Promise<{ bootstrap: string; close(): Promise<void> }> {
  const dataDir = await makeTempDir('tributary-bench-');
  const proc = await spawnBrokerProcess({ dataDir });
  return {
    bootstrap: proc.bootstrap,
    close: async () => {
      proc.kill('SIGTERM');
      await proc.waitForExit(20000).catch(() => proc.kill('SIGKILL'));
      await removeDir(dataDir);
    },
  };
}

async function produce(bootstrap: string, topic: string, acks: 1 | -1, total = records): Promise<PhaseResult> {
  const producer = createProducer([bootstrap], { idempotent: false, retries: 0, repeatOnStaleMetadata: false, timeout: 30000 });
  // A pool of distinct payloads so compression (if any) sees realistic, not constant, data.
  const payloads = Array.from({ length: 64 }, () => randomFillSync(Buffer.alloc(size)));
  const start = performance.now();
  const deadline = start + timeLimitMs;
  let sent = 0;
  let acked = 0;
  let nextPartition = 0;
  const sendOne = async (n: number) => {
    const messages = new Array(n);
    for (let i = 0; i < n; i++) {
      messages[i] = { topic, partition: nextPartition, value: payloads[(sent + i) & 63]! };
      nextPartition = (nextPartition + 1) % partitions;
    }
    sent += n;
    await producer.send({ messages, acks, compression });
    acked += n;
  };
  const inflight = new Set<Promise<void>>();
  try {
    while (sent < total && performance.now() < deadline) {
      const p = sendOne(Math.min(batch, total - sent)).finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= concurrency) await Promise.race(inflight);
    }
    await Promise.all(inflight);
  } finally {
    await producer.close();
  }
  const seconds = (performance.now() - start) / 1000;
  return { phase: `produce acks=${acks === -1 ? 'all' : '1'}`, records: acked, bytes: acked * size, seconds, complete: acked === total };
}

async function consume(fetcher: Consumer<Buffer, Buffer, Buffer, Buffer>, topic: string, expected: number): Promise<PhaseResult> {
  const md = await fetcher.metadata({ topics: [topic], forceUpdate: true });
  const t = md.topics.get(topic)!;
  const next = Array.from({ length: t.partitionsCount }, () => 0n);
  const ends = (await fetcher.listOffsets({ topics: [topic] })).get(topic)!;
  const start = performance.now();
  const deadline = start + timeLimitMs;
  let count = 0;
  let bytes = 0;
  while (count < expected && performance.now() < deadline) {
    const pending = next.map((o, p) => [p, o] as const).filter(([p, o]) => o < ends[p]!);
    if (!pending.length) break;
    const byLeader = new Map<number, Array<readonly [number, bigint]>>();
    for (const e of pending) {
      const leader = t.partitions[e[0]]!.leader;
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), e]);
    }
    await Promise.all(
      [...byLeader].map(async ([node, parts]) => {
        const res = await fetcher.fetch({
          node,
          maxWaitTime: 100,
          minBytes: 1,
          maxBytes: 50 * 1024 * 1024,
          topics: [{ topicId: t.id, partitions: parts.map(([partition, fetchOffset]) => ({ partition, fetchOffset, currentLeaderEpoch: -1, lastFetchedEpoch: -1, partitionMaxBytes: 4 * 1024 * 1024 })) }],
        });
        for (const tr of res.responses) {
          for (const pr of tr.partitions) {
            for (const b of pr.records ?? []) {
              for (const r of b.records) {
                const off = b.firstOffset + BigInt(r.offsetDelta);
                if (off < next[pr.partitionIndex]!) continue;
                count++;
                bytes += r.value?.length ?? 0;
                next[pr.partitionIndex] = off + 1n;
              }
            }
          }
        }
      }),
    );
  }
  const seconds = (performance.now() - start) / 1000;
  return { phase: 'consume (fetch)', records: count, bytes, seconds, complete: count === expected };
}

async function main(): Promise<void> {
  const explicit = values.bootstrap ?? externalBootstrap();
  let broker: { bootstrap: string; close(): Promise<void> };
  if (explicit) {
    broker = { bootstrap: explicit.split(',')[0]!.trim(), close: async () => {} };
  } else {
    try {
      broker = values.spawn ? await startChild() : await startInProcess();
    } catch (err) {
      console.error(`cannot start an in-process Tributary from ${BROKER_ENTRY} (${(err as Error).message}); pass --bootstrap host:port`);
      process.exitCode = 1;
      return;
    }
  }
  const target = explicit ? `external broker ${broker.bootstrap}` : `${values.spawn ? 'child-process' : 'in-process'} Tributary ${broker.bootstrap}`;
  console.log(`quick bench: ${records} records x ${size} B, ${partitions} partitions, batches of ${batch}, ${concurrency} in flight, compression ${compression}, against ${target}`);
  const admin = createAdmin([broker.bootstrap]);
  const fetcher = createFetcher([broker.bootstrap]);
  const results: PhaseResult[] = [];
  try {
    const topics = { one: uniqueTopic('bench-acks1'), all: uniqueTopic('bench-acksall'), warm: uniqueTopic('bench-warmup') };
    const names = Object.values(topics);
    await admin.createTopics({ topics: names, partitions, replicas: 1 });
    await waitFor(async () => {
      await fetcher.metadata({ topics: names, forceUpdate: true });
      const o = await fetcher.listOffsets({ topics: names });
      return names.every((n) => o.get(n)?.length === partitions);
    }, { timeoutMs: 15000, message: 'bench topics ready' });
    if (warmup > 0) {
      const w = await produce(broker.bootstrap, topics.warm, 1, warmup);
      console.log(fmt({ ...w, phase: 'warm-up (acks=1)' }));
      await consume(fetcher, topics.warm, w.records);
    }
    for (const [topic, acks] of [[topics.one, 1], [topics.all, -1]] as const) {
      const r = await produce(broker.bootstrap, topic, acks);
      results.push(r);
      console.log(fmt(r));
    }
    const c = await consume(fetcher, topics.one, results[0]!.records);
    results.push(c);
    console.log(fmt(c));
    await admin.deleteTopics({ topics: names }).catch(() => {});
  } finally {
    await fetcher.close();
    await admin.close();
    await broker.close();
  }
  if (values.json) {
    console.log(JSON.stringify({ target: explicit ? 'external' : values.spawn ? 'tributary-child' : 'tributary-in-process', bootstrap: broker.bootstrap, records, size, partitions, batch, concurrency, compression, results }));
  }
}

await main();
