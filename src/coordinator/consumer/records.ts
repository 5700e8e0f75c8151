/**
 * The KIP-848 consumer-group records of `__consumer_offsets`, written by hand from the schemas
 * in Kafka's group-coordinator module (src/main/resources/common/message/ConsumerGroup*.json).
 * Keys are non-flexible, start with an int16 version that names the record type; values start
 * with an int16 version (0 for all of these) and are flexible (compact strings/arrays, tagged
 * fields). A null value is a tombstone.
 *
 *   key 3 ConsumerGroupMetadataKey { group }                → value { epoch int32 }
 *   key 4 ConsumerGroupPartitionMetadataKey { group }       → value { topics [topicId uuid,
 *         topicName string, numPartitions int32, partitionMetadata [partition int32, racks [string]]] }
 *   key 5 ConsumerGroupMemberMetadataKey { group, member }  → value { instanceId string?, rackId
 *         string?, clientId, clientHost, subscribedTopicNames [string], subscribedTopicRegex
 *         string?, rebalanceTimeoutMs int32, serverAssignor string?, tag 0: classicMemberMetadata }
 *   key 6 ConsumerGroupTargetAssignmentMetadataKey { group } → value { assignmentEpoch int32 }
 *   key 7 ConsumerGroupTargetAssignmentMemberKey { group, member } → value { topicPartitions
 *         [topicId uuid, partitions [int32]] }
 *   key 8 ConsumerGroupCurrentMemberAssignmentKey { group, member } → value { memberEpoch int32,
 *         previousMemberEpoch int32, state int8, assignedPartitions [topicId, partitions],
 *         partitionsPendingRevocation [topicId, partitions] }
 *
 * Tagged fields of values (ClassicMemberMetadata, the metadata hash of Kafka 4.1+) are skipped
 * on decode and not written: this coordinator has no classic members in consumer groups.
 */
import { Reader } from '../../protocol/primitives/reader.ts';
import { Writer } from '../../protocol/primitives/writer.ts';
import { ProtocolError } from '../../protocol/primitives/errors.ts';
import { fromTopicPartitions, toTopicPartitions, type Assignment } from './assignment.ts';

export const CONSUMER_GROUP_METADATA_KEY_VERSION = 3;
export const CONSUMER_GROUP_PARTITION_METADATA_KEY_VERSION = 4;
export const CONSUMER_GROUP_MEMBER_METADATA_KEY_VERSION = 5;
export const CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA_KEY_VERSION = 6;
export const CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER_KEY_VERSION = 7;
export const CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT_KEY_VERSION = 8;

/** MemberState of Kafka's modern groups (the int8 of the current-assignment record). */
export const MemberState = { STABLE: 0, UNREVOKED_PARTITIONS: 1, UNRELEASED_PARTITIONS: 2, UNKNOWN: 127 } as const;
export type MemberStateValue = number;

export interface TopicMetadata {
  topicId: string;
  topicName: string;
  numPartitions: number;
}

export interface MemberMetadataValue {
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  rebalanceTimeoutMs: number;
  serverAssignor: string | null;
}

export interface CurrentAssignmentValue {
  memberEpoch: number;
  previousMemberEpoch: number;
  state: MemberStateValue;
  assigned: Assignment;
  pendingRevocation: Assignment;
}

export type ConsumerGroupRecord =
  | { type: 'cg-metadata'; groupId: string; value: { epoch: number } | null }
  | { type: 'cg-partition-metadata'; groupId: string; value: { topics: TopicMetadata[] } | null }
  | { type: 'cg-member'; groupId: string; memberId: string; value: MemberMetadataValue | null }
  | { type: 'cg-target-metadata'; groupId: string; value: { assignmentEpoch: number } | null }
  | { type: 'cg-target-member'; groupId: string; memberId: string; value: { assignment: Assignment } | null }
  | { type: 'cg-current-assignment'; groupId: string; memberId: string; value: CurrentAssignmentValue | null };

export interface EncodedRecord {
  key: Buffer;
  value: Buffer | null;
}

