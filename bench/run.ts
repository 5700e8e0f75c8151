/**
 * `npm run bench`: Tributary against Apache Kafka (and Redis Streams, NATS JetStream where the
 * workload maps) on this machine, with the same third-party clients and workloads in one run,
 * next to the machine's physical limits. See bench/README.md for how to run and read it.
 *
 *   npm run bench                       # quick mode: whole matrix once, small counts (minutes)
 *   npm run bench -- --full             # full mode: 3 repeats, GB-sized runs, 3 GiB backlog
 *   npm run bench -- --peers tributary,kafka --skip limits,latency
 *
 * Progress goes to stderr; the table to stdout; JSON and SVG to bench/results/.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync, spawnSync } from 'node:child_process';
import { Admin } from '@platformatic/kafka';
import { REPO_ROOT, sleep } from '../test/testkit/broker.ts';
import { buildRdkperf, runRdkperf } from '../compat/rdkafka-bench/client.ts';
import { consumerPerformance, endToEndLatency, producerPerformance } from './lib/clients/kafka-perf.ts';
import { makePlan, produceId, sizeLabel, type Plan, type ProduceWorkload } from './lib/plan.ts';
import { buildTributary, createTopic, kafkaLibs, startKafka, startTributary, type KafkaProtocolPeer } from './lib/peers/kafka-protocol.ts';
import { cpuSeconds, rssMiB, RssSampler } from './lib/proc.ts';
import { measurement, type BenchRun, type Durability, type Limit, type Measurement, type PeerName } from './lib/results.ts';
import { measureLimits } from './lib/limits.ts';
import { benchRedis } from './lib/peers/redis.ts';
import { benchNats } from './lib/peers/nats.ts';
import { ensureTools } from './lib/tools.ts';
import { renderTable } from './lib/report/table.ts';
import { renderSvg } from './lib/report/svg.ts';

const { values: opt } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    peers: { type: 'string', default: 'kafka,tributary,redis,nats' },
    skip: { type: 'string', default: '' },
    repeats: { type: 'string' },
    out: { type: 'string', default: join(REPO_ROOT, 'bench', 'results') },
    'work-dir': { type: 'string' },
  },
});

const plan: Plan = makePlan(opt.full ? 'full' : 'quick');
if (opt.repeats) plan.repeats = Number(opt.repeats);
const peers = new Set(opt.peers!.split(',').filter(Boolean));
const skip = new Set(opt.skip!.split(',').filter(Boolean)); // limits, produce, consume, latency, rdkafka
const t0 = Date.now();
const log = (s: string) => {
  const e = Math.round((Date.now() - t0) / 1000);
  process.stderr.write(`[bench ${String(Math.floor(e / 60)).padStart(2, '0')}:${String(e % 60).padStart(2, '0')}] ${s}\n`);
};

const JAVA_CLIENT = 'kafka-producer/consumer-perf';
let javaClient = JAVA_CLIENT;
let rdkClient = 'rdkperf (librdkafka)';

/** Figures collected so far, keyed by everything but the values. */
const collected = new Map<string, Omit<Measurement, 'median'>>();
const skipped: string[] = [];
const peerInfo: BenchRun['peers'] = {};

function record(m: Omit<Measurement, 'values' | 'median'>, value: number, note?: string): void {
  if (!Number.isFinite(value)) return;
  const key = [m.kind, m.workload, m.peer, m.durability, m.client, m.metric].join('|');
  let entry = collected.get(key);
  if (!entry) collected.set(key, (entry = { ...m, values: [], notes: [] }));
  entry.values.push(value);
  if (note && !entry.notes!.includes(note)) entry.notes!.push(note);
}

function fail(what: string, err: unknown): void {
  const msg = `${what}: ${(err as Error).message.split('\n')[0]}`;
  skipped.push(msg);
  log(`FAILED ${msg}`);
}

/**
 * Writes back every dirty page before a measured run. Without it a run pays for the writeback
 * of the runs before it (the kernel throttles writers once dirty pages pass vm.dirty_ratio),
 * and Kafka more than Tributary: Kafka deletes a topic's files a minute after the topic, so
 * their dirty pages are still written back during later runs, while Tributary's are dropped.
 */
function settle(): void {
  spawnSync('sync');
}

