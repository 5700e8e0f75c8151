/**
 * AddOffsetsToTxn (key 25, v0-4): adds the group's `__consumer_offsets` partition
 * (partitionFor(groupId)) to the transaction, so TxnOffsetCommit can follow. Errors are the
 * coordinator's (as AddPartitionsToTxn's); PRODUCER_FENCED is INVALID_PRODUCER_EPOCH below v2.
 */
import { ErrorCode } from '../common/errors.ts';
import { AddOffsetsToTxnRequest } from '../protocol/messages/add-offsets-to-txn-request.generated.ts';
import { AddOffsetsToTxnResponse } from '../protocol/messages/add-offsets-to-txn-response.generated.ts';
import { defineApi } from './api.ts';
import { fencedForVersion, fromInt64 } from './txn-service.ts';

export const addOffsetsToTxn = defineApi({
  request: AddOffsetsToTxnRequest,
  response: AddOffsetsToTxnResponse,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, ctx) {
    const res = AddOffsetsToTxnResponse.default();
    const txns = ctx.broker.transactions;
    let code: number;
    try {
      await txns.ready();
      code = await txns.apply(txns.coordinator.addOffsets(req.transactionalId, fromInt64(req.producerId), req.producerEpoch, req.groupId));
    } catch {
      code = ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    res.errorCode = fencedForVersion(code, ctx.apiVersion, 2);
    return res;
  },
});
