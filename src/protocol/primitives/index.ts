export { Reader, MAX_STRING_BYTES } from './reader.ts';
export { Writer, RAW_COPY_THRESHOLD } from './writer.ts';
export { ProtocolError } from './errors.ts';
export {
  ZERO_UUID,
  METADATA_TOPIC_ID,
  isUuid,
  uuidToBytes,
  uuidFromBytes,
  randomUuid,
  uuidFromHex,
  uuidToHex,
} from './uuid.ts';
export { EMPTY_BUFFER, nonNullableError, unsupportedVersionError } from './codec.ts';
export type { MessageCodec, MessageKind } from './codec.ts';
