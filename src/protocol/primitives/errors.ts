/**
 * Thrown by {@link Reader} (and the generated decoders) on any malformed input:
 * truncated data, impossible lengths, invalid null markers, over-long varints.
 *
 * Receiving one while decoding a request means the peer sent garbage; the
 * network layer should close the connection (Kafka does the same).
 */
export class ProtocolError extends Error {
  /** Byte offset in the underlying buffer at which the problem was detected, if known. */
  readonly offset: number;

  constructor(message: string, offset = -1) {
    super(offset >= 0 ? `${message} (at offset ${offset})` : message);
    this.name = 'ProtocolError';
    this.offset = offset;
  }
}
