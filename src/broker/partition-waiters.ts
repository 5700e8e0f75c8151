/**
 * Parks Fetch requests that asked for more bytes (min_bytes) than are available, until data
 * arrives on one of their partitions, their max_wait passes, or the broker shuts down.
 * Appends call `notify(topic, partition)` once their bytes are readable.
 */
import type { Clock } from '../common/clock.ts';

interface Waiter {
  keys: string[];
  wake: () => void;
}

/** A map key for a topic-partition (topic names cannot contain NUL). */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class PartitionWaiters {
  #clock: Clock;
  #byKey = new Map<string, Set<Waiter>>();
  #all = new Set<Waiter>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Resolves true when one of `keys` got data, false on timeout or shutdown. */
  wait(keys: string[], timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let cancelTimer = () => {};
      const finish = (woken: boolean) => {
        cancelTimer();
        this.#all.delete(waiter);
        for (const k of keys) {
          const set = this.#byKey.get(k);
          set?.delete(waiter);
          if (set?.size === 0) this.#byKey.delete(k);
        }
        resolve(woken);
      };
      const waiter: Waiter = { keys, wake: () => finish(true) };
      this.#all.add(waiter);
      for (const k of keys) {
        let set = this.#byKey.get(k);
        if (!set) this.#byKey.set(k, (set = new Set()));
        set.add(waiter);
      }
      cancelTimer = this.#clock.setTimeout(() => finish(false), timeoutMs);
    });
  }

  notify(topic: string, partition: number): void {
    const set = this.#byKey.get(partitionKey(topic, partition));
    if (!set) return;
    for (const w of [...set]) w.wake();
  }

  /** Wakes every parked request (shutdown): they answer with what they have. */
  wakeAll(): void {
    for (const w of [...this.#all]) w.wake();
  }
}
