/**
 * Shared helpers of the broker behaviour suites: one broker per test file (in-process
 * Tributary on port 0 with a temp data dir and a silent logger), or — with BOOTSTRAP_SERVERS
 * set — an external broker such as Apache Kafka from compat/kafka/start-kafka.sh, so the same
 * assertions can be checked against the real thing. Tests that need broker options (configs,
 * restarts) skip themselves on an external broker (`tributaryOnly`).
 *
 * Requests go through test/testkit/raw-client.ts with our generated codecs.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawClient } from '../testkit/raw-client.ts';
import { buildRecordBatch, decodeRecords, type RecordInput } from '../../src/protocol/records.ts';
import {
  CreateTopicsRequest,
  FetchRequest,
  ListOffsetsRequest,
  MetadataRequest,
  ProduceRequest,
} from '../../src/protocol/messages/index.generated.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Any = any;

export { RawClient };

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Error codes used by these suites (org.apache.kafka.common.protocol.Errors). */
export const E = {
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  MESSAGE_TOO_LARGE: 10,
  INVALID_TOPIC_EXCEPTION: 17,
  INVALID_REQUIRED_ACKS: 21,
  ILLEGAL_GENERATION: 22,
  UNKNOWN_MEMBER_ID: 25,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REPLICA_ASSIGNMENT: 39,
  INVALID_CONFIG: 40,
  INVALID_REQUEST: 42,
  FETCH_SESSION_ID_NOT_FOUND: 70,
  INVALID_FETCH_SESSION_EPOCH: 71,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  INVALID_RECORD: 87,
  UNKNOWN_TOPIC_ID: 100,
} as const;

/** API keys. */
export const K = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  OffsetForLeaderEpoch: 23,
  DescribeConfigs: 32,
  CreatePartitions: 37,
  DescribeCluster: 60,
} as const;

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

export function externalBootstrap(): string | undefined {
  const v = process.env.BOOTSTRAP_SERVERS?.trim();
  return v ? v.split(',')[0]!.trim() : undefined;
}

/** `{ skip }` option for tests that need an in-process Tributary (broker options, restarts). */
export const tributaryOnly = externalBootstrap()
  ? { skip: 'needs an in-process Tributary broker (BOOTSTRAP_SERVERS is set)' }
  : {};

export interface TargetOptions {
  autoCreateTopics?: boolean;
  numPartitions?: number;
  config?: Record<string, string>;
}

/** The broker a test file talks to. */
export interface Target {
  host: string;
  port: number;
  external: boolean;
  dataDir: string;
  connect(): Promise<RawClient>;
  /** Stops and starts the in-process broker on the same data dir (new port). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

interface Handle {
  host: string;
  port: number;
  close(): Promise<void>;
}

async function loadStartBroker(): Promise<(opts: Record<string, unknown>) => Promise<Handle>> {
  const mod = (await import(new URL('../../src/broker/broker.ts', import.meta.url).href)) as Any;
  return mod.startBroker;
}

async function loadSilentLogger(): Promise<unknown> {
  const mod = (await import(new URL('../../src/common/logger.ts', import.meta.url).href)) as Any;
  return mod.silentLogger;
}

/** Starts the file's broker (or returns the external one). */
export async function startTarget(opts: TargetOptions = {}): Promise<Target> {
  const ext = externalBootstrap();
  if (ext) {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(ext)!;
    const host = m[1]!;
    const port = Number(m[2]);
    return {
      host,
      port,
      external: true,
      dataDir: '',
      connect: () => RawClient.connect(host, port),
      restart: async () => {
        throw new Error('cannot restart an external broker');
      },
      close: async () => {},
    };
  }
  const startBroker = await loadStartBroker();
  const logger = await loadSilentLogger();
  const dataDir = await mkdtemp(join(tmpdir(), 'tributary-broker-test-'));
  const start = () =>
    startBroker({
      dataDir,
      host: '127.0.0.1',
      port: 0,
      logger,
      ...(opts.autoCreateTopics !== undefined ? { autoCreateTopics: opts.autoCreateTopics } : {}),
      ...(opts.numPartitions !== undefined ? { numPartitions: opts.numPartitions } : {}),
      ...(opts.config ? { config: opts.config } : {}),
    });
  let handle: Handle;
  try {
    handle = await start();
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const target: Target = {
    host: handle.host,
    port: handle.port,
    external: false,
    dataDir,
    connect: () => RawClient.connect(target.host, target.port),
    async restart() {
      await handle.close();
      handle = await start();
      target.host = handle.host;
      target.port = handle.port;
    },
    async close() {
      try {
        await handle.close();
      } finally {
        if (process.env.TRIBUTARY_KEEP_DATA !== '1') await rm(dataDir, { recursive: true, force: true, maxRetries: 3 });
      }
    },
  };
  return target;
}

let topicCounter = 0;
/** A topic name unique to this process (external brokers are shared). */
export function uniqueTopic(prefix = 't'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${topicCounter++}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ------------------------------------------------------------------------------------------
// Requests

export const VERSIONS = {
  produce: 9,
  fetch: 12,
  listOffsets: 7,
  metadata: 12,
  createTopics: 7,
  deleteTopics: 6,
} as const;

/** CreateTopics v7 of one topic; asserts success and waits until its partitions have a leader. */
export async function createTopic(
  c: RawClient,
  name: string,
  partitions = 1,
  configs: Record<string, string> = {},
): Promise<{ topicId: string }> {
  const res = await c.request(K.CreateTopics, 7, {
    ...CreateTopicsRequest.default(),
    topics: [
      {
        name,
        numPartitions: partitions,
        replicationFactor: -1,
        assignments: [],
        configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })),
      },
    ],
    timeoutMs: 30_000,
  });
  const t = res.topics[0];
  assert.equal(t.errorCode, E.NONE, `create ${name}: ${t.errorMessage}`);
  await waitForLeaders(c, name, partitions);
  return { topicId: t.topicId };
}

