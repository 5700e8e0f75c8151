/**
 * FindCoordinator (key 10): which broker coordinates a consumer group or transactional id.
 * This broker coordinates every group and every transactional id (creating and loading
 * `__consumer_offsets` / `__transaction_state` on first use); COORDINATOR_NOT_AVAILABLE, the
 * retriable error Kafka gives while a coordinator loads, if that fails.
 * (librdkafka also needs this API advertised to enable LZ4: its feature table ties the two.)
 */
import { ErrorCode } from '../common/errors.ts';
import { FindCoordinatorRequest } from '../protocol/messages/find-coordinator-request.generated.ts';
import { FindCoordinatorResponse } from '../protocol/messages/find-coordinator-response.generated.ts';
import { defineApi, type RequestContext } from './api.ts';

/** FindCoordinator key types. */
export const KeyType = { GROUP: 0, TRANSACTION: 1, SHARE: 2 } as const;

interface Found {
  errorCode: number;
  errorMessage: string | null;
  nodeId: number;
  host: string;
  port: number;
}

const notFound = (errorCode: number, errorMessage: string): Found => ({ errorCode, errorMessage, nodeId: -1, host: '', port: -1 });

async function lookup(keyType: number, ctx: RequestContext): Promise<Found> {
  if (keyType === KeyType.TRANSACTION) {
    try {
      await ctx.broker.transactions.ready();
    } catch (err) {
      return notFound(ErrorCode.COORDINATOR_NOT_AVAILABLE, `The transaction coordinator is not available: ${(err as Error).message}`);
    }
  } else if (keyType === KeyType.GROUP) {
    try {
      await ctx.broker.groups.ready();
    } catch (err) {
      return notFound(ErrorCode.COORDINATOR_NOT_AVAILABLE, `The group coordinator is not available: ${(err as Error).message}`);
    }
  } else {
    return notFound(ErrorCode.INVALID_REQUEST, `Unsupported key type ${keyType}.`);
  }
  const { host, port } = ctx.broker.advertised;
  return { errorCode: ErrorCode.NONE, errorMessage: null, nodeId: ctx.broker.nodeId, host, port };
}

export const findCoordinator = defineApi({
  request: FindCoordinatorRequest,
  response: FindCoordinatorResponse,
  minVersion: 0,
  maxVersion: 6,
  async handle(req, ctx) {
    const res = FindCoordinatorResponse.default();
    const keyType = ctx.apiVersion >= 1 ? req.keyType : KeyType.GROUP;
    const found = await lookup(keyType, ctx);
    if (ctx.apiVersion >= 4) {
      res.coordinators = req.coordinatorKeys.map((key) => ({ key, ...found }));
    } else {
      Object.assign(res, found);
    }
    return res;
  },
});
