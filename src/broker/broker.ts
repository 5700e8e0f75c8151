/**
 * The broker: its services and lifecycle. `startBroker` opens the data directory (recovering
 * every partition), starts the listener and returns a handle; `close()` stops accepting,
 * lets in-flight requests finish, syncs and closes the logs.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { systemClock, type Clock } from '../common/clock.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { startServer, type Server } from '../network/server.ts';
import { TopicStore } from '../metadata/topic-store.ts';
import { DynamicConfigStore } from '../metadata/dynamic-config-store.ts';
import { LogManager } from '../storage/log-manager.ts';
import { SyncScheduler } from '../storage/sync-scheduler.ts';
import { resolveBrokerConfig, ConfigError, type BrokerConfig } from './broker-config.ts';
import { createDispatcher } from './dispatcher.ts';
import { PartitionWaiters } from './partition-waiters.ts';
import { TopicManager } from './topics.ts';
import { ConfigAdmin } from './topic-configs.ts';
import { HANDLERS } from './handlers.ts';
import { VERSION } from '../common/version.ts';
import { GroupService } from './group-service.ts';
import { TxnService } from './txn-service.ts';
import { writeTxnMarkers } from './txn-markers.ts';
import { lockDir, DirLockedError } from '../common/dir-lock.ts';

export interface StartBrokerOptions {
  dataDir: string;
  /** Listener host; default 127.0.0.1. */
  host?: string;
  /** Listener port; 0 picks a free one. Default 9092. */
  port?: number;
  /** Address given to clients in Metadata; defaults to the bound listener. */
  advertisedHost?: string;
  advertisedPort?: number;
  nodeId?: number;
  /** auto.create.topics.enable (default true). */
  autoCreateTopics?: boolean;
  /** num.partitions (default 1). */
  numPartitions?: number;
  /** Further broker configs by Kafka name, e.g. { 'log.segment.bytes': '1048576' }. */
  config?: Record<string, string>;
  logger?: Logger;
  clock?: Clock;
}

export interface BrokerHandle {
  readonly host: string;
  readonly port: number;
  /** "host:port" to give clients. */
  readonly bootstrap: string;
  readonly dataDir: string;
  readonly broker: Broker;
  /** Partitions recovered at start, and how long start took. */
  readonly startup: { topics: number; partitions: number; failedPartitions: number; readyMs: number };
  close(): Promise<void>;
}

export class Broker {
  readonly config: BrokerConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly topics: TopicManager;
  readonly waiters: PartitionWaiters;
  readonly groups: GroupService;
  /** The transaction coordinator (`__transaction_state`, producer ids, markers). */
  readonly transactions: TxnService;
  /** AlterConfigs / IncrementalAlterConfigs: topic overrides and dynamic broker configs. */
  readonly configAdmin: ConfigAdmin;
  readonly clusterId: string;
  advertised: { host: string; port: number } = { host: '127.0.0.1', port: 0 };
  closing = false;

  constructor(opts: {
    config: BrokerConfig;
    clock: Clock;
    logger: Logger;
    topics: TopicManager;
    configAdmin: ConfigAdmin;
    clusterId: string;
  }) {
    this.config = opts.config;
    this.configAdmin = opts.configAdmin;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.topics = opts.topics;
    this.clusterId = opts.clusterId;
    this.waiters = new PartitionWaiters(opts.clock);
    const g = opts.config.groups;
    this.groups = new GroupService({
      topics: opts.topics,
      clock: opts.clock,
      logger: opts.logger.child('groups'),
      numPartitions: g.offsetsTopicPartitions,
      segmentBytes: g.offsetsTopicSegmentBytes,
      coordinator: {
        config: {
          initialRebalanceDelayMs: g.initialRebalanceDelayMs,
          minSessionTimeoutMs: g.minSessionTimeoutMs,
          maxSessionTimeoutMs: g.maxSessionTimeoutMs,
          maxGroupSize: g.maxGroupSize,
          offsetMetadataMaxBytes: g.offsetMetadataMaxBytes,
          offsetsRetentionMs: g.offsetsRetentionMs,
          offsetsRetentionCheckIntervalMs: g.offsetsRetentionCheckIntervalMs,
        },
      },
      consumer: {
        sessionTimeoutMs: g.consumerSessionTimeoutMs,
        heartbeatIntervalMs: g.consumerHeartbeatIntervalMs,
        maxGroupSize: g.consumerMaxGroupSize,
      },
    });
    const t = opts.config.transactions;
    this.transactions = new TxnService({
      topics: opts.topics,
      clock: opts.clock,
      logger: opts.logger.child('transactions'),
      dataDir: opts.config.dataDir,
      numPartitions: t.stateLogNumPartitions,
      segmentBytes: t.stateLogSegmentBytes,
      offsetsTopicPartitions: this.groups.numPartitions,
      config: {
        maxTimeoutMs: t.maxTimeoutMs,
        abortTimedOutIntervalMs: t.abortTimedOutIntervalMs,
        idExpirationMs: t.idExpirationMs,
        removeExpiredIntervalMs: t.removeExpiredIntervalMs,
      },
      writeMarkers: (markers) => writeTxnMarkers(this, markers),
    });
  }