let topicSeq = 0;
const topicName = (w: string) => `bench-${w.replace(/[^a-zA-Z0-9]+/g, '-')}-${Date.now().toString(36)}-${topicSeq++}`;

async function deleteTopic(peer: KafkaProtocolPeer, topic: string): Promise<void> {
  const admin = new Admin({ clientId: 'bench-admin', bootstrapBrokers: [peer.bootstrap], timeout: 30_000, retries: 3 });
  try {
    await admin.deleteTopics({ topics: [topic] });
  } catch (err) {
    log(`(could not delete ${topic}: ${(err as Error).message})`);
  } finally {
    await admin.close();
  }
}

// ---- produce ---------------------------------------------------------------------------------

interface ProduceFigures {
  mbPerSec: number;
  recordsPerSec: number;
  cpuPerGB: number;
}

async function produceOnce(
  peer: KafkaProtocolPeer,
  durability: Durability,
  w: ProduceWorkload,
  client: 'java' | 'rdkafka',
  libsDir: string,
): Promise<ProduceFigures> {
  const topic = topicName(w.id);
  await createTopic(peer, topic, w.partitions, durability);
  settle();
  const cpu0 = cpuSeconds(peer.pid);
  let res: { mbPerSec: number; recordsPerSec: number; records: number };
  if (client === 'java') {
    res = await producerPerformance({ libsDir, bootstrap: peer.bootstrap, topic, records: w.records, size: w.size, acks: w.acks, timeoutMs: plan.clientTimeoutMs });
  } else {
    const r = await runRdkperf(
      ['produce', '--bootstrap', peer.bootstrap, '--topic', topic, '--records', String(w.records), '--size', String(w.size), '--acks', w.acks === 'all' ? '-1' : '1'],
      plan.clientTimeoutMs,
    );
    if (r.errors > 0 || r.records < w.records) throw new Error(`rdkperf delivered ${r.records} of ${w.records} (${r.errors} errors)`);
    res = { records: r.records, recordsPerSec: r.records / r.seconds, mbPerSec: r.bytes / 1e6 / r.seconds };
  }
  const cpu = cpuSeconds(peer.pid) - cpu0;
  await deleteTopic(peer, topic);
  return { ...res, cpuPerGB: cpu / ((res.records * w.size) / 1e9) };
}

async function runProduce(peer: KafkaProtocolPeer, durability: Durability, workloads: ProduceWorkload[], libsDir: string): Promise<void> {
  const sampler = new RssSampler(peer.pid);
  const clients: Array<'java' | 'rdkafka'> = ['java'];
  if (!skip.has('rdkafka')) clients.push('rdkafka');
  for (const w of workloads) {
    for (const client of clients) {
      const isPeak = w.size === plan.latency.size && w.partitions === plan.latency.partitions;
      if (client === 'rdkafka' && plan.rdkafkaProduce === 'peaks' && !isPeak) continue;
      for (let i = 0; i < plan.repeats; i++) {
        const label = `${peer.name} ${durability} ${w.id} ${client} (${i + 1}/${plan.repeats})`;
        log(label);
        try {
          const f = await produceOnce(peer, durability, w, client, libsDir);
          const clientName = client === 'java' ? javaClient : rdkClient;
          const batch = client === 'java' ? 'batchBytes=16384' : 'batchBytes=1000000';
          const base = { workload: w.id, peer: peer.name as PeerName, durability, client: clientName };
          record({ ...base, kind: 'produce', metric: 'MB/s', unit: 'MB/s', better: 'higher' }, f.mbPerSec, batch);
          record({ ...base, kind: 'produce', metric: 'records/s', unit: 'records/s', better: 'higher' }, f.recordsPerSec);
          record({ ...base, kind: 'cpu', metric: 'CPU-s/GB', unit: 'CPU-s/GB', better: 'lower' }, f.cpuPerGB, 'broker process CPU (user+system) per GB of record payload');
          log(`  ${f.mbPerSec.toFixed(1)} MB/s, ${Math.round(f.recordsPerSec)} records/s, ${f.cpuPerGB.toFixed(2)} CPU-s/GB`);
        } catch (err) {
          fail(label, err);
        }
      }
    }
  }
  record({ workload: 'memory/load-rss', kind: 'memory', peer: peer.name, durability: 'n/a', client: 'produce matrix', metric: 'MiB', unit: 'MiB', better: 'lower' }, sampler.stop(), 'peak RSS while producing');
}

