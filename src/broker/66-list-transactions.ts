/**
 * ListTransactions (key 66, v0-1): the transactional ids this coordinator knows, filtered by
 * state names (unknown names are echoed in unknownStateFilters), producer ids and (v1) a
 * minimum running time (DurationFilter, -1 = none), as Kafka's listTransactionStates.
 */
import { ListTransactionsRequest } from '../protocol/messages/list-transactions-request.generated.ts';
import { ListTransactionsResponse } from '../protocol/messages/list-transactions-response.generated.ts';
import { defineApi } from './api.ts';
import { fromInt64 } from './txn-service.ts';

export const listTransactions = defineApi({
  request: ListTransactionsRequest,
  response: ListTransactionsResponse,
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx) {
    const res = ListTransactionsResponse.default();
    const duration = ctx.apiVersion >= 1 ? Number(req.durationFilter) : -1;
    const listed = ctx.broker.transactions.coordinator.list(req.stateFilters, req.producerIdFilters.map(fromInt64), duration);
    res.errorCode = listed.errorCode;
    res.unknownStateFilters = listed.unknownStateFilters;
    res.transactionStates = listed.transactionStates.map((t) => ({ ...t, producerId: BigInt(t.producerId) }));
    return res;
  },
});
