/**
 * The transaction coordinator: a pure, deterministic state machine following Apache Kafka 4's
 * TransactionCoordinator / TransactionMetadata / TransactionStateManager (transaction version
 * 0-1 semantics: EndTxn up to v4, no epoch bump per transaction). See README.md.
 *
 * Discipline (as Kafka's): an operation checks the request against the current state, marks
 * the transactional id with a *pending* state and returns a Result carrying the record of the
 * target state; the state itself changes only when the record is durable (`complete(null)`
 * applies the record's value — the same code `replay` runs); a failed append clears the pending
 * state and changes nothing. While a transition is pending, other operations get
 * CONCURRENT_TRANSACTIONS. `lastProducerEpoch`, the pending state and the failed-fence flag are
 * transient (Kafka does not store them either).
 */
import { ErrorCode } from '../../common/errors.ts';
import type { Clock } from '../../common/clock.ts';
import { partitionFor } from '../group/partition-for.ts';
import type { TxnLogValue, TxnRecord } from './records.ts';
import {
  DEFAULT_TXN_CONFIG,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  VALID_PREVIOUS,
  appendErrorToResponseError,
  immediate,
  isEpochExhausted,
  once,
  type EndTxnResult,
  type InitProducerIdResult,
  type MarkerWork,
  type Result,
  type TxnCoordinatorConfig,
  type TxnState,
} from './types.ts';
import { describeTxn, listTxns, partitionsList, snapshotTxns, type DescribedTxn, type ListedTxns, type TxnSnapshot } from './admin.ts';

export type { DescribedTxn, ListedTxns, TxnSnapshot } from './admin.ts';

export const OFFSETS_TOPIC = '__consumer_offsets';

export interface TxnCoordinatorOptions {
  clock: Clock;
  config?: Partial<TxnCoordinatorConfig>;
  /** offsets.topic.num.partitions: AddOffsetsToTxn adds __consumer_offsets-partitionFor(group). */
  offsetsTopicPartitions: number;
  /** A fresh producer id (synchronous: the service keeps a persisted block ready). */
  newProducerId: () => number;
  /** Results produced by timers (timeouts, expiry): append and complete them like any other. */
  onTimerResult: (result: Result<unknown>) => void;
  /** A transaction reached PrepareCommit/PrepareAbort durably: write its markers, then call completeTransaction. */
  onMarkers: (work: MarkerWork) => void;
}

/** One transactional id's metadata (Kafka's TransactionMetadata). */
interface TxnMetadata {
  readonly transactionalId: string;
  producerId: number;
  previousProducerId: number;
  nextProducerId: number;
  producerEpoch: number;
  txnTimeoutMs: number;
  state: TxnState;
  /** topic → partitions in the transaction. */
  partitions: Map<string, Set<number>>;
  txnStartTimestamp: number;
  txnLastUpdateTimestamp: number;
  clientTransactionVersion: number;
  // Transient (never stored):
  lastProducerEpoch: number;
  pending: TxnState | null;
  hasFailedEpochFence: boolean;
  /** The prepared CompleteCommit/CompleteAbort transition while its markers are written. */
  completing: Transit | null;
}

/** A prepared transition: the record value and the transient epoch that goes with it. */
interface Transit {
  value: TxnLogValue;
  lastProducerEpoch: number;
}

export class TransactionCoordinator {
  readonly config: TxnCoordinatorConfig;
  #clock: Clock;
  #offsetsPartitions: number;
  #newProducerId: () => number;
  #onTimerResult: (result: Result<unknown>) => void;
  #onMarkers: (work: MarkerWork) => void;
  #txns = new Map<string, TxnMetadata>();
  #timersStarted = false;
  #cancelTimers: (() => void)[] = [];