// ---- consume ---------------------------------------------------------------------------------

async function runConsume(peer: KafkaProtocolPeer, libsDir: string): Promise<void> {
  const c = plan.consume;
  const id = `consume/${sizeLabel(c.size)}/p${c.partitions}`;
  const topic = topicName(id);
  try {
    await createTopic(peer, topic, c.partitions, 'pagecache');
    log(`${peer.name} ${id}: writing a ${((c.records * c.size) / 2 ** 30).toFixed(2)} GiB backlog`);
    const r = await runRdkperf(['produce', '--bootstrap', peer.bootstrap, '--topic', topic, '--records', String(c.records), '--size', String(c.size), '--acks', '1'], plan.clientTimeoutMs * 2);
    if (r.records < c.records) throw new Error(`backlog: delivered ${r.records} of ${c.records}`);
  } catch (err) {
    fail(`${peer.name} ${id} backlog`, err);
    return;
  }
  const base = { workload: id, peer: peer.name as PeerName, durability: 'n/a' as const, kind: 'consume' as const, better: 'higher' as const };
  for (let i = 0; i < plan.repeats; i++) {
    const label = `${peer.name} ${id} (${i + 1}/${plan.repeats})`;
    log(`${label} ${javaClient}`);
    settle();
    try {
      const r = await consumerPerformance({ libsDir, bootstrap: peer.bootstrap, topic, records: c.records, timeoutMs: plan.clientTimeoutMs });
      record({ ...base, client: javaClient, metric: 'MB/s', unit: 'MB/s' }, r.mbPerSec, 'fetch phase, after the group assignment (rebalance excluded)');
      record({ ...base, client: javaClient, metric: 'records/s', unit: 'records/s' }, r.recordsPerSec);
      log(`  ${r.mbPerSec.toFixed(1)} MB/s (rebalance ${r.rebalanceMs} ms)`);
    } catch (err) {
      fail(`${label} java`, err);
    }
    if (skip.has('rdkafka')) continue;
    log(`${label} ${rdkClient}`);
    settle();
    try {
      const r = await runRdkperf(['consume', '--bootstrap', peer.bootstrap, '--topic', topic, '--records', String(c.records)], plan.clientTimeoutMs);
      if (r.records < c.records) throw new Error(`read ${r.records} of ${c.records}`);
      record({ ...base, client: rdkClient, metric: 'MB/s', unit: 'MB/s' }, r.bytes / 1e6 / r.seconds, 'no group: all partitions assigned from the beginning');
      record({ ...base, client: rdkClient, metric: 'records/s', unit: 'records/s' }, r.records / r.seconds);
      log(`  ${(r.bytes / 1e6 / r.seconds).toFixed(1)} MB/s`);
    } catch (err) {
      fail(`${label} rdkafka`, err);
    }
  }
  await deleteTopic(peer, topic);
}

// ---- end-to-end latency ----------------------------------------------------------------------

/** Kafka's peak records/s for the latency workload's shape, per durability class. */
const kafkaPeak = new Map<Durability, number>();

function peakFor(durability: Durability, peer: KafkaProtocolPeer): { rate: number; note: string } | null {
  const l = plan.latency;
  const acks = durability === 'durable' ? 'all' : '1';
  const id = produceId(l.size, l.partitions, acks);
  const k = kafkaPeak.get(durability);
  if (k) return { rate: k, note: `half of Kafka's peak for ${id} with ${rdkClient}: ${Math.round(k)} records/s` };
  const own = collected.get(['produce', id, peer.name, durability, rdkClient, 'records/s'].join('|'));
  if (own && own.values.length) {
    const r = own.values.reduce((a, b) => Math.max(a, b));
    return { rate: r, note: `no Kafka in this run: half of ${peer.name}'s own peak for ${id}: ${Math.round(r)} records/s` };
  }
  return null;
}

