/** The shape of every generated message codec (see src/protocol/messages). */
import type { Reader } from './reader.ts';
import type { Writer } from './writer.ts';

export type MessageKind = 'request' | 'response' | 'header' | 'data';

export interface MessageCodec<T> {
  /** Kafka API key; -1 for headers and data (non-API) messages. */
  readonly apiKey: number;
  /** API name without the Request/Response suffix, e.g. 'Produce'; full name for headers and data. */
  readonly name: string;
  readonly type: MessageKind;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** First flexible version, or null if no version is flexible. */
  readonly flexibleMinVersion: number | null;
  /** Writes `msg` as `version`. Fields absent in that version are skipped. */
  encode(w: Writer, msg: T, version: number): void;
  /** Reads a message of `version`; throws ProtocolError on malformed input. */
  decode(r: Reader, version: number): T;
  /** A fresh message with every field at its default. */
  default(): T;
}

/** A shared empty buffer, the default of bytes fields. Never write into it. */
export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);

/** The error generated encoders throw when a field is null in a version where it is not nullable. */
export function nonNullableError(field: string, version: number): TypeError {
  return new TypeError(`${field} is null, but it is not nullable in version ${version}`);
}

/** The error generated top-level codecs throw for a version outside the message's valid range. */
export function unsupportedVersionError(name: string, version: number): RangeError {
  return new RangeError(`${name} does not support version ${version}`);
}
