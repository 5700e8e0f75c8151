/**
 * A TCP proxy between Kafka clients and one broker that can lose responses: it parses Kafka
 * frames (int32 size prefix) in both directions, remembers each request's API key, version and
 * correlation id, and for the Produce requests a rule selects it forwards the request, waits for
 * the broker's response (so the append has happened) and throws the response away. Then it
 * closes the client's connection (default; the client sees the connection drop and retries on a
 * new one) or, with afterDrop 'swallow', leaves it open and passes later responses on as usual
 * (the client only learns from its request timeout, and retries on the same connection). The
 * client cannot tell whether the broker appended its records: the retry is a real duplicate.
 *
 *   const proxy = await startResponseDroppingProxy({ upstream: broker.bootstrap,
 *     dropProduceResponse: (p) => p.index % 5 === 0 });
 *   const kafka = createKafka([proxy.bootstrap]);
 *   ... proxy.stats.droppedResponses ...
 *   await proxy.close();
 *
 * So that clients keep going through the proxy, broker addresses in Metadata (brokers),
 * FindCoordinator (host/port, coordinators) and DescribeCluster (brokers) responses are
 * rewritten to the proxy's own address (decoded and re-encoded with the generated codecs in
 * src/protocol/messages). Every broker address maps to the one upstream: single-broker clusters
 * only, which is what the tests run (in-process Tributary, compat/kafka's one-node Kafka).
 *
 * Produce requests with acks=0 get no response, so the proxy reads `acks` from each Produce
 * request (ProduceRequest codec) and never waits for one; they are not counted by the rule.
 */
import net from 'node:net';
import { apiMessages, requestHeaderVersion, responseHeaderVersion } from '../../src/protocol/messages/index.generated.ts';
import { RequestHeader } from '../../src/protocol/messages/request-header.generated.ts';
import { ResponseHeader } from '../../src/protocol/messages/response-header.generated.ts';
import { Reader } from '../../src/protocol/primitives/reader.ts';
import { Writer } from '../../src/protocol/primitives/writer.ts';

const PRODUCE = 0;
const METADATA = 3;
const FIND_COORDINATOR = 10;
const DESCRIBE_CLUSTER = 60;
const REWRITTEN = new Set([METADATA, FIND_COORDINATOR, DESCRIBE_CLUSTER]);

/** What the drop rule sees of a Produce request that expects a response. */
export interface ProduceRequestInfo {
  /** 1-based count of such Produce requests through this proxy (all connections). */
  index: number;
  apiVersion: number;
  correlationId: number;
  acks: number;
  /** The request's partitions and the size of each one's record set. */
  partitions: Array<{ topic: string; partition: number; bytes: number }>;
  /** Proxy connection number (1-based) the request came in on. */
  connection: number;
  /** For a dropped request: the error code per partition of the response the client never saw. */
  droppedResponse?: Array<{ topic: string; partition: number; errorCode: number; baseOffset: bigint }>;
}

export interface ResponseDroppingProxyOptions {
  /** The broker, "host:port". */
  upstream: string;
  /** Listen address (default 127.0.0.1, port 0 = any free port). */
  host?: string;
  port?: number;
  /** Decides per Produce request (acks != 0) whether its response is dropped. Default: never. */
  dropProduceResponse?: (req: ProduceRequestInfo) => boolean;
  /**
   * After dropping a response: 'close' (default) destroys the client's connection (and the
   * upstream one); 'swallow' keeps both open and forwards later responses, so only the
   * client's request timeout tells it the response is missing.
   */
  afterDrop?: 'close' | 'swallow';
  /**
   * Called after a response is dropped (before the connection is closed). If it returns a
   * promise, connections that clients open meanwhile wait until it settles before the proxy
   * connects them upstream: e.g. the test kills and restarts the broker between the lost
   * response and the client's retry.
   */
  onDrop?: (req: ProduceRequestInfo) => Promise<void> | void;
}

export interface ProxyStats {
  connections: number;
  /** Requests seen, by API key. */
  requests: Map<number, number>;
  /** Produce requests that expected a response. */
  produceRequests: number;
  droppedResponses: number;
  /** The dropped Produce requests, in order. */
  dropped: ProduceRequestInfo[];
  /** Responses whose broker addresses were rewritten. */
  rewrittenResponses: number;
}

