/**
 * A recording stand-in broker for capturing golden request frames from real
 * clients. It answers just enough APIs, with our own generated codecs, for a
 * client to get through its normal flows (bootstrap, create topics, produce,
 * list offsets, fetch, consumer group join), and records every request frame
 * exactly as received. It is a capture tool, not a broker: no storage, one
 * topic layout (one partition, leader = this server).
 */
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import {
  apiMessages, requestHeaderVersion, responseHeaderVersion, RequestHeader, ResponseHeader,
} from '../../../src/protocol/messages/index.generated.ts';
import { Reader } from '../../../src/protocol/primitives/reader.ts';
import { Writer } from '../../../src/protocol/primitives/writer.ts';
import { uuidFromBytes } from '../../../src/protocol/primitives/uuid.ts';

export interface CapturedFrame {
  apiKey: number;
  api: string;
  apiVersion: number;
  headerVersion: number;
  clientId: string | null;
  /** The request frame without its 4-byte size prefix: header + body. */
  hex: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** A deterministic topic id derived from the name. */
export function topicIdFor(name: string): string {
  return uuidFromBytes(createHash('sha256').update(name).digest().subarray(0, 16));
}

export class CaptureServer {
  readonly frames: CapturedFrame[] = [];
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;
  /** The last produced record batch per topic, served back by Fetch. */
  private readonly produced = new Map<string, Buffer>();
  private readonly topics = new Set<string>();
  /** Assignments submitted by the group leader in SyncGroup. */
  private assignments = new Map<string, Buffer>();
  private readonly onFrame: ((f: CapturedFrame) => void) | undefined;

