/**
 * Producer ids, unique across restarts: handed out from blocks (default 1000 ids) whose end is
 * persisted in `<dataDir>/_meta/producer-ids` (written atomically) *before* any id of the block
 * is used, so a crash at worst skips the rest of a block (as Kafka's ProducerIdManager does with
 * the controller's blocks). Ids are plain safe integers; the handlers convert them to int64.
 *
 * `take()` is synchronous (the coordinator's operations are); `ensure()` resolves once an id is
 * available. The next block is reserved in the background when the current one runs low, so
 * callers rarely wait.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { META_DIR } from '../metadata/topic-store.ts';
import { writeFileAtomic } from '../storage/atomic-file.ts';

export const PRODUCER_IDS_FILE = 'producer-ids';
export const DEFAULT_BLOCK_SIZE = 1000;

interface ProducerIdsFile {
  version: 1;
  /** The first id not yet reserved: every id below it may have been handed out. */
  nextBlockStart: number;
}

export class ProducerIds {
  readonly #file: string;
  readonly #blockSize: number;
  /** The next id to hand out, and the end (exclusive) of the reserved block(s). */
  #next = 0;
  #end = 0;
  /** The persisted reservation end (the file's nextBlockStart). */
  #reservedEnd = 0;
  #reserving: Promise<void> | null = null;

  private constructor(file: string, blockSize: number, persistedEnd: number) {
    this.#file = file;
    this.#blockSize = blockSize;
    this.#next = persistedEnd;
    this.#end = persistedEnd;
    this.#reservedEnd = persistedEnd;
  }

  static async open(dataDir: string, blockSize = DEFAULT_BLOCK_SIZE): Promise<ProducerIds> {
    const dir = path.join(dataDir, META_DIR);
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, PRODUCER_IDS_FILE);
    let start = 0;
    try {
      const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as ProducerIdsFile;
      if (parsed.version !== 1 || !Number.isSafeInteger(parsed.nextBlockStart) || parsed.nextBlockStart < 0) {
        throw new Error(`unsupported ${PRODUCER_IDS_FILE} content`);
      }
      start = parsed.nextBlockStart;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(`cannot read producer ids in ${file}: ${(err as Error).message}`);
      }
    }
    return new ProducerIds(file, blockSize, start);
  }

  /** True when `take()` can hand out an id now. */
  available(): boolean {
    return this.#next < this.#end;
  }

  /** Resolves once an id is available (reserving a block first if needed). */
  async ensure(): Promise<void> {
    while (!this.available()) await this.#reserve();
  }

  /** The next producer id; throws when none is reserved (call `ensure()` first). */
  take(): number {
    if (!this.available()) throw new Error('no producer id reserved');
    const id = this.#next++;
    // Reserve the next block early so later callers do not wait.
    if (this.#end - this.#next < this.#blockSize / 10) void this.#reserve().catch(() => {});
    return id;
  }

  #reserve(): Promise<void> {
    this.#reserving ??= (async () => {
      try {
        const from = this.#reservedEnd;
        const to = from + this.#blockSize;
        const data: ProducerIdsFile = { version: 1, nextBlockStart: to };
        await writeFileAtomic(this.#file, JSON.stringify(data) + '\n');
        this.#reservedEnd = to;
        // Ids below `from` that were never handed out are left behind when the block is used up.
        if (this.#next >= this.#end) {
          this.#next = from;
        }
        this.#end = to;
      } finally {
        this.#reserving = null;
      }
    })();
    return this.#reserving;
  }
}
