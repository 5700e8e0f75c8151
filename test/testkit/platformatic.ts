/**
 * @platformatic/kafka helpers: client factories and a group-less reader.
 *
 * Why a group-less reader: the library's `Consumer.consume()` always joins a consumer group
 * first (FindCoordinator + JoinGroup/SyncGroup, or ConsumerGroupHeartbeat), even in `manual`
 * offsets mode. Its `Consumer.fetch({ node, topics })` and `Consumer.listOffsets()` however
 * are plain per-broker requests that never touch the group coordinator (the `groupId` the
 * constructor insists on is then never sent). `platformaticReadAll` loops over Fetch with
 * those, the records being decoded (and decompressed) by the library's own batch reader.
 */
import { subscribe } from 'node:diagnostics_channel';
import { Admin, Consumer, Producer, type ProducerOptions } from '@platformatic/kafka';
import { apiUsageEnabled, printApiUsageOnExit, recordApiUse } from './api-usage.ts';

let tapped = false;
function tapApiUsage(): void {
  if (tapped || !apiUsageEnabled()) return;
  tapped = true;
  printApiUsageOnExit();
  subscribe('tracing:plt:kafka:connections:api:start', (msg) => {
    const ctx = msg as { apiKey?: number; apiVersion?: number };
    if (typeof ctx.apiKey === 'number' && typeof ctx.apiVersion === 'number') {
      recordApiUse('@platformatic/kafka', ctx.apiKey, ctx.apiVersion);
    }
  });
}

const base = (brokers: string[], clientId: string) => {
  tapApiUsage();
  return { clientId, bootstrapBrokers: brokers, timeout: 10000, retries: 3, retryDelay: 200, connectTimeout: 3000 };
};

export function createAdmin(brokers: string[]): Admin {
  return new Admin(base(brokers, 'tributary-test-admin'));
}

export function createProducer(
  brokers: string[],
  opts: Partial<ProducerOptions<Buffer, Buffer, Buffer, Buffer>> = {},
): Producer<Buffer, Buffer, Buffer, Buffer> {
  return new Producer({ ...base(brokers, 'tributary-test-producer'), ...opts });
}

/** A Consumer used only for fetch/listOffsets; it never joins its (dummy) group. */
export function createFetcher(brokers: string[]): Consumer<Buffer, Buffer, Buffer, Buffer> {
  return new Consumer({ ...base(brokers, 'tributary-test-fetcher'), groupId: 'tributary-test-unused-group' });
}

export interface ReadRecord {
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<[Buffer | null, Buffer | null]>;
  /** The compression bits (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd) of the batch it came in. */
  compression: number;
}

export interface PlatformaticReadOptions {
  partitions?: number[];
  fromOffsets?: Record<number, bigint>;
  /** Stop at this offset per partition (default: the high watermark seen by the first fetch). */
  untilOffsets?: Record<number, bigint>;
  maxBytesPerPartition?: number;
  timeoutMs?: number;
}

const CONTROL_BIT = 0x20;

/**
 * Read a topic from the given offsets to the high watermark (or untilOffsets) with Fetch
 * requests and no consumer group; records per partition in offset order, control records
 * and records before the requested offset dropped.
 */
export async function platformaticReadAll(
  fetcher: Consumer<Buffer, Buffer, Buffer, Buffer>,
  topic: string,
  opts: PlatformaticReadOptions = {},
): Promise<Map<number, ReadRecord[]>> {
  const md = await fetcher.metadata({ topics: [topic], forceUpdate: true });
  const t = md.topics.get(topic);
  if (!t) throw new Error(`no metadata for topic ${topic}`);
  const partitions = opts.partitions ?? Array.from({ length: t.partitionsCount }, (_, i) => i);
  const out = new Map<number, ReadRecord[]>();
  const next = new Map<number, bigint>();
  const until = new Map<number, bigint>();
  for (const p of partitions) {
    out.set(p, []);
    next.set(p, opts.fromOffsets?.[p] ?? 0n);
    if (opts.untilOffsets?.[p] !== undefined) until.set(p, opts.untilOffsets[p]!);
  }
  const pending = new Set(partitions);
  const deadline = Date.now() + (opts.timeoutMs ?? 30000);
  while (pending.size) {
    if (Date.now() > deadline) throw new Error(`platformaticReadAll(${topic}) timed out; still reading partitions ${[...pending].join(',')}`);
    const byLeader = new Map<number, number[]>();
    for (const p of pending) {
      const leader = t.partitions[p]!.leader;
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
    }
    for (const [node, parts] of byLeader) {
      const res = await fetcher.fetch({
        node,
        maxWaitTime: 50,
        minBytes: 1,
        maxBytes: 16 * 1024 * 1024,
        topics: [
          {
            topicId: t.id,
            partitions: parts.map((partition) => ({
              partition,
              currentLeaderEpoch: -1,
              fetchOffset: next.get(partition)!,
              lastFetchedEpoch: -1,
              partitionMaxBytes: opts.maxBytesPerPartition ?? 1024 * 1024,
            })),
          },
        ],
      });
      for (const tr of res.responses) {
        for (const pr of tr.partitions) {
          const p = pr.partitionIndex;
          if (!until.has(p)) until.set(p, pr.highWatermark);
          const stop = until.get(p)!;
          let pos = next.get(p)!;
          const list = out.get(p)!;
          for (const batch of pr.records ?? []) {
            const isControl = (batch.attributes & CONTROL_BIT) !== 0;
            for (const r of batch.records) {
              const offset = batch.firstOffset + BigInt(r.offsetDelta);
              if (offset < pos || offset >= stop) continue;
              pos = offset + 1n;
              if (isControl) continue;
              list.push({
                partition: p,
                offset,
                timestamp: batch.firstTimestamp + r.timestampDelta,
                key: r.key,
                value: r.value,
                headers: r.headers,
                compression: batch.attributes & 0x07,
              });
            }
          }
          next.set(p, pos);
          if (pos >= stop || pr.highWatermark <= pos) pending.delete(p);
        }
      }
    }
  }
  return out;
}
