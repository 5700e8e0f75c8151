/**
 * A recording TCP proxy in front of a real Kafka broker. It forwards frames
 * unchanged in both directions and records each request and response frame
 * (matched by correlation id). Metadata, FindCoordinator and DescribeCluster
 * responses are decoded with our codecs and re-encoded with the proxy's address
 * so that clients keep talking through the proxy; the recorded copies are the
 * broker's original bytes.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import {
  apiMessages, responseHeaderVersion, ResponseHeader,
} from '../../../src/protocol/messages/index.generated.ts';
import { Reader } from '../../../src/protocol/primitives/reader.ts';
import { Writer } from '../../../src/protocol/primitives/writer.ts';

export interface RecordedExchange {
  apiKey: number;
  api: string;
  apiVersion: number;
  correlationId: number;
  requestHex: string;
  responseHex: string | null;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 4) {
      const size = pending.readInt32BE(0);
      if (pending.length < 4 + size) break;
      onFrame(Buffer.from(pending.subarray(4, 4 + size)));
      pending = pending.subarray(4 + size);
    }
  };
}

function sized(frame: Buffer): Buffer {
  const b = Buffer.allocUnsafe(4 + frame.length);
  b.writeInt32BE(frame.length, 0);
  frame.copy(b, 4);
  return b;
}

export class RecordingProxy {
  readonly exchanges: RecordedExchange[] = [];
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;
  private readonly upstreamPort: number;

  constructor(upstreamPort: number) {
    this.upstreamPort = upstreamPort;
  }

  async start(): Promise<number> {
    const server = createServer((s) => this.accept(s));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const upstream = connect(this.upstreamPort, '127.0.0.1');
    this.sockets.add(client);
    this.sockets.add(upstream);
    const inflight = new Map<number, RecordedExchange>();
    const close = () => { client.destroy(); upstream.destroy(); };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
    client.on('data', framer((frame) => {
      const apiKey = frame.readInt16BE(0);
      const ex: RecordedExchange = {
        apiKey,
        api: apiMessages[apiKey]?.name ?? `api-${apiKey}`,
        apiVersion: frame.readInt16BE(2),
        correlationId: frame.readInt32BE(4),
        requestHex: frame.toString('hex'),
        responseHex: null,
      };
      this.exchanges.push(ex);
      inflight.set(ex.correlationId, ex);
      upstream.write(sized(frame));
    }));
    upstream.on('data', framer((frame) => {
      const ex = inflight.get(frame.readInt32BE(0));
      if (ex) {
        inflight.delete(ex.correlationId);
        ex.responseHex = frame.toString('hex');
      }
      client.write(sized(ex ? this.rewrite(ex, frame) : frame));
    }));
  }

  /** Points broker addresses in discovery responses at the proxy. */
  private rewrite(ex: RecordedExchange, frame: Buffer): Buffer {
    if (![3, 10, 60].includes(ex.apiKey)) return frame;
    const entry = apiMessages[ex.apiKey]!;
    if (ex.apiVersion > entry.maxVersion) return frame;
    const hv = responseHeaderVersion(ex.apiKey, ex.apiVersion);
    const r = new Reader(frame);
    const header = ResponseHeader.decode(r, hv);
    const body: Any = entry.response.decode(r, ex.apiVersion);
    const fix = (b: Any) => { if (b && typeof b.port === 'number' && b.port === this.upstreamPort) { b.host = '127.0.0.1'; b.port = this.port; } };
    for (const b of body.brokers ?? []) fix(b);
    for (const c of body.coordinators ?? []) fix(c);
    fix(body);
    const w = new Writer();
    ResponseHeader.encode(w, header, hv);
    entry.response.encode(w, body, ex.apiVersion);
    return w.toBuffer();
  }
}
