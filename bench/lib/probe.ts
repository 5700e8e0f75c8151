/**
 * Startup probe: how long until a freshly spawned peer answers its first Metadata request.
 * Connection attempts are retried every few milliseconds from the moment of spawn; the clock
 * stops when a complete Metadata response arrives. This measures what a client sees, not
 * what the server's log says.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { encodeRequest, sizePrefixed } from '../../test/testkit/raw-client.ts';
import { MetadataRequest } from '../../src/protocol/messages/metadata-request.generated.ts';

const METADATA_VERSION = 12;
const RETRY_MS = 5;

/** One Metadata request; resolves true when a whole response frame came back. */
function metadataOnce(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host, port });
    let got = Buffer.alloc(0);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
    socket.on('connect', () => {
      const req = { ...MetadataRequest.default(), topics: null, allowAutoTopicCreation: false };
      socket.write(sizePrefixed(encodeRequest(3, METADATA_VERSION, 1, req, 'bench-probe')));
    });
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 4 && got.length >= 4 + got.readInt32BE(0)) done(true);
    });
  });
}

/**
 * Milliseconds from `spawnedAt` (a performance.now() reading) until the first Metadata answer.
 * Throws after `timeoutMs`, or at once when `alive()` says the process died.
 */
export async function timeToFirstMetadata(
  host: string,
  port: number,
  spawnedAt: number,
  timeoutMs: number,
  alive: () => boolean,
): Promise<number> {
  const deadline = spawnedAt + timeoutMs;
  while (performance.now() < deadline) {
    if (!alive()) throw new Error('the process exited before answering Metadata');
    if (await metadataOnce(host, port, 2000)) return performance.now() - spawnedAt;
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
  throw new Error(`no Metadata answer within ${timeoutMs} ms`);
}
