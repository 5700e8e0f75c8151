/** Raw-protocol helpers for the transaction APIs, shared by the broker suites. */
import assert from 'node:assert/strict';
import { AddOffsetsToTxnRequest } from '../../src/protocol/messages/add-offsets-to-txn-request.generated.ts';
import { AddPartitionsToTxnRequest } from '../../src/protocol/messages/add-partitions-to-txn-request.generated.ts';
import { EndTxnRequest } from '../../src/protocol/messages/end-txn-request.generated.ts';
import { InitProducerIdRequest } from '../../src/protocol/messages/init-producer-id-request.generated.ts';
import { eventually, type Any, type RawClient } from './helpers.ts';

export const K = { FindCoordinator: 10, InitProducerId: 22, AddPartitionsToTxn: 24, AddOffsetsToTxn: 25, EndTxn: 26, DescribeTransactions: 65, ListTransactions: 66 } as const;
export const E = {
  NONE: 0,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  TOPIC_AUTHORIZATION_FAILED: 29,
  INVALID_REQUEST: 42,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  INVALID_PRODUCER_ID_MAPPING: 49,
  INVALID_TRANSACTION_TIMEOUT: 50,
  CONCURRENT_TRANSACTIONS: 51,
  OPERATION_NOT_ATTEMPTED: 55,
  PRODUCER_FENCED: 90,
  TRANSACTIONAL_ID_NOT_FOUND: 105,
} as const;

let idCounter = 0;
export const txnId = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${idCounter++}`;

export interface Producer {
  producerId: bigint;
  producerEpoch: number;
}

export async function initPid(c: RawClient, transactionalId: string | null, opts: { version?: number; timeoutMs?: number; producerId?: bigint; producerEpoch?: number } = {}): Promise<Any> {
  return c.request(K.InitProducerId, opts.version ?? 4, {
    ...InitProducerIdRequest.default(),
    transactionalId,
    transactionTimeoutMs: opts.timeoutMs ?? 60_000,
    producerId: opts.producerId ?? -1n,
    producerEpoch: opts.producerEpoch ?? -1,
  });
}

/** FindCoordinator for the id, then InitProducerId (retrying CONCURRENT_TRANSACTIONS as clients do). */
export async function initTxn(c: RawClient, transactionalId: string, timeoutMs = 60_000): Promise<Producer> {
  const found = await c.request(K.FindCoordinator, 4, { key: '', keyType: 1, coordinatorKeys: [transactionalId] });
  assert.equal(found.coordinators[0].errorCode, E.NONE);
  const r = await eventually(async () => {
    const res = await initPid(c, transactionalId, { timeoutMs });
    return res.errorCode === E.CONCURRENT_TRANSACTIONS ? null : res;
  }, 'InitProducerId');
  assert.equal(r.errorCode, E.NONE);
  return { producerId: r.producerId, producerEpoch: r.producerEpoch };
}

export async function addPartitions(c: RawClient, id: string, p: Producer, topics: { name: string; partitions: number[] }[], version = 3): Promise<Any[]> {
  const res = await c.request(K.AddPartitionsToTxn, version, {
    ...AddPartitionsToTxnRequest.default(),
    v3AndBelowTransactionalId: id,
    v3AndBelowProducerId: p.producerId,
    v3AndBelowProducerEpoch: p.producerEpoch,
    v3AndBelowTopics: topics,
  });
  return res.resultsByTopicV3AndBelow;
}

/** The partition errors of an AddPartitionsToTxn answer as `topic-partition: code`, sorted. */
export function errorsOf(results: Any[]): string[] {
  return results.flatMap((t: Any) => t.resultsByPartition.map((p: Any) => `${t.name}-${p.partitionIndex}: ${p.partitionErrorCode}`)).sort();
}

export async function addOffsets(c: RawClient, id: string, p: Producer, groupId: string, version = 3): Promise<number> {
  const res = await c.request(K.AddOffsetsToTxn, version, { ...AddOffsetsToTxnRequest.default(), transactionalId: id, producerId: p.producerId, producerEpoch: p.producerEpoch, groupId });
  return res.errorCode;
}

export async function endTxn(c: RawClient, id: string, p: Producer, committed: boolean, version = 3): Promise<Any> {
  return c.request(K.EndTxn, version, { ...EndTxnRequest.default(), transactionalId: id, producerId: p.producerId, producerEpoch: p.producerEpoch, committed });
}

export async function describeTxn(c: RawClient, id: string): Promise<Any> {
  const res = await c.request(K.DescribeTransactions, 0, { transactionalIds: [id] });
  return res.transactionStates[0];
}

