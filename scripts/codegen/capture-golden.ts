/**
 * Captures golden request frames from real Kafka clients.
 *
 *   node scripts/codegen/capture-golden.ts [--out test/fixtures/golden] [--only kafkajs|platformatic]
 *
 * Starts the recording stand-in broker (golden/capture-server.ts), drives kafkajs
 * and @platformatic/kafka through their normal flows (bootstrap, CreateTopics,
 * Produce with records, ListOffsets, Fetch, a consumer group) and writes the
 * frames each client sent as hex to <out>/<client>.json. The golden test
 * (test/protocol/golden.test.ts) decodes and re-encodes them byte for byte.
 *
 * Fixtures are committed; rerun this only to refresh them (timestamps, ids and
 * client versions will change).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureServer } from './golden/capture-server.ts';
import { PROJECT_ROOT } from './main.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export const GOLDEN_TOPIC = 'golden-topic';
export const GOLDEN_GROUP = 'golden-group';
export const GOLDEN_KEY = 'golden-key';
export const GOLDEN_VALUE = 'golden-value';

export function pkgVersion(name: string): string {
  const path = join(PROJECT_ROOT, 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

async function withTimeout<T>(what: string, p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms); }),
    ]);
  } catch (e) {
    console.error(`  ${what}: ${(e as Error).message}`);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** Drives kafkajs through its flows against the broker at 127.0.0.1:port. */
export async function runKafkajsFlows(port: number): Promise<void> {
  const { Kafka, logLevel } = (await import('kafkajs')).default as Any;
  const kafka = new Kafka({
    clientId: 'golden-kafkajs',
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 1, initialRetryTime: 50 },
    connectionTimeout: 2000,
    requestTimeout: 5000,
  });
  const admin = kafka.admin();
  await withTimeout('kafkajs admin', (async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: GOLDEN_TOPIC, numPartitions: 1, replicationFactor: 1 }] });
  })(), 10000);

  const producer = kafka.producer();
  await withTimeout('kafkajs produce', (async () => {
    await producer.connect();
    await producer.send({
      topic: GOLDEN_TOPIC,
      messages: [{ key: GOLDEN_KEY, value: GOLDEN_VALUE, headers: { 'golden-header': 'h' } }],
    });
    await producer.disconnect();
  })(), 10000);

  await withTimeout('kafkajs list offsets', admin.fetchTopicOffsets(GOLDEN_TOPIC), 10000);

  // A plain Fetch through kafkajs's internal cluster (its consumer needs a group first).
  await withTimeout('kafkajs fetch', (async () => {
    const sym = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
    if (!sym) throw new Error('kafkajs internals changed');
    const cluster = kafka[sym]({ metadataMaxAge: 300000, allowAutoTopicCreation: false, maxInFlightRequests: null, isolationLevel: 1 });
    await cluster.connect();
    await cluster.addTargetTopic(GOLDEN_TOPIC);
    const broker = await cluster.findBroker({ nodeId: '1' });
    await broker.fetch({
      replicaId: -1, isolationLevel: 1, maxWaitTime: 10, minBytes: 1, maxBytes: 1048576,
      topics: [{ topic: GOLDEN_TOPIC, partitions: [{ partition: 0, fetchOffset: '0', maxBytes: 1048576 }] }],
    });
    await cluster.disconnect();
  })(), 10000);

  // The consumer group flow: FindCoordinator, JoinGroup, SyncGroup, OffsetFetch, Fetch, ...
  const consumer = kafka.consumer({ groupId: GOLDEN_GROUP, heartbeatInterval: 100 });
  await withTimeout('kafkajs consumer', (async () => {
    await consumer.connect();
    await consumer.subscribe({ topic: GOLDEN_TOPIC, fromBeginning: true });
    await new Promise<void>((resolveRun, reject) => {
      consumer.run({ eachMessage: async () => resolveRun() }).catch(reject);
    });
    await consumer.commitOffsets([{ topic: GOLDEN_TOPIC, partition: 0, offset: '1' }]);
    await new Promise((r) => setTimeout(r, 300)); // let a heartbeat go out
  })(), 15000);
  await withTimeout('kafkajs disconnect', Promise.allSettled([consumer.disconnect(), admin.disconnect()]), 5000);
}

