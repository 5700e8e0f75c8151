/**
 * The `__transaction_state` record format of Apache Kafka, written by hand from the schemas in
 * Kafka's transaction-coordinator module (TransactionLogKey.json, TransactionLogValue.json), so
 * tools that read that topic keep working.
 *
 * Key (version 0, not flexible):   int16 version, transactional_id string.
 * Value (version 0; 1 is flexible): int16 version, producer_id int64, producer_epoch int16,
 *   transaction_timeout_ms int32, transaction_status int8, transaction_partitions
 *   [topic string, partition_ids [int32]] (nullable: null for Empty), last_update int64,
 *   start int64; v1 adds tagged fields 0 previous_producer_id int64 (default -1),
 *   1 next_producer_id int64 (default -1), 2 client_transaction_version int16 (default 0).
 * A null value is a tombstone (the transactional id expired).
 *
 * Kafka 4 writes value version 1 once transaction.version >= 1 (TransactionVersion
 * .transactionLogValueVersion), which is the default of new clusters; Tributary writes 1 too.
 */
import { Reader } from '../../protocol/primitives/reader.ts';
import { Writer } from '../../protocol/primitives/writer.ts';
import { ProtocolError } from '../../protocol/primitives/errors.ts';
import { TXN_STATES, type TxnState } from './types.ts';

export const TXN_KEY_VERSION = 0;
export const TXN_VALUE_VERSION = 1;

export interface TxnPartitions {
  topic: string;
  partitionIds: number[];
}

/** TransactionLogValue (Kafka's field names, producer ids as safe integers). */
export interface TxnLogValue {
  producerId: number;
  /** Tagged (v1+), -1 when absent. */
  previousProducerId: number;
  /** Tagged (v1+), -1 when absent. */
  nextProducerId: number;
  producerEpoch: number;
  transactionTimeoutMs: number;
  state: TxnState;
  /** Empty list for Empty (written as null, as Kafka does). */
  partitions: TxnPartitions[];
  lastUpdateTimestampMs: number;
  startTimestampMs: number;
  /** Tagged (v1+), 0 when absent. */
  clientTransactionVersion: number;
}

/** One record of `__transaction_state`: a transactional id's state, or its tombstone (null). */
export interface TxnRecord {
  transactionalId: string;
  value: TxnLogValue | null;
}

export function encodeKey(transactionalId: string): Buffer {
  const w = new Writer(64);
  w.writeInt16(TXN_KEY_VERSION);
  w.writeString(transactionalId);
  return w.toBuffer();
}

/** The transactional id of a key, or null for a key version this format does not know. */
export function decodeKey(key: Buffer): string | null {
  const r = new Reader(key);
  const version = r.readInt16();
  if (version !== TXN_KEY_VERSION) return null;
  return r.readString();
}

export function encodeValue(v: TxnLogValue, version = TXN_VALUE_VERSION): Buffer {
  if (version !== 0 && version !== 1) throw new RangeError(`TransactionLogValue version ${version}`);
  const flexible = version >= 1;
  const w = new Writer(128);
  w.writeInt16(version);
  w.writeInt64(BigInt(v.producerId));
  w.writeInt16(v.producerEpoch);
  w.writeInt32(v.transactionTimeoutMs);
  w.writeInt8(stateId(v.state));
  const parts = v.state === 'Empty' ? null : v.partitions;
  const writePart = (pw: Writer, p: TxnPartitions) => {
    if (flexible) {
      pw.writeCompactString(p.topic);
      pw.writeCompactArray(p.partitionIds, (x, id) => x.writeInt32(id));
      pw.writeEmptyTaggedFields();
    } else {
      pw.writeString(p.topic);
      pw.writeArray(p.partitionIds, (x, id) => x.writeInt32(id));
    }
  };
  if (flexible) w.writeCompactNullableArray(parts, writePart);
  else w.writeNullableArray(parts, writePart);
  w.writeInt64(BigInt(v.lastUpdateTimestampMs));
  w.writeInt64(BigInt(v.startTimestampMs));
  if (flexible) {
    // Tagged fields in ascending tag order, each only when it differs from its default.
    const tagged: [number, Buffer][] = [];
    if (v.previousProducerId !== -1) tagged.push([0, int64Bytes(v.previousProducerId)]);
    if (v.nextProducerId !== -1) tagged.push([1, int64Bytes(v.nextProducerId)]);
    if (v.clientTransactionVersion !== 0) {
      const b = Buffer.alloc(2);
      b.writeInt16BE(v.clientTransactionVersion);
      tagged.push([2, b]);
    }
    w.writeUVarint(tagged.length);
    for (const [tag, bytes] of tagged) {
      w.writeUVarint(tag);
      w.writeUVarint(bytes.length);
      w.writeRawBuffer(bytes);
    }
  }
  return w.toBuffer();
}