export interface ResponseDroppingProxy {
  host: string;
  port: number;
  /** "host:port" of the proxy: give this to clients as their bootstrap server. */
  bootstrap: string;
  stats: ProxyStats;
  /** Replaces the drop rule (e.g. stop dropping for a verification phase). */
  setDropRule(rule: ((req: ProduceRequestInfo) => boolean) | undefined): void;
  close(): Promise<void>;
}

interface InFlight {
  apiKey: number;
  apiVersion: number;
  drop: boolean;
}

/** Splits a byte stream into frames (without their size prefix). */
class FrameSplitter {
  #buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const frames: Buffer[] = [];
    while (this.#buf.length >= 4) {
      const size = this.#buf.readInt32BE(0);
      if (size < 0) throw new Error(`negative frame size ${size}`);
      if (this.#buf.length < 4 + size) break;
      frames.push(this.#buf.subarray(4, 4 + size));
      this.#buf = this.#buf.subarray(4 + size);
    }
    return frames;
  }
}

function sizePrefixed(frame: Buffer): Buffer {
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeInt32BE(frame.length, 0);
  return Buffer.concat([prefix, frame]);
}

function parseHostPort(addr: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(addr.trim());
  if (!m) throw new Error(`not a host:port address: ${addr}`);
  return { host: m[1]!, port: Number(m[2]) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** Reads acks and the partitions of a Produce request frame (after the size prefix). */
function decodeProduce(frame: Buffer, apiVersion: number): { acks: number; partitions: ProduceRequestInfo['partitions'] } {
  const r = new Reader(frame);
  RequestHeader.decode(r, requestHeaderVersion(PRODUCE, apiVersion));
  const req = apiMessages[PRODUCE]!.request.decode(r, apiVersion) as Any;
  const partitions: ProduceRequestInfo['partitions'] = [];
  for (const t of req.topicData ?? []) {
    for (const p of t.partitionData ?? []) partitions.push({ topic: t.name, partition: p.index, bytes: p.records?.length ?? 0 });
  }
  return { acks: req.acks, partitions };
}

/** The partition results of a Produce response frame (undefined if it cannot be decoded). */
function decodeProduceResponse(frame: Buffer, apiVersion: number): ProduceRequestInfo['droppedResponse'] {
  try {
    const r = new Reader(frame);
    ResponseHeader.decode(r, responseHeaderVersion(PRODUCE, apiVersion));
    const res = apiMessages[PRODUCE]!.response.decode(r, apiVersion) as Any;
    const out: NonNullable<ProduceRequestInfo['droppedResponse']> = [];
    for (const t of res.responses ?? []) {
      for (const p of t.partitionResponses ?? []) out.push({ topic: t.name, partition: p.index, errorCode: p.errorCode, baseOffset: BigInt(p.baseOffset) });
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Re-encodes a Metadata / FindCoordinator / DescribeCluster response with our address. */
function rewriteAddresses(frame: Buffer, apiKey: number, apiVersion: number, host: string, port: number): Buffer {
  const r = new Reader(frame);
  const headerVersion = responseHeaderVersion(apiKey, apiVersion);
  const header = ResponseHeader.decode(r, headerVersion);
  const codec = apiMessages[apiKey]!.response;
  const body = codec.decode(r, apiVersion) as Any;
  if (apiKey === METADATA || apiKey === DESCRIBE_CLUSTER) {
    for (const b of body.brokers ?? []) {
      b.host = host;
      b.port = port;
    }
  } else if (apiKey === FIND_COORDINATOR) {
    if (body.errorCode === 0 && body.host) {
      body.host = host;
      body.port = port;
    }
    for (const c of body.coordinators ?? []) {
      if (c.errorCode === 0 && c.host) {
        c.host = host;
        c.port = port;
      }
    }
  }
  const w = new Writer();
  ResponseHeader.encode(w, header, headerVersion);
  codec.encode(w, body, apiVersion);
  return w.toBuffer();
}

export async function startResponseDroppingProxy(opts: ResponseDroppingProxyOptions): Promise<ResponseDroppingProxy> {
  const upstream = parseHostPort(opts.upstream);
  let rule = opts.dropProduceResponse;
  const afterDrop = opts.afterDrop ?? 'close';
  const stats: ProxyStats = { connections: 0, requests: new Map(), produceRequests: 0, droppedResponses: 0, dropped: [], rewrittenResponses: 0 };
  const sockets = new Set<net.Socket>();
  let advertised = { host: opts.host ?? '127.0.0.1', port: 0 };

  let gate: Promise<void> | undefined;
  const server = net.createServer((client) => {
    client.on('error', () => client.destroy());
    sockets.add(client);
    if (gate) void gate.then(() => serve(client), () => serve(client));
    else serve(client);
  });
  const serve = (client: net.Socket) => {
    if (client.destroyed) return;
    const connection = ++stats.connections;
    const broker = net.createConnection(upstream);
    sockets.add(client);
    sockets.add(broker);
    client.setNoDelay(true);
    broker.setNoDelay(true);
    const inFlight = new Map<number, InFlight>();
    const fromClient = new FrameSplitter();
    const fromBroker = new FrameSplitter();
    const teardown = () => {
      client.destroy();
      broker.destroy();
    };
    client.on('error', teardown);
    broker.on('error', teardown);
    client.on('close', () => {
      sockets.delete(client);
      broker.destroy();
    });
    broker.on('close', () => {
      sockets.delete(broker);
      client.destroy();
    });

    client.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = fromClient.push(chunk);
      } catch {
        return teardown();
      }
      for (const frame of frames) {
        if (frame.length < 8) {
          broker.write(sizePrefixed(frame));
          continue;
        }
        const apiKey = frame.readInt16BE(0);
        const apiVersion = frame.readInt16BE(2);
        const correlationId = frame.readInt32BE(4);
        stats.requests.set(apiKey, (stats.requests.get(apiKey) ?? 0) + 1);
        let drop = false;
        let expectsResponse = true;
        if (apiKey === PRODUCE && apiMessages[PRODUCE]) {
          try {
            const { acks, partitions } = decodeProduce(frame, apiVersion);
            if (acks === 0) expectsResponse = false;
            else {
              const info: ProduceRequestInfo = { index: ++stats.produceRequests, apiVersion, correlationId, acks, partitions, connection };
              if (rule?.(info)) {
                drop = true;
                stats.dropped.push(info);
              }
            }
          } catch {
            // a frame our codec cannot read: forward it untouched, never drop its response
          }
        }
        if (expectsResponse) inFlight.set(correlationId, { apiKey, apiVersion, drop });
        broker.write(sizePrefixed(frame));
      }
    });

    broker.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = fromBroker.push(chunk);
      } catch {
        return teardown();
      }
      for (const frame of frames) {
        const correlationId = frame.length >= 4 ? frame.readInt32BE(0) : -1;
        const req = inFlight.get(correlationId);
        inFlight.delete(correlationId);
        if (req?.drop) {
          stats.droppedResponses++;
          const info = stats.dropped.find((d) => d.connection === connection && d.correlationId === correlationId);
          if (info) info.droppedResponse = decodeProduceResponse(frame, req.apiVersion);
          if (info && opts.onDrop) {
            const settled = Promise.resolve(opts.onDrop(info));
            const current: Promise<void> = settled.then(() => {}, () => {}).finally(() => {
              if (gate === current) gate = undefined;
            });
            gate = current;
          }
          if (afterDrop === 'close') {
            teardown();
            return;
          }
          continue; // 'swallow': the connection goes on without this response
        }
        let out = frame;
        if (req && REWRITTEN.has(req.apiKey)) {
          try {
            out = rewriteAddresses(frame, req.apiKey, req.apiVersion, advertised.host, advertised.port);
            stats.rewrittenResponses++;
          } catch {
            out = frame; // e.g. an ApiVersions-style fallback we cannot decode: pass it on
          }
        }
        client.write(sizePrefixed(out));
      }
    });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as net.AddressInfo;
  advertised = { host: opts.host ?? '127.0.0.1', port: addr.port };

  return {
    host: advertised.host,
    port: advertised.port,
    bootstrap: `${advertised.host}:${advertised.port}`,
    stats,
    setDropRule(r) {
      rule = r;
    },
    close() {
      return new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
    },
  };
}
