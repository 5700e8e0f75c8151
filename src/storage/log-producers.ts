/**
 * The producer state of one partition log as the log uses it: the check before an append
 * (duplicates, Kafka's errors), loading it on open (snapshot plus replay), rebuilding it after a
 * failed write rolled the tail back, and snapshots. The state itself is producer-state.ts;
 * PartitionLog owns one of these and answers its transaction questions through it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { CleanAborted } from './cleaner.ts';
import type { Logger } from '../common/logger.ts';
import type { ReadResult } from './log-reads.ts';
import { replayProducerBatches } from './producer-batches.ts';
import { deleteSnapshotsAfter, loadLatestSnapshot, pruneSnapshots, writeSnapshot } from './producer-snapshot.ts';
import { ProducerState, type AppendOrigin, type ProducerBatch } from './producer-state.ts';

/** What LogProducers needs of its PartitionLog. */
export interface LogProducersHost {
  readonly dir: string;
  readonly where: string;
  readonly logger: Logger;
  /** The next offset to assign, the end of what is written, the log start. */
  nextOffset(): number;
  writtenOffset(): number;
  logStartOffset(): number;
  read(offset: number, maxBytes: number, opts: { minOneBatch: boolean; maxOffset: number }): Promise<ReadResult>;
  /** Resolves once every write queued so far has run. */
  barrier(): Promise<void>;
  offline(): boolean;
  goOffline(reason: string): void;
}

/** The offsets of a duplicate's original batch (nothing is appended). */
export interface DuplicateAppend {
  baseOffset: number;
  lastOffset: number;
  logAppendTime: number;
  logStartOffset: number;
  duplicate: true;
}

/**
 * `removed-abort-markers`: the ABORT markers the cleaner removed, whose aborted-transaction
 * entries must not come back when the state is rebuilt from an older snapshot and the log
 * (that snapshot still has them, and the log no longer has the markers that would tell).
 */
export const REMOVED_ABORTS_FILE = 'removed-abort-markers';

type RemovedAbort = { producerId: number; markerOffset: number };

export class LogProducers {
  readonly #host: LogProducersHost;
  state: ProducerState;
  /** >0 while the state is rebuilt after a failed write: appends with a producer id are refused (retriably). */
  #stale = 0;
  /** While stale: the last stable offset when the failure happened (it must not move until the state is right again). */
  #frozenLastStable = 0;
  /** Every ABORT marker the cleaner removed (at or above the log start), as in REMOVED_ABORTS_FILE. */
  #removedAborts: RemovedAbort[] = [];
  #removedLoaded = false;

  constructor(host: LogProducersHost) {
    this.#host = host;
    this.state = new ProducerState(host.where);
  }

