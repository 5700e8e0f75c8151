/**
 * The fdatasyncs of one partition log: which segments have writes not yet covered by a
 * completed fdatasync, syncing one or all of them through the shared SyncScheduler, and the
 * background writeback. A failed fdatasync takes the log offline (README.md, failure rules).
 * PartitionLog owns one of these.
 */
import type { KafkaError } from '../common/errors.ts';
import type { Segment } from './segment.ts';
import type { SyncScheduler } from './sync-scheduler.ts';

/** Bytes written to a segment after which a background fdatasync starts (see backgroundWriteback). */
const WRITEBACK_BYTES = 4 * 1024 * 1024;

/** What SegmentSyncs needs of its PartitionLog. */
export interface SegmentSyncsHost {
  readonly syncer: SyncScheduler;
  offline(): boolean;
  storageError(): KafkaError;
  goOffline(reason: string): void;
}

export class SegmentSyncs {
  readonly #host: SegmentSyncsHost;
  /** Segments with writes not yet covered by a completed fdatasync. */
  readonly #unsynced = new Set<Segment>();

  constructor(host: SegmentSyncsHost) {
    this.#host = host;
  }

  /** `seg` has writes that no completed fdatasync covers yet. */
  add(seg: Segment): void {
    this.#unsynced.add(seg);
  }

  /** `seg` no longer needs an fdatasync (it was deleted). */
  delete(seg: Segment): void {
    this.#unsynced.delete(seg);
  }

  /** Syncs every segment with unsynced writes. */
  syncAll(): Promise<void[]> {
    return Promise.all([...this.#unsynced].map((s) => this.sync(s)));
  }

  /** Resolves once `seg`'s writes so far are covered by an fdatasync (one started after them). */
  sync(seg: Segment): Promise<void> {
    const h = this.#host;
    if (h.offline()) return Promise.reject(h.storageError());
    if (seg.writeSeq <= seg.syncedSeq || !seg.handle) return Promise.resolve();
    if (seg.syncing && seg.syncing.seq >= seg.writeSeq) return seg.syncing.promise;
    const seq = seg.writeSeq;
    const promise: Promise<void> = h.syncer.request(seg.handle).then(
      () => {
        if (seq > seg.syncedSeq) seg.syncedSeq = seq;
        if (seg.syncedSeq >= seg.writeSeq) this.#unsynced.delete(seg);
        if (seg.syncing?.promise === promise) seg.syncing = null;
      },
      (err: Error) => {
        h.goOffline(`fdatasync of ${seg.logPath} failed: ${err.message}`);
        throw h.storageError();
      },
    );
    seg.syncing = { seq, promise };
    return promise;
  }

  /**
   * Starts an fdatasync nobody waits for once WRITEBACK_BYTES have been written to a segment
   * without one (acks=1, or page-cache durability, never ask for it). Otherwise the dirty
   * pages pile up until the kernel writes a gigabyte back in one burst, and appends to the
   * file stall behind it for hundreds of milliseconds: at 220 MB/s, open-loop end-to-end p99
   * went from ~100 ms to ~1 s. Kafka leaves this to the kernel too; this only makes the
   * writeback steady. A failure takes the log offline, as any failed fsync does.
   */
  backgroundWriteback(seg: Segment, bytes: number): void {
    seg.bytesSinceWriteback += bytes;
    if (seg.bytesSinceWriteback < WRITEBACK_BYTES || seg.syncing) return;
    seg.bytesSinceWriteback = 0;
    this.sync(seg).catch(() => {}); // sync already took the log offline
  }
}
