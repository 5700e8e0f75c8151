/**
 * InitProducerId (key 22, v0-5): a producer id and epoch for an idempotent producer (null
 * transactional id: a fresh id, epoch 0, nothing stored — Java producers ask at startup since
 * they are idempotent by default) or for a transactional one (the transaction coordinator:
 * `__transaction_state` is created on first use). Kafka's KafkaApis rules: a producer id
 * without an epoch or the reverse is INVALID_REQUEST; PRODUCER_FENCED is answered as
 * INVALID_PRODUCER_EPOCH below v4 (older clients do not know it).
 */
import { ErrorCode } from '../common/errors.ts';
import { InitProducerIdRequest } from '../protocol/messages/init-producer-id-request.generated.ts';
import { InitProducerIdResponse } from '../protocol/messages/init-producer-id-response.generated.ts';
import { defineApi } from './api.ts';
import { fencedForVersion, fromInt64 } from './txn-service.ts';

export const initProducerId = defineApi({
  request: InitProducerIdRequest,
  response: InitProducerIdResponse,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const res = InitProducerIdResponse.default();
    const txns = ctx.broker.transactions;
    const fail = (code: number) => Object.assign(res, { errorCode: code, producerId: -1n, producerEpoch: -1 });
    const pid = req.producerId;
    const epoch = req.producerEpoch;
    if ((pid === -1n) !== (epoch === -1)) return fail(ErrorCode.INVALID_REQUEST);
    const expected = pid === -1n ? null : { producerId: fromInt64(pid), producerEpoch: epoch };
    try {
      if (req.transactionalId !== null && req.transactionalId !== '') await txns.ready();
      await txns.producerIdReady();
    } catch {
      return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
    const result = await txns.apply(txns.coordinator.initProducerId(req.transactionalId, req.transactionTimeoutMs, expected));
    res.errorCode = fencedForVersion(result.errorCode, ctx.apiVersion, 4);
    res.producerId = BigInt(result.producerId);
    res.producerEpoch = result.producerEpoch;
    return res;
  },
});
