/**
 * Kafka's rule for admin requests that name the same resource twice (CreateTopics,
 * CreatePartitions, DeleteTopics): the resource gets a single INVALID_REQUEST result and is
 * left untouched; the rest of the request proceeds.
 */
export class RepeatedNames {
  #repeated = new Set<string>();
  #answered = new Set<string>();

  constructor(names: Iterable<string>) {
    const seen = new Set<string>();
    for (const n of names) (seen.has(n) ? this.#repeated : seen).add(n);
  }

  /** Whether `name` appears more than once in the request. */
  isRepeated(name: string): boolean {
    return this.#repeated.has(name);
  }

  /** True the first time a repeated name is met (answer it), false afterwards (skip it). */
  firstTime(name: string): boolean {
    if (this.#answered.has(name)) return false;
    this.#answered.add(name);
    return true;
  }
}
