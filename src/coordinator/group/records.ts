/**
 * The `__consumer_offsets` record format of Apache Kafka, written by hand from the schemas in
 * Kafka's group-coordinator module (OffsetCommitKey/Value, GroupMetadataKey/Value), so tools
 * that read that topic keep working.
 *
 * A record's key starts with an int16 version that names the record type:
 *   0, 1 → OffsetCommitKey  { group: string, topic: string, partition: int32 }
 *   2    → GroupMetadataKey { group: string }
 *   3+   → KIP-848 consumer-group records (not handled yet: decoded as `other`).
 * The value starts with its own int16 version; a null value is a tombstone.
 *
 * OffsetCommitValue v0-4: offset int64, leaderEpoch int32 (v3+), metadata string,
 *   commitTimestamp int64, expireTimestamp int64 (v1 only); v4 is flexible.
 * GroupMetadataValue v0-4: protocolType string, generation int32, protocol string?, leader
 *   string?, currentStateTimestamp int64 (v2+), members [memberId, groupInstanceId? (v3+),
 *   clientId, clientHost, rebalanceTimeout int32 (v1+), sessionTimeout int32, subscription
 *   bytes, assignment bytes]; v4 is flexible.
 *
 * Kafka 4 writes OffsetCommitKey v1, OffsetCommitValue v3 (v1 when an explicit retention from
 * OffsetCommit v2-4 gives an expire timestamp), GroupMetadataKey v2 and GroupMetadataValue v3
 * (MetadataVersion.groupMetadataValueVersion: "the highest supported non-flexible version").
 */
import { Reader } from '../../protocol/primitives/reader.ts';
import { Writer } from '../../protocol/primitives/writer.ts';
import { ProtocolError } from '../../protocol/primitives/errors.ts';

export interface OffsetCommitValue {
  offset: bigint;
  /** -1 when unknown (and for versions before 3). */
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** -1 unless an explicit retention was requested (value version 1). */
  expireTimestamp: number;
}

export interface GroupMetadataMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** -1 in version 0 records (Kafka then uses the session timeout). */
  rebalanceTimeout: number;
  sessionTimeout: number;
  subscription: Buffer;
  assignment: Buffer;
}

export interface GroupMetadataValue {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  /** -1 when unknown (versions 0-1). */
  currentStateTimestamp: number;
  members: GroupMetadataMember[];
}

export type GroupRecord =
  | { type: 'offset'; groupId: string; topic: string; partition: number; value: OffsetCommitValue | null }
  | { type: 'group'; groupId: string; value: GroupMetadataValue | null };

/** A decoded record of a type this coordinator does not handle yet (KIP-848, share groups). */
export interface OtherRecord {
  type: 'other';
  keyVersion: number;
}

export const OFFSET_COMMIT_KEY_VERSION = 1;
export const GROUP_METADATA_KEY_VERSION = 2;
export const OFFSET_COMMIT_VALUE_VERSION = 3;
export const GROUP_METADATA_VALUE_VERSION = 3;

/** The group a record belongs to: the service appends it to partitionFor(groupId). */
export function recordGroupId(r: GroupRecord): string {
  return r.groupId;
}

export function offsetCommitValueVersion(v: OffsetCommitValue): number {
  return v.expireTimestamp !== -1 ? 1 : OFFSET_COMMIT_VALUE_VERSION;
}

// ---------------------------------------------------------------- keys

export function encodeKey(r: GroupRecord): Buffer {
  const w = new Writer(64);
  if (r.type === 'offset') {
    w.writeInt16(OFFSET_COMMIT_KEY_VERSION);
    w.writeString(r.groupId);
    w.writeString(r.topic);
    w.writeInt32(r.partition);
  } else {
    w.writeInt16(GROUP_METADATA_KEY_VERSION);
    w.writeString(r.groupId);
  }
  return w.toBuffer();
}

// ---------------------------------------------------------------- OffsetCommitValue

export function encodeOffsetCommitValue(v: OffsetCommitValue, version = offsetCommitValueVersion(v)): Buffer {
  if (version < 0 || version > 4) throw new RangeError(`OffsetCommitValue version ${version}`);
  const w = new Writer(64);
  const flexible = version >= 4;
  w.writeInt16(version);
  w.writeInt64(v.offset);
  if (version >= 3) w.writeInt32(v.leaderEpoch);
  if (flexible) w.writeCompactString(v.metadata);
  else w.writeString(v.metadata);
  w.writeInt64(BigInt(v.commitTimestamp));
  if (version === 1) w.writeInt64(BigInt(v.expireTimestamp));
  if (flexible) w.writeEmptyTaggedFields();
  return w.toBuffer();
}