/** Kafka's own closed-loop EndToEndLatency tool: one record at a time through an idle broker. */
async function runClosedLoopLatency(peer: KafkaProtocolPeer, durability: Durability, libsDir: string): Promise<void> {
  const l = plan.latency;
  const acks = durability === 'durable' ? 'all' : '1';
  const id = `latency/${sizeLabel(l.size)}/p1/acks=${acks}/closed-loop`;
  for (let i = 0; i < plan.repeats; i++) {
    const label = `${peer.name} ${durability} ${id} (${i + 1}/${plan.repeats})`;
    log(label);
    const topic = topicName(id);
    try {
      await createTopic(peer, topic, 1, durability);
      settle();
      const r = await endToEndLatency({ libsDir, bootstrap: peer.bootstrap, topic, records: plan.latency.closedLoopRecords, size: l.size, acks, timeoutMs: plan.clientTimeoutMs });
      const note = `${plan.latency.closedLoopRecords} records, one at a time; whole milliseconds`;
      const base = { workload: id, peer: peer.name as PeerName, durability, client: javaClient, kind: 'latency' as const, unit: 'ms', better: 'lower' as const };
      record({ ...base, metric: 'avg ms' }, r.avgMs, note);
      record({ ...base, metric: 'p50 ms' }, r.p50, note);
      record({ ...base, metric: 'p99 ms' }, r.p99, note);
      record({ ...base, metric: 'p99.9 ms' }, r.p999, note);
      log(`  avg ${r.avgMs.toFixed(2)} ms, p50 ${r.p50} ms, p99 ${r.p99} ms, p99.9 ${r.p999} ms`);
    } catch (err) {
      fail(label, err);
    }
    await deleteTopic(peer, topic);
  }
}

async function runLatency(peer: KafkaProtocolPeer, durability: Durability, libsDir: string): Promise<void> {
  await runClosedLoopLatency(peer, durability, libsDir);
  if (skip.has('rdkafka')) return;
  const l = plan.latency;
  const acks = durability === 'durable' ? 'all' : '1';
  if (peer.name === 'kafka') {
    const own = collected.get(['produce', produceId(l.size, l.partitions, acks), 'kafka', durability, rdkClient, 'records/s'].join('|'));
    if (own && own.values.length) kafkaPeak.set(durability, own.values.reduce((a, b) => Math.max(a, b)));
  }
  const rates: Array<{ id: string; rate: number; note: string }> = l.fixedRates.map((rate) => ({ id: `rate=${rate}`, rate, note: `${rate} records/s offered` }));
  const peak = peakFor(durability, peer);
  if (peak) rates.push({ id: 'half-peak', rate: Math.max(1, Math.round(peak.rate / 2)), note: peak.note });
  else skipped.push(`${peer.name} ${durability} latency at half-peak: no peak figure (the rdkafka produce run failed or was skipped)`);
  for (const r of rates) {
    const id = `latency/${sizeLabel(l.size)}/p${l.partitions}/acks=${acks}/${r.id}`;
    for (let i = 0; i < plan.repeats; i++) {
      const label = `${peer.name} ${durability} ${id} @${r.rate}/s (${i + 1}/${plan.repeats})`;
      log(label);
      const topic = topicName(id);
      try {
        await createTopic(peer, topic, l.partitions, durability);
        settle();
        const res = await runRdkperf(
          ['e2e', '--bootstrap', peer.bootstrap, '--topic', topic, '--rate', String(r.rate), '--seconds', String(l.seconds), '--size', String(l.size), '--acks', acks === 'all' ? '-1' : '1', '--warmup', String(l.warmupSeconds)],
          (l.seconds + 60) * 1000,
        );
        const note = `${r.note}; achieved ${Math.round(res.achievedRate)}/s, lost ${res.lost}`;
        const base = { workload: id, peer: peer.name as PeerName, durability, client: rdkClient, kind: 'latency' as const, unit: 'ms', better: 'lower' as const };
        record({ ...base, metric: 'p50 ms' }, res.latencyMs.p50, note);
        record({ ...base, metric: 'p99 ms' }, res.latencyMs.p99, note);
        record({ ...base, metric: 'p99.9 ms' }, res.latencyMs.p999, note);
        record({ ...base, metric: 'max ms' }, res.latencyMs.max, note);
        log(`  p50 ${res.latencyMs.p50.toFixed(2)} ms, p99 ${res.latencyMs.p99.toFixed(2)} ms, p99.9 ${res.latencyMs.p999.toFixed(2)} ms, max ${res.latencyMs.max.toFixed(1)} ms`);
      } catch (err) {
        fail(label, err);
      }
      await deleteTopic(peer, topic);
    }
  }
}

