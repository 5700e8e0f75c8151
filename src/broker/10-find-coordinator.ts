/**
 * FindCoordinator (key 10): which broker coordinates a consumer group or transactional id.
 *
 * The group and transaction coordinators do not exist yet (consumer groups and transactions
 * are later issues), so every lookup answers COORDINATOR_NOT_AVAILABLE — the retriable error
 * Kafka gives while its coordinator is loading — rather than pointing clients at a broker
 * that cannot serve JoinGroup. The API is served anyway because librdkafka enables LZ4 only
 * when the broker advertises FindCoordinator v0 (its feature table ties LZ4 to it).
 */
import { ErrorCode } from '../common/errors.ts';
import { FindCoordinatorRequest } from '../protocol/messages/find-coordinator-request.generated.ts';
import { FindCoordinatorResponse } from '../protocol/messages/find-coordinator-response.generated.ts';
import { defineApi } from './api.ts';

/** FindCoordinator key types. */
export const KeyType = { GROUP: 0, TRANSACTION: 1, SHARE: 2 } as const;

function lookup(keyType: number): { errorCode: number; errorMessage: string } {
  if (keyType !== KeyType.GROUP && keyType !== KeyType.TRANSACTION) {
    return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported key type ${keyType}.` };
  }
  const what = keyType === KeyType.GROUP ? 'group' : 'transaction';
  return {
    errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
    errorMessage: `The ${what} coordinator is not available on this broker yet.`,
  };
}

export const findCoordinator = defineApi({
  request: FindCoordinatorRequest,
  response: FindCoordinatorResponse,
  minVersion: 0,
  maxVersion: 6,
  handle(req, { apiVersion }) {
    const res = FindCoordinatorResponse.default();
    const keyType = apiVersion >= 1 ? req.keyType : KeyType.GROUP;
    const found = lookup(keyType);
    if (apiVersion >= 4) {
      res.coordinators = req.coordinatorKeys.map((key) => ({ key, nodeId: -1, host: '', port: -1, ...found }));
    } else {
      res.errorCode = found.errorCode;
      res.errorMessage = found.errorMessage;
      res.nodeId = -1;
      res.host = '';
      res.port = -1;
    }
    return res;
  },
});
