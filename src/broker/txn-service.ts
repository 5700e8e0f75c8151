/**
 * The transaction coordinator's service (mirrors group-service.ts): it owns the
 * `__transaction_state` topic and the producer ids, and gives the pure state machine
 * (coordinator/txn) its durability and its transaction markers (DESIGN.md §5).
 *
 * - The topic is created on first use (FindCoordinator key type 1, or InitProducerId with a
 *   transactional id), compacted, uncompressed (as Kafka enforces), with
 *   transaction.state.log.num.partitions partitions; a transactional id lives in partition
 *   abs(hashCode) % n, as in Kafka.
 * - On start every record is replayed, then `onLoaded()` asks for the markers of transactions
 *   found in PrepareCommit/PrepareAbort and starts the timers (timeouts, id expiry).
 * - `apply(result)` appends an operation's records and completes it once they are durable,
 *   in production order (appends are issued synchronously; completions chained).
 * - Markers: once a PrepareCommit/PrepareAbort record is durable, `writeTxnMarkers` writes the
 *   control batches (retried with backoff until they are written; partitions of deleted topics
 *   are dropped, as Kafka does); then the CompleteCommit/CompleteAbort record is appended
 *   (retried too).
 */
import { ErrorCode, KafkaError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { StoppableClock, type Clock } from '../common/clock.ts';
import { TransactionCoordinator } from '../coordinator/txn/coordinator.ts';
import { decodeRecord, encodeRecord, type TxnRecord } from '../coordinator/txn/records.ts';
import type { MarkerWork, TxnCoordinatorConfig } from '../coordinator/txn/types.ts';
import { partitionFor } from '../coordinator/group/partition-for.ts';
import { buildRecordBatch, decodeRecords } from '../protocol/records.ts';
import type { TopicManager } from './topics.ts';
import { LEADER_EPOCH } from './leader-epoch.ts';
import { replayBatches } from './internal-topic-replay.ts';
import { ProducerIds } from './producer-ids.ts';

export const TXN_TOPIC = '__transaction_state';
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

/** What writeTxnMarkers (src/broker/txn-markers.ts) receives. */
export interface MarkerRequest {
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  committed: boolean;
  partitions: { topic: string; partition: number }[];
}

export interface TxnServiceOptions {
  topics: TopicManager;
  clock: Clock;
  logger: Logger;
  dataDir: string;
  numPartitions: number;
  segmentBytes: number;
  offsetsTopicPartitions: number;
  config: Partial<TxnCoordinatorConfig>;
  /** Writes a transaction's markers (the broker passes writeTxnMarkers). */
  writeMarkers: (markers: MarkerRequest) => Promise<void>;
  /** Producer id block size (tests). */
  producerIdBlockSize?: number;
}

export class TxnService {
  readonly coordinator: TransactionCoordinator;
  readonly numPartitions: number;
  #topics: TopicManager;
  #logger: Logger;
  #clock: StoppableClock;
  #segmentBytes: number;
  #writeMarkers: (markers: MarkerRequest) => Promise<void>;
  #ready: Promise<void> | null = null;
  #tail: Promise<unknown> = Promise.resolve();
  #idsOpening: Promise<ProducerIds>;
  #ids: ProducerIds | null = null;
  #closed = false;

  constructor(opts: TxnServiceOptions) {
    this.#topics = opts.topics;
    this.#logger = opts.logger;
    this.#clock = new StoppableClock(opts.clock);
    this.#segmentBytes = opts.segmentBytes;
    this.#writeMarkers = opts.writeMarkers;
    this.#idsOpening = ProducerIds.open(opts.dataDir, opts.producerIdBlockSize);
    this.#idsOpening.catch(() => {}); // reported by producerIdReady()
    this.coordinator = new TransactionCoordinator({
      clock: this.#clock,
      config: opts.config,
      offsetsTopicPartitions: opts.offsetsTopicPartitions,
      newProducerId: () => {
        if (!this.#ids) throw new Error('producer ids are not loaded');
        return this.#ids.take();
      },
      onTimerResult: (r) => void this.apply(r),
      onMarkers: (work) => void this.#completeWithMarkers(work),
    });
    this.numPartitions = this.#topics.get(TXN_TOPIC)?.partitions ?? opts.numPartitions;
  }

  /** Resolves once a producer id can be taken synchronously (call right before an InitProducerId). */
  async producerIdReady(): Promise<void> {
    const ids = (this.#ids ??= await this.#idsOpening);
    while (!ids.available()) await ids.ensure();
  }

  /** Creates (if needed) and loads `__transaction_state`; later calls wait for the first. */
  ready(): Promise<void> {
    this.#ready ??= this.#prepare().catch((err: Error) => {
      this.#ready = null;
      throw err;
    });
    return this.#ready;
  }

  /** Loads at start when the topic exists, so transactions resume before any request. */
  async loadIfPresent(): Promise<void> {
    if (this.#topics.get(TXN_TOPIC)) await this.ready();
  }


  async #prepare(): Promise<void> {
    if (!this.#topics.get(TXN_TOPIC)) {
      const created = await this.#topics.createInternal(TXN_TOPIC, this.numPartitions, {
        'cleanup.policy': 'compact',
        'segment.bytes': String(this.#segmentBytes),
        'compression.type': 'uncompressed',
      });
      if (created instanceof KafkaError) throw created;
    } else {
      const started = this.#clock.now();
      let records = 0;
      for (let p = 0; p < this.numPartitions; p++) records += await this.#loadPartition(p);
      this.#logger.info('loaded transactions', {
        transactionalIds: this.coordinator.transactionalIds().length,
        records,
        ms: this.#clock.now() - started,
      });
    }
    this.coordinator.onLoaded();
  }

  async #loadPartition(partition: number): Promise<number> {
    const log = this.#topics.partition(TXN_TOPIC, partition);
    if (log instanceof KafkaError) throw new KafkaError(log.code, `${TXN_TOPIC}-${partition}: ${log.message}`);
    let count = 0;
    await replayBatches(log, (batch, from) => {
      for (const rec of decodeRecords(batch)) {
        if (rec.offset < from || !rec.key || rec.key.length < 2) continue;
        const r = decodeRecord(rec.key, rec.value);
        if (r) this.coordinator.replay(r);
        count++;
      }
    });
    return count;
  }


  /** Appends a result's records and completes it once they are durable (or with the append's error). */
  apply<R>(result: { readonly records: readonly TxnRecord[]; complete(appendError: ErrorCode | null): R }): Promise<R> {
    const durable = this.#append(result.records);
    const completed = this.#tail.then(() =>
      durable.then(
        () => result.complete(null),
        (err: Error) => {
          const code = err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
          this.#logger.error('could not store transaction records', { error: err.message, code });
          return result.complete(code);
        },
      ),
    );
    this.#tail = completed.catch(() => {});
    return completed;
  }

  #append(records: readonly TxnRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const byPartition = new Map<number, { key: Buffer; value: Buffer | null }[]>();
    for (const r of records) {
      const p = partitionFor(r.transactionalId, this.numPartitions);
      let list = byPartition.get(p);
      if (!list) byPartition.set(p, (list = []));
      list.push(encodeRecord(r));
    }
    const now = this.#clock.now();
    const pending: Promise<void>[] = [];
    for (const [partition, list] of byPartition) {
      const log = this.#topics.partition(TXN_TOPIC, partition);
      if (log instanceof KafkaError) return Promise.reject(log);
      const batch = buildRecordBatch({ baseTimestamp: now, records: list });
      pending.push(log.append(batch, { leaderEpoch: LEADER_EPOCH }).then(() => log.sync()));
    }
    return Promise.all(pending).then(() => undefined);
  }

  /** Writes a transaction's markers (retrying), then its CompleteCommit/CompleteAbort record (retrying). */
  async #completeWithMarkers(work: MarkerWork): Promise<void> {
    let backoff = RETRY_MIN_MS;
    const retry = async (what: string, err: unknown) => {
      this.#logger.warn(`${what} failed, retrying`, { transactionalId: work.transactionalId, error: (err as Error)?.message, backoffMs: backoff });
      await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, backoff));
      backoff = Math.min(backoff * 2, RETRY_MAX_MS);
    };
    let partitions = work.partitions;
    for (;;) {
      if (this.#closed) return;
      // A deleted topic's partitions need no marker (Kafka drops them too).
      partitions = partitions.filter((p) => this.#topics.get(p.topic) !== undefined);
      if (partitions.length === 0) break;
      try {
        await this.#writeMarkers({
          producerId: work.producerId,
          producerEpoch: work.producerEpoch,
          coordinatorEpoch: 0,
          committed: work.committed,
          partitions,
        });
        break;
      } catch (err) {
        await retry('writing transaction markers', err);
      }
    }
    backoff = RETRY_MIN_MS;
    for (;;) {
      if (this.#closed) return;
      try {
        const done = await this.apply(this.coordinator.completeTransaction(work.transactionalId, work.producerId, work.producerEpoch));
        if (done) return;
        await retry('completing the transaction', null);
      } catch (err) {
        await retry('completing the transaction', err);
      }
    }
  }

  /** See TransactionCoordinator.verifyPartition (Kafka's verification error codes, by transactional id). */
  verifyPartition(transactionalId: string | null, producerId: number, producerEpoch: number, topic: string, partition: number): ErrorCode {
    return this.coordinator.verifyPartition(transactionalId, producerId, producerEpoch, topic, partition);
  }

  /** Stops the timers and marker retries: the broker is closing. */
  close(): void {
    this.#closed = true;
    this.coordinator.stop();
    this.#clock.stop();
  }
}

/**
 * PRODUCER_FENCED is answered as INVALID_PRODUCER_EPOCH to versions older than `sinceVersion`
 * (InitProducerId v4, AddPartitionsToTxn / AddOffsetsToTxn / EndTxn v2), as Kafka does.
 */
export function fencedForVersion(code: number, apiVersion: number, sinceVersion: number): number {
  return code === ErrorCode.PRODUCER_FENCED && apiVersion < sinceVersion ? ErrorCode.INVALID_PRODUCER_EPOCH : code;
}

/** A producer id from the wire as a number; one beyond the safe range cannot be ours (-2 matches nothing). */
export function fromInt64(v: bigint): number {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : -2;
}
