/**
 * kafkajs helpers: a client factory with quiet logging (and API-version recording), codecs for
 * snappy (kafkajs-snappy) and zstd (Node's built-in zlib zstd), and a group-less reader.
 *
 * Why a group-less reader: kafkajs's Consumer always joins a consumer group (FindCoordinator,
 * JoinGroup, SyncGroup, OffsetFetch, Heartbeat) before it fetches. To test produce/fetch
 * without the group coordinator we drive kafkajs's own lower layer: the client's internal
 * Cluster (reached through the documented-internal `private:Kafka:createCluster` symbol),
 * its metadata/leader lookup, and `Broker.fetch()`, which sends a real kafkajs Fetch request
 * and decodes record batches (including decompression) with kafkajs's own decoders.
 */
import { createRequire } from 'node:module';
import { zstdCompress, zstdDecompress } from 'node:zlib';
import { promisify } from 'node:util';
import kafkajs from 'kafkajs';
import type { Kafka as KafkaClient, KafkaConfig, LogEntry } from 'kafkajs';
import { apiUsageEnabled, printApiUsageOnExit, recordApiUse } from './api-usage.ts';

export const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = kafkajs;
export type { KafkaClient };

const require = createRequire(import.meta.url);
const zstdCompressP = promisify(zstdCompress);
const zstdDecompressP = promisify(zstdDecompress);

let codecsRegistered = false;
/** Register snappy (kafkajs-snappy) and zstd (node:zlib) codecs with kafkajs, once. */
export function registerKafkajsCodecs(): void {
  if (codecsRegistered) return;
  codecsRegistered = true;
  const snappyCodec = require('kafkajs-snappy') as () => unknown;
  (CompressionCodecs as Record<number, unknown>)[CompressionTypes.Snappy] = snappyCodec;
  (CompressionCodecs as Record<number, unknown>)[CompressionTypes.ZSTD] = () => ({
    compress: async (encoder: { buffer: Buffer }) => zstdCompressP(encoder.buffer),
    decompress: async (buffer: Buffer) => zstdDecompressP(buffer),
  });
}

const REQUEST_RE = /^Request (\w+)\(key: (\d+), version: (\d+)\)$/;

/**
 * A kafkajs client for tests. Logging is off unless KAFKAJS_LOG=debug|info|warn|error;
 * with TRIBUTARY_PRINT_APIS=1 the debug stream is tapped to record API keys and versions.
 */
export function createKafka(brokers: string[], config: Partial<KafkaConfig> = {}): KafkaClient {
  const wanted = (process.env.KAFKAJS_LOG ?? '').toUpperCase() as keyof typeof logLevel;
  const printLevel = wanted in logLevel ? logLevel[wanted] : logLevel.NOTHING;
  const record = apiUsageEnabled();
  if (record) printApiUsageOnExit();
  const level = record ? logLevel.DEBUG : printLevel;
  const clientId = config.clientId ?? 'tributary-test-kafkajs';
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    ...config,
    logLevel: level,
    logCreator: () => (entry: LogEntry) => {
      const msg = entry.log.message;
      if (record && entry.level === logLevel.DEBUG) {
        const m = REQUEST_RE.exec(msg);
        if (m) recordApiUse('kafkajs 2.2.4', Number(m[2]), Number(m[3]));
      }
      if (printLevel !== logLevel.NOTHING && entry.level <= printLevel) {
        const { message: _m, timestamp: _t, logger: _l, ...rest } = entry.log;
        process.stderr.write(`[kafkajs ${entry.namespace}] ${msg} ${JSON.stringify(rest)}\n`);
      }
    },
  });
}

export interface FetchedRecord {
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  /** kafkajs's header shape: repeated keys become arrays. */
  headers: Record<string, Buffer | Buffer[] | undefined>;
}

/* Minimal shapes of kafkajs internals used here (they are not in kafkajs's typings). */
interface KjsMessage {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[] | undefined>;
  isControlRecord?: boolean;
}
interface KjsFetchPartition {
  partition: number;
  errorCode: number;
  highWatermark: string;
  messages: KjsMessage[];
}
interface KjsBroker {
  fetch(req: {
    replicaId?: number;
    isolationLevel?: number;
    maxWaitTime?: number;
    minBytes?: number;
    maxBytes?: number;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>;
  }): Promise<{ responses: Array<{ topicName: string; partitions: KjsFetchPartition[] }> }>;
}
interface KjsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number; leader: number }>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(q: { nodeId: string | number }): Promise<KjsBroker>;
}