const KEY_VERSION: Record<ConsumerGroupRecord['type'], number> = {
  'cg-metadata': CONSUMER_GROUP_METADATA_KEY_VERSION,
  'cg-partition-metadata': CONSUMER_GROUP_PARTITION_METADATA_KEY_VERSION,
  'cg-member': CONSUMER_GROUP_MEMBER_METADATA_KEY_VERSION,
  'cg-target-metadata': CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA_KEY_VERSION,
  'cg-target-member': CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER_KEY_VERSION,
  'cg-current-assignment': CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT_KEY_VERSION,
};

/** True for key versions this module decodes (3..8). */
export function isConsumerGroupKeyVersion(v: number): boolean {
  return v >= 3 && v <= 8;
}

export function encodeKey(r: ConsumerGroupRecord): Buffer {
  const w = new Writer(64);
  w.writeInt16(KEY_VERSION[r.type]);
  w.writeString(r.groupId);
  if (r.type === 'cg-member' || r.type === 'cg-target-member' || r.type === 'cg-current-assignment') w.writeString(r.memberId);
  return w.toBuffer();
}

function writeTopicPartitions(w: Writer, a: Assignment): void {
  const list = toTopicPartitions(a);
  w.writeCompactArrayLength(list.length);
  for (const tp of list) {
    w.writeUuid(tp.topicId);
    w.writeCompactArrayLength(tp.partitions.length);
    for (const p of tp.partitions) w.writeInt32(p);
    w.writeEmptyTaggedFields();
  }
}

function readTopicPartitions(r: Reader): Assignment {
  const n = r.readCompactArrayLength();
  const list: { topicId: string; partitions: number[] }[] = [];
  for (let i = 0; i < n; i++) {
    const topicId = r.readUuid();
    const k = r.readCompactArrayLength();
    const partitions: number[] = [];
    for (let j = 0; j < k; j++) partitions.push(r.readInt32());
    r.skipTaggedFields();
    list.push({ topicId, partitions });
  }
  return fromTopicPartitions(list);
}

function writeStringArray(w: Writer, xs: readonly string[]): void {
  w.writeCompactArrayLength(xs.length);
  for (const x of xs) w.writeCompactString(x);
}

function readStringArray(r: Reader): string[] {
  const n = r.readCompactArrayLength();
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.readCompactString());
  return out;
}

export function encodeValue(r: ConsumerGroupRecord): Buffer | null {
  if (r.value === null) return null;
  const w = new Writer(128);
  w.writeInt16(0);
  switch (r.type) {
    case 'cg-metadata':
      w.writeInt32(r.value.epoch);
      break;
    case 'cg-partition-metadata':
      w.writeCompactArrayLength(r.value.topics.length);
      for (const t of r.value.topics) {
        w.writeUuid(t.topicId);
        w.writeCompactString(t.topicName);
        w.writeInt32(t.numPartitions);
        w.writeCompactArrayLength(0); // partitionMetadata (racks): not tracked
        w.writeEmptyTaggedFields();
      }
      break;
    case 'cg-member': {
      const v = r.value;
      w.writeCompactNullableString(v.instanceId);
      w.writeCompactNullableString(v.rackId);
      w.writeCompactString(v.clientId);
      w.writeCompactString(v.clientHost);
      writeStringArray(w, v.subscribedTopicNames);
      w.writeCompactNullableString(v.subscribedTopicRegex);
      w.writeInt32(v.rebalanceTimeoutMs);
      w.writeCompactNullableString(v.serverAssignor);
      break;
    }
    case 'cg-target-metadata':
      w.writeInt32(r.value.assignmentEpoch);
      break;
    case 'cg-target-member':
      writeTopicPartitions(w, r.value.assignment);
      break;
    case 'cg-current-assignment':
      w.writeInt32(r.value.memberEpoch);
      w.writeInt32(r.value.previousMemberEpoch);
      w.writeInt8(r.value.state);
      writeTopicPartitions(w, r.value.assigned);
      writeTopicPartitions(w, r.value.pendingRevocation);
      break;
  }
  w.writeEmptyTaggedFields();
  return w.toBuffer();
}

export function encodeRecord(r: ConsumerGroupRecord): EncodedRecord {
  return { key: encodeKey(r), value: encodeValue(r) };
}

