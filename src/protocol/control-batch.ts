/**
 * Producer fields of a batch header, and transaction markers (control batches).
 *
 * A transaction marker is a batch with the transactional and control attributes set, the
 * producer id and epoch of the transaction, and one record: key = int16 version (0) + int16
 * type (0 = ABORT, 1 = COMMIT), value = int16 version (0) + int32 coordinator epoch — as Kafka's
 * EndTransactionMarker. Only the transaction coordinator writes them; produce requests carrying
 * control batches are refused (record-batch.ts).
 */
import {
  ATTR_CONTROL,
  ATTR_TRANSACTIONAL,
  BATCH_HEADER_SIZE,
  OFFSET_ATTRIBUTES,
  OFFSET_BASE_SEQUENCE,
  OFFSET_PRODUCER_EPOCH,
  OFFSET_PRODUCER_ID,
  OFFSET_RECORD_COUNT,
  readInt53,
} from './record-batch.ts';
import { buildRecordBatch, decodeRecords } from './records.ts';

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;

export const ControlType = { ABORT: 0, COMMIT: 1 } as const;

export function batchProducerId(buf: Buffer, pos = 0): number {
  return readInt53(buf, pos + OFFSET_PRODUCER_ID);
}

export function batchProducerEpoch(buf: Buffer, pos = 0): number {
  return buf.readInt16BE(pos + OFFSET_PRODUCER_EPOCH);
}

export function batchBaseSequence(buf: Buffer, pos = 0): number {
  return buf.readInt32BE(pos + OFFSET_BASE_SEQUENCE);
}

export function batchRecordCount(buf: Buffer, pos = 0): number {
  return buf.readInt32BE(pos + OFFSET_RECORD_COUNT);
}

export function batchIsTransactional(buf: Buffer, pos = 0): boolean {
  return (buf.readInt16BE(pos + OFFSET_ATTRIBUTES) & ATTR_TRANSACTIONAL) !== 0;
}

export function batchIsControl(buf: Buffer, pos = 0): boolean {
  return (buf.readInt16BE(pos + OFFSET_ATTRIBUTES) & ATTR_CONTROL) !== 0;
}

/** The last sequence of a batch: base + count - 1, wrapping past Int32.MAX to 0 (Kafka's rule). */
export function lastSequenceOf(baseSequence: number, recordCount: number): number {
  if (baseSequence < 0) return NO_SEQUENCE;
  const last = baseSequence + recordCount - 1;
  return last > 0x7fff_ffff ? last - 0x8000_0000 : last;
}

export interface TxnMarker {
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  committed: boolean;
  timestamp: number;
}

/** Encodes a COMMIT or ABORT marker batch (base offset 0; the log assigns it). */
export function buildTxnMarkerBatch(m: TxnMarker): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(m.committed ? ControlType.COMMIT : ControlType.ABORT, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(m.coordinatorEpoch, 2);
  return buildRecordBatch({
    attributes: ATTR_TRANSACTIONAL | ATTR_CONTROL,
    baseTimestamp: m.timestamp,
    producerId: m.producerId,
    producerEpoch: m.producerEpoch,
    baseSequence: NO_SEQUENCE,
    records: [{ key, value }],
  });
}

/**
 * The marker a control batch carries (`batch` holds exactly that batch from `pos`), or null for
 * a control batch without records (the cleaner may empty one) or of an unknown control type.
 */
export function readTxnMarker(buf: Buffer, pos = 0, size?: number): { committed: boolean; coordinatorEpoch: number } | null {
  const end = size === undefined ? buf.length : pos + size;
  if (end - pos <= BATCH_HEADER_SIZE) return null;
  const [record] = decodeRecords(buf.subarray(pos, end));
  if (!record?.key || record.key.length < 4) return null;
  const type = record.key.readInt16BE(2);
  if (type !== ControlType.ABORT && type !== ControlType.COMMIT) return null;
  const coordinatorEpoch = record.value && record.value.length >= 6 ? record.value.readInt32BE(2) : 0;
  return { committed: type === ControlType.COMMIT, coordinatorEpoch };
}