export function decodeValue(value: Buffer): TxnLogValue {
  const r = new Reader(value);
  const version = r.readInt16();
  if (version !== 0 && version !== 1) throw new ProtocolError(`unknown TransactionLogValue version ${version}`);
  const flexible = version >= 1;
  const producerId = safe(r.readInt64());
  const producerEpoch = r.readInt16();
  const transactionTimeoutMs = r.readInt32();
  const state = stateOf(r.readInt8());
  const readPart = (pr: Reader): TxnPartitions => {
    if (flexible) {
      const topic = pr.readCompactString();
      const partitionIds = pr.readCompactArray((x) => x.readInt32());
      pr.skipTaggedFields();
      return { topic, partitionIds };
    }
    return { topic: pr.readString(), partitionIds: pr.readArray((x) => x.readInt32()) };
  };
  const parts = flexible ? r.readCompactNullableArray(readPart) : r.readNullableArray(readPart);
  const lastUpdateTimestampMs = safe(r.readInt64());
  const startTimestampMs = safe(r.readInt64());
  let previousProducerId = -1;
  let nextProducerId = -1;
  let clientTransactionVersion = 0;
  if (flexible) {
    r.readTaggedFields((tag, f) => {
      if (tag === 0) previousProducerId = safe(f.readInt64());
      else if (tag === 1) nextProducerId = safe(f.readInt64());
      else if (tag === 2) clientTransactionVersion = f.readInt16();
    });
  }
  return {
    producerId,
    previousProducerId,
    nextProducerId,
    producerEpoch,
    transactionTimeoutMs,
    state,
    // Kafka ignores the partitions of an Empty record.
    partitions: state === 'Empty' ? [] : (parts ?? []),
    lastUpdateTimestampMs,
    startTimestampMs,
    clientTransactionVersion,
  };
}

export function encodeRecord(rec: TxnRecord): { key: Buffer; value: Buffer | null } {
  return { key: encodeKey(rec.transactionalId), value: rec.value ? encodeValue(rec.value) : null };
}

/** Decodes a record of the topic; null for a key of an unknown version (skipped, as Kafka does). */
export function decodeRecord(key: Buffer, value: Buffer | null): TxnRecord | null {
  const transactionalId = decodeKey(key);
  if (transactionalId === null) return null;
  return { transactionalId, value: value ? decodeValue(value) : null };
}

/** Kafka's TransactionState ids (the transaction_status byte). */
export function stateId(s: TxnState): number {
  return TXN_STATES.indexOf(s);
}

function stateOf(id: number): TxnState {
  const s = TXN_STATES[id];
  if (s === undefined) throw new ProtocolError(`unknown transaction state id ${id}`);
  return s;
}

function int64Bytes(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
}

function safe(n: bigint): number {
  const v = Number(n);
  if (!Number.isSafeInteger(v)) throw new ProtocolError(`int64 ${n} is not a safe integer`);
  return v;
}
