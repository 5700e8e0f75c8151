/**
 * Kafka UUIDs (topic ids, directory ids, ...) in their canonical string form:
 * the 16 bytes encoded as base64url without padding (22 characters), exactly
 * like Java's `org.apache.kafka.common.Uuid.toString()`.
 */
import { randomUUID } from 'node:crypto';
import { ProtocolError } from './errors.ts';

/** The all-zero UUID, Kafka's "no id" / default value. */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** Kafka's reserved id of the `__cluster_metadata` topic (0...01). */
export const METADATA_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';

// 22 base64url chars carry 132 bits; the last char holds 2 data bits + 4 zero bits.
const UUID_RE = /^[A-Za-z0-9_-]{21}[AQgw]$/;

/** True if `s` is a canonical Kafka UUID string. */
export function isUuid(s: string): boolean {
  return typeof s === 'string' && UUID_RE.test(s);
}

/** Decodes a Kafka UUID string into 16 bytes. Throws ProtocolError if `s` is not canonical. */
export function uuidToBytes(s: string): Buffer {
  if (!isUuid(s)) throw new ProtocolError(`invalid UUID string ${JSON.stringify(s)}`);
  return Buffer.from(s, 'base64url');
}

/** Encodes 16 bytes (at `offset` of `buf`) as a Kafka UUID string. */
export function uuidFromBytes(buf: Uint8Array, offset = 0): string {
  if (offset < 0 || offset + 16 > buf.length) throw new ProtocolError('UUID needs 16 bytes', offset);
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return b.toString('base64url', offset, offset + 16);
}

/**
 * A random (version 4) UUID, like `Uuid.randomUuid()`: never the zero or metadata
 * topic id, and never one whose string form starts with '-' (which would look like
 * a command line flag).
 */
export function randomUuid(): string {
  for (;;) {
    const bytes = Buffer.from(randomUUID().replace(/-/g, ''), 'hex');
    const s = bytes.toString('base64url');
    if (s[0] !== '-' && s !== ZERO_UUID && s !== METADATA_TOPIC_ID) return s;
  }
}

/** Converts the usual hex form (`xxxxxxxx-xxxx-...`) to Kafka's string form. */
export function uuidFromHex(hex: string): string {
  const h = hex.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(h)) throw new ProtocolError(`invalid hex UUID ${JSON.stringify(hex)}`);
  return Buffer.from(h, 'hex').toString('base64url');
}

/** Converts Kafka's string form to the usual hex form with dashes. */
export function uuidToHex(s: string): string {
  const h = uuidToBytes(s).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
