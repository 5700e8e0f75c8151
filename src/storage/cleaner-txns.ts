/**
 * What the cleaner needs to know of transactions (Kafka's CleanedTransactionMetadata), per pass:
 *
 * - records of aborted transactions are removed (their batches emptied), records of committed
 *   ones are compacted like any others; the cleaner never passes the last stable offset, so
 *   every transactional batch it sees belongs to a finished transaction;
 * - a marker may go once its transaction has nothing left in the log: a COMMIT when no batch
 *   of its transaction was read in this pass, an ABORT when none was kept. It first gets a
 *   delete horizon (delete.retention.ms, KIP-534, like a tombstone) so consumers that are
 *   reading past it still see it, and is removed by a pass after the horizon;
 * - an emptied batch with a producer id is kept (header only) only while it is its producer's
 *   last batch, so the producer's sequence state survives compaction.
 */
import type { TxnMarker } from '../protocol/control-batch.ts';

/** The partition's producer state, as far as the cleaner asks. */
export interface TxnView {
  /** True if the batch of `producerId` at `offset` belongs to an aborted transaction. */
  isAborted(producerId: number, offset: number): boolean;
  /** True if the batch ending at `lastOffset` is the producer's last data batch (its emptied header is kept). */
  isLastOfProducer(producerId: number, lastOffset: number): boolean;
}

/** No transactions, and every emptied producer batch kept (tests of the record rules alone). */
export const NO_TXNS: TxnView = { isAborted: () => false, isLastOfProducer: () => true };

export class TxnTracker {
  readonly view: TxnView;
  /** Producers with a batch of a committed transaction read since their last marker. */
  readonly #committedSeen = new Set<number>();
  /** Producers with a batch of an aborted transaction kept since their last marker. */
  readonly #abortedKept = new Set<number>();
  /** ABORT markers removed (their aborted-transaction entries must go first; see PartitionLog). */
  removedAborts: { producerId: number; markerOffset: number }[] = [];

  constructor(view: TxnView) {
    this.view = view;
  }

  onTransactionalBatch(producerId: number, aborted: boolean, kept: boolean): void {
    if (!aborted) this.#committedSeen.add(producerId);
    else if (kept) this.#abortedKept.add(producerId);
  }

  /** Whether the marker's transaction has nothing left (so the marker may get a horizon, then go). */
  markerDiscardable(producerId: number, marker: Pick<TxnMarker, 'committed'> | null): boolean {
    if (!marker) return true;
    return marker.committed ? !this.#committedSeen.delete(producerId) : !this.#abortedKept.delete(producerId);
  }
}
