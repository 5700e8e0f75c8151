/**
 * The two Kafka-protocol peers, started by the suite itself on loopback with a fresh temporary
 * data directory each time:
 *
 * - Tributary: `node dist/cli/main.js start` in a child process, as `npm start` runs it (the
 *   suite runs `npm run build` first; the same Node that runs the suite), in one durability
 *   mode per start
 *   (`tributary.durability=fsync`, the default, or `pagecache`).
 * - Apache Kafka 4.x in KRaft mode (one combined broker+controller), from its Maven Central jars
 *   (fetched once by compat/kafka/start-kafka.sh --fetch-only), with the JVM options Kafka's
 *   own kafka-server-start.sh uses and Kafka's default broker settings. One start serves both
 *   durability classes: 'durable' topics are created with flush.messages=1 (Kafka then fsyncs
 *   the partition log after every append, before answering), 'pagecache' topics with defaults.
 *
 * Both use group.initial.rebalance.delay.ms=0 so a consumer-group benchmark does not start with
 * a 3 s wait on either side. Startup is timed from spawn to the first Metadata answer.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Admin } from '@platformatic/kafka';
import { REPO_ROOT, freePort } from '../../../test/testkit/broker.ts';
import type { Durability } from '../results.ts';
import { timeToFirstMetadata } from '../probe.ts';

export interface KafkaProtocolPeer {
  name: 'tributary' | 'kafka';
  /** The durability classes this start can serve. */
  serves: Durability[];
  bootstrap: string;
  pid: number;
  startupMs: number;
  version: string;
  config: Record<string, string>;
  /** Topic configs that put a topic in the given durability class on this peer. */
  topicConfigs(d: Durability): Record<string, string>;
  alive(): boolean;
  /** Output so far (for diagnostics when something fails). */
  output(): string;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 120_000;

