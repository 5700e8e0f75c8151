/**
 * Producer state of one partition (Kafka's ProducerStateManager): per producer id the epoch,
 * the metadata of its last five batches (duplicate detection and sequence checks), its
 * coordinator epoch and the first offset of its open transaction; the open transactions (for
 * the last stable offset) and the aborted ones (for read_committed fetches).
 *
 * Pure and synchronous. PartitionLog checks a batch (`check`) before it assigns offsets and
 * applies it (`apply`) right after, in append order; recovery applies every batch from the
 * last snapshot on (origin 'replay', which is not validated). Snapshots (`serialize`) hold the
 * whole state, aborted transactions included, so a restart reads the log only past the
 * snapshot (producer-snapshot.ts).
 */
import { ErrorCode, KafkaError } from '../common/errors.ts';

export const BATCHES_TO_RETAIN = 5;
const NO_EPOCH = -1;
const INT32_MAX = 0x7fff_ffff;

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  timestamp: number;
}

export interface ProducerEntry {
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  lastTimestamp: number;
  /** First offset of the open transaction, or -1. */
  currentTxnFirstOffset: number;
  /** At most BATCHES_TO_RETAIN, oldest first. */
  batches: BatchMetadata[];
}

/** An aborted transaction: its data lies in [firstOffset, lastOffset], lastOffset is the marker. */
export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
  lastStableOffset: number;
}

/** What the log knows of a batch with a producer id (header fields, and the marker of a control batch). */
export interface ProducerBatch {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  lastSequence: number;
  isTransactional: boolean;
  /** Set for a control batch: the marker it carries, or null for an emptied control batch. */
  marker?: { committed: boolean; coordinatorEpoch: number } | null;
  maxTimestamp: number;
}

/**
 * Who appends: 'client' (Produce: epoch, sequence and transaction checks), 'coordinator'
 * (group and transaction coordinators: epoch checks only, no sequences), 'replay' (recovery: no checks).
 */
export type AppendOrigin = 'client' | 'coordinator' | 'replay';