  /** Committed offset, log end offset and lag per partition of a consumer group. */
  consumerLag(groupId: string) {
    return this.groups.lag(groupId);
  }

  get nodeId(): number {
    return this.config.nodeId;
  }
}

export async function startBroker(opts: StartBrokerOptions): Promise<BrokerHandle> {
  const started = performance.now();
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? createLogger('info');
  const settings: Record<string, string> = { ...opts.config };
  if (opts.autoCreateTopics !== undefined) settings['auto.create.topics.enable'] = String(opts.autoCreateTopics);
  if (opts.numPartitions !== undefined) settings['num.partitions'] = String(opts.numPartitions);
  const config = resolveBrokerConfig({
    dataDir: path.resolve(opts.dataDir),
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 9092,
    advertisedHost: opts.advertisedHost,
    advertisedPort: opts.advertisedPort,
    nodeId: opts.nodeId,
    settings,
  });
  await prepareDataDir(config.dataDir);
  let unlock: () => Promise<void>;
  try {
    unlock = await lockDir(config.dataDir);
  } catch (err) {
    if (err instanceof DirLockedError) throw new ConfigError(err.message);
    throw err;
  }
  try {
    return await open(config, clock, logger, started, unlock);
  } catch (err) {
    await unlock();
    throw err;
  }
}

async function open(
  config: BrokerConfig,
  clock: Clock,
  logger: Logger,
  started: number,
  unlock: () => Promise<void>,
): Promise<BrokerHandle> {
  const store = await TopicStore.open(config.dataDir, config.nodeId);
  const syncer = new SyncScheduler({ logger: logger.child('sync') });
  const logs = new LogManager({
    dataDir: config.dataDir,
    clock,
    logger: logger.child('log'),
    syncer,
    retentionCheckIntervalMs: config.retentionCheckIntervalMs,
    producerIdExpirationMs: config.producerIdExpirationMs,
    cleanerBackoffMs: config.cleanerBackoffMs,
    cleanerEnabled: config.cleanerEnable,
  });
  const topics = new TopicManager({ store, logs, config, clock, logger: logger.child('topics') });
  // Dynamic broker configs are in force before the logs open with their settings.
  const configAdmin = new ConfigAdmin({ topics, config, store: await DynamicConfigStore.open(config.dataDir) });
  const recovered = await topics.load();
  const broker = new Broker({ config, clock, logger, topics, configAdmin, clusterId: store.clusterId });
  await broker.groups.loadIfPresent();
  await broker.transactions.loadIfPresent();

  let server: Server;
  try {
    server = await startServer({
      host: config.host,
      port: config.port,
      dispatcher: createDispatcher(broker, HANDLERS, logger.child('request')),
      maxFrameBytes: config.socketRequestMaxBytes,
      logger: logger.child('network'),
    });
  } catch (err) {
    await logs.close();
    throw new ConfigError(`cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`);
  }
  broker.advertised = { host: config.advertisedHost ?? server.host, port: config.advertisedPort ?? server.port };
  logs.startRetention();
  logs.startCleaner();

  let closed: Promise<void> | undefined;
  return {
    host: server.host,
    port: server.port,
    bootstrap: `${server.host}:${server.port}`,
    dataDir: config.dataDir,
    broker,
    startup: {
      topics: recovered.topics,
      partitions: recovered.partitions,
      failedPartitions: recovered.failed,
      readyMs: performance.now() - started,
    },
    close() {
      closed ??= (async () => {
        broker.closing = true;
        broker.waiters.wakeAll();
        broker.groups.close();
        broker.transactions.close();
        await server.close();
        await logs.close();
        await unlock();
        logger.info('broker stopped', { version: VERSION });
      })();
      return closed;
    },
  };
}

/** Creates the data dir if needed and checks that it is a writable directory. */
async function prepareDataDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
    const stat = await fs.stat(dir);
    if (!stat.isDirectory()) throw new Error('not a directory');
    await fs.access(dir, fs.constants.R_OK | fs.constants.W_OK);
  } catch (err) {
    throw new ConfigError(`data directory ${dir} is not usable: ${(err as Error).message}`);
  }
}
