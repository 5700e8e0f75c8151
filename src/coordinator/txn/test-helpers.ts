/**
 * The harness the transaction coordinator tests share (not a test): a coordinator on a
 * ManualClock, a durable log of its records (through the byte format), the marker requests it
 * made and the results its timers produced.
 */
import { ManualClock } from '../../common/clock.ts';
import type { ErrorCode } from '../../common/errors.ts';
import { TransactionCoordinator } from './coordinator.ts';
import { decodeRecord, encodeRecord, type TxnRecord } from './records.ts';
import type { MarkerWork, Result, TxnCoordinatorConfig } from './types.ts';

export class Harness {
  readonly clock: ManualClock;
  readonly c: TransactionCoordinator;
  /** Records that were appended successfully, in order (encoded and decoded again). */
  readonly log: TxnRecord[] = [];
  readonly markers: MarkerWork[] = [];
  readonly timerResults: Result<unknown>[] = [];
  nextPid: number;

  constructor(opts: { config?: Partial<TxnCoordinatorConfig>; firstPid?: number; clock?: ManualClock } = {}) {
    this.clock = opts.clock ?? new ManualClock(1_000_000);
    this.nextPid = opts.firstPid ?? 1000;
    this.c = new TransactionCoordinator({
      clock: this.clock,
      config: opts.config,
      offsetsTopicPartitions: 50,
      newProducerId: () => this.nextPid++,
      onTimerResult: (r) => this.timerResults.push(r),
      onMarkers: (w) => this.markers.push(w),
    });
  }

  /** Appends the records (through the byte format) and completes the result successfully. */
  ok<R>(r: Result<R>): R {
    for (const rec of r.records) {
      const { key, value } = encodeRecord(rec);
      this.log.push(decodeRecord(key, value)!);
    }
    return r.complete(null);
  }

  /** Completes the result as if its append had failed with `code`. */
  fail<R>(r: Result<R>, code: ErrorCode): R {
    return r.complete(code);
  }

  /** Completes every pending timer result successfully. */
  flushTimers(): void {
    while (this.timerResults.length > 0) this.ok(this.timerResults.shift()!);
  }

  /** Marker writes succeeded for every requested transaction: append their Complete records. */
  completeMarkers(): boolean[] {
    const done = this.markers.splice(0).map((w) => this.ok(this.c.completeTransaction(w.transactionalId, w.producerId, w.producerEpoch)));
    return done;
  }

  /** init + first epoch for `id` (a new transactional id). */
  init(id: string, timeoutMs = 60_000): { producerId: number; producerEpoch: number } {
    const r = this.ok(this.c.initProducerId(id, timeoutMs));
    if (r.errorCode !== 0) throw new Error(`init ${id}: error ${r.errorCode}`);
    return { producerId: r.producerId, producerEpoch: r.producerEpoch };
  }

  /** A fresh coordinator that replays this harness's log. */
  replayed(): Harness {
    const h = new Harness({ clock: this.clock, firstPid: this.nextPid });
    for (const rec of this.log) h.c.replay(rec);
    return h;
  }
}