/** Drives @platformatic/kafka through its flows against the broker at 127.0.0.1:port. */
export async function runPlatformaticFlows(port: number): Promise<void> {
  const { Admin, Producer, Consumer } = await import('@platformatic/kafka');
  const base = { clientId: 'golden-platformatic', bootstrapBrokers: [`127.0.0.1:${port}`], retries: 1, retryDelay: 50, timeout: 5000 };
  const admin = new Admin(base);
  await withTimeout('platformatic create topics', admin.createTopics({ topics: [GOLDEN_TOPIC], partitions: 1, replicas: 1 }), 10000);
  await withTimeout('platformatic list offsets', admin.listOffsets({ topics: [{ name: GOLDEN_TOPIC, partitions: [{ partitionIndex: 0, timestamp: -1n }] }] }), 10000);

  const producer = new Producer(base);
  await withTimeout('platformatic produce', producer.send({
    messages: [{ topic: GOLDEN_TOPIC, key: Buffer.from(GOLDEN_KEY), value: Buffer.from(GOLDEN_VALUE), headers: new Map([[Buffer.from('golden-header'), Buffer.from('h')]]) }],
  }), 10000);

  const fetcher = new Consumer({ ...base, groupId: 'golden-unused-group' });
  await withTimeout('platformatic fetch', (async () => {
    const md = await fetcher.metadata({ topics: [GOLDEN_TOPIC], forceUpdate: true });
    const t = md.topics.get(GOLDEN_TOPIC)!;
    await fetcher.fetch({
      node: 1, maxWaitTime: 10, minBytes: 1, maxBytes: 1048576,
      topics: [{ topicId: t.id, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, partitionMaxBytes: 1048576 }] }],
    } as Any);
    await fetcher.listOffsets({ topics: [GOLDEN_TOPIC] });
  })(), 10000);

  const consumer = new Consumer({ ...base, groupId: GOLDEN_GROUP, heartbeatInterval: 100 } as Any);
  await withTimeout('platformatic consumer', (async () => {
    const stream = await consumer.consume({ topics: [GOLDEN_TOPIC], mode: 'earliest', autocommit: false } as Any);
    for await (const message of stream as AsyncIterable<Any>) {
      await message.commit();
      break;
    }
    await new Promise((r) => setTimeout(r, 300));
    await stream.close();
  })(), 15000);
  await withTimeout('platformatic close', Promise.allSettled([consumer.close(true), fetcher.close(true), producer.close(true), admin.close()]), 5000);
}

/** Keeps the first few distinct frames per (api, version), in capture order. */
export function select<F extends { apiKey: number; apiVersion: number; hex: string }>(frames: F[], perVersion = 2): F[] {
  const count = new Map<string, number>();
  const seenBodies = new Set<string>();
  const out: F[] = [];
  for (const f of frames) {
    const k = `${f.apiKey}/${f.apiVersion}`;
    // Correlation ids differ between otherwise identical frames: compare without them.
    const body = `${k}/${f.hex.slice(0, 8)}${f.hex.slice(16)}`;
    if (seenBodies.has(body)) continue;
    seenBodies.add(body);
    const n = count.get(k) ?? 0;
    if (n >= perVersion) continue;
    count.set(k, n + 1);
    out.push(f);
  }
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf('--out');
  const outDir = resolve(outIdx >= 0 ? args[outIdx + 1]! : join(PROJECT_ROOT, 'test', 'fixtures', 'golden'));
  const onlyIdx = args.indexOf('--only');
  const only = onlyIdx >= 0 ? args[onlyIdx + 1] : undefined;
  mkdirSync(outDir, { recursive: true });

  const clients: Array<{ id: string; pkg: string; run: (port: number) => Promise<void> }> = [
    { id: 'kafkajs', pkg: 'kafkajs', run: runKafkajsFlows },
    { id: 'platformatic', pkg: '@platformatic/kafka', run: runPlatformaticFlows },
  ];
  for (const c of clients) {
    if (only !== undefined && only !== c.id) continue;
    const server = new CaptureServer();
    await server.start();
    console.log(`capturing ${c.pkg} on port ${server.port}`);
    try {
      await c.run(server.port);
    } finally {
      await server.stop();
    }
    const frames = select(server.frames);
    const summary = [...new Set(frames.map((f) => `${f.api} v${f.apiVersion}`))].join(', ');
    console.log(`  ${server.frames.length} frames, kept ${frames.length}: ${summary}`);
    const file = join(outDir, `${c.id}.json`);
    writeFileSync(file, JSON.stringify({
      client: c.pkg,
      clientVersion: pkgVersion(c.pkg),
      capturedWith: 'scripts/codegen/capture-golden.ts',
      topic: GOLDEN_TOPIC,
      group: GOLDEN_GROUP,
      key: GOLDEN_KEY,
      value: GOLDEN_VALUE,
      frames,
    }, null, 2) + '\n');
    console.log(`  wrote ${file}`);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
  // Clients may leave sockets or timers behind; the capture is complete.
  process.exit(0);
}