function emptyEntry(producerId: number): ProducerEntry {
  return { producerId, producerEpoch: NO_EPOCH, coordinatorEpoch: -1, lastTimestamp: -1, currentTxnFirstOffset: -1, batches: [] };
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

export class ProducerState {
  readonly #where: string;
  readonly producers = new Map<number, ProducerEntry>();
  /** The producers with an open transaction (Fetch asks for the LSO often; producers can be many). */
  readonly #open = new Set<ProducerEntry>();
  /** Completed transactions whose marker may not be written yet: they hold the LSO back until it is. */
  #completing: { firstOffset: number; markerOffset: number }[] = [];
  /** Ascending by lastOffset (markers are appended in offset order). */
  aborted: AbortedTxn[] = [];

  constructor(where: string) {
    this.#where = where;
  }

  /** The batch of this producer with the same epoch and sequence range among its last five, if any. */
  findDuplicate(b: ProducerBatch): BatchMetadata | null {
    const e = this.producers.get(b.producerId);
    if (!e || e.producerEpoch !== b.producerEpoch || b.marker !== undefined) return null;
    for (const m of e.batches) if (m.firstSeq === b.baseSequence && m.lastSeq === b.lastSequence) return m;
    return null;
  }

  /** Kafka's checks of a batch about to be appended at `offset`; the error to answer, or null. */
  check(b: ProducerBatch, offset: number, origin: AppendOrigin): KafkaError | null {
    if (origin === 'replay') return null;
    const e = this.producers.get(b.producerId) ?? emptyEntry(b.producerId);
    if (b.producerEpoch < e.producerEpoch) {
      return new KafkaError(
        ErrorCode.INVALID_PRODUCER_EPOCH,
        `Epoch of producer ${b.producerId} at offset ${offset} in ${this.#where} is ${b.producerEpoch}, which is smaller than the last seen epoch ${e.producerEpoch}`,
      );
    }
    if (b.marker !== undefined) {
      if (b.marker && e.coordinatorEpoch > b.marker.coordinatorEpoch) {
        return new KafkaError(
          ErrorCode.TRANSACTION_COORDINATOR_FENCED,
          `Invalid coordinator epoch for producerId ${b.producerId} at offset ${offset} in partition ${this.#where}: ${b.marker.coordinatorEpoch} (zombie), ${e.coordinatorEpoch} (current)`,
        );
      }
      return null;
    }
    if (origin === 'client') {
      if (b.producerEpoch !== e.producerEpoch) {
        if (b.baseSequence !== 0 && e.producerEpoch !== NO_EPOCH) {
          return new KafkaError(
            ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
            `Invalid sequence number for new epoch of producer ${b.producerId} at offset ${offset} in partition ${this.#where}: ${b.producerEpoch} (request epoch), ${b.baseSequence} (seq. number), ${e.producerEpoch} (current producer epoch)`,
          );
        }
      } else {
        const lastSeq = e.batches.length > 0 ? e.batches[e.batches.length - 1]!.lastSeq : -1;
        if (!inSequence(lastSeq, b.baseSequence)) {
          return new KafkaError(
            ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
            `Out of order sequence number for producer ${b.producerId} at offset ${offset} in partition ${this.#where}: ${b.baseSequence} (incoming seq. number), ${lastSeq} (current end sequence number)`,
          );
        }
      }
    }
    if (e.currentTxnFirstOffset >= 0 && !b.isTransactional) {
      return new KafkaError(
        ErrorCode.INVALID_TXN_STATE,
        `Expected transactional write from producer ${b.producerId} at offset ${offset} in partition ${this.#where}`,
      );
    }
    return null;
  }

  /** True if the producer has an open transaction in this partition. */
  hasOngoingTransaction(producerId: number): boolean {
    return (this.producers.get(producerId)?.currentTxnFirstOffset ?? -1) >= 0;
  }

  /** Applies a batch appended at [firstOffset, lastOffset] (after `check` passed, or on replay). */
  apply(b: ProducerBatch, firstOffset: number, lastOffset: number): void {
    let e = this.producers.get(b.producerId);
    if (!e) this.producers.set(b.producerId, (e = emptyEntry(b.producerId)));
    if (b.marker !== undefined) {
      if (b.marker === null) return; // an emptied control batch: its transaction was cleaned away
      if (e.currentTxnFirstOffset >= 0) this.#complete(e, firstOffset, !b.marker.committed);
      if (e.producerEpoch !== b.producerEpoch) {
        e.producerEpoch = b.producerEpoch;
        e.batches = [];
      }
      e.coordinatorEpoch = b.marker.coordinatorEpoch;
      e.currentTxnFirstOffset = -1;
      e.lastTimestamp = b.maxTimestamp;
      return;
    }
    if (e.producerEpoch !== b.producerEpoch) {
      e.producerEpoch = b.producerEpoch;
      e.batches = [];
    }
    // Coordinator batches (sequence -1) are remembered too: the cleaner keeps a producer's last batch.
    if (e.batches.length === BATCHES_TO_RETAIN) e.batches.shift();
    e.batches.push({ firstSeq: b.baseSequence, lastSeq: b.lastSequence, firstOffset, lastOffset, timestamp: b.maxTimestamp });
    e.lastTimestamp = b.maxTimestamp;
    if (b.isTransactional && e.currentTxnFirstOffset < 0) {
      e.currentTxnFirstOffset = firstOffset;
      this.#open.add(e);
    }
  }

  #complete(e: ProducerEntry, markerOffset: number, aborted: boolean): void {
    const firstOffset = e.currentTxnFirstOffset;
    e.currentTxnFirstOffset = -1;
    this.#open.delete(e);
    this.#completing.push({ firstOffset, markerOffset });
    if (aborted) {
      const others = this.#firstOngoingOffset();
      this.aborted.push({
        producerId: e.producerId,
        firstOffset,
        lastOffset: markerOffset,
        lastStableOffset: others === null ? markerOffset + 1 : others,
      });
    }
  }

  #firstOngoingOffset(): number | null {
    let min: number | null = null;
    for (const e of this.#open) {
      if (min === null || e.currentTxnFirstOffset < min) min = e.currentTxnFirstOffset;
    }
    return min;
  }

  /**
   * The first offset the last stable offset may not pass, given what is written (`writtenEnd`):
   * the first offset of an open transaction, or of a completed one whose marker is not written
   * yet; null if none.
   */
  firstUnstableOffset(writtenEnd: number): number | null {
    if (this.#completing.length > 0) this.#completing = this.#completing.filter((c) => c.markerOffset >= writtenEnd);
    let min = this.#firstOngoingOffset();
    for (const c of this.#completing) if (min === null || c.firstOffset < min) min = c.firstOffset;
    return min;
  }

  /** Aborted transactions overlapping [from, to): lastOffset >= from and firstOffset < to (Kafka's collectAbortedTxns). */
  abortedBetween(from: number, to: number): AbortedTxn[] {
    const out: AbortedTxn[] = [];
    const list = this.aborted;
    // Binary search the first entry with lastOffset >= from.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.lastOffset < from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < list.length; i++) if (list[i]!.firstOffset < to) out.push(list[i]!);
    return out;
  }

  /** The cleaner's view: aborted transactions by producer, and each producer's last data batch. */
  cleanerView(): { isAborted(producerId: number, offset: number): boolean; isLastOfProducer(producerId: number, lastOffset: number): boolean } {
    const byProducer = new Map<number, AbortedTxn[]>();
    for (const a of this.aborted) {
      let list = byProducer.get(a.producerId);
      if (!list) byProducer.set(a.producerId, (list = []));
      list.push(a);
    }
    return {
      isAborted: (producerId, offset) => byProducer.get(producerId)?.some((a) => a.firstOffset <= offset && offset < a.lastOffset) ?? false,
      isLastOfProducer: (producerId, lastOffset) => {
        const b = this.producers.get(producerId)?.batches;
        return b !== undefined && b.length > 0 && b[b.length - 1]!.lastOffset === lastOffset;
      },
    };
  }

  /** Drops the aborted-transaction entries whose markers the cleaner removes. */
  forgetAborted(markers: readonly { producerId: number; markerOffset: number }[]): void {
    const gone = new Set(markers.map((m) => `${m.producerId}:${m.markerOffset}`));
    this.aborted = this.aborted.filter((a) => !gone.has(`${a.producerId}:${a.lastOffset}`));
  }

  /** Forgets aborted transactions wholly below the log start offset (their data is gone). */
  truncateHead(logStartOffset: number): void {
    if (this.aborted.length > 0 && this.aborted[0]!.lastOffset < logStartOffset) {
      this.aborted = this.aborted.filter((a) => a.lastOffset >= logStartOffset);
    }
  }

  /** Removes producers idle for `expirationMs` without an open transaction (producer.id.expiration.ms). */
  expire(now: number, expirationMs: number): number {
    let n = 0;
    for (const [id, e] of this.producers) {
      if (e.currentTxnFirstOffset < 0 && now - e.lastTimestamp >= expirationMs) {
        this.producers.delete(id);
        n++;
      }
    }
    return n;
  }

  // ---- snapshots --------------------------------------------------------------------------

  /** The whole state as bytes (see producer-snapshot.ts for the file around it). */
  serialize(): Buffer {
    let size = 8;
    for (const e of this.producers.values()) size += 8 + 2 + 4 + 8 + 8 + 1 + e.batches.length * 32;
    size += this.aborted.length * 32;
    const buf = Buffer.alloc(size);
    let p = 0;
    buf.writeInt32BE(this.producers.size, p);
    p += 4;
    for (const e of this.producers.values()) {
      p = writeLong(buf, p, e.producerId);
      buf.writeInt16BE(e.producerEpoch, p);
      buf.writeInt32BE(e.coordinatorEpoch, p + 2);
      p = writeLong(buf, p + 6, e.lastTimestamp);
      p = writeLong(buf, p, e.currentTxnFirstOffset);
      buf.writeUInt8(e.batches.length, p++);
      for (const m of e.batches) {
        buf.writeInt32BE(m.firstSeq, p);
        buf.writeInt32BE(m.lastSeq, p + 4);
        p = writeLong(buf, p + 8, m.firstOffset);
        p = writeLong(buf, p, m.lastOffset);
        p = writeLong(buf, p, m.timestamp);
      }
    }
    buf.writeInt32BE(this.aborted.length, p);
    p += 4;
    for (const a of this.aborted) {
      p = writeLong(buf, p, a.producerId);
      p = writeLong(buf, p, a.firstOffset);
      p = writeLong(buf, p, a.lastOffset);
      p = writeLong(buf, p, a.lastStableOffset);
    }
    return buf;
  }

  /** Rebuilds a state from `serialize` bytes; throws RangeError on malformed input. */
  static deserialize(where: string, buf: Buffer): ProducerState {
    const s = new ProducerState(where);
    let p = 0;
    const n = buf.readInt32BE(p);
    p += 4;
    for (let i = 0; i < n; i++) {
      const producerId = readLong(buf, p);
      const producerEpoch = buf.readInt16BE(p + 8);
      const coordinatorEpoch = buf.readInt32BE(p + 10);
      const lastTimestamp = readLong(buf, p + 14);
      const currentTxnFirstOffset = readLong(buf, p + 22);
      const count = buf.readUInt8(p + 30);
      p += 31;
      const batches: BatchMetadata[] = [];
      for (let j = 0; j < count; j++) {
        batches.push({
          firstSeq: buf.readInt32BE(p),
          lastSeq: buf.readInt32BE(p + 4),
          firstOffset: readLong(buf, p + 8),
          lastOffset: readLong(buf, p + 16),
          timestamp: readLong(buf, p + 24),
        });
        p += 32;
      }
      const e: ProducerEntry = { producerId, producerEpoch, coordinatorEpoch, lastTimestamp, currentTxnFirstOffset, batches };
      s.producers.set(producerId, e);
      if (currentTxnFirstOffset >= 0) s.#open.add(e);
    }
    const m = buf.readInt32BE(p);
    p += 4;
    for (let i = 0; i < m; i++) {
      s.aborted.push({
        producerId: readLong(buf, p),
        firstOffset: readLong(buf, p + 8),
        lastOffset: readLong(buf, p + 16),
        lastStableOffset: readLong(buf, p + 24),
      });
      p += 32;
    }
    if (p !== buf.length) throw new RangeError(`producer state has ${buf.length - p} trailing bytes`);
    return s;
  }
}

function writeLong(buf: Buffer, p: number, v: number): number {
  buf.writeBigInt64BE(BigInt(v), p);
  return p + 8;
}

function readLong(buf: Buffer, p: number): number {
  return Number(buf.readBigInt64BE(p));
}
