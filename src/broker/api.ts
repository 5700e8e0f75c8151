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
  /**
   * Runs `fn` once this request's response has been handed to the socket (its buffers are no
   * longer needed), or never if the connection closes first. Fetch uses it to recycle reads.
   */
  afterResponseWritten(fn: () => void): void;
}

export interface ApiHandler<Req = any, Res = any> {
  readonly request: MessageCodec<Req>;
  readonly response: MessageCodec<Res>;
  /** Versions served; ApiVersions advertises exactly this range (but see advertisedMinVersion). */
  readonly minVersion: number;
  readonly maxVersion: number;
  /**
   * A lower minimum to advertise than we serve. Only Produce uses it: Kafka 4 advertises
   * Produce from v0 while refusing v0-v2 (KAFKA-18659), because librdkafka up to 2.11 turns
   * compression off unless the advertised Produce range starts at 0.
   */
  readonly advertisedMinVersion?: number;
  /** Returns the response, or null when the request gets none (Produce with acks=0). */
  handle(request: Req, ctx: RequestContext): Res | null | Promise<Res | null>;
}

/** Identity function that lets TypeScript infer a handler's request and response types. */
export function defineApi<Req, Res>(handler: ApiHandler<Req, Res>): ApiHandler<Req, Res> {
  return handler;
}