/** Waits until every partition of a topic answers ListOffsets (Kafka needs a moment). */
export async function waitForLeaders(c: RawClient, topic: string, partitions: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const res = await listOffsets(c, topic, [...Array(partitions).keys()].map((p) => ({ partition: p, timestamp: -1n })));
    if (res.every((p: Any) => p.errorCode === E.NONE)) return;
    await sleep(100);
  }
  throw new Error(`partitions of ${topic} have no leader`);
}

export async function metadata(c: RawClient, topics: string[] | null, version: number = VERSIONS.metadata, allowAutoTopicCreation = true): Promise<Any> {
  return c.request(K.Metadata, version, {
    ...MetadataRequest.default(),
    topics: topics === null ? null : topics.map((name) => ({ topicId: ZERO_UUID, name })),
    allowAutoTopicCreation,
  });
}

/** Builds an uncompressed batch of string records (values `v0..`, or the given values). */
export function batch(values: (string | RecordInput)[], opts: { baseTimestamp?: number; attributes?: number } = {}): Buffer {
  const ts = opts.baseTimestamp ?? Date.now();
  return buildRecordBatch({
    baseTimestamp: ts,
    attributes: opts.attributes,
    records: values.map((v) => (typeof v === 'string' ? { key: null, value: Buffer.from(v) } : v)),
  });
}

export interface ProducePart {
  topic: string;
  partition: number;
  records: Buffer | null;
}

/** One Produce request; returns the response body. */
export function produceRequest(parts: ProducePart[], acks = -1): Any {
  const byTopic = new Map<string, { index: number; records: Buffer | null }[]>();
  for (const p of parts) {
    if (!byTopic.has(p.topic)) byTopic.set(p.topic, []);
    byTopic.get(p.topic)!.push({ index: p.partition, records: p.records });
  }
  return {
    ...ProduceRequest.default(),
    acks,
    timeoutMs: 30_000,
    topicData: [...byTopic].map(([name, partitionData]) => ({ name, partitionData })),
  };
}

/** Produces one record set to one partition and returns that partition's response. */
export async function produce(
  c: RawClient,
  topic: string,
  partition: number,
  records: Buffer,
  opts: { acks?: number; version?: number } = {},
): Promise<Any> {
  const res = await c.request(K.Produce, opts.version ?? VERSIONS.produce, produceRequest([{ topic, partition, records }], opts.acks ?? -1));
  assert.equal(res.responses.length, 1);
  assert.equal(res.responses[0].partitionResponses.length, 1);
  return res.responses[0].partitionResponses[0];
}

