/**
 * DescribeTransactions (key 65, v0): each transactional id's state, producer, timeout, start
 * time and partitions; '' → INVALID_REQUEST, unknown (or expiring) → TRANSACTIONAL_ID_NOT_FOUND,
 * as Kafka's TransactionCoordinator.handleDescribeTransactions.
 */
import { DescribeTransactionsRequest } from '../protocol/messages/describe-transactions-request.generated.ts';
import { DescribeTransactionsResponse } from '../protocol/messages/describe-transactions-response.generated.ts';
import { defineApi } from './api.ts';

export const describeTransactions = defineApi({
  request: DescribeTransactionsRequest,
  response: DescribeTransactionsResponse,
  minVersion: 0,
  maxVersion: 0,
  handle(req, { broker }) {
    const res = DescribeTransactionsResponse.default();
    for (const id of req.transactionalIds) {
      const d = broker.transactions.coordinator.describe(id);
      res.transactionStates.push({
        errorCode: d.errorCode,
        transactionalId: d.transactionalId,
        transactionState: d.transactionState,
        transactionTimeoutMs: d.transactionTimeoutMs,
        transactionStartTimeMs: BigInt(d.transactionStartTimeMs),
        producerId: BigInt(d.producerId),
        producerEpoch: d.producerEpoch,
        topics: d.topics,
      });
    }
    return res;
  },
});
