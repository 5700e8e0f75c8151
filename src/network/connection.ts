/**
 * One client connection: frames in, responses out, in request order.
 *
 * Ordering (see README.md): requests of one connection are dispatched one at a time, as Kafka
 * does by muting a channel while it serves a request. A handler may call `release()` once the
 * order-sensitive part of its work is done (Produce: offsets assigned, writes queued), so the
 * next request can start while it waits for an fsync; responses are still written strictly in
 * the order the requests arrived.
 *
 * Backpressure: reading pauses while more than `maxQueuedBytes` of requests wait to be served
 * or while the socket's unsent response bytes exceed the same budget.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../common/logger.ts';
import { FrameDecoder } from './frame-decoder.ts';

const EMPTY = Buffer.alloc(0);

export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
  readonly localPort: number;
  /** Per-connection state that handlers may keep (e.g. the negotiated client software name). */
  readonly attributes: Map<string, unknown>;
  readonly closed: boolean;
}

export interface DispatchContext {
  connection: ConnectionInfo;
  /** Lets the next request on this connection start before this one's response is ready. */
  release(): void;
  /** Runs `fn` once the response has been written to the socket (not if it closes first). */
  afterResponseWritten(fn: () => void): void;
}

/**
 * Serves one frame. Resolves to the response bytes (size prefix excluded), or null when the
 * request gets no response (Produce with acks=0). Rejecting closes the connection: that is
 * for malformed requests and bugs, not for Kafka errors, which are responses.
 */
export type Dispatcher = (frame: Buffer, ctx: DispatchContext) => Promise<Buffer[] | null>;

export interface ConnectionOptions {
  id: number;
  socket: Socket;
  dispatcher: Dispatcher;
  maxFrameBytes: number;
  maxQueuedBytes: number;
  logger: Logger;
  onClose: (conn: Connection) => void;
}

interface Slot {
  done: boolean;
  response: Buffer[] | null;
  afterWritten: Array<() => void> | null;
}

export class Connection implements ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
  readonly localPort: number;
  readonly attributes = new Map<string, unknown>();
  #socket: Socket;
  #dispatcher: Dispatcher;
  #decoder: FrameDecoder;
  #logger: Logger;
  #maxQueuedBytes: number;
  #onClose: (conn: Connection) => void;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #slots: Slot[] = [];
  #busy = false;
  #closed = false;
  #pausedForBackpressure = false;
  /** Requests dispatched whose handlers have not settled yet. */
  #inFlight = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(opts: ConnectionOptions) {
    this.id = opts.id;
    this.#socket = opts.socket;
    this.remoteAddress = `${opts.socket.remoteAddress}:${opts.socket.remotePort}`;
    this.localPort = opts.socket.localPort ?? 0;
    this.#dispatcher = opts.dispatcher;
    this.#decoder = new FrameDecoder(opts.maxFrameBytes);
    this.#logger = opts.logger;
    this.#maxQueuedBytes = opts.maxQueuedBytes;
    this.#onClose = opts.onClose;
    opts.socket.setNoDelay(true);
    opts.socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    opts.socket.on('drain', () => this.#updateBackpressure());
    opts.socket.on('error', (err) => this.#logger.debug('socket error', { conn: this.id, error: err }));
    opts.socket.on('close', () => this.#handleClose());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the connection; in-flight handlers finish but their responses are dropped. */
  close(reason?: string): void {
    if (this.#closed) return;
    if (reason) this.#logger.warn('closing connection', { conn: this.id, remote: this.remoteAddress, reason });
    this.#socket.destroy();
    this.#handleClose();
  }

  /** Resolves when no request of this connection is being served. */
  whenIdle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (err) {
      this.close((err as Error).message);
      return;
    }
    for (const frame of frames) {
      this.#pending.push(frame);
      this.#pendingBytes += frame.length;
    }
    this.#updateBackpressure();
    this.#pump();
  }

  #updateBackpressure(): void {
    if (this.#closed) return;
    const over =
      this.#pendingBytes + this.#decoder.bufferedBytes > this.#maxQueuedBytes ||
      this.#socket.writableLength > this.#maxQueuedBytes;
    if (over && !this.#pausedForBackpressure) {
      this.#pausedForBackpressure = true;
      this.#socket.pause();
    } else if (!over && this.#pausedForBackpressure) {
      this.#pausedForBackpressure = false;
      this.#socket.resume();
    }
  }

  #pump(): void {
    if (this.#busy || this.#closed) return;
    const frame = this.#pending.shift();
    if (!frame) return;
    this.#pendingBytes -= frame.length;
    this.#busy = true;
    this.#inFlight++;
    const slot: Slot = { done: false, response: null, afterWritten: null };
    this.#slots.push(slot);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#busy = false;
      this.#updateBackpressure();
      queueMicrotask(() => this.#pump());
    };
    let result: Promise<Buffer[] | null>;
    try {
      const afterResponseWritten = (fn: () => void) => (slot.afterWritten ??= []).push(fn);
      result = this.#dispatcher(frame, { connection: this, release, afterResponseWritten });
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (response) => {
        slot.done = true;
        slot.response = response;
        this.#settled();
        release();
        this.#flush();
      },
      (err: Error) => {
        this.#settled();
        this.close(err.message);
      },
    );
  }

  #settled(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) for (const w of this.#idleWaiters.splice(0)) w();
  }

  #flush(): void {
    if (this.#closed) return;
    const head = this.#slots[0];
    if (!head?.done) return;
    this.#socket.cork();
    while (this.#slots[0]?.done) {
      const { response, afterWritten } = this.#slots.shift()!;
      if (!response) {
        if (afterWritten) for (const fn of afterWritten) fn();
        continue;
      }
      let size = 0;
      for (const b of response) size += b.length;
      const prefix = Buffer.allocUnsafe(4);
      prefix.writeInt32BE(size, 0);
      this.#socket.write(prefix);
      const last = response.length - 1;
      for (let i = 0; i < last; i++) this.#socket.write(response[i]!);
      // Writes complete in order, so the last one's callback means the whole response is out.
      if (afterWritten) this.#socket.write(response[last] ?? EMPTY, (err) => err || afterWritten.forEach((fn) => fn()));
      else if (last >= 0) this.#socket.write(response[last]!);
    }
    this.#socket.uncork();
    this.#updateBackpressure();
  }

  #handleClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#onClose(this);
  }
}