// ---- peers -----------------------------------------------------------------------------------

/**
 * Runs each client once against a fresh peer before anything is measured, unrecorded: the
 * JVM's JIT (Kafka) and V8's (Tributary) otherwise make whichever workload comes first look
 * slow, which says more about the order than about the peer.
 */
async function warmUp(peer: KafkaProtocolPeer, libsDir: string): Promise<void> {
  const topic = topicName('warmup');
  log(`${peer.name}: warm-up (not recorded)`);
  try {
    await createTopic(peer, topic, 4, 'pagecache');
    await producerPerformance({ libsDir, bootstrap: peer.bootstrap, topic, records: 200_000, size: 1024, acks: '1', timeoutMs: plan.clientTimeoutMs });
    if (!skip.has('rdkafka')) {
      await runRdkperf(['produce', '--bootstrap', peer.bootstrap, '--topic', topic, '--records', '300000', '--size', '1024', '--acks', '1'], plan.clientTimeoutMs);
      await runRdkperf(['consume', '--bootstrap', peer.bootstrap, '--topic', topic, '--records', '500000'], plan.clientTimeoutMs);
    }
  } catch (err) {
    fail(`${peer.name} warm-up`, err);
  }
  await deleteTopic(peer, topic);
}

async function startupFigures(peer: KafkaProtocolPeer): Promise<void> {
  await sleep(2000); // let start-up work (JIT, lazy init) settle before reading idle memory
  const base = { peer: peer.name as PeerName, durability: 'n/a' as const, client: 'Metadata probe' };
  record({ ...base, workload: 'startup/first-metadata', kind: 'startup', metric: 'ms', unit: 'ms', better: 'lower' }, peer.startupMs, 'spawn → first Metadata answer, empty data dir');
  record({ ...base, workload: 'memory/idle-rss', kind: 'memory', metric: 'MiB', unit: 'MiB', better: 'lower' }, rssMiB(peer.pid), 'RSS 2 s after start-up, no topics');
}

async function withPeer(start: () => Promise<KafkaProtocolPeer>, body: (p: KafkaProtocolPeer) => Promise<void>): Promise<void> {
  let peer: KafkaProtocolPeer;
  try {
    peer = await start();
  } catch (err) {
    fail('start', err);
    return;
  }
  peerInfo[peer.name] = { version: peer.version, config: { ...(peerInfo[peer.name]?.config ?? {}), ...peer.config } };
  log(`${peer.name} ${peer.version} up at ${peer.bootstrap} (pid ${peer.pid}) in ${peer.startupMs.toFixed(0)} ms`);
  try {
    await body(peer);
  } finally {
    if (!peer.alive()) skipped.push(`${peer.name} died during the run:\n${peer.output().slice(-1000)}`);
    await peer.stop();
  }
}

async function extraStartups(start: () => Promise<KafkaProtocolPeer>): Promise<void> {
  for (let i = 1; i < plan.startups; i++) {
    await withPeer(start, startupFigures);
  }
}

function machineInfo(): BenchRun['machine'] {
  const sh = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch (err) {
      return ((err as { stderr?: string }).stderr ?? '').trim();
    }
  };
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    java: sh('java', ['-version']).split('\n')[0],
    disk: sh('df', ['-hT', tmpdir()]).split('\n')[1]?.replace(/\s+/g, ' '),
  };
}