  /**
   * The verdict on a batch about to be appended at the next offset: null to go on, or the
   * promise the append returns instead (a duplicate's original offsets, or the error).
   */
  check(pb: ProducerBatch, origin: AppendOrigin): Promise<DuplicateAppend> | null {
    const h = this.#host;
    if (this.#stale > 0) {
      return Promise.reject(new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `the producer state of ${h.where} is being rebuilt after a failed write`));
    }
    if (origin === 'client') {
      const dup = this.state.findDuplicate(pb);
      if (dup) {
        // Answer once the original is written, as its own response would be.
        return h.barrier().then(() => {
          if (dup.lastOffset >= h.writtenOffset()) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, 'the original append of this batch failed');
          return { baseOffset: dup.firstOffset, lastOffset: dup.lastOffset, logAppendTime: -1, logStartOffset: h.logStartOffset(), duplicate: true };
        });
      }
    }
    const err = this.state.check(pb, h.nextOffset(), origin);
    return err ? Promise.reject(err) : null;
  }

  /** True while the state is being rebuilt (the cleaner waits; appends with a producer id are refused). */
  get stale(): boolean {
    return this.#stale > 0;
  }

  /**
   * The state saw appends that are being rolled back: rebuild it from the log. Call it
   * synchronously when the failure is seen, before anything else can be appended. Runs beside the
   * write queue, which goes on (appends without a producer id are not affected).
   */
  rebuild(): void {
    if (this.#stale === 0) this.#frozenLastStable = this.lastStableOffset(this.#host.writtenOffset());
    this.#stale++;
    this.load().then(
      () => this.#stale--,
      (err: Error) => this.#host.goOffline(`could not rebuild the producer state: ${err.message}`),
    );
  }

  /**
   * Loads the newest snapshot at or below the written end (dropping newer ones: they describe
   * appends that are not in the log) and replays the batches after it.
   */
  async load(): Promise<void> {
    const h = this.#host;
    const end = h.writtenOffset();
    await deleteSnapshotsAfter(h.dir, end);
    const snap = await loadLatestSnapshot(h.dir, h.where, end, (file, err) =>
      h.logger.warn('unreadable producer-state snapshot; replaying from an older point', { file, error: err }),
    );
    if (!this.#removedLoaded) {
      this.#removedAborts = await readRemovedAborts(h.dir);
      this.#removedLoaded = true;
    }
    const state = snap?.state ?? new ProducerState(h.where);
    // Retention or DeleteRecords may move the log start while this reads: skip what they removed.
    const read: LogProducersHost['read'] = (offset, maxBytes, opts) => h.read(Math.max(offset, h.logStartOffset()), maxBytes, opts);
    let batches = await replayProducerBatches(state, Math.max(snap?.offset ?? 0, h.logStartOffset()), end, read);
    // Catch up with what was written meanwhile (appends with a producer id are refused while
    // stale, but be exact about whatever reached the log).
    for (let done = end; h.writtenOffset() > done; ) {
      const next = h.writtenOffset();
      batches += await replayProducerBatches(state, done, next, read);
      done = next;
    }
    // Synchronously from here: the removals the cleaner made, the log start now, then the swap.
    state.forgetAborted(this.#removedAborts);
    state.truncateHead(h.logStartOffset());
    this.state = state;
    if (batches > 0 || snap) {
      h.logger.debug('loaded producer state', { where: h.where, snapshot: snap?.offset ?? null, replayedBatches: batches, producers: state.producers.size });
    }
  }

  /** Writes a snapshot covering every append assigned so far (failures are logged: an older one still works). */
  async snapshot(): Promise<void> {
    const h = this.#host;
    if (this.#stale > 0 || h.offline()) return;
    try {
      await writeSnapshot(h.dir, h.nextOffset(), this.state);
      // Pruning is not on the append path (a slow unlink must never hold a roll up).
      pruneSnapshots(h.dir).catch((err: Error) => h.logger.warn('could not remove old producer-state snapshots', { dir: h.dir, error: err }));
    } catch (err) {
      h.logger.warn('could not write a producer-state snapshot', { dir: h.dir, error: err as Error });
    }
  }

  /**
   * The cleaner removes these ABORT markers: drop their aborted entries, durably
   * (REMOVED_ABORTS_FILE), before it does. Refused while the state is being rebuilt.
   */
  async forgetAborted(markers: readonly RemovedAbort[], logStartOffset: number): Promise<void> {
    if (this.#stale > 0) throw new CleanAborted('the producer state is being rebuilt');
    this.#removedAborts = [...this.#removedAborts.filter((m) => m.markerOffset >= logStartOffset), ...markers];
    this.state.forgetAborted(markers);
    const lines = this.#removedAborts.map((m) => `${m.producerId} ${m.markerOffset}\n`).join('');
    await writeFileAtomic(path.join(this.#host.dir, REMOVED_ABORTS_FILE), `0\n${this.#removedAborts.length}\n${lines}`);
  }

  /** The last stable offset given the high watermark (held where it was while the state is rebuilt). */
  lastStableOffset(highWatermark: number): number {
    if (this.#stale > 0) return Math.min(this.#frozenLastStable, highWatermark);
    const unstable = this.state.firstUnstableOffset(highWatermark);
    return unstable === null ? highWatermark : Math.min(unstable, highWatermark);
  }
}

async function readRemovedAborts(dir: string): Promise<RemovedAbort[]> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, REMOVED_ABORTS_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const [version, count, ...rows] = text.split('\n');
  if (version !== '0') throw new Error(`${REMOVED_ABORTS_FILE}: unknown version ${version}`);
  const out = rows.filter((r) => r !== '').map((r) => {
    const [producerId, markerOffset] = r.split(' ').map(Number);
    return { producerId: producerId!, markerOffset: markerOffset! };
  });
  if (out.length !== Number(count) || out.some((m) => !Number.isSafeInteger(m.producerId) || !Number.isSafeInteger(m.markerOffset))) {
    throw new Error(`${REMOVED_ABORTS_FILE} is malformed`);
  }
  return out;
}
