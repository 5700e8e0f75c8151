/**
 * What an API handler is: the codecs of its request and response, the versions it serves, and
 * a function from request to response (decode → call a service → build the response, house
 * rule 2). Handlers live one per file, named by API key (00-produce.ts, 01-fetch.ts, ...).
 */
import type { ConnectionInfo } from '../network/connection.ts';
import type { MessageCodec } from '../protocol/primitives/index.ts';
import type { Broker } from './broker.ts';

export interface RequestContext {
  readonly broker: Broker;
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  readonly connection: ConnectionInfo;
  /** Lets the next request on this connection start before this one's response is ready. */
  release(): void;
}

export interface ApiHandler<Req = any, Res = any> {
  readonly request: MessageCodec<Req>;
  readonly response: MessageCodec<Res>;
  /** Versions served; ApiVersions advertises exactly this range. */
  readonly minVersion: number;
  readonly maxVersion: number;
  /** Returns the response, or null when the request gets none (Produce with acks=0). */
  handle(request: Req, ctx: RequestContext): Res | null | Promise<Res | null>;
}

/** Identity function that lets TypeScript infer a handler's request and response types. */
export function defineApi<Req, Res>(handler: ApiHandler<Req, Res>): ApiHandler<Req, Res> {
  return handler;
}
