/**
 * The serial work queue of one log: writes, rolls and checkpoint writes run one at a time, in
 * the order they were queued (so writes to a file are strictly ordered). Consecutive tasks that
 * `joins` accepts run together as one group (appends to the same segment → one writev).
 * `barrier()` waits for everything queued so far; `drop()` abandons what has not started.
 */
export class TaskQueue<T> {
  readonly #run: (group: T[]) => Promise<void>;
  readonly #joins: (first: T, next: T) => boolean;
  readonly #maxGroup: number;
  #tasks: T[] = [];
  #draining = false;
  #enqueued = 0;
  #completed = 0;
  #barriers: { target: number; resolve: () => void }[] = [];

  /** `run` must not reject: it handles its own failures. */
  constructor(opts: { run: (group: T[]) => Promise<void>; joins: (first: T, next: T) => boolean; maxGroup: number }) {
    this.#run = opts.run;
    this.#joins = opts.joins;
    this.#maxGroup = opts.maxGroup;
  }

  get length(): number {
    return this.#tasks.length;
  }

  some(pred: (task: T) => boolean): boolean {
    return this.#tasks.some(pred);
  }

  push(task: T): void {
    this.#tasks.push(task);
    this.#enqueued++;
    if (!this.#draining) void this.#drain();
  }

  /** Removes and returns every task that has not started (they count as finished). */
  drop(): T[] {
    const dropped = this.#tasks;
    this.#tasks = [];
    this.#done(dropped.length);
    return dropped;
  }

  /** Resolves once every task queued before the call has finished (or was dropped). */
  barrier(): Promise<void> {
    if (this.#completed >= this.#enqueued) return Promise.resolve();
    const target = this.#enqueued;
    return new Promise((resolve) => this.#barriers.push({ target, resolve }));
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#tasks.length > 0) {
        const first = this.#tasks[0]!;
        let n = 1;
        while (n < this.#tasks.length && n < this.#maxGroup && this.#joins(first, this.#tasks[n]!)) n++;
        const group = this.#tasks.splice(0, n);
        await this.#run(group);
        this.#done(group.length);
      }
    } finally {
      this.#draining = false;
    }
  }

  #done(n: number): void {
    this.#completed += n;
    if (this.#barriers.length === 0) return;
    const still: { target: number; resolve: () => void }[] = [];
    for (const b of this.#barriers) {
      if (b.target <= this.#completed) b.resolve();
      else still.push(b);
    }
    this.#barriers = still;
  }
}
