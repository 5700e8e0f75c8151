/**
 * Group commit for fdatasync (DESIGN.md §4, §7). Logs ask for a file to be synced; requests
 * that arrive while a round of fdatasyncs is running wait for the next round, and the next
 * round syncs every file requested since — once per file, all files concurrently — and then
 * settles every waiter. Under load one fdatasync therefore serves many produce requests on
 * many connections and partitions.
 *
 * A request is satisfied only by an fdatasync that STARTS after the request was made, so it
 * covers every write that completed before the request. A failed fdatasync rejects the
 * waiters of that file only; the log that owns the file decides what that means (it goes
 * offline: see README.md).
 */
import type { FileHandle } from 'node:fs/promises';
import { silentLogger, type Logger } from '../common/logger.ts';

/** The fdatasync to run; injectable so tests can count calls or make them fail. */
export type FdatasyncFn = (handle: FileHandle) => Promise<void>;

export const defaultFdatasync: FdatasyncFn = (handle) => handle.datasync();

interface Waiters {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

function waiters(): Waiters {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Callers may attach handlers later (or never, if they only care about a sibling request).
  promise.catch(() => {});
  return { promise, resolve, reject };
}

export class SyncScheduler {
  readonly #logger: Logger;
  readonly #fdatasync: FdatasyncFn;
  /** Files requested for the next round. */
  #pending = new Map<FileHandle, Waiters>();
  #running = false;
  #scheduled = false;
  #rounds = 0;
  #fsyncs = 0;

  constructor(opts: { logger?: Logger; fdatasync?: FdatasyncFn } = {}) {
    this.#logger = opts.logger ?? silentLogger;
    this.#fdatasync = opts.fdatasync ?? defaultFdatasync;
  }

  /** Completed and running rounds so far (for tests and metrics). */
  get rounds(): number {
    return this.#rounds;
  }

  /** fdatasync calls issued so far (for tests and metrics). */
  get fsyncs(): number {
    return this.#fsyncs;
  }

  /** Resolves once an fdatasync of `handle` that started after this call has completed. */
  request(handle: FileHandle): Promise<void> {
    let w = this.#pending.get(handle);
    if (!w) {
      w = waiters();
      this.#pending.set(handle, w);
    }
    this.#kick();
    return w.promise;
  }

  /** Resolves once every handle has been synced as by `request`; rejects on the first failure. */
  requestAll(handles: Iterable<FileHandle>): Promise<void> {
    const all: Promise<void>[] = [];
    for (const h of handles) all.push(this.request(h));
    return Promise.all(all).then(() => {});
  }

  #kick(): void {
    if (this.#running || this.#scheduled) return;
    this.#scheduled = true;
    // Start on the next turn of the event loop, so requests made by the same burst of
    // callbacks (one produce request, many partitions) share the first round too.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#round();
    });
  }

  async #round(): Promise<void> {
    if (this.#running || this.#pending.size === 0) return;
    this.#running = true;
    const batch = this.#pending;
    this.#pending = new Map();
    this.#rounds++;
    await Promise.all(
      [...batch].map(async ([handle, w]) => {
        this.#fsyncs++;
        try {
          await this.#fdatasync(handle);
          w.resolve();
        } catch (err) {
          this.#logger.error('fdatasync failed', { fd: handle.fd, error: err as Error });
          w.reject(err as Error);
        }
      }),
    );
    this.#running = false;
    // Requests that arrived during the round have waited already: start at once.
    if (this.#pending.size > 0) void this.#round();
  }
}
