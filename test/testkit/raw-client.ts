/**
 * A minimal Kafka protocol client over node:net that uses Tributary's own generated codecs.
 * For behaviour tests of single APIs and for malformed input: it sends exactly what it is
 * told, at the version it is told, and decodes exactly what comes back.
 *
 *   const c = await RawClient.connect(host, port);
 *   const res = await c.request(3, 12, { ...MetadataRequest.default(), topics: null });
 *   await c.send(0, 9, acksZeroProduce);          // a request that gets no response
 *   c.sendRaw(Buffer.from([0xff, 0xff, 0xff, 0xff])); // anything at all
 *   assert.equal(await c.waitClosed(5000), true);
 *
 * Pipelining: `request` writes immediately and returns a promise; several may be in flight.
 * Kafka answers in request order, so each response frame goes to the oldest pending request
 * and its correlation id must match (else that request rejects). Frames that arrive while no
 * request is pending (answers to `sendRaw`) are queued for `nextFrame()`.
 */
import net from 'node:net';
import { apiMessages, requestHeaderVersion, responseHeaderVersion } from '../../src/protocol/messages/index.generated.ts';
import { RequestHeader } from '../../src/protocol/messages/request-header.generated.ts';
import { ResponseHeader } from '../../src/protocol/messages/response-header.generated.ts';
import { Reader } from '../../src/protocol/primitives/reader.ts';
import { Writer } from '../../src/protocol/primitives/writer.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export interface RequestOptions {
  /** Client id in the header (v1+ headers); default 'raw-client'. null is sent as a null string. */
  clientId?: string | null;
  /** Correlation id to use instead of the next automatic one. */
  correlationId?: number;
  /**
   * Version to decode the response with (default: the request version). ApiVersions at an
   * unsupported version is answered in v0 format (KIP-511): pass 0.
   */
  responseVersion?: number;
  /** Reject if the response is not complete within this time (safety net). Default 20 s. */
  timeoutMs?: number;
  /** Allow bytes after the decoded response (default false: trailing bytes are an error). */
  allowTrailingBytes?: boolean;
}

export interface RawResponse<T = Any> {
  correlationId: number;
  body: T;
  /** The whole response frame without its size prefix. */
  frame: Buffer;
}

interface Pending {
  correlationId: number;
  decode: (frame: Buffer) => unknown;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class ResponseTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResponseTimeoutError';
  }
}

export class ConnectionClosedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionClosedError';
  }
}

/** Encodes header + body (without the size prefix). `body` may be raw bytes for the body. */
export function encodeRequest(
  apiKey: number,
  version: number,
  correlationId: number,
  body: unknown,
  clientId: string | null = 'raw-client',
  headerVersion?: number,
): Buffer {
  const w = new Writer();
  RequestHeader.encode(
    w,
    { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId },
    headerVersion ?? defaultHeaderVersion(apiKey, version),
  );
  if (Buffer.isBuffer(body)) {
    w.writeRawBuffer(body);
  } else {
    const api = apiMessages[apiKey];
    if (!api) throw new Error(`no codec for api key ${apiKey}; pass the body as a Buffer`);
    api.request.encode(w, body, version);
  }
  return w.toBuffer();
}

/** The request header version for an API version; v1 for API keys we have no schema for. */
function defaultHeaderVersion(apiKey: number, version: number): number {
  if (!apiMessages[apiKey]) return 1;
  return requestHeaderVersion(apiKey, version);
}

/** Prefixes a frame with its int32 size. */
export function sizePrefixed(frame: Buffer): Buffer {
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeInt32BE(frame.length, 0);
  return Buffer.concat([prefix, frame]);
}