async function main(): Promise<void> {
  const started = new Date();
  const workDir = opt['work-dir'] ?? join(tmpdir(), `tributary-bench-${process.pid}`);
  await mkdir(workDir, { recursive: true });
  log(`${plan.mode} mode, ${plan.repeats} repeat(s), peers ${[...peers].join(', ')}; work dir ${workDir}`);

  const tools = await ensureTools(['iperf3', 'fio', ...(peers.has('redis') ? ['redis-server'] : []), ...(peers.has('nats') ? ['nats-server'] : [])], log);
  for (const m of tools.missing) skipped.push(`${m} could not be installed`);
  if (peers.has('tributary')) buildTributary();
  const libs = kafkaLibs();
  javaClient = `kafka-tools ${libs.version} perf`;
  try {
    await buildRdkperf();
    const v = await runRdkperf(['--version'], 10_000);
    rdkClient = `rdkperf (librdkafka ${v.librdkafka})`;
  } catch (err) {
    fail('building the librdkafka client', err);
    skip.add('rdkafka');
  }

  let limits: Limit[] = [];
  if (!skip.has('limits')) {
    log('physical limits: loopback (iperf3), sequential write with and without fdatasync (fio)');
    try {
      limits = await measureLimits({ dir: workDir, blockSizes: plan.limits.blockSizes, seconds: plan.limits.seconds, repeats: plan.repeats, log, skipped });
      for (const l of limits) log(`  ${l.name}${l.blockSize ? ` ${l.blockSize} B` : ''}: ${l.median.toFixed(0)} MB/s`);
    } catch (err) {
      fail('limits', err);
    }
  }

  if (peers.has('kafka')) {
    const start = () => startKafka({ workDir });
    await withPeer(start, async (peer) => {
      await startupFigures(peer);
      await warmUp(peer, libs.dir);
      if (!skip.has('produce')) {
        await runProduce(peer, 'pagecache', plan.pagecache, libs.dir);
        await runProduce(peer, 'durable', plan.durable, libs.dir);
      }
      if (!skip.has('latency')) {
        await runLatency(peer, 'pagecache', libs.dir);
        await runLatency(peer, 'durable', libs.dir);
      }
      if (!skip.has('consume')) await runConsume(peer, libs.dir);
    });
    await extraStartups(start);
  }
  if (peers.has('tributary')) {
    await withPeer(
      () => startTributary({ workDir, durability: 'durable' }),
      async (peer) => {
        await startupFigures(peer);
        await warmUp(peer, libs.dir);
        if (!skip.has('produce')) await runProduce(peer, 'durable', plan.durable, libs.dir);
        if (!skip.has('latency')) await runLatency(peer, 'durable', libs.dir);
      },
    );
    await withPeer(
      () => startTributary({ workDir, durability: 'pagecache' }),
      async (peer) => {
        await warmUp(peer, libs.dir);
        if (!skip.has('produce')) await runProduce(peer, 'pagecache', plan.pagecache, libs.dir);
        if (!skip.has('latency')) await runLatency(peer, 'pagecache', libs.dir);
        if (!skip.has('consume')) await runConsume(peer, libs.dir);
      },
    );
    await extraStartups(() => startTributary({ workDir, durability: 'durable' }));
  }
  for (const [name, bench] of [['redis', benchRedis], ['nats', benchNats]] as const) {
    if (!peers.has(name) || tools.missing.includes(`${name}-server`)) continue;
    for (const durability of ['pagecache', 'durable'] as const) {
      log(`${name} (${durability})`);
      try {
        const r = await bench({ workDir, durability, records: plan.secondary.records, sizes: [100, 1024], repeats: plan.repeats, log, includeNA: durability === 'pagecache' });
        for (const m of r.measurements) for (const v of m.values) record(m, v, m.notes?.join('; '));
        skipped.push(...r.skipped);
        peerInfo[name] = { version: r.version, config: { ...(peerInfo[name]?.config ?? {}), ...prefixKeys(durability, r.config) } };
      } catch (err) {
        fail(`${name} ${durability}`, err);
      }
    }
  }

  const run: BenchRun = {
    started: started.toISOString(),
    mode: plan.mode,
    machine: machineInfo(),
    peers: peerInfo,
    measurements: [...collected.values()].map((m) => measurement(m)),
    limits,
    seconds: Math.round((Date.now() - t0) / 1000),
    skipped,
  };
  await mkdir(opt.out!, { recursive: true });
  const stamp = started.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const base = join(opt.out!, `${plan.mode}-${stamp}`);
  await writeFile(`${base}.json`, JSON.stringify(run, null, 2) + '\n');
  await writeFile(`${base}.svg`, renderSvg(run));
  process.stdout.write(renderTable(run, { color: process.stdout.isTTY }) + '\n');
  log(`results: ${base}.json, chart: ${base}.svg`);
  await rm(workDir, { recursive: true, force: true });
}

function prefixKeys(prefix: string, o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [`${prefix}: ${k}`, v]));
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
