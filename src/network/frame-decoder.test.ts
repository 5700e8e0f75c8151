import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameDecoder, FrameTooLargeError } from './frame-decoder.ts';

function frame(payload: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length, 0);
  return Buffer.concat([size, payload]);
}

describe('FrameDecoder', () => {
  it('returns frames however the stream is split into chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        (payloads, cuts) => {
          const stream = Buffer.concat(payloads.map((p) => frame(Buffer.from(p))));
          const decoder = new FrameDecoder(1024);
          const out: Buffer[] = [];
          let pos = 0;
          let i = 0;
          while (pos < stream.length) {
            const n = cuts[i++ % cuts.length]!;
            out.push(...decoder.push(stream.subarray(pos, pos + n)));
            pos += n;
          }
          assert.equal(out.length, payloads.length);
          out.forEach((f, j) => assert.deepEqual(new Uint8Array(f), payloads[j]));
          assert.equal(decoder.bufferedBytes, 0);
        },
      ),
    );
  });

  it('returns a frame inside one chunk as a view, not a copy', () => {
    const chunk = frame(Buffer.from('hello'));
    const [f] = new FrameDecoder(100).push(chunk);
    assert.equal(f!.buffer, chunk.buffer);
  });

  it('rejects a negative size and a size over the limit before the body arrives', () => {
    const neg = Buffer.alloc(4);
    neg.writeInt32BE(-5, 0);
    assert.throws(() => new FrameDecoder(100).push(neg), FrameTooLargeError);
    const big = Buffer.alloc(4);
    big.writeInt32BE(101, 0);
    assert.throws(() => new FrameDecoder(100).push(big), /exceeds socket.request.max.bytes 100/);
  });

  it('detects an oversized size prefix split across chunks', () => {
    const d = new FrameDecoder(100);
    assert.deepEqual(d.push(Buffer.from([0x7f, 0xff])), []);
    assert.throws(() => d.push(Buffer.from([0xff, 0xff])), FrameTooLargeError);
  });

  it('accepts empty frames', () => {
    assert.deepEqual(new FrameDecoder(10).push(frame(Buffer.alloc(0))), [Buffer.alloc(0)]);
  });
});