  constructor(opts: TxnCoordinatorOptions) {
    this.config = { ...DEFAULT_TXN_CONFIG, ...opts.config };
    this.#clock = opts.clock;
    this.#offsetsPartitions = opts.offsetsTopicPartitions;
    this.#newProducerId = opts.newProducerId;
    this.#onTimerResult = opts.onTimerResult;
    this.#onMarkers = opts.onMarkers;
  }

  // ---- InitProducerId ------------------------------------------------------------------------

  /**
   * InitProducerId. `expected` is the request's producer id and epoch (KIP-360, v3+) when both
   * are set; the handler refuses one without the other (INVALID_REQUEST) and maps
   * PRODUCER_FENCED to INVALID_PRODUCER_EPOCH below v4.
   */
  initProducerId(
    transactionalId: string | null,
    transactionTimeoutMs: number,
    expected: { producerId: number; producerEpoch: number } | null = null,
  ): Result<InitProducerIdResult> {
    if (transactionalId === null) return immediate({ errorCode: ErrorCode.NONE, producerId: this.#newProducerId(), producerEpoch: 0 });
    if (transactionalId === '') return immediate(initError(ErrorCode.INVALID_REQUEST));
    if (!(transactionTimeoutMs > 0 && transactionTimeoutMs <= this.config.maxTimeoutMs)) {
      return immediate(initError(ErrorCode.INVALID_TRANSACTION_TIMEOUT));
    }
    const now = this.#clock.now();
    let meta = this.#txns.get(transactionalId);
    if (!meta) {
      // Kept in memory even if the first append fails, as Kafka's putTransactionStateIfNotExists.
      meta = {
        transactionalId,
        producerId: this.#newProducerId(),
        previousProducerId: NO_PRODUCER_ID,
        nextProducerId: NO_PRODUCER_ID,
        producerEpoch: NO_PRODUCER_EPOCH,
        txnTimeoutMs: transactionTimeoutMs,
        state: 'Empty',
        partitions: new Map(),
        txnStartTimestamp: -1,
        txnLastUpdateTimestamp: now,
        clientTransactionVersion: 0,
        lastProducerEpoch: NO_PRODUCER_EPOCH,
        pending: null,
        hasFailedEpochFence: false,
        completing: null,
      };
      this.#txns.set(transactionalId, meta);
    }
    const m = meta;
    if (m.pending !== null) return immediate(initError(ErrorCode.CONCURRENT_TRANSACTIONS));
    if (expected && !isValidProducerId(m, expected)) return immediate(initError(ErrorCode.PRODUCER_FENCED));
    switch (m.state) {
      case 'PrepareAbort':
      case 'PrepareCommit':
        return immediate(initError(ErrorCode.CONCURRENT_TRANSACTIONS));
      case 'CompleteAbort':
      case 'CompleteCommit':
      case 'Empty': {
        let transit: Transit;
        if (isEpochExhausted(m.producerEpoch) && (!expected || expected.producerEpoch === m.producerEpoch)) {
          // Rotate to a new producer id (epoch 0).
          const lastEpoch = expected ? m.producerEpoch : NO_PRODUCER_EPOCH;
          transit = this.#prepare(m, 'Empty', { producerId: this.#newProducerId(), epoch: 0, lastEpoch, timeoutMs: transactionTimeoutMs, now });
        } else {
          const bumped = m.producerEpoch + 1;
          let epochs: [number, number];
          if (!expected) epochs = [bumped, NO_PRODUCER_EPOCH];
          else if (m.producerEpoch === NO_PRODUCER_EPOCH || expected.producerEpoch === m.producerEpoch) epochs = [bumped, m.producerEpoch];
          else if (expected.producerEpoch === m.lastProducerEpoch) epochs = [m.producerEpoch, m.lastProducerEpoch]; // a retry
          else return immediate(initError(ErrorCode.PRODUCER_FENCED));
          transit = this.#prepare(m, 'Empty', { producerId: m.producerId, epoch: epochs[0], lastEpoch: epochs[1], timeoutMs: transactionTimeoutMs, now });
        }
        return once([{ transactionalId, value: transit.value }], (err) => {
          if (err !== null) {
            this.#abandon(m);
            return initError(appendErrorToResponseError(err));
          }
          this.#completeTransit(m, transit);
          return { errorCode: ErrorCode.NONE, producerId: m.producerId, producerEpoch: m.producerEpoch };
        });
      }
      case 'Ongoing': {
        // Fence the current producer and abort its transaction; the client retries (and then
        // gets the epoch bumped once more, or a new producer id if this exhausted the epochs).
        const fenced = this.#fenceAndAbort(m);
        return once(fenced.records.slice(), (err) => {
          const r = fenced.complete(err);
          return initError(r.errorCode === ErrorCode.NONE ? ErrorCode.CONCURRENT_TRANSACTIONS : r.errorCode);
        });
      }
      case 'Dead':
      case 'PrepareEpochFence':
        throw new Error(`transactional id ${transactionalId} found in state ${m.state}`);
    }
  }

  // ---- AddPartitionsToTxn / AddOffsetsToTxn ------------------------------------------------

  /** AddPartitionsToTxn (one transaction, v0-3): one error for every partition. */
  addPartitions(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: readonly { topic: string; partition: number }[],
  ): Result<ErrorCode> {
    if (!transactionalId) return immediate(ErrorCode.INVALID_REQUEST);
    const m = this.#txns.get(transactionalId);
    if (!m) return immediate(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    if (m.producerId !== producerId) return immediate(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    if (m.producerEpoch !== producerEpoch) return immediate(ErrorCode.PRODUCER_FENCED);
    if (m.pending !== null) return immediate(ErrorCode.CONCURRENT_TRANSACTIONS);
    if (m.state === 'PrepareCommit' || m.state === 'PrepareAbort') return immediate(ErrorCode.CONCURRENT_TRANSACTIONS);
    if (m.state === 'Ongoing' && partitions.every((p) => m.partitions.get(p.topic)?.has(p.partition))) return immediate(ErrorCode.NONE);
    const now = this.#clock.now();
    const merged = clonePartitions(m.partitions);
    for (const p of partitions) {
      let set = merged.get(p.topic);
      if (!set) merged.set(p.topic, (set = new Set()));
      set.add(p.partition);
    }
    const starts = m.state === 'Empty' || m.state === 'CompleteAbort' || m.state === 'CompleteCommit';
    const transit = this.#prepare(m, 'Ongoing', { partitions: merged, startTimestamp: starts ? now : m.txnStartTimestamp, now });
    return once([{ transactionalId, value: transit.value }], (err) => {
      if (err !== null) {
        this.#abandon(m);
        return appendErrorToResponseError(err);
      }
      this.#completeTransit(m, transit);
      return ErrorCode.NONE;
    });
  }

  /** AddOffsetsToTxn: adds the group's `__consumer_offsets` partition to the transaction. */
  addOffsets(transactionalId: string, producerId: number, producerEpoch: number, groupId: string): Result<ErrorCode> {
    const partition = partitionFor(groupId, this.#offsetsPartitions);
    return this.addPartitions(transactionalId, producerId, producerEpoch, [{ topic: OFFSETS_TOPIC, partition }]);
  }

  // ---- EndTxn ------------------------------------------------------------------------------

  /** EndTxn (v0-4). The handler maps PRODUCER_FENCED to INVALID_PRODUCER_EPOCH below v2. */
  endTxn(transactionalId: string, producerId: number, producerEpoch: number, committed: boolean): Result<EndTxnResult> {
    return this.#endTransaction(transactionalId, producerId, producerEpoch, committed, true);
  }

  #endTransaction(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    committed: boolean,
    isFromClient: boolean,
  ): Result<EndTxnResult> {
    if (!transactionalId) return immediate(endError(ErrorCode.INVALID_REQUEST));
    const m = this.#txns.get(transactionalId);
    if (!m) return immediate(endError(ErrorCode.INVALID_PRODUCER_ID_MAPPING));
    const validEpoch = (!isFromClient || producerEpoch === m.producerEpoch) && producerEpoch >= m.producerEpoch;
    if (m.producerId !== producerId) return immediate(endError(ErrorCode.INVALID_PRODUCER_ID_MAPPING));
    if (!validEpoch) return immediate(endError(ErrorCode.PRODUCER_FENCED));
    if (m.pending !== null && m.pending !== 'PrepareEpochFence') return immediate(endError(ErrorCode.CONCURRENT_TRANSACTIONS));
    const done = (): Result<EndTxnResult> =>
      immediate({ errorCode: ErrorCode.NONE, producerId: m.producerId, producerEpoch: m.producerEpoch });
    switch (m.state) {
      case 'Ongoing': {
        const next: TxnState = committed ? 'PrepareCommit' : 'PrepareAbort';
        let isEpochFence = false;
        if (next === 'PrepareAbort' && m.pending === 'PrepareEpochFence') {
          // The fence's bumped epoch goes straight into the PrepareAbort record.
          isEpochFence = true;
          m.pending = null;
          m.producerEpoch = producerEpoch;
          m.lastProducerEpoch = NO_PRODUCER_EPOCH;
        }
        const transit = this.#prepare(m, next, { now: this.#clock.now() });
        return once([{ transactionalId, value: transit.value }], (err) => {
          if (err !== null) {
            this.#abandon(m);
            if (isEpochFence) m.hasFailedEpochFence = true;
            return endError(appendErrorToResponseError(err));
          }
          this.#completeTransit(m, transit);
          this.#prepareComplete(m);
          this.#onMarkers(markerWork(m));
          return { errorCode: ErrorCode.NONE, producerId: m.producerId, producerEpoch: m.producerEpoch };
        });
      }
      case 'CompleteCommit':
        return committed ? done() : immediate(endError(ErrorCode.INVALID_TXN_STATE));
      case 'CompleteAbort':
        return !committed ? done() : immediate(endError(ErrorCode.INVALID_TXN_STATE));
      case 'PrepareCommit':
        return immediate(endError(committed ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE));
      case 'PrepareAbort':
        return immediate(endError(!committed ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE));
      case 'Empty':
        return immediate(endError(ErrorCode.INVALID_TXN_STATE));
      case 'Dead':
      case 'PrepareEpochFence':
        throw new Error(`transactional id ${transactionalId} found in state ${m.state}`);
    }
  }

  /** Bumps the epoch of an Ongoing transaction (fencing its producer) and aborts it. */
  #fenceAndAbort(m: TxnMetadata): Result<EndTxnResult> {
    if (m.producerEpoch === 32767) throw new Error(`cannot fence producer ${m.producerId} at epoch 32767`);
    const bumped = m.hasFailedEpochFence ? m.producerEpoch : m.producerEpoch + 1;
    this.#checkTransition(m, 'PrepareEpochFence');
    m.pending = 'PrepareEpochFence';
    const result = this.#endTransaction(m.transactionalId, m.producerId, bumped, false, false);
    if (m.pending === 'PrepareEpochFence') m.pending = null; // refused without a record (not expected)
    return result;
  }

  // ---- markers -----------------------------------------------------------------------------

  /**
   * The markers of a PrepareCommit/PrepareAbort transaction are durable: write the
   * CompleteCommit/CompleteAbort record. Completes to true when done (or nothing is left to
   * do), false when the append failed and the service should call again later.
   */
  completeTransaction(transactionalId: string, producerId: number, producerEpoch: number): Result<boolean> {
    const m = this.#txns.get(transactionalId);
    if (!m || m.producerId !== producerId || m.producerEpoch !== producerEpoch) return immediate(true);
    if (m.state !== 'PrepareCommit' && m.state !== 'PrepareAbort') return immediate(true);
    if (m.pending === null) this.#prepareComplete(m);
    const transit = m.completing;
    if (!transit || m.pending !== transit.value.state) return immediate(false);
    return once([{ transactionalId, value: transit.value }], (err) => {
      // A failed append keeps the transition pending: the service tries again.
      if (err !== null || m.completing !== transit) return false;
      m.completing = null;
      this.#completeTransit(m, transit);
      return true;
    });
  }

  /**
   * Kafka's prepareComplete, done as soon as PrepareCommit/PrepareAbort is durable (or loaded):
   * while the markers are written the transactional id has a pending transition, so requests
   * get CONCURRENT_TRANSACTIONS.
   */
  #prepareComplete(m: TxnMetadata): void {
    const target: TxnState = m.state === 'PrepareCommit' ? 'CompleteCommit' : 'CompleteAbort';
    m.hasFailedEpochFence = false;
    // Kafka (transaction version < 2) leaves lastProducerEpoch alone on completion.
    m.completing = this.#prepare(m, target, { partitions: new Map(), now: this.#clock.now() });
  }

  /** The markers still to write (transactions in PrepareCommit/PrepareAbort), e.g. after loading. */
  pendingMarkers(): MarkerWork[] {
    const out: MarkerWork[] = [];
    for (const m of this.#txns.values()) if (m.state === 'PrepareCommit' || m.state === 'PrepareAbort') out.push(markerWork(m));
    return out;
  }

  // ---- timers ------------------------------------------------------------------------------

  /**
   * Loading is over: asks for the markers of transactions found in PrepareCommit/PrepareAbort
   * and starts the periodic timers (timed-out transactions, expired transactional ids).
   */
  onLoaded(): void {
    for (const m of this.#txns.values()) {
      if ((m.state === 'PrepareCommit' || m.state === 'PrepareAbort') && m.pending === null) {
        this.#prepareComplete(m);
        this.#onMarkers(markerWork(m));
      }
    }
    if (this.#timersStarted) return;
    this.#timersStarted = true;
    this.#every(this.config.abortTimedOutIntervalMs, () => this.abortTimedOutTransactions());
    this.#every(this.config.removeExpiredIntervalMs, () => {
      const r = this.expireTransactionalIds();
      if (r) this.#onTimerResult(r);
    });
  }

  /** Stops the periodic timers. */
  stop(): void {
    for (const cancel of this.#cancelTimers) cancel();
    this.#cancelTimers = [];
    this.#timersStarted = false;
  }

  #every(ms: number, fn: () => void): void {
    const slot = this.#cancelTimers.length;
    const schedule = () => {
      this.#cancelTimers[slot] = this.#clock.setTimeout(() => {
        fn();
        if (this.#timersStarted) schedule();
      }, ms);
    };
    schedule();
  }

  /** Aborts Ongoing transactions older than their timeout: epoch bump (fence), then abort. */
  abortTimedOutTransactions(): void {
    const now = this.#clock.now();
    for (const m of [...this.#txns.values()]) {
      if (m.pending !== null || m.state !== 'Ongoing') continue;
      if (m.txnStartTimestamp + m.txnTimeoutMs < now) this.#onTimerResult(this.#fenceAndAbort(m));
    }
  }

  /** Tombstones idle transactional ids (transactional.id.expiration.ms); null when none. */
  expireTransactionalIds(): Result<void> | null {
    const now = this.#clock.now();
    const expired: TxnMetadata[] = [];
    for (const m of this.#txns.values()) {
      const allowed = m.state === 'Empty' || m.state === 'CompleteCommit' || m.state === 'CompleteAbort';
      if (m.pending === null && allowed && m.txnLastUpdateTimestamp <= now - this.config.idExpirationMs) {
        m.pending = 'Dead';
        expired.push(m);
      }
    }
    if (expired.length === 0) return null;
    return once(
      expired.map((m) => ({ transactionalId: m.transactionalId, value: null })),
      (err) => {
        for (const m of expired) {
          if (m.pending !== 'Dead') continue;
          if (err === null && this.#txns.get(m.transactionalId) === m) this.#txns.delete(m.transactionalId);
          else m.pending = null;
        }
      },
    );
  }

  // ---- reads -------------------------------------------------------------------------------

  /** DescribeTransactions for one id (authorization is the handler's). */
  describe(transactionalId: string): DescribedTxn {
    return describeTxn(this.#txns.get(transactionalId), transactionalId);
  }

  /** ListTransactions: filters by state name, producer id and (v1) minimum running time. */
  list(stateFilters: readonly string[], producerIdFilters: readonly number[], durationFilterMs = -1): ListedTxns {
    return listTxns(this.#txns.values(), this.#clock.now(), stateFilters, producerIdFilters, durationFilterMs);
  }

  /**
   * Kafka's handleVerifyPartitionsInTransaction (AddPartitionsToTxn verifyOnly, KIP-890 part 1)
   * for one partition: INVALID_REQUEST for a null or empty id, INVALID_PRODUCER_ID_MAPPING
   * (unknown id, other producer id), PRODUCER_FENCED (other epoch), CONCURRENT_TRANSACTIONS
   * (PrepareCommit/PrepareAbort), NONE when the partition is in the transaction, else
   * TRANSACTION_ABORTABLE. The produce path maps them as Kafka's AddPartitionsToTxnManager
   * does: PRODUCER_FENCED → INVALID_PRODUCER_EPOCH, TRANSACTION_ABORTABLE → INVALID_TXN_STATE
   * for clients before Produce v12.
   */
  verifyPartition(transactionalId: string | null, producerId: number, producerEpoch: number, topic: string, partition: number): ErrorCode {
    if (!transactionalId) return ErrorCode.INVALID_REQUEST;
    const m = this.#txns.get(transactionalId);
    if (!m || m.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (m.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (m.state === 'PrepareCommit' || m.state === 'PrepareAbort') return ErrorCode.CONCURRENT_TRANSACTIONS;
    return m.partitions.get(topic)?.has(partition) ? ErrorCode.NONE : ErrorCode.TRANSACTION_ABORTABLE;
  }

  state(transactionalId: string): TxnState | undefined {
    return this.#txns.get(transactionalId)?.state;
  }

  transactionalIds(): string[] {
    return [...this.#txns.keys()];
  }

  /** The stored state of every transactional id, sorted (what replay must rebuild). */
  snapshot(): TxnSnapshot[] {
    return snapshotTxns(this.#txns.values());
  }

  // ---- replay ------------------------------------------------------------------------------

  /** Loading `__transaction_state`: applies one record (the last one of an id wins). */
  replay(record: TxnRecord): void {
    if (record.value === null) {
      this.#txns.delete(record.transactionalId);
      return;
    }
    let m = this.#txns.get(record.transactionalId);
    if (!m) {
      m = {
        transactionalId: record.transactionalId,
        producerId: NO_PRODUCER_ID,
        previousProducerId: NO_PRODUCER_ID,
        nextProducerId: NO_PRODUCER_ID,
        producerEpoch: NO_PRODUCER_EPOCH,
        txnTimeoutMs: 0,
        state: 'Empty',
        partitions: new Map(),
        txnStartTimestamp: -1,
        txnLastUpdateTimestamp: -1,
        clientTransactionVersion: 0,
        lastProducerEpoch: NO_PRODUCER_EPOCH,
        pending: null,
        hasFailedEpochFence: false,
        completing: null,
      };
      this.#txns.set(record.transactionalId, m);
    }
    applyValue(m, record.value);
    m.lastProducerEpoch = NO_PRODUCER_EPOCH;
    m.pending = null;
    m.completing = null;
  }

  // ---- transitions -------------------------------------------------------------------------

  #checkTransition(m: TxnMetadata, target: TxnState): void {
    if (m.pending !== null) throw new Error(`${m.transactionalId}: transition to ${target} while ${m.pending} is pending`);
    if (!VALID_PREVIOUS[target].includes(m.state)) throw new Error(`${m.transactionalId}: illegal transition ${m.state} → ${target}`);
  }

  /** Kafka's prepareTransitionTo: checks the transition, marks it pending, builds the record. */
  #prepare(
    m: TxnMetadata,
    target: TxnState,
    change: {
      producerId?: number;
      epoch?: number;
      lastEpoch?: number;
      timeoutMs?: number;
      partitions?: Map<string, Set<number>>;
      startTimestamp?: number;
      now: number;
    },
  ): Transit {
    this.#checkTransition(m, target);
    const toEmpty = target === 'Empty';
    const value: TxnLogValue = {
      producerId: change.producerId ?? m.producerId,
      // Kafka remembers the previous producer id on InitProducerId's transitions.
      previousProducerId: toEmpty ? m.producerId : m.previousProducerId,
      nextProducerId: NO_PRODUCER_ID,
      producerEpoch: change.epoch ?? m.producerEpoch,
      transactionTimeoutMs: change.timeoutMs ?? m.txnTimeoutMs,
      state: target,
      partitions: toEmpty ? [] : partitionsList(change.partitions ?? m.partitions),
      lastUpdateTimestampMs: change.now,
      startTimestampMs: toEmpty ? -1 : (change.startTimestamp ?? m.txnStartTimestamp),
      clientTransactionVersion: 0,
    };
    m.pending = target;
    return { value, lastProducerEpoch: change.lastEpoch ?? m.lastProducerEpoch };
  }

  #completeTransit(m: TxnMetadata, transit: Transit): void {
    if (m.pending !== transit.value.state) throw new Error(`${m.transactionalId}: completing ${transit.value.state} while ${m.pending} is pending`);
    applyValue(m, transit.value);
    m.lastProducerEpoch = transit.lastProducerEpoch;
    m.pending = null;
  }


  #abandon(m: TxnMetadata): void {
    m.pending = null;
  }
}

/** The stored fields of a record value, applied to the metadata (live completion and replay). */
function applyValue(m: TxnMetadata, v: TxnLogValue): void {
  m.producerId = v.producerId;
  m.previousProducerId = v.previousProducerId;
  m.nextProducerId = v.nextProducerId;
  m.producerEpoch = v.producerEpoch;
  m.txnTimeoutMs = v.transactionTimeoutMs;
  m.state = v.state;
  m.partitions = new Map(v.partitions.map((p) => [p.topic, new Set(p.partitionIds)]));
  m.txnStartTimestamp = v.startTimestampMs;
  m.txnLastUpdateTimestamp = v.lastUpdateTimestampMs;
  m.clientTransactionVersion = v.clientTransactionVersion;
}

/** Kafka's isValidProducerId (InitProducerId with a producer id and epoch, KIP-360). */
function isValidProducerId(m: TxnMetadata, expected: { producerId: number; producerEpoch: number }): boolean {
  return (
    m.producerEpoch === NO_PRODUCER_EPOCH ||
    expected.producerId === m.producerId ||
    (expected.producerId === m.previousProducerId && isEpochExhausted(expected.producerEpoch))
  );
}

function markerWork(m: TxnMetadata): MarkerWork {
  const partitions: { topic: string; partition: number }[] = [];
  for (const [topic, set] of m.partitions) for (const partition of set) partitions.push({ topic, partition });
  return {
    transactionalId: m.transactionalId,
    producerId: m.producerId,
    producerEpoch: m.producerEpoch,
    committed: m.state === 'PrepareCommit',
    partitions,
  };
}

function clonePartitions(p: Map<string, Set<number>>): Map<string, Set<number>> {
  return new Map([...p].map(([t, s]) => [t, new Set(s)]));
}

function initError(errorCode: ErrorCode): InitProducerIdResult {
  return { errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH };
}

function endError(errorCode: ErrorCode): EndTxnResult {
  return { errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH };
}
