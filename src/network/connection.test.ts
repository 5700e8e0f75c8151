import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { silentLogger } from '../common/logger.ts';
import { startServer } from './server.ts';
import { FrameDecoder } from './frame-decoder.ts';
import type { Dispatcher } from './connection.ts';

function frame(n: number, extra = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(8 + extra.length);
  b.writeInt32BE(4 + extra.length, 0);
  b.writeInt32BE(n, 4);
  extra.copy(b, 8);
  return b;
}

/** Connects, sends `bytes`, collects response frames until `count` arrive or the socket closes. */
async function exchange(port: number, bytes: Buffer, count: number): Promise<{ frames: Buffer[]; closed: boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const decoder = new FrameDecoder(1 << 20);
  const frames: Buffer[] = [];
  let closed = false;
  await new Promise<void>((resolve) => {
    socket.on('data', (chunk) => {
      frames.push(...decoder.push(chunk));
      if (frames.length >= count) resolve();
    });
    socket.on('close', () => {
      closed = true;
      resolve();
    });
    socket.write(bytes);
  });
  socket.destroy();
  return { frames, closed };
}

describe('connection', () => {
  it('answers pipelined requests in order even when handlers finish out of order', async () => {
    const dispatcher: Dispatcher = async (f, { release }) => {
      const n = f.readInt32BE(0);
      release(); // let the next request start at once
      await new Promise((r) => setTimeout(r, (n * 7) % 13));
      return [Buffer.from([n])];
    };
    const server = await startServer({ host: '127.0.0.1', port: 0, dispatcher, maxFrameBytes: 1024, logger: silentLogger });
    try {
      const n = 40;
      const { frames } = await exchange(server.port, Buffer.concat(Array.from({ length: n }, (_, i) => frame(i))), n);
      assert.deepEqual(frames.map((f) => f[0]), Array.from({ length: n }, (_, i) => i));
    } finally {
      await server.close();
    }
  });

  it('serves one request at a time unless the handler releases the connection', async () => {
    let active = 0;
    let maxActive = 0;
    const dispatcher: Dispatcher = async (f) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setTimeout(r, 2));
      active--;
      return [f.subarray(0, 4)];
    };
    const server = await startServer({ host: '127.0.0.1', port: 0, dispatcher, maxFrameBytes: 1024, logger: silentLogger });
    try {
      await exchange(server.port, Buffer.concat([frame(1), frame(2), frame(3), frame(4)]), 4);
      assert.equal(maxActive, 1);
    } finally {
      await server.close();
    }
  });

  it('skips requests without a response and keeps the order of the rest', async () => {
    const dispatcher: Dispatcher = async (f) => {
      const n = f.readInt32BE(0);
      return n % 2 === 0 ? null : [Buffer.from([n])];
    };
    const server = await startServer({ host: '127.0.0.1', port: 0, dispatcher, maxFrameBytes: 1024, logger: silentLogger });
    try {
      const { frames } = await exchange(server.port, Buffer.concat([0, 1, 2, 3, 4, 5].map((i) => frame(i))), 3);
      assert.deepEqual(frames.map((f) => f[0]), [1, 3, 5]);
    } finally {
      await server.close();
    }
  });

  it('closes a connection that sends an oversized frame, and only that one', async () => {
    const dispatcher: Dispatcher = async (f) => [f.subarray(0, 4)];
    const server = await startServer({ host: '127.0.0.1', port: 0, dispatcher, maxFrameBytes: 64, logger: silentLogger });
    try {
      const huge = Buffer.alloc(4);
      huge.writeInt32BE(1_000_000_000, 0);
      const bad = await exchange(server.port, huge, 1);
      assert.equal(bad.closed, true);
      assert.equal(bad.frames.length, 0);
      const good = await exchange(server.port, frame(9), 1);
      assert.equal(good.frames[0]!.readInt32BE(0), 9);
    } finally {
      await server.close();
    }
  });

  it('closes the connection when the dispatcher rejects, after earlier responses', async () => {
    const dispatcher: Dispatcher = async (f) => {
      if (f.readInt32BE(0) === 2) throw new Error('malformed');
      return [f.subarray(0, 4)];
    };
    const server = await startServer({ host: '127.0.0.1', port: 0, dispatcher, maxFrameBytes: 64, logger: silentLogger });
    try {
      const { frames, closed } = await exchange(server.port, Buffer.concat([frame(1), frame(2), frame(3)]), 3);
      assert.equal(closed, true);
      assert.deepEqual(frames.map((f) => f.readInt32BE(0)), [1]);
    } finally {
      await server.close();
    }
  });

  it('stops reading while too many request bytes are queued, then catches up', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const dispatcher: Dispatcher = async (f) => {
      await gate;
      return [f.subarray(0, 4)];
    };
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dispatcher,
      maxFrameBytes: 1 << 20,
      maxQueuedBytes: 64 * 1024,
      logger: silentLogger,
    });
    try {
      const n = 64;
      const payload = Buffer.alloc(16 * 1024);
      const bytes = Buffer.concat(Array.from({ length: n }, (_, i) => frame(i, payload)));
      const result = exchange(server.port, bytes, n);
      setTimeout(release, 50);
      const { frames } = await result;
      assert.deepEqual(frames.map((f) => f.readInt32BE(0)), Array.from({ length: n }, (_, i) => i));
    } finally {
      await server.close();
    }
  });
});