/** Produces and asserts success; returns the base offset as a number. */
export async function produceOk(c: RawClient, topic: string, partition: number, records: Buffer, acks = -1): Promise<number> {
  const p = await produce(c, topic, partition, records, { acks });
  assert.equal(p.errorCode, E.NONE, `produce to ${topic}-${partition}: ${p.errorMessage}`);
  return Number(p.baseOffset);
}

export interface FetchPart {
  topic: string;
  topicId?: string;
  partition: number;
  offset: number | bigint;
  partitionMaxBytes?: number;
  currentLeaderEpoch?: number;
}

export function fetchRequest(
  parts: FetchPart[],
  opts: { maxWaitMs?: number; minBytes?: number; maxBytes?: number; sessionId?: number; sessionEpoch?: number; isolationLevel?: number } = {},
): Any {
  const byTopic = new Map<string, FetchPart[]>();
  for (const p of parts) {
    const key = `${p.topic}\u0000${p.topicId ?? ''}`;
    if (!byTopic.has(key)) byTopic.set(key, []);
    byTopic.get(key)!.push(p);
  }
  return {
    ...FetchRequest.default(),
    maxWaitMs: opts.maxWaitMs ?? 0,
    minBytes: opts.minBytes ?? 0,
    maxBytes: opts.maxBytes ?? 0x7fffffff,
    sessionId: opts.sessionId ?? 0,
    sessionEpoch: opts.sessionEpoch ?? -1,
    isolationLevel: opts.isolationLevel ?? 0,
    topics: [...byTopic.values()].map((ps) => ({
      topic: ps[0]!.topic,
      topicId: ps[0]!.topicId ?? ZERO_UUID,
      partitions: ps.map((p) => ({
        partition: p.partition,
        currentLeaderEpoch: p.currentLeaderEpoch ?? -1,
        fetchOffset: BigInt(p.offset),
        lastFetchedEpoch: -1,
        logStartOffset: -1n,
        partitionMaxBytes: p.partitionMaxBytes ?? 1024 * 1024,
        replicaDirectoryId: ZERO_UUID,
      })),
    })),
  };
}

/** Fetches one partition (v12, no wait) and returns its partition data. */
export async function fetchPartition(
  c: RawClient,
  topic: string,
  partition: number,
  offset: number | bigint,
  opts: { partitionMaxBytes?: number; maxBytes?: number; version?: number; isolationLevel?: number } = {},
): Promise<Any> {
  const res = await c.request(
    K.Fetch,
    opts.version ?? VERSIONS.fetch,
    fetchRequest([{ topic, partition, offset, partitionMaxBytes: opts.partitionMaxBytes }], { maxBytes: opts.maxBytes, isolationLevel: opts.isolationLevel }),
  );
  assert.equal(res.errorCode, E.NONE);
  return res.responses[0].partitions[0];
}

export async function listOffsets(
  c: RawClient,
  topic: string,
  partitions: { partition: number; timestamp: bigint; currentLeaderEpoch?: number }[],
  version: number = VERSIONS.listOffsets,
  isolationLevel = 0,
): Promise<Any[]> {
  const res = await c.request(K.ListOffsets, version, {
    ...ListOffsetsRequest.default(),
    replicaId: -1,
    isolationLevel,
    topics: [
      {
        name: topic,
        partitions: partitions.map((p) => ({
          partitionIndex: p.partition,
          currentLeaderEpoch: p.currentLeaderEpoch ?? -1,
          timestamp: p.timestamp,
          maxNumOffsets: 1,
        })),
      },
    ],
  });
  return res.topics[0].partitions;
}

/** Record values of a fetched record set, as strings. */
export function valuesOf(records: Buffer | null): string[] {
  if (!records) return [];
  return decodeRecords(records).map((r) => r.value?.toString() ?? '<null>');
}

/** Offsets of the records of a fetched record set. */
export function offsetsOf(records: Buffer | null): number[] {
  if (!records) return [];
  return decodeRecords(records).map((r) => r.offset);
}

/**
 * Polls `check` until it returns a truthy value (which is returned). Tributary applies
 * metadata changes before answering, so this returns at once there; Apache Kafka propagates
 * them to its metadata cache a moment later.
 */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${String(last)}`);
    await sleep(50);
  }
}

/** The broker's node id, from Metadata. */
export async function nodeIdOf(c: RawClient): Promise<number> {
  const md = await metadata(c, []);
  return md.brokers[0].nodeId;
}
