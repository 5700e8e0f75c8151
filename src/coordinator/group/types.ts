/**
 * Shared types of the classic group coordinator: configuration, request context and the
 * `Result` every operation returns (see README.md, "Results and continuations").
 */
import { ErrorCode } from '../../common/errors.ts';
import type { GroupRecord } from './records.ts';

export interface GroupCoordinatorConfig {
  /** group.min.session.timeout.ms */
  minSessionTimeoutMs: number;
  /** group.max.session.timeout.ms */
  maxSessionTimeoutMs: number;
  /** group.initial.rebalance.delay.ms */
  initialRebalanceDelayMs: number;
  /** group.max.size (classic groups) */
  maxGroupSize: number;
  /** Kafka's classicGroupNewMemberJoinTimeoutMs: a new member's pending JoinGroup expires after this. */
  newMemberJoinTimeoutMs: number;
  /** offset.metadata.max.bytes (compared with the metadata's length in UTF-16 units, as Kafka does) */
  offsetMetadataMaxBytes: number;
  /** offsets.retention.minutes, in ms */
  offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms */
  offsetsRetentionCheckIntervalMs: number;
}

export const DEFAULT_CONFIG: GroupCoordinatorConfig = {
  minSessionTimeoutMs: 6_000,
  maxSessionTimeoutMs: 1_800_000,
  initialRebalanceDelayMs: 3_000,
  maxGroupSize: 2_147_483_647,
  newMemberJoinTimeoutMs: 300_000,
  offsetMetadataMaxBytes: 4096,
  offsetsRetentionMs: 7 * 24 * 60 * 60 * 1000,
  offsetsRetentionCheckIntervalMs: 600_000,
};

/** What the handler knows about the request besides its body. */
export interface RequestContext {
  /** The request header's client id. */
  clientId: string;
  /** The client's address as Kafka shows it (e.g. "/127.0.0.1"). */
  clientHost: string;
  /** The request's API version (several rules depend on it). */
  apiVersion: number;
}

/**
 * What an operation (or a timer) produces. The caller appends `records` (in order) to
 * `__consumer_offsets` — each to the partition `partitionFor(record.groupId)` — and then calls
 * `complete(null)` once they are durable, or `complete(errorCode)` if the append failed; an
 * empty `records` list may be completed at once. `complete` returns the response to send
 * (`undefined` for JoinGroup/SyncGroup, which answer through their continuation instead).
 * Results must be completed in the order they were produced; `complete` must be called once.
 */
export interface Result<R> {
  readonly records: readonly GroupRecord[];
  /**
   * Set for TxnOffsetCommit: the records go in a transactional batch of this producer (its id
   * and epoch, base sequence -1), and stay pending until the transaction's marker.
   */
  readonly producer?: TxnProducer;
  complete(appendError: ErrorCode | null): R;
}

/** The producer of a transactional offset commit (from the TxnOffsetCommit request). */
export interface TxnProducer {
  producerId: number;
  producerEpoch: number;
}

/** A deferred answer: called exactly once, possibly synchronously, possibly much later. */
export type Respond<R> = (response: R) => void;

export const CLASSIC_GROUP_STATES = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'] as const;
export type ClassicGroupState = (typeof CLASSIC_GROUP_STATES)[number];

/** The member id a client sends before it has one. */
export const UNKNOWN_MEMBER_ID = '';

/**
 * The error a client sees when the records of an operation could not be appended (Kafka 4's
 * appendGroupMetadataErrorToResponseError and CoordinatorOperationExceptionHelper, which agree).
 */
export function appendErrorToResponseError(e: ErrorCode): ErrorCode {
  switch (e) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return e;
  }
}

/** A Result with nothing to append. */
export function immediate<R>(response: R): Result<R> {
  return { records: [], complete: () => response };
}

/** A Result whose records the machine already applied in memory (classic group paths). */
export function appended<R>(
  records: GroupRecord[],
  onComplete: (appendError: ErrorCode | null) => R,
): Result<R> {
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

export const EMPTY_RESULT: Result<void> = immediate(undefined);
