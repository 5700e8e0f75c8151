/**
 * The producer state of one partition log as the log uses it: the check before an append
 * (duplicates, Kafka's errors), loading it on open (snapshot plus replay), rebuilding it after a
 * failed write rolled the tail back, and snapshots. The state itself is producer-state.ts;
 * PartitionLog owns one of these and answers its transaction questions through it.
 */
import { ErrorCode, KafkaError } from '../common/errors.ts';
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

export class LogProducers {
  readonly #host: LogProducersHost;
  state: ProducerState;
  /** >0 while the state is rebuilt after a failed write: appends with a producer id are refused (retriably). */
  #stale = 0;

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

  /**
   * The state saw appends that were rolled back: rebuild it from the log. Runs beside the write
   * queue, which goes on (appends without a producer id are not affected).
   */
  rebuild(): void {
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
    const state = snap?.state ?? new ProducerState(h.where);
    const start = h.logStartOffset();
    const batches = await replayProducerBatches(state, Math.max(snap?.offset ?? 0, start), end, h.read);
    state.truncateHead(start);
    // Appends made while this ran have no producer id (those are refused meanwhile).
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

  /** The cleaner removes these ABORT markers: drop their aborted entries, durably, before it does. */
  async forgetAborted(markers: readonly { producerId: number; markerOffset: number }[]): Promise<void> {
    this.state.forgetAborted(markers);
    await writeSnapshot(this.#host.dir, this.#host.nextOffset(), this.state);
  }

  /** The last stable offset given the high watermark. */
  lastStableOffset(highWatermark: number): number {
    const unstable = this.state.firstUnstableOffset(highWatermark);
    return unstable === null ? highWatermark : Math.min(unstable, highWatermark);
  }
}
