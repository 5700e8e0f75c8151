/**
 * The transaction coordinator's read-only answers: DescribeTransactions, ListTransactions, and
 * the stored view of every transactional id (what replaying `__transaction_state` must rebuild).
 */
import { ErrorCode } from '../../common/errors.ts';
import type { TxnPartitions } from './records.ts';
import { NO_PRODUCER_EPOCH, VALID_PREVIOUS, type TxnState } from './types.ts';

/** The fields of a transactional id's metadata these answers read. */
interface TxnFields {
  readonly transactionalId: string;
  producerId: number;
  previousProducerId: number;
  producerEpoch: number;
  txnTimeoutMs: number;
  state: TxnState;
  partitions: Map<string, Set<number>>;
  txnStartTimestamp: number;
  txnLastUpdateTimestamp: number;
}

export interface DescribedTxn {
  errorCode: ErrorCode;
  transactionalId: string;
  transactionState: string;
  transactionTimeoutMs: number;
  transactionStartTimeMs: number;
  producerId: number;
  producerEpoch: number;
  topics: { topic: string; partitions: number[] }[];
}

export interface ListedTxns {
  errorCode: ErrorCode;
  unknownStateFilters: string[];
  transactionStates: { transactionalId: string; producerId: number; transactionState: string }[];
}

/** The stored part of a transactional id's state (what replay rebuilds), for tests and tools. */
export interface TxnSnapshot {
  transactionalId: string;
  producerId: number;
  previousProducerId: number;
  producerEpoch: number;
  txnTimeoutMs: number;
  state: TxnState;
  partitions: TxnPartitions[];
  txnStartTimestamp: number;
  txnLastUpdateTimestamp: number;
}

/** DescribeTransactions for one id: INVALID_REQUEST for '', TRANSACTIONAL_ID_NOT_FOUND for an unknown or dead one. */
export function describeTxn(m: TxnFields | undefined, transactionalId: string): DescribedTxn {
  const base: DescribedTxn = {
    errorCode: ErrorCode.NONE,
    transactionalId,
    transactionState: '',
    transactionTimeoutMs: 0,
    transactionStartTimeMs: -1,
    producerId: -1,
    producerEpoch: -1,
    topics: [],
  };
  if (transactionalId === '') return { ...base, errorCode: ErrorCode.INVALID_REQUEST };
  if (!m || m.state === 'Dead') return { ...base, errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND };
  return {
    ...base,
    transactionState: m.state,
    transactionTimeoutMs: m.txnTimeoutMs,
    transactionStartTimeMs: m.txnStartTimestamp,
    producerId: m.producerId,
    producerEpoch: m.producerEpoch,
    topics: [...m.partitions].map(([topic, set]) => ({ topic, partitions: [...set] })),
  };
}

/** ListTransactions: filters by state name (unknown names reported), producer id and (v1) minimum running time. */
export function listTxns(
  all: Iterable<TxnFields>,
  now: number,
  stateFilters: readonly string[],
  producerIdFilters: readonly number[],
  durationFilterMs: number,
): ListedTxns {
  const states = new Set<string>();
  const unknownStateFilters: string[] = [];
  for (const s of stateFilters) {
    if ((VALID_PREVIOUS as Record<string, unknown>)[s] !== undefined) states.add(s);
    else unknownStateFilters.push(s);
  }
  const pids = new Set(producerIdFilters);
  const transactionStates: ListedTxns['transactionStates'] = [];
  for (const m of all) {
    if (m.state === 'Dead') continue;
    if (pids.size > 0 && !pids.has(m.producerId)) continue;
    if (stateFilters.length > 0 && !states.has(m.state)) continue;
    if (durationFilterMs >= 0 && now - m.txnStartTimestamp <= durationFilterMs) continue;
    transactionStates.push({ transactionalId: m.transactionalId, producerId: m.producerId, transactionState: m.state });
  }
  return { errorCode: ErrorCode.NONE, unknownStateFilters, transactionStates };
}

/** The stored state of every transactional id, sorted by id. */
export function snapshotTxns(all: Iterable<TxnFields>): TxnSnapshot[] {
  return [...all]
    .filter((m) => m.producerEpoch !== NO_PRODUCER_EPOCH) // created, but never stored
    .map((m) => ({
      transactionalId: m.transactionalId,
      producerId: m.producerId,
      previousProducerId: m.previousProducerId,
      producerEpoch: m.producerEpoch,
      txnTimeoutMs: m.txnTimeoutMs,
      state: m.state,
      partitions: partitionsList(m.partitions),
      txnStartTimestamp: m.txnStartTimestamp,
      txnLastUpdateTimestamp: m.txnLastUpdateTimestamp,
    }))
    .sort((a, b) => (a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : 0));
}

export function partitionsList(p: Map<string, Set<number>>): TxnPartitions[] {
  return [...p].map(([topic, set]) => ({ topic, partitionIds: [...set] }));
}