function capture(child: ChildProcess): () => string {
  let out = '';
  const keep = (b: Buffer) => {
    out += b.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => out;
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Spawns a peer and times it from spawn to its first Metadata answer; kills it if it never answers. */
async function spawnTimed(
  name: string,
  cmd: string,
  args: string[],
  port: number,
  graceMs: number,
): Promise<{ child: ChildProcess; output: () => string; alive: () => boolean; startupMs: number }> {
  const spawnedAt = performance.now();
  const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = capture(child);
  const alive = () => child.exitCode === null && child.signalCode === null;
  try {
    const startupMs = await timeToFirstMetadata('127.0.0.1', port, spawnedAt, START_TIMEOUT_MS, alive);
    return { child, output, alive, startupMs };
  } catch (err) {
    await stopChild(child, graceMs);
    throw new Error(`${name} did not start: ${(err as Error).message}\n${output().slice(-2000)}`);
  }
}

export async function tributaryVersion(): Promise<string> {
  return JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')).version as string;
}

const DIST_CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');

/** Compiles src/ to dist/ (`npm run build`), as `npm start` does before it starts the broker. */
export function buildTributary(): void {
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed: ${r.stdout}${r.stderr}`);
}

export async function startTributary(opts: { workDir: string; durability: 'durable' | 'pagecache' }): Promise<KafkaProtocolPeer> {
  const dataDir = join(opts.workDir, `tributary-${opts.durability}-${Date.now()}`);
  await mkdir(dataDir, { recursive: true });
  const port = await freePort();
  const config: Record<string, string> = {
    'tributary.durability': opts.durability === 'durable' ? 'fsync' : 'pagecache',
    'group.initial.rebalance.delay.ms': '0',
  };
  const args = [DIST_CLI, 'start', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--log-level', 'warn'];
  for (const [k, v] of Object.entries(config)) args.push('--config', `${k}=${v}`);
  const { child, output, alive, startupMs } = await spawnTimed('Tributary', process.execPath, args, port, 2000);
  return {
    name: 'tributary',
    serves: [opts.durability],
    bootstrap: `127.0.0.1:${port}`,
    pid: child.pid!,
    startupMs,
    version: await tributaryVersion(),
    config: { ...config, node: process.version },
    topicConfigs: () => ({}),
    alive,
    output,
    async stop() {
      await stopChild(child, 10_000);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Fetches Kafka's jars (cached) and returns the directory holding them. */
export function kafkaLibs(): { dir: string; version: string } {
  const r = spawnSync('bash', [join(REPO_ROOT, 'compat/kafka/start-kafka.sh'), '--fetch-only'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fetching Kafka's jars failed: ${r.stderr}`);
  const dir = r.stdout.trim().split('\n').pop()!;
  const version = /libs-(.+)$/.exec(dir)?.[1] ?? 'unknown';
  return { dir, version };
}

/** The JVM options of Kafka's bin/kafka-server-start.sh and bin/kafka-run-class.sh. */
export const KAFKA_JVM_OPTS = [
  '-Xmx1G',
  '-Xms1G',
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:MaxInlineLevel=15',
  '-Djava.awt.headless=true',
];

export async function startKafka(opts: { workDir: string }): Promise<KafkaProtocolPeer> {
  const libs = kafkaLibs();
  const runDir = join(opts.workDir, `kafka-${Date.now()}`);
  const dataDir = join(runDir, 'data');
  await mkdir(dataDir, { recursive: true });
  const port = await freePort();
  const controllerPort = await freePort();
  const config: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': dataDir,
    'offsets.topic.replication.factor': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
  };
  const props = join(runDir, 'server.properties');
  await writeFile(props, Object.entries(config).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const log4j = join(runDir, 'log4j2.properties');
  await writeFile(
    log4j,
    [
      'status = warn',
      'appender.file.type = File',
      'appender.file.name = file',
      `appender.file.fileName = ${join(runDir, 'server.log')}`,
      'appender.file.layout.type = PatternLayout',
      'appender.file.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = info',
      'rootLogger.appenderRef.file.ref = file',
    ].join('\n') + '\n',
  );
  const jvm = [...KAFKA_JVM_OPTS, `-Dlog4j2.configurationFile=${log4j}`, `-Dkafka.logs.dir=${runDir}`, '-cp', `${libs.dir}/*`];
  // Formatting the storage is a separate, one-time step in Kafka (kafka-storage.sh format), as
  // creating an empty data dir is for Tributary: not part of the startup time.
  const clusterId = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url');
  const fmt = spawnSync('java', [...jvm, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', props, '--ignore-formatted'], {
    encoding: 'utf8',
  });
  if (fmt.status !== 0) throw new Error(`kafka-storage format failed: ${fmt.stdout}${fmt.stderr}`);
  const { child, output, alive, startupMs } = await spawnTimed('Kafka', 'java', [...jvm, 'kafka.Kafka', props], port, 5000);
  return {
    name: 'kafka',
    serves: ['durable', 'pagecache'],
    bootstrap: `127.0.0.1:${port}`,
    pid: child.pid!,
    startupMs,
    version: libs.version,
    config: { ...config, jvm: KAFKA_JVM_OPTS.join(' '), 'durable topics': 'flush.messages=1' },
    topicConfigs: (d): Record<string, string> => (d === 'durable' ? { 'flush.messages': '1' } : {}),
    alive,
    output,
    async stop() {
      await stopChild(child, 30_000);
      await rm(runDir, { recursive: true, force: true });
    },
  };
}

/** Creates a topic (or fails loudly); admin work, not load, so any client will do. */
export async function createTopic(peer: KafkaProtocolPeer, name: string, partitions: number, durability: Durability): Promise<void> {
  const admin = new Admin({ clientId: 'bench-admin', bootstrapBrokers: [peer.bootstrap], timeout: 30_000, retries: 5, retryDelay: 200 });
  try {
    const configs = Object.entries(peer.topicConfigs(durability)).map(([name, value]) => ({ name, value }));
    await admin.createTopics({ topics: [name], partitions, replicas: 1, configs });
  } finally {
    await admin.close();
  }
}