/** kafkajs's internal Cluster for this client (the one its producer/admin/consumer build on). */
export function kafkajsCluster(kafka: KafkaClient): KjsCluster {
  const sym = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  if (!sym) throw new Error('kafkajs internals changed: no private:Kafka:createCluster symbol');
  const create = (kafka as unknown as Record<symbol, (o: object) => KjsCluster>)[sym]!;
  return create({ metadataMaxAge: 300000, allowAutoTopicCreation: false, maxInFlightRequests: null, isolationLevel: 1 });
}

export interface ReadOptions {
  /** Partitions to read (default: all partitions of the topic). */
  partitions?: number[];
  /** Start offset per partition (default 0). */
  fromOffsets?: Record<number, bigint>;
  /** Stop at this offset per partition (default: the high watermark seen by the first fetch). */
  untilOffsets?: Record<number, bigint>;
  maxBytesPerPartition?: number;
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
}

/**
 * Read a topic from the given offsets up to the high watermark (or untilOffsets) with kafkajs
 * Fetch requests, without any consumer group. Returns records per partition in offset order,
 * without control records and without records before the requested offset (a fetch may return
 * the whole batch that contains it).
 */
export async function kafkajsReadAll(kafka: KafkaClient, topic: string, opts: ReadOptions = {}): Promise<Map<number, FetchedRecord[]>> {
  const cluster = kafkajsCluster(kafka);
  await cluster.connect();
  try {
    await cluster.addTargetTopic(topic);
    const partitions = opts.partitions ?? cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId).sort((a, b) => a - b);
    const out = new Map<number, FetchedRecord[]>();
    const next = new Map<number, bigint>();
    const until = new Map<number, bigint>();
    for (const p of partitions) {
      out.set(p, []);
      next.set(p, opts.fromOffsets?.[p] ?? 0n);
      if (opts.untilOffsets?.[p] !== undefined) until.set(p, opts.untilOffsets[p]!);
    }
    const deadline = Date.now() + (opts.timeoutMs ?? 30000);
    const pending = new Set(partitions);
    while (pending.size) {
      if (Date.now() > deadline) throw new Error(`kafkajsReadAll(${topic}) timed out; still reading partitions ${[...pending].join(',')}`);
      const leaders = cluster.findLeaderForPartitions(topic, [...pending]);
      for (const [nodeId, parts] of Object.entries(leaders)) {
        const broker = await cluster.findBroker({ nodeId });
        const res = await broker.fetch({
          replicaId: -1,
          isolationLevel: 1,
          maxWaitTime: 50,
          minBytes: 1,
          maxBytes: 16 * 1024 * 1024,
          topics: [{ topic, partitions: parts.map((partition) => ({ partition, fetchOffset: next.get(partition)!.toString(), maxBytes: opts.maxBytesPerPartition ?? 1024 * 1024 })) }],
        });
        for (const t of res.responses) {
          for (const p of t.partitions) {
            if (p.errorCode !== 0) throw new Error(`fetch ${topic}/${p.partition}: error code ${p.errorCode}`);
            if (!until.has(p.partition)) until.set(p.partition, BigInt(p.highWatermark));
            const list = out.get(p.partition)!;
            let pos = next.get(p.partition)!;
            const stop = until.get(p.partition)!;
            for (const m of p.messages) {
              const offset = BigInt(m.offset);
              if (offset < pos || offset >= stop) continue;
              pos = offset + 1n;
              if (m.isControlRecord) continue;
              list.push({ partition: p.partition, offset, timestamp: BigInt(m.timestamp), key: m.key, value: m.value, headers: m.headers });
            }
            next.set(p.partition, pos);
            if (pos >= stop || BigInt(p.highWatermark) <= pos) pending.delete(p.partition);
          }
        }
      }
    }
    return out;
  } finally {
    await cluster.disconnect();
  }
}