export class RawClient {
  readonly socket: net.Socket;
  #nextCorrelationId = 1;
  #pending: Pending[] = [];
  #buffered: Buffer = Buffer.alloc(0);
  #unmatched: Buffer[] = [];
  #frameWaiters: ((f: Buffer | null) => void)[] = [];
  #closed = false;
  #closeWaiters: (() => void)[] = [];
  /** The last socket error, if any (ECONNRESET when the server resets). */
  lastError: Error | undefined;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => {
      this.lastError = err;
    });
    socket.on('close', () => this.#onClose());
  }

  static connect(host: string, port: number, timeoutMs = 10_000): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Requests written whose responses have not arrived yet. */
  get inFlight(): number {
    return this.#pending.length;
  }

  /** Sends a request and resolves to its decoded response body. */
  async request<T = Any>(apiKey: number, version: number, body: unknown, opts: RequestOptions = {}): Promise<T> {
    return (await this.requestFull<T>(apiKey, version, body, opts)).body;
  }

  /** Like `request`, also giving the correlation id and the raw response frame. */
  requestFull<T = Any>(apiKey: number, version: number, body: unknown, opts: RequestOptions = {}): Promise<RawResponse<T>> {
    const correlationId = opts.correlationId ?? this.#nextCorrelationId++;
    const frame = encodeRequest(apiKey, version, correlationId, body, opts.clientId === undefined ? 'raw-client' : opts.clientId);
    const responseVersion = opts.responseVersion ?? version;
    const decode = (resp: Buffer): RawResponse<T> => {
      const r = new Reader(resp);
      const header = ResponseHeader.decode(r, responseHeaderVersion(apiKey, responseVersion));
      const api = apiMessages[apiKey];
      if (!api) throw new Error(`no codec for api key ${apiKey}`);
      const decoded = api.response.decode(r, responseVersion) as T;
      if (!opts.allowTrailingBytes && r.remaining !== 0) {
        throw new Error(`${api.name} v${responseVersion} response has ${r.remaining} trailing bytes`);
      }
      return { correlationId: header.correlationId, body: decoded, frame: resp };
    };
    return this.#expect(correlationId, decode, sizePrefixed(frame), opts.timeoutMs ?? 20_000) as Promise<RawResponse<T>>;
  }

  /**
   * Sends a frame (header + body, size prefix added here) and resolves to the raw response
   * frame, matched like `request` (the correlation id is read from `frame` bytes 4..8).
   */
  requestRawFrame(frame: Buffer, timeoutMs = 20_000): Promise<Buffer> {
    const correlationId = frame.readInt32BE(4);
    return this.#expect(correlationId, (f) => f, sizePrefixed(frame), timeoutMs) as Promise<Buffer>;
  }

  /**
   * Sends a request that gets no response (Produce with acks=0). Resolves once written.
   * Its correlation id is consumed, so later responses still match in order.
   */
  send(apiKey: number, version: number, body: unknown, opts: Omit<RequestOptions, 'responseVersion' | 'timeoutMs'> = {}): Promise<number> {
    const correlationId = opts.correlationId ?? this.#nextCorrelationId++;
    const frame = encodeRequest(apiKey, version, correlationId, body, opts.clientId === undefined ? 'raw-client' : opts.clientId);
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(new ConnectionClosedError('connection is closed'));
      this.socket.write(sizePrefixed(frame), (err) => (err ? reject(err) : resolve(correlationId)));
    });
  }

  /** Writes bytes exactly as given (no size prefix added). Never throws on a closed socket. */
  sendRaw(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.#closed || this.socket.destroyed) return resolve();
      this.socket.write(bytes, () => resolve());
    });
  }

  /**
   * The next response frame (without size prefix) that no pending request claimed, or null
   * when the connection closes or `timeoutMs` passes first.
   */
  nextFrame(timeoutMs = 10_000): Promise<Buffer | null> {
    const queued = this.#unmatched.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.#frameWaiters.indexOf(done);
        if (i >= 0) this.#frameWaiters.splice(i, 1);
        resolve(null);
      }, timeoutMs);
      const done = (f: Buffer | null) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.#frameWaiters.push(done);
    });
  }

  /** Resolves true once the server has closed the connection, false if still open after timeoutMs. */
  waitClosed(timeoutMs = 10_000): Promise<boolean> {
    if (this.#closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.#closeWaiters.indexOf(done);
        if (i >= 0) this.#closeWaiters.splice(i, 1);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#closeWaiters.push(done);
    });
  }

  /** Closes our side and waits for the socket to close. */
  async close(): Promise<void> {
    if (this.#closed) return;
    const closed = this.waitClosed(5_000);
    this.socket.end();
    if (!(await closed)) {
      this.socket.destroy();
      await this.waitClosed(5_000);
    }
  }

  /** Drops the connection at once (RST-like). */
  destroy(): void {
    this.socket.destroy();
  }

  #expect(correlationId: number, decode: (f: Buffer) => unknown, bytes: Buffer, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(new ConnectionClosedError('connection is closed'));
      const p: Pending = {
        correlationId,
        decode,
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.#pending.indexOf(p);
          if (i >= 0) this.#pending.splice(i, 1);
          reject(new ResponseTimeoutError(`no response to correlation id ${correlationId} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.#pending.push(p);
      this.socket.write(bytes);
    });
  }

  #onData(chunk: Buffer): void {
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    while (this.#buffered.length >= 4) {
      const size = this.#buffered.readInt32BE(0);
      if (size < 0) {
        this.lastError = new Error(`server sent negative frame size ${size}`);
        this.socket.destroy();
        return;
      }
      if (this.#buffered.length < 4 + size) return;
      const frame = this.#buffered.subarray(4, 4 + size);
      this.#buffered = this.#buffered.subarray(4 + size);
      this.#onFrame(frame);
    }
  }

  #onFrame(frame: Buffer): void {
    const p = this.#pending.shift();
    if (!p) {
      const w = this.#frameWaiters.shift();
      if (w) w(frame);
      else this.#unmatched.push(frame);
      return;
    }
    clearTimeout(p.timer);
    const got = frame.length >= 4 ? frame.readInt32BE(0) : NaN;
    if (got !== p.correlationId) {
      p.reject(new Error(`response correlation id ${got} does not match the oldest request's ${p.correlationId}`));
      return;
    }
    try {
      p.resolve(p.decode(frame));
    } catch (err) {
      p.reject(err as Error);
    }
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(new ConnectionClosedError(`connection closed before the response to correlation id ${p.correlationId}`));
    }
    for (const w of this.#frameWaiters.splice(0)) w(null);
    for (const w of this.#closeWaiters.splice(0)) w();
  }
}
