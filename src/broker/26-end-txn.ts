/**
 * EndTxn (key 26, v0-4): commits or aborts the ongoing transaction. The answer comes once the
 * PrepareCommit/PrepareAbort record is durable; the markers are written after it, and then the
 * CompleteCommit/CompleteAbort record (txn-service.ts). v5+ (KIP-890 part 2: an epoch bump on
 * every transaction) is not served. PRODUCER_FENCED is INVALID_PRODUCER_EPOCH below v2.
 */
import { ErrorCode } from '../common/errors.ts';
import { EndTxnRequest } from '../protocol/messages/end-txn-request.generated.ts';
import { EndTxnResponse } from '../protocol/messages/end-txn-response.generated.ts';
import { defineApi } from './api.ts';
import { fencedForVersion, fromInt64 } from './txn-service.ts';

export const endTxn = defineApi({
  request: EndTxnRequest,
  response: EndTxnResponse,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, ctx) {
    const res = EndTxnResponse.default();
    const txns = ctx.broker.transactions;
    try {
      await txns.ready();
      const r = await txns.apply(txns.coordinator.endTxn(req.transactionalId, fromInt64(req.producerId), req.producerEpoch, req.committed));
      res.errorCode = fencedForVersion(r.errorCode, ctx.apiVersion, 2);
      res.producerId = BigInt(r.producerId);
      res.producerEpoch = r.producerEpoch;
    } catch {
      Object.assign(res, { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, producerId: -1n, producerEpoch: -1 });
    }
    return res;
  },
});
