/**
 * The TCP listener: accepts sockets and wraps each in a Connection. Shutdown stops accepting,
 * lets in-flight requests finish (so acknowledged appends are synced), then closes sockets.
 */
import net from 'node:net';
import type { Logger } from '../common/logger.ts';
import { Connection, type Dispatcher } from './connection.ts';

export interface ServerOptions {
  host: string;
  port: number;
  dispatcher: Dispatcher;
  /** socket.request.max.bytes: the largest frame accepted. */
  maxFrameBytes: number;
  /** Per-connection budget of queued request bytes and unsent response bytes. */
  maxQueuedBytes?: number;
  logger: Logger;
}

export interface Server {
  readonly host: string;
  readonly port: number;
  readonly connections: ReadonlySet<Connection>;
  /** Stops accepting; waits up to `graceMs` for in-flight requests, then closes every socket. */
  close(graceMs?: number): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<Server> {
  const connections = new Set<Connection>();
  let nextId = 1;
  const maxQueuedBytes = opts.maxQueuedBytes ?? 64 * 1024 * 1024;
  const server = net.createServer((socket) => {
    const conn = new Connection({
      id: nextId++,
      socket,
      dispatcher: opts.dispatcher,
      maxFrameBytes: opts.maxFrameBytes,
      maxQueuedBytes,
      logger: opts.logger,
      onClose: (c) => connections.delete(c),
    });
    connections.add(conn);
  });
  server.on('error', (err) => opts.logger.error('listener error', { error: err }));
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  return {
    host: address.address,
    port: address.port,
    connections,
    async close(graceMs = 5000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      await Promise.race([Promise.all([...connections].map((c) => c.whenIdle())), grace]);
      clearTimeout(timer);
      for (const c of [...connections]) c.close();
      await closed;
    },
  };
}
