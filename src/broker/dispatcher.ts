/**
 * Turns a request frame into response bytes: reads the header, finds the handler, checks the
 * version, decodes the body, runs the handler, and encodes header + response.
 *
 * Bad input closes the connection (the rejection reaches network/connection.ts, which logs it
 * and closes): a frame too short for a header, an unknown API key, an unsupported version,
 * or a body that does not decode. The one exception is ApiVersions at a version we do not
 * serve: KIP-511 says answer it with a v0 response carrying UNSUPPORTED_VERSION and our
 * ranges, so the client can pick a version it shares with us.
 */
import { largeBuffers } from '../common/buffer-pool.ts';
import { ErrorCode } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { Dispatcher } from '../network/connection.ts';
import { Reader, Writer } from '../protocol/primitives/index.ts';
import { RequestHeader } from '../protocol/messages/request-header.generated.ts';
import { ResponseHeader } from '../protocol/messages/response-header.generated.ts';
import { requestHeaderVersion, responseHeaderVersion } from '../protocol/messages/header-versions.generated.ts';
import { ApiVersionsResponse } from '../protocol/messages/api-versions-response.generated.ts';
import type { ApiHandler, RequestContext } from './api.ts';
import type { Broker } from './broker.ts';

const API_VERSIONS_KEY = 18;
const PRODUCE_KEY = 0;

export class BadRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequestError';
  }
}

export function createDispatcher(broker: Broker, handlers: ReadonlyMap<number, ApiHandler>, logger: Logger): Dispatcher {
  return async (frame, { connection, release, afterResponseWritten }) => {
    if (frame.length < 8) throw new BadRequestError(`request frame of ${frame.length} bytes is too short for a header`);
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const handler = handlers.get(apiKey);
    if (!handler) throw new BadRequestError(`unknown or unsupported API key ${apiKey}`);

    if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey === API_VERSIONS_KEY) {
        return unsupportedApiVersionsResponse(frame.readInt32BE(4), handlers);
      }
      throw new BadRequestError(
        `${handler.request.name} version ${apiVersion} is not supported (supported: ${handler.minVersion}-${handler.maxVersion})`,
      );
    }

    const reader = new Reader(frame);
    let body: unknown;
    let header;
    try {
      header = RequestHeader.decode(reader, requestHeaderVersion(apiKey, apiVersion));
      body = handler.request.decode(reader, apiVersion);
    } catch (err) {
      throw new BadRequestError(`malformed ${handler.request.name} v${apiVersion} request: ${(err as Error).message}`);
    }

    const ctx: RequestContext = {
      broker,
      apiKey,
      apiVersion,
      correlationId: header.correlationId,
      clientId: header.clientId,
      connection,
      release,
      afterResponseWritten,
    };
    let response: unknown;
    try {
      response = await handler.handle(body, ctx);
      // A Produce request's records are referenced by nothing once its handler has finished
      // (every append it queued is written), so its frame can be recycled. Other requests may
      // keep slices of their frame (e.g. group member metadata), and a failed handler may
      // still have writes queued: those frames are left to GC.
      if (apiKey === PRODUCE_KEY) largeBuffers.release(frame);
    } catch (err) {
      logger.error('handler failed', {
        api: handler.request.name,
        version: apiVersion,
        client: header.clientId,
        error: (err as Error).stack ?? String(err),
      });
      throw err;
    }
    if (response === null) return null;
    const w = new Writer();
    ResponseHeader.encode(w, { correlationId: header.correlationId }, responseHeaderVersion(apiKey, apiVersion));
    handler.response.encode(w, response, apiVersion);
    return w.toBuffers();
  };
}

/**
 * The KIP-511 answer to an ApiVersions request at a version we do not serve: v0 format, and,
 * as Kafka does, only the ApiVersions range — clients then retry at a version we share and
 * learn the full list from that answer (franz-go takes this list as final otherwise).
 */
function unsupportedApiVersionsResponse(correlationId: number, handlers: ReadonlyMap<number, ApiHandler>): Buffer[] {
  const w = new Writer();
  ResponseHeader.encode(w, { correlationId }, 0);
  const own = advertisedApis(handlers).filter((a) => a.apiKey === API_VERSIONS_KEY);
  ApiVersionsResponse.encode(w, { ...ApiVersionsResponse.default(), errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: own }, 0);
  return w.toBuffers();
}

/** The ApiVersions list: exactly the handlers we have, with their version ranges. */
export function advertisedApis(handlers: ReadonlyMap<number, ApiHandler>) {
  return [...handlers.entries()]
    .sort(([a], [b]) => a - b)
    .map(([apiKey, h]) => ({ apiKey, minVersion: h.advertisedMinVersion ?? h.minVersion, maxVersion: h.maxVersion }));
}
