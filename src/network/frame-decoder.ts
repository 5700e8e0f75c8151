/**
 * Splits a TCP byte stream into Kafka frames (int32 size + payload). Received chunks are kept
 * in a list and only the bytes of one frame are joined, and only when the frame spans chunks;
 * a frame inside one chunk is a zero-copy subarray (DESIGN.md §7).
 *
 * The size prefix is checked against `maxFrameBytes` before anything is allocated, so a hostile
 * size cannot make the broker reserve memory (Kafka's socket.request.max.bytes).
 */
import { largeBuffers } from '../common/buffer-pool.ts';
export class FrameTooLargeError extends Error {
  readonly size: number;
  constructor(size: number, max: number) {
    super(size < 0 ? `negative frame size ${size}` : `frame size ${size} exceeds socket.request.max.bytes ${max}`);
    this.size = size;
    this.name = 'FrameTooLargeError';
  }
}

export class FrameDecoder {
  readonly maxFrameBytes: number;
  #chunks: Buffer[] = [];
  /** Bytes buffered across #chunks (the first chunk counted from #headOffset). */
  #buffered = 0;
  /** Read position within #chunks[0]. */
  #headOffset = 0;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Adds received bytes and returns every complete frame (payload only, without the size). */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const frames: Buffer[] = [];
    for (;;) {
      if (this.#buffered < 4) break;
      const size = this.#peekInt32();
      if (size < 0 || size > this.maxFrameBytes) throw new FrameTooLargeError(size, this.maxFrameBytes);
      if (this.#buffered < 4 + size) break;
      this.#consume(4);
      frames.push(this.#take(size));
    }
    return frames;
  }

  #peekInt32(): number {
    const head = this.#chunks[0]!;
    if (head.length - this.#headOffset >= 4) return head.readInt32BE(this.#headOffset);
    const tmp = Buffer.allocUnsafe(4);
    this.#copyOut(tmp, 4);
    return tmp.readInt32BE(0);
  }

  /** Copies the next n buffered bytes into dst without consuming them. */
  #copyOut(dst: Buffer, n: number): void {
    let written = 0;
    let offset = this.#headOffset;
    for (const chunk of this.#chunks) {
      const take = Math.min(n - written, chunk.length - offset);
      chunk.copy(dst, written, offset, offset + take);
      written += take;
      offset = 0;
      if (written === n) return;
    }
  }

  #consume(n: number): void {
    this.#buffered -= n;
    while (n > 0) {
      const head = this.#chunks[0]!;
      const avail = head.length - this.#headOffset;
      if (n < avail) {
        this.#headOffset += n;
        return;
      }
      n -= avail;
      this.#chunks.shift();
      this.#headOffset = 0;
    }
  }

  #take(n: number): Buffer {
    const head = this.#chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (head && head.length - this.#headOffset >= n) {
      const frame = head.subarray(this.#headOffset, this.#headOffset + n);
      this.#consume(n);
      return frame;
    }
    // Large frames (Produce requests) come from the shared pool; the dispatcher gives a Produce
    // frame back once its appends are written. Others are simply left to GC.
    const frame = largeBuffers.acquire(n);
    this.#copyOut(frame, n);
    this.#consume(n);
    return frame;
  }
}
