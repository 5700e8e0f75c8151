/**
 * The group coordinators' service: it owns the `__consumer_offsets` topic and gives the two pure
 * state machines — classic groups (coordinator/group) and KIP-848 consumer groups
 * (coordinator/consumer) — their durability (DESIGN.md §5). Offsets of both kinds live in the
 * classic coordinator's store; a group id is of one kind at a time (see the handlers).
 *
 * - The topic is created on first use (FindCoordinator or any group API), compacted, with
 *   offsets.topic.num.partitions partitions; a group lives in partition partitionFor(groupId).
 * - On start, every record of every partition is replayed, then `onLoaded()` runs.
 * - `apply(result)` appends an operation's records and calls `complete` once they are durable
 *   (fdatasync, group-committed with everything else) or with the append's error. Appends are
 *   issued synchronously in production order and completions are chained in that order, as the
 *   coordinator requires; syncs of concurrent operations share fsyncs.
 * - TxnOffsetCommit's records go in a transactional batch of the request's producer; they stay
 *   pending until `completeTransaction` (called by the marker writer once the marker is
 *   durable), and loading replays transactional batches as pending and control batches as
 *   their transaction's end.
 */
import { ErrorCode, KafkaError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { GroupCoordinator, NO_PRODUCER_ID, type GroupCoordinatorOptions } from '../coordinator/group/coordinator.ts';
import type { TxnProducer } from '../coordinator/group/types.ts';
import { decodeRecord, encodeRecord, recordGroupId, type GroupRecord } from '../coordinator/group/records.ts';
import {
  ConsumerGroupCoordinator,
  decodeRecord as decodeConsumerRecord,
  encodeRecord as encodeConsumerRecord,
  isConsumerGroupKeyVersion,
  type ConsumerGroupRecord,
} from '../coordinator/consumer/index.ts';
import { partitionFor } from '../coordinator/group/partition-for.ts';
import { consumerLag, type PartitionLag } from '../coordinator/group/lag.ts';
import { buildRecordBatch, decodeRecords } from '../protocol/records.ts';
import { ATTR_TRANSACTIONAL } from '../protocol/record-batch.ts';
import { NO_SEQUENCE, batchIsControl, batchIsTransactional, batchProducerId, readTxnMarker } from '../protocol/control-batch.ts';
import { StoppableClock, type Clock } from '../common/clock.ts';
import type { TopicManager } from './topics.ts';
import { LEADER_EPOCH } from './leader-epoch.ts';
import { replayBatches } from './internal-topic-replay.ts';

export const OFFSETS_TOPIC = '__consumer_offsets';
/**
 * The coordinator's appends: producer checks of the log for coordinator-written batches (the
 * epoch of a transactional batch, no sequence numbers).
 */
const APPEND_OPTIONS = { leaderEpoch: LEADER_EPOCH, origin: 'coordinator' as const };

export interface GroupServiceOptions {
  topics: TopicManager;
  clock: Clock;
  logger: Logger;
  numPartitions: number;
  segmentBytes: number;
  coordinator: Omit<GroupCoordinatorOptions, 'clock' | 'onTimerResult'>;
  consumer: { sessionTimeoutMs: number; heartbeatIntervalMs: number; maxGroupSize: number };
}

/** A record of either coordinator, with what the append needs. */
type AnyRecord = GroupRecord | ConsumerGroupRecord;

function encodeAny(r: AnyRecord): { groupId: string; key: Buffer; value: Buffer | null } {
  if (r.type === 'offset' || r.type === 'group') return { groupId: recordGroupId(r), ...encodeRecord(r) };
  return { groupId: r.groupId, ...encodeConsumerRecord(r) };
}

export class GroupService {
  /** Classic groups, and the offsets of every group. */
  readonly coordinator: GroupCoordinator;
  /** KIP-848 consumer groups. */
  readonly consumer: ConsumerGroupCoordinator;
  readonly numPartitions: number;
  #topics: TopicManager;
  #logger: Logger;
  #clock: StoppableClock;
  #segmentBytes: number;
  #ready: Promise<void> | null = null;
  /** Completions run in production order along this chain. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(opts: GroupServiceOptions) {
    this.#topics = opts.topics;
    this.#logger = opts.logger;
    this.#clock = new StoppableClock(opts.clock);
    this.#segmentBytes = opts.segmentBytes;
    this.coordinator = new GroupCoordinator({
      ...opts.coordinator,
      clock: this.#clock,
      onTimerResult: (r) => void this.apply(r),
      // A KIP-848 group's offsets live in the classic store; they expire only once it is empty.
      retainOffsets: (groupId) => (this.consumer.groups.get(groupId)?.members.size ?? 0) > 0,
    });
    this.consumer = new ConsumerGroupCoordinator({
      clock: this.#clock,
      config: opts.consumer,
      metadata: (topic) => {
        const t = this.#topics.get(topic);
        return t ? { id: t.id, partitions: t.partitions } : undefined;
      },
      listTopics: () => this.#topics.list().map((t) => t.name),
      onTimerResult: (r) => void this.apply(r),
    });
    // An existing topic fixes the partition count (groups must keep their partition).
    this.numPartitions = this.#topics.get(OFFSETS_TOPIC)?.partitions ?? opts.numPartitions;
  }

  /** Creates (if needed) and loads `__consumer_offsets`; later calls wait for the first. */
  ready(): Promise<void> {
    this.#ready ??= this.#prepare().catch((err: Error) => {
      this.#ready = null; // let a later request try again
      throw err;
    });
    return this.#ready;
  }

  /** Loads at start when the topic already exists, so groups resume before any request. */
  async loadIfPresent(): Promise<void> {
    if (this.#topics.get(OFFSETS_TOPIC)) await this.ready();
  }

  async #prepare(): Promise<void> {
    if (!this.#topics.get(OFFSETS_TOPIC)) {
      const created = await this.#topics.createInternal(OFFSETS_TOPIC, this.numPartitions, {
        'cleanup.policy': 'compact',
        'segment.bytes': String(this.#segmentBytes),
        'compression.type': 'producer',
      });
      if (created instanceof KafkaError) throw created;
      return; // a new topic has nothing to replay
    }
    const started = this.#clock.now();
    let records = 0;
    for (let p = 0; p < this.numPartitions; p++) records += await this.#loadPartition(p);
    await this.apply(this.coordinator.onLoaded());
    this.consumer.onLoaded();
    this.#logger.info('loaded consumer groups', {
      classic: this.coordinator.groupIds().length,
      consumer: this.consumer.groupIds().length,
      records,
      ms: this.#clock.now() - started,
    });
  }

  async #loadPartition(partition: number): Promise<number> {
    const log = this.#topics.partition(OFFSETS_TOPIC, partition);
    if (log instanceof KafkaError) throw new KafkaError(log.code, `${OFFSETS_TOPIC}-${partition}: ${log.message}`);
    let count = 0;
    // Batch by batch: a transactional batch's offsets stay pending for its producer until a
    // control batch (transaction marker) commits or aborts them; a marker's record is never
    // a group record. A transaction still open at the end stays pending (its marker comes
    // later, or the transaction coordinator aborts it).
    await replayBatches(log, (batch, from) => {
      if (batchIsControl(batch)) {
        const marker = readTxnMarker(batch);
        if (marker) this.#completeLoadedTransaction(partition, batchProducerId(batch), marker.committed);
        return;
      }
      const producerId = batchIsTransactional(batch) ? batchProducerId(batch) : NO_PRODUCER_ID;
      for (const rec of decodeRecords(batch)) {
        if (rec.offset < from) continue;
        if (!rec.key || rec.key.length < 2) continue;
        if (isConsumerGroupKeyVersion(rec.key.readInt16BE(0))) {
          const r = decodeConsumerRecord(rec.key, rec.value);
          if (r) this.consumer.replay(r);
        } else {
          this.coordinator.replay(decodeRecord(rec.key, rec.value), producerId);
        }
        count++;
      }
    });
    return count;
  }


  #completeLoadedTransaction(partition: number, producerId: number, committed: boolean): void {
    this.coordinator.completeTransaction(producerId, committed, (groupId) => partitionFor(groupId, this.numPartitions) === partition);
  }

  /**
   * Appends a result's records and completes it once they are durable. Resolves to what
   * `complete` returns (the response, or undefined for JoinGroup/SyncGroup).
   */
  apply<R>(result: { readonly records: readonly AnyRecord[]; readonly producer?: TxnProducer; complete(appendError: ErrorCode | null): R }): Promise<R> {
    const durable = this.#append(result.records, result.producer);
    const completed = this.#tail.then(() =>
      durable.then(
        () => result.complete(null),
        (err: Error) => {
          const code = err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
          this.#logger.error('could not store group records', { error: err.message, code });
          return result.complete(code);
        },
      ),
    );
    this.#tail = completed.catch(() => {});
    return completed;
  }

  /**
   * Appends records (one batch per partition, synchronously queued) and waits for the sync.
   * With `producer` (TxnOffsetCommit) the batch is transactional: that producer's id and epoch,
   * base sequence -1 (coordinator-written; the log checks only the epoch and may refuse it,
   * e.g. INVALID_PRODUCER_EPOCH, which becomes the response's error).
   */
  #append(records: readonly AnyRecord[], producer?: TxnProducer): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const byPartition = new Map<number, { key: Buffer; value: Buffer | null }[]>();
    for (const r of records) {
      const encoded = encodeAny(r);
      const p = partitionFor(encoded.groupId, this.numPartitions);
      let list = byPartition.get(p);
      if (!list) byPartition.set(p, (list = []));
      list.push(encoded);
    }
    const now = this.#clock.now();
    const pending: Promise<void>[] = [];
    for (const [partition, list] of byPartition) {
      const log = this.#topics.partition(OFFSETS_TOPIC, partition);
      if (log instanceof KafkaError) return Promise.reject(log);
      const batch = buildRecordBatch({
        baseTimestamp: now,
        records: list.map((r) => ({ key: r.key, value: r.value })),
        ...(producer && {
          attributes: ATTR_TRANSACTIONAL,
          producerId: producer.producerId,
          producerEpoch: producer.producerEpoch,
          baseSequence: NO_SEQUENCE,
        }),
      });
      let appended: Promise<unknown>;
      try {
        appended = log.append(batch, APPEND_OPTIONS);
      } catch (err) {
        appended = Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      pending.push(appended.then(() => log.sync()));
    }
    return Promise.all(pending).then(() => undefined);
  }

  /**
   * A transaction marker of `producerId` is durable in `__consumer_offsets-<partition>` (the
   * marker writer appended it): the producer's pending transactional offsets of the groups in
   * that partition become committed (`committed`) or are dropped.
   */
  completeTransaction(partition: number, producerId: number, committed: boolean): void {
    this.coordinator.completeTransaction(producerId, committed, (groupId) => partitionFor(groupId, this.numPartitions) === partition);
  }

  /** Stops the coordinator's timers (sessions, rebalances, offset expiry): the broker is closing. */
  close(): void {
    this.#clock.stop();
  }

  /** Committed offset, log end offset and lag of every partition a group has committed. */
  lag(groupId: string): PartitionLag[] {
    return consumerLag(this.coordinator, groupId, (topic, partition) => {
      const log = this.#topics.partition(topic, partition);
      return log instanceof KafkaError ? null : BigInt(log.highWatermark);
    });
  }
}