  constructor(onFrame?: (f: CapturedFrame) => void) {
    this.onFrame = onFrame;
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

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const size = pending.readInt32BE(0);
        if (pending.length < 4 + size) break;
        const frame = Buffer.from(pending.subarray(4, 4 + size));
        pending = pending.subarray(4 + size);
        try {
          this.handle(socket, frame);
        } catch (e) {
          console.error(`capture server: ${(e as Error).stack}`);
          socket.destroy();
        }
      }
    });
  }

  private handle(socket: Socket, frame: Buffer): void {
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const entry = apiMessages[apiKey];
    const headerVersion = requestHeaderVersion(apiKey, apiVersion);
    const r = new Reader(frame);
    const header = RequestHeader.decode(r, headerVersion);
    const captured: CapturedFrame = {
      apiKey,
      api: entry?.name ?? `api-${apiKey}`,
      apiVersion,
      headerVersion,
      clientId: header.clientId,
      hex: frame.toString('hex'),
    };
    this.frames.push(captured);
    this.onFrame?.(captured);
    if (!entry) return;
    if (apiVersion > entry.maxVersion) {
      if (apiKey === 18) this.reply(socket, apiKey, 0, header.correlationId, this.apiVersions(0, 35));
      return;
    }
    const request = entry.request.decode(r, apiVersion);
    const response = this.respond(apiKey, apiVersion, request);
    if (response === null) return; // e.g. acks=0 produce, or an API we do not answer
    this.reply(socket, apiKey, apiVersion, header.correlationId, response);
  }

  private reply(socket: Socket, apiKey: number, apiVersion: number, correlationId: number, body: Any): void {
    const w = new Writer();
    const sizePos = w.reserveInt32();
    ResponseHeader.encode(w, { correlationId }, responseHeaderVersion(apiKey, apiVersion));
    apiMessages[apiKey]!.response.encode(w, body, apiVersion);
    w.patchInt32(sizePos, w.length - 4);
    socket.write(w.toBuffer());
  }

  private apiVersions(version: number, errorCode = 0): Any {
    const res = apiMessages[18]!.response.default();
    res.errorCode = errorCode;
    res.apiKeys = Object.values(apiMessages)
      .filter((m) => m.listeners.includes('broker'))
      .map((m) => ({ apiKey: m.apiKey, minVersion: m.minVersion, maxVersion: m.maxVersion }));
    void version;
    return res;
  }

  private broker(): { nodeId: number; host: string; port: number; rack: null } {
    return { nodeId: 1, host: '127.0.0.1', port: this.port, rack: null };
  }

  private respond(apiKey: number, version: number, req: Any): Any {
    const res = apiMessages[apiKey]!.response.default();
    switch (apiKey) {
      case 18: // ApiVersions
        return this.apiVersions(version);
      case 3: { // Metadata
        let names: string[] = (req.topics ?? []).map((t: Any) => t.name).filter((n: string | null) => n !== null);
        if (req.topics === null || (version === 0 && names.length === 0)) names = [...this.topics];
        for (const n of names) this.topics.add(n);
        res.brokers = [this.broker()];
        res.clusterId = 'golden-cluster';
        res.controllerId = 1;
        res.topics = names.map((name) => ({
          errorCode: 0,
          name,
          topicId: topicIdFor(name),
          isInternal: false,
          partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }],
          topicAuthorizedOperations: -2147483648,
        }));
        return res;
      }
      case 19: // CreateTopics
        res.topics = req.topics.map((t: Any) => {
          this.topics.add(t.name);
          return {
            name: t.name, topicId: topicIdFor(t.name), errorCode: 0, errorMessage: null, topicConfigErrorCode: 0,
            numPartitions: t.numPartitions === -1 ? 1 : t.numPartitions,
            replicationFactor: t.replicationFactor === -1 ? 1 : t.replicationFactor, configs: [],
          };
        });
        return res;
      case 0: { // Produce
        if (req.acks === 0) return null;
        res.responses = req.topicData.map((t: Any) => {
          const name = t.name;
          return {
            name,
            partitionResponses: t.partitionData.map((p: Any) => {
              if (p.records) this.produced.set(name, Buffer.from(p.records));
              return {
                index: p.index, errorCode: 0, baseOffset: 0n, logAppendTimeMs: -1n, logStartOffset: 0n,
                recordErrors: [], errorMessage: null, currentLeader: { leaderId: -1, leaderEpoch: -1 },
              };
            }),
          };
        });
        return res;
      }
      case 1: { // Fetch
        res.responses = req.topics.map((t: Any) => {
          const name: string = t.topic || [...this.topics].find((n) => topicIdFor(n) === t.topicId) || '';
          const records = this.produced.get(name) ?? null;
          return {
            topic: t.topic,
            topicId: t.topicId,
            partitions: t.partitions.map((p: Any) => {
              const served = records !== null && p.fetchOffset === 0n ? records : null;
              return {
                partitionIndex: p.partition, errorCode: 0, highWatermark: records ? 1n : 0n, lastStableOffset: records ? 1n : 0n,
                logStartOffset: 0n, divergingEpoch: { epoch: -1, endOffset: -1n }, currentLeader: { leaderId: -1, leaderEpoch: -1 },
                snapshotId: { endOffset: -1n, epoch: -1 }, abortedTransactions: version >= 4 ? [] : null,
                preferredReadReplica: -1, records: served ?? Buffer.alloc(0),
              };
            }),
          };
        });
        return res;
      }
      case 2: // ListOffsets
        res.topics = req.topics.map((t: Any) => ({
          name: t.name,
          partitions: t.partitions.map((p: Any) => {
            const end = this.produced.has(t.name) ? 1n : 0n;
            const offset = p.timestamp === -2n ? 0n : end;
            return { partitionIndex: p.partitionIndex, errorCode: 0, oldStyleOffsets: [offset], timestamp: -1n, offset, leaderEpoch: 0 };
          }),
        }));
        return res;
      case 10: // FindCoordinator
        if (version < 4) Object.assign(res, { errorCode: 0, errorMessage: null, nodeId: 1, host: '127.0.0.1', port: this.port });
        else res.coordinators = req.coordinatorKeys.map((key: string) => ({ key, nodeId: 1, host: '127.0.0.1', port: this.port, errorCode: 0, errorMessage: null }));
        return res;
      case 11: { // JoinGroup
        const memberId = req.memberId || `${req.groupInstanceId ?? 'member'}-golden-1`;
        const protocol = req.protocols[0];
        Object.assign(res, {
          errorCode: 0, generationId: 1, protocolType: req.protocolType, protocolName: protocol?.name ?? null,
          leader: memberId, skipAssignment: false, memberId,
          members: [{ memberId, groupInstanceId: req.groupInstanceId, metadata: protocol?.metadata ?? Buffer.alloc(0) }],
        });
        return res;
      }
      case 14: // SyncGroup
        for (const a of req.assignments) this.assignments.set(a.memberId, Buffer.from(a.assignment));
        Object.assign(res, { errorCode: 0, protocolType: req.protocolType, protocolName: req.protocolName, assignment: this.assignments.get(req.memberId) ?? Buffer.alloc(0) });
        return res;
      case 9: { // OffsetFetch
        const parts = (topics: Any[] | null) => (topics ?? []).map((t: Any) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((partitionIndex: number) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 })),
        }));
        if (version < 8) res.topics = parts(req.topics);
        else res.groups = req.groups.map((g: Any) => ({ groupId: g.groupId, topics: parts(g.topics), errorCode: 0 }));
        return res;
      }
      case 8: // OffsetCommit
        res.topics = req.topics.map((t: Any) => ({ name: t.name, partitions: t.partitions.map((p: Any) => ({ partitionIndex: p.partitionIndex, errorCode: 0 })) }));
        return res;
      case 12: // Heartbeat
        return res;
      case 13: // LeaveGroup
        res.members = (req.members ?? []).map((m: Any) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: 0 }));
        return res;
      case 22: // InitProducerId
        Object.assign(res, { errorCode: 0, producerId: 4242n, producerEpoch: 0 });
        return res;
      case 32: // DescribeConfigs
        res.results = req.resources.map((r: Any) => ({ errorCode: 0, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName, configs: [] }));
        return res;
      case 20: // DeleteTopics
        res.responses = (req.topicNames?.length ? req.topicNames : req.topics.map((t: Any) => t.name)).map((name: string) => ({ name, topicId: topicIdFor(name), errorCode: 0, errorMessage: null }));
        return res;
      default:
        return null;
    }
  }

  /** Resolves once `pred` holds for some captured frame, or rejects after `ms`. */
  async waitFor(pred: (f: CapturedFrame) => boolean, ms: number): Promise<CapturedFrame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (Date.now() > deadline) throw new Error('timed out waiting for a frame');
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
