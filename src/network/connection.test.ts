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

/** A client socket that collects response frames; it can hold off reading (`socket.pause()`). */
async function openClient(port: number, maxFrame = 1 << 20) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const decoder = new FrameDecoder(maxFrame);
  const frames: Buffer[] = [];
  let closed = false;
  socket.on('data', (chunk) => frames.push(...decoder.push(chunk)));
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  return {
    socket,
    frames,
    get closed() {
      return closed;
    },
  };
}

/** Yields to the event loop (no timers) until `cond` holds; gives up after ~10 s. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`${what}: not reached`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A number of event loop turns: enough for a resolved handler's response to be flushed. */
async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

describe('connection afterResponseWritten', () => {
  it('runs the callbacks only once the response is written: buffers reused by them do not reach the client', async () => {
    // The first response is larger than the loopback socket buffers can hold (at most
    // net.ipv4.tcp_wmem + tcp_rmem maxima, 4 + 32 MiB on a default Linux) while the client does
    // not read: its write cannot complete until the client reads.
    const parts = 4;
    const partBytes = (n: number) => (n === 1 ? 16 * 1024 * 1024 : 64 * 1024);
    const calls: string[] = [];
    let handled = 0;
    const dispatcher: Dispatcher = async (f, { afterResponseWritten }) => {
      const n = f.readInt32BE(0);
      const response = Array.from({ length: parts }, (_, i) => Buffer.alloc(i === 0 ? 16 : partBytes(n), 0x10 + i));
      response[0]!.writeInt32BE(n, 0);
      afterResponseWritten(() => {
        calls.push(`${n}a`);
        // what a pool would do with these buffers once they are given back
        for (const b of response) b.fill(0xee);
      });
      afterResponseWritten(() => calls.push(`${n}b`));
      handled++;
      return response;
    };
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dispatcher,
      maxFrameBytes: 1024,
      maxQueuedBytes: 256 * 1024 * 1024,
      logger: silentLogger,
    });
    try {
      const c = await openClient(server.port, 64 * 1024 * 1024);
      c.socket.pause();
      c.socket.write(Buffer.concat([frame(1), frame(2)]));
      await until(() => handled === 2, 'both requests handled');
      await turns();
      assert.deepEqual(calls, [], 'no callback while the response is still being written');
      c.socket.resume();
      await until(() => c.frames.length === 2, 'both responses received');
      for (const [i, f] of c.frames.entries()) {
        const n = i + 1;
        assert.equal(f.length, 16 + (parts - 1) * partBytes(n));
        assert.equal(f.readInt32BE(0), n);
        assert.ok(f.subarray(4, 16).every((x) => x === 0x10));
        for (let p = 1; p < parts; p++) {
          const body = f.subarray(16 + (p - 1) * partBytes(n), 16 + p * partBytes(n));
          assert.equal(body.indexOf(0xee), -1, `response ${n} part ${p} was overwritten before it was sent`);
          assert.ok(body.every((x) => x === 0x10 + p));
        }
      }
      await until(() => calls.length === 4, 'callbacks ran');
      assert.deepEqual(calls, ['1a', '1b', '2a', '2b']);
      c.socket.destroy();
    } finally {
      await server.close();
    }
  });

  it('runs the callbacks in request order across pipelined requests that finish out of order', async () => {
    const n = 24;
    const calls: number[] = [];
    const received: number[] = [];
    const dispatcher: Dispatcher = async (f, { release, afterResponseWritten }) => {
      const i = f.readInt32BE(0);
      release(); // the next request starts at once; this one finishes later or sooner
      for (let k = 0; k < ((i * 7) % 11) * 3; k++) await new Promise((r) => setImmediate(r));
      const head = Buffer.alloc(4);
      head.writeInt32BE(i, 0);
      const body = Buffer.alloc(256 * 1024 + i, i);
      afterResponseWritten(() => {
        calls.push(i);
        body.fill(0xff);
      });
      return [head, body];
    };
    const server = await startServer({ host: '127.0.0.1', port: 0, dispatcher, maxFrameBytes: 1024, logger: silentLogger });
    try {
      const c = await openClient(server.port);
      c.socket.write(Buffer.concat(Array.from({ length: n }, (_, i) => frame(i))));
      await until(() => c.frames.length === n, 'all responses received');
      for (const f of c.frames) {
        const i = f.readInt32BE(0);
        received.push(i);
        assert.equal(f.length, 4 + 256 * 1024 + i);
        assert.ok(f.subarray(4).every((x) => x === i), `response ${i} was overwritten before it was sent`);
      }
      assert.deepEqual(received, Array.from({ length: n }, (_, i) => i));
      await until(() => calls.length === n, 'callbacks ran');
      assert.deepEqual(calls, Array.from({ length: n }, (_, i) => i));
      c.socket.destroy();
    } finally {
      await server.close();
    }
  });

  it('runs the callbacks of a request answered with no response', async () => {
    const calls: number[] = [];
    const dispatcher: Dispatcher = async (f, { afterResponseWritten }) => {
      const i = f.readInt32BE(0);
      afterResponseWritten(() => calls.push(i));
      return i % 2 === 0 ? null : [Buffer.from([i])];
    };
    const server = await startServer({ host: '127.0.0.1', port: 0, dispatcher, maxFrameBytes: 1024, logger: silentLogger });
    try {
      const c = await openClient(server.port);
      c.socket.write(Buffer.concat([0, 1, 2, 3, 4, 5, 6].map((i) => frame(i))));
      await until(() => c.frames.length === 3 && calls.length === 7, 'responses and callbacks');
      assert.deepEqual(c.frames.map((f) => f[0]), [1, 3, 5]);
      // Each kind in request order. Across kinds the order is not request order: a request
      // without a response has nothing to wait for, so its callbacks run as soon as the
      // requests before it have been handed to the socket, maybe before their writes complete.
      assert.deepEqual(calls.filter((i) => i % 2 === 0), [0, 2, 4, 6]);
      assert.deepEqual(calls.filter((i) => i % 2 === 1), [1, 3, 5]);
      c.socket.destroy();
    } finally {
      await server.close();
    }
  });

  it('never runs the callbacks of a connection closed before its response was flushed', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const calls: number[] = [];
    let started = 0;
    let finished = 0;
    const dispatcher: Dispatcher = async (f, { release, afterResponseWritten }) => {
      const i = f.readInt32BE(0);
      afterResponseWritten(() => calls.push(i));
      started++;
      release();
      await gate;
      finished++;
      return i === 2 ? null : [Buffer.alloc(100_000, i)];
    };
    const server = await startServer({ host: '127.0.0.1', port: 0, dispatcher, maxFrameBytes: 1024, logger: silentLogger });
    try {
      const c = await openClient(server.port);
      c.socket.write(Buffer.concat([frame(1), frame(2), frame(3)]));
      await until(() => started === 3, 'requests started');
      c.socket.destroy();
      await until(() => server.connections.size === 0, 'server saw the close');
      open();
      await until(() => finished === 3, 'handlers finished');
      await turns();
      assert.deepEqual(calls, []);
    } finally {
      await server.close();
    }
  });

  it('never runs the callbacks of a response whose write fails because the client went away', async () => {
    const calls: number[] = [];
    let handled = 0;
    const dispatcher: Dispatcher = async (f, { afterResponseWritten }) => {
      afterResponseWritten(() => calls.push(f.readInt32BE(0)));
      handled++;
      // more than the socket buffers hold while the client does not read
      return [Buffer.alloc(16), Buffer.alloc(48 * 1024 * 1024, 1)];
    };
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dispatcher,
      maxFrameBytes: 1024,
      maxQueuedBytes: 256 * 1024 * 1024,
      logger: silentLogger,
    });
    try {
      const c = await openClient(server.port, 64 * 1024 * 1024);
      c.socket.pause();
      c.socket.write(frame(7));
      await until(() => handled === 1, 'request handled');
      await turns();
      c.socket.resetAndDestroy();
      await until(() => server.connections.size === 0, 'server saw the close');
      await turns();
      assert.deepEqual(calls, []);
      assert.equal(c.frames.length, 0);
    } finally {
      await server.close();
    }
  });
});
