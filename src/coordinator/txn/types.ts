/**
 * Shared types of the transaction coordinator: states (Kafka's TransactionState, in id order),
 * configuration (Kafka defaults), the `Result` every operation returns and the marker work it
 * asks the service to do.
 */
import { ErrorCode } from '../../common/errors.ts';
import type { TxnRecord } from './records.ts';

/** Kafka's transaction states; the index is the state id stored in TransactionLogValue. */
export const TXN_STATES = [
  'Empty',
  'Ongoing',
  'PrepareCommit',
  'PrepareAbort',
  'CompleteCommit',
  'CompleteAbort',
  'Dead',
  'PrepareEpochFence',
] as const;
export type TxnState = (typeof TXN_STATES)[number];

/** Kafka's validPreviousStates of each state (TransactionMetadata.scala). */
export const VALID_PREVIOUS: Record<TxnState, readonly TxnState[]> = {
  Empty: ['Empty', 'CompleteCommit', 'CompleteAbort'],
  Ongoing: ['Ongoing', 'Empty', 'CompleteCommit', 'CompleteAbort'],
  PrepareCommit: ['Ongoing'],
  PrepareAbort: ['Ongoing', 'PrepareEpochFence'],
  CompleteCommit: ['PrepareCommit'],
  CompleteAbort: ['PrepareAbort'],
  Dead: ['Empty', 'CompleteAbort', 'CompleteCommit'],
  PrepareEpochFence: ['Ongoing'],
};

export interface TxnCoordinatorConfig {
  /** transaction.max.timeout.ms */
  maxTimeoutMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms */
  abortTimedOutIntervalMs: number;
  /** transactional.id.expiration.ms */
  idExpirationMs: number;
  /** transaction.remove.expired.transaction.cleanup.interval.ms */
  removeExpiredIntervalMs: number;
}

export const DEFAULT_TXN_CONFIG: TxnCoordinatorConfig = {
  maxTimeoutMs: 900_000,
  abortTimedOutIntervalMs: 10_000,
  idExpirationMs: 7 * 24 * 60 * 60 * 1000,
  removeExpiredIntervalMs: 3_600_000,
};

/** RecordBatch.NO_PRODUCER_ID / NO_PRODUCER_EPOCH. */
export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
/** Short.MaxValue: an epoch >= MAX_EPOCH - 1 is exhausted (the coordinator keeps one to fence). */
export const MAX_EPOCH = 32767;

export function isEpochExhausted(epoch: number): boolean {
  return epoch >= MAX_EPOCH - 1;
}

/**
 * What an operation (or a timer) produces. The service appends `records` in order to
 * `__transaction_state` (each to partition partitionFor(transactionalId)), then calls
 * `complete(null)` once they are durable or `complete(errorCode)` if the append failed.
 * Results must be completed once each, in the order they were produced.
 */
export interface Result<R> {
  readonly records: readonly TxnRecord[];
  complete(appendError: ErrorCode | null): R;
}

/** The transaction markers to write for a transaction in PrepareCommit / PrepareAbort. */
export interface MarkerWork {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  committed: boolean;
  partitions: { topic: string; partition: number }[];
}

export interface InitProducerIdResult {
  errorCode: ErrorCode;
  producerId: number;
  producerEpoch: number;
}

export interface EndTxnResult {
  errorCode: ErrorCode;
  producerId: number;
  producerEpoch: number;
}

export function immediate<R>(response: R): Result<R> {
  return { records: [], complete: () => response };
}

export function once<R>(records: TxnRecord[], onComplete: (appendError: ErrorCode | null) => R): Result<R> {
  let done = false;
  return {
    records,
    complete(err) {
      if (done) throw new Error('Result completed twice');
      done = true;
      return onComplete(err);
    },
  };
}

/**
 * The error a client sees when the records could not be appended (Kafka's
 * TransactionStateManager.appendTransactionToLog mapping).
 */
export function appendErrorToResponseError(e: ErrorCode): ErrorCode {
  switch (e) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return e;
  }
}