export function decodeOffsetCommitValue(buf: Buffer): OffsetCommitValue {
  const r = new Reader(buf);
  const version = r.readInt16();
  if (version < 0) throw new ProtocolError(`OffsetCommitValue: negative version ${version}`);
  // Versions above 4 are read as 4 (Kafka readers do the same for forward compatibility).
  const flexible = version >= 4;
  const offset = r.readInt64();
  const leaderEpoch = version >= 3 ? r.readInt32() : -1;
  const metadata = flexible ? r.readCompactString() : r.readString();
  const commitTimestamp = Number(r.readInt64());
  const expireTimestamp = version === 1 ? Number(r.readInt64()) : -1;
  if (flexible) r.skipTaggedFields();
  return { offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp };
}

// ---------------------------------------------------------------- GroupMetadataValue

export function encodeGroupMetadataValue(v: GroupMetadataValue, version = GROUP_METADATA_VALUE_VERSION): Buffer {
  if (version < 0 || version > 4) throw new RangeError(`GroupMetadataValue version ${version}`);
  const w = new Writer(256);
  const flexible = version >= 4;
  const str = (s: string) => (flexible ? w.writeCompactString(s) : w.writeString(s));
  const nstr = (s: string | null) => (flexible ? w.writeCompactNullableString(s) : w.writeNullableString(s));
  const bytes = (b: Buffer) => (flexible ? w.writeCompactBytes(b) : w.writeBytes(b));
  w.writeInt16(version);
  str(v.protocolType);
  w.writeInt32(v.generation);
  nstr(v.protocol);
  nstr(v.leader);
  if (version >= 2) w.writeInt64(BigInt(v.currentStateTimestamp));
  if (flexible) w.writeCompactArrayLength(v.members.length);
  else w.writeArrayLength(v.members.length);
  for (const m of v.members) {
    str(m.memberId);
    if (version >= 3) nstr(m.groupInstanceId);
    str(m.clientId);
    str(m.clientHost);
    if (version >= 1) w.writeInt32(m.rebalanceTimeout);
    w.writeInt32(m.sessionTimeout);
    bytes(m.subscription);
    bytes(m.assignment);
    if (flexible) w.writeEmptyTaggedFields();
  }
  if (flexible) w.writeEmptyTaggedFields();
  return w.toBuffer();
}

export function decodeGroupMetadataValue(buf: Buffer): GroupMetadataValue {
  const r = new Reader(buf);
  const version = r.readInt16();
  if (version < 0) throw new ProtocolError(`GroupMetadataValue: negative version ${version}`);
  const flexible = version >= 4;
  const str = () => (flexible ? r.readCompactString() : r.readString());
  const nstr = () => (flexible ? r.readCompactNullableString() : r.readNullableString());
  const bytes = () => Buffer.from(flexible ? r.readCompactBytes() : r.readBytes());
  const protocolType = str();
  const generation = r.readInt32();
  const protocol = nstr();
  const leader = nstr();
  const currentStateTimestamp = version >= 2 ? Number(r.readInt64()) : -1;
  const n = flexible ? r.readCompactArrayLength() : r.readArrayLength();
  const members: GroupMetadataMember[] = [];
  for (let i = 0; i < n; i++) {
    const memberId = str();
    const groupInstanceId = version >= 3 ? nstr() : null;
    const clientId = str();
    const clientHost = str();
    const rebalanceTimeout = version >= 1 ? r.readInt32() : -1;
    const sessionTimeout = r.readInt32();
    const subscription = bytes();
    const assignment = bytes();
    if (flexible) r.skipTaggedFields();
    members.push({ memberId, groupInstanceId, clientId, clientHost, rebalanceTimeout, sessionTimeout, subscription, assignment });
  }
  if (flexible) r.skipTaggedFields();
  return { protocolType, generation, protocol, leader, currentStateTimestamp, members };
}

// ---------------------------------------------------------------- whole records

export interface EncodedRecord {
  key: Buffer;
  /** null for a tombstone. */
  value: Buffer | null;
}

export function encodeRecord(r: GroupRecord): EncodedRecord {
  const key = encodeKey(r);
  if (r.value === null) return { key, value: null };
  return {
    key,
    value: r.type === 'offset' ? encodeOffsetCommitValue(r.value) : encodeGroupMetadataValue(r.value),
  };
}

/** Decodes a `__consumer_offsets` record; throws ProtocolError on malformed bytes. */
export function decodeRecord(key: Buffer, value: Buffer | null): GroupRecord | OtherRecord {
  const r = new Reader(key);
  const keyVersion = r.readInt16();
  if (keyVersion === 0 || keyVersion === 1) {
    const groupId = r.readString();
    const topic = r.readString();
    const partition = r.readInt32();
    return { type: 'offset', groupId, topic, partition, value: value === null ? null : decodeOffsetCommitValue(value) };
  }
  if (keyVersion === 2) {
    const groupId = r.readString();
    return { type: 'group', groupId, value: value === null ? null : decodeGroupMetadataValue(value) };
  }
  return { type: 'other', keyVersion };
}