function valueReader(buf: Buffer, what: string): Reader {
  const r = new Reader(buf);
  const version = r.readInt16();
  if (version !== 0) throw new ProtocolError(`unsupported ${what} value version ${version}`);
  return r;
}

/**
 * Decodes a consumer-group record (key versions 3..8); returns null for other key versions
 * (the classic coordinator's records). Throws ProtocolError on malformed bytes.
 */
export function decodeRecord(key: Buffer, value: Buffer | null): ConsumerGroupRecord | null {
  const k = new Reader(key);
  const keyVersion = k.readInt16();
  if (!isConsumerGroupKeyVersion(keyVersion)) return null;
  const groupId = k.readString();
  switch (keyVersion) {
    case CONSUMER_GROUP_METADATA_KEY_VERSION: {
      if (value === null) return { type: 'cg-metadata', groupId, value: null };
      const r = valueReader(value, 'ConsumerGroupMetadata');
      const epoch = r.readInt32();
      r.skipTaggedFields();
      return { type: 'cg-metadata', groupId, value: { epoch } };
    }
    case CONSUMER_GROUP_PARTITION_METADATA_KEY_VERSION: {
      if (value === null) return { type: 'cg-partition-metadata', groupId, value: null };
      const r = valueReader(value, 'ConsumerGroupPartitionMetadata');
      const n = r.readCompactArrayLength();
      const topics: TopicMetadata[] = [];
      for (let i = 0; i < n; i++) {
        const topicId = r.readUuid();
        const topicName = r.readCompactString();
        const numPartitions = r.readInt32();
        const m = r.readCompactArrayLength();
        for (let j = 0; j < m; j++) {
          r.readInt32();
          readStringArray(r);
          r.skipTaggedFields();
        }
        r.skipTaggedFields();
        topics.push({ topicId, topicName, numPartitions });
      }
      r.skipTaggedFields();
      return { type: 'cg-partition-metadata', groupId, value: { topics } };
    }
    case CONSUMER_GROUP_MEMBER_METADATA_KEY_VERSION: {
      const memberId = k.readString();
      if (value === null) return { type: 'cg-member', groupId, memberId, value: null };
      const r = valueReader(value, 'ConsumerGroupMemberMetadata');
      const v: MemberMetadataValue = {
        instanceId: r.readCompactNullableString(),
        rackId: r.readCompactNullableString(),
        clientId: r.readCompactString(),
        clientHost: r.readCompactString(),
        subscribedTopicNames: readStringArray(r),
        subscribedTopicRegex: r.readCompactNullableString(),
        rebalanceTimeoutMs: r.readInt32(),
        serverAssignor: r.readCompactNullableString(),
      };
      r.skipTaggedFields();
      return { type: 'cg-member', groupId, memberId, value: v };
    }
    case CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA_KEY_VERSION: {
      if (value === null) return { type: 'cg-target-metadata', groupId, value: null };
      const r = valueReader(value, 'ConsumerGroupTargetAssignmentMetadata');
      const assignmentEpoch = r.readInt32();
      r.skipTaggedFields();
      return { type: 'cg-target-metadata', groupId, value: { assignmentEpoch } };
    }
    case CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER_KEY_VERSION: {
      const memberId = k.readString();
      if (value === null) return { type: 'cg-target-member', groupId, memberId, value: null };
      const r = valueReader(value, 'ConsumerGroupTargetAssignmentMember');
      const assignment = readTopicPartitions(r);
      r.skipTaggedFields();
      return { type: 'cg-target-member', groupId, memberId, value: { assignment } };
    }
    default: {
      const memberId = k.readString();
      if (value === null) return { type: 'cg-current-assignment', groupId, memberId, value: null };
      const r = valueReader(value, 'ConsumerGroupCurrentMemberAssignment');
      const memberEpoch = r.readInt32();
      const previousMemberEpoch = r.readInt32();
      const state = r.readInt8();
      const assigned = readTopicPartitions(r);
      const pendingRevocation = readTopicPartitions(r);
      r.skipTaggedFields();
      return { type: 'cg-current-assignment', groupId, memberId, value: { memberEpoch, previousMemberEpoch, state, assigned, pendingRevocation } };
    }
  }
}
