/**
 * The topic service: topic metadata (TopicStore) and partition logs (LogManager) kept in step.
 * Create, delete and grow topics; resolve a partition's log and its effective settings.
 *
 * Crash safety: a topic is first recorded in the store, then its logs are created; on start,
 * missing logs of known topics are created and logs of unknown topics (a crash during
 * deletion) are removed.
 */
import type { Clock } from '../common/clock.ts';
import { ErrorCode, KafkaError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { validateTopicConfigs } from '../metadata/config-changes.ts';
import { collisionKey, isInternalTopic, topicNameProblem } from '../metadata/topic-names.ts';
import type { TopicRecord, TopicStore } from '../metadata/topic-store.ts';
import type { LogManager } from '../storage/log-manager.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import { topicSettings, type BrokerConfig, type TopicSettings } from './broker-config.ts';
import { LEADER_EPOCH } from './leader-epoch.ts';

export const MAX_PARTITIONS = 100_000;

export interface CreateTopicRequest {
  name: string;
  /** -1: the broker's num.partitions. */
  partitions: number;
  /** -1 or 1 on a single broker. */
  replicationFactor: number;
  configs: Record<string, string | null>;
  validateOnly?: boolean;
}

export class TopicManager {
  readonly store: TopicStore;
  readonly logs: LogManager;
  #config: BrokerConfig;
  #logger: Logger;
  #clock: Clock;
  #settings = new Map<string, TopicSettings>();
  /** Names being created or deleted right now, to refuse concurrent duplicates. */
  #busy = new Set<string>();
  /** Partitions whose logs could not be opened (e.g. corruption): `${topic}-${partition}` → reason. */
  readonly failedPartitions = new Map<string, string>();

  constructor(opts: { store: TopicStore; logs: LogManager; config: BrokerConfig; clock: Clock; logger: Logger }) {
    this.store = opts.store;
    this.logs = opts.logs;
    this.#config = opts.config;
    this.#logger = opts.logger;
    this.#clock = opts.clock;
  }

  /** Opens every partition log, creating missing ones and removing orphans. */
  async load(): Promise<{ topics: number; partitions: number; failed: number }> {
    const { loaded, failed } = await this.logs.loadAll((topic) => this.settings(topic).log);
    for (const f of failed) {
      const reason = f.error.message;
      this.failedPartitions.set(`${f.topic}-${f.partition}`, reason);
      this.#logger.error('partition refused: its log could not be recovered', {
        topic: f.topic,
        partition: f.partition,
        error: reason,
      });
    }
    const orphans = new Set(loaded.filter((l) => !this.store.get(l.topic)).map((l) => l.topic));
    for (const topic of orphans) {
      this.#logger.warn('removing logs of a topic that is not in the metadata (interrupted delete)', { topic });
      await this.logs.deleteTopic(topic);
    }
    let partitions = 0;
    for (const t of this.store.list()) {
      for (let p = 0; p < t.partitions; p++) {
        if (this.failedPartitions.has(`${t.name}-${p}`)) continue;
        const log = this.logs.get(t.name, p) ?? (await this.logs.create(t.name, p, this.settings(t.name).log));
        log.assignLeaderEpoch(LEADER_EPOCH);
        partitions++;
      }
    }
    return { topics: this.store.list().length, partitions, failed: failed.length };
  }

  get(name: string): TopicRecord | undefined {
    return this.store.get(name);
  }

  getById(id: string): TopicRecord | undefined {
    return this.store.getById(id);
  }

  list(): TopicRecord[] {
    return this.store.list();
  }

  /** The effective settings of a topic (overrides, then broker config, then defaults). */
  settings(name: string): TopicSettings {
    let s = this.#settings.get(name);
    if (!s) {
      s = topicSettings(this.#config, this.store.get(name)?.configs ?? {});
      this.#settings.set(name, s);
    }
    return s;
  }

  /**
   * Replaces a topic's config overrides (AlterConfigs): persisted, then in force at once —
   * the topic's settings are recomputed and every partition log gets its new LogConfig.
   */
  async setConfigs(name: string, configs: Record<string, string>): Promise<void> {
    await this.store.updateConfigs(name, configs);
    this.refreshSettings([name]);
  }

  /**
   * Recomputes the settings of the given topics (all of them after a broker config change)
   * and hands each partition log its new LogConfig; PartitionLog reads `config` on every
   * append, roll, retention and cleaner pass, so the change applies from the next one.
   */
  refreshSettings(names: string[] = this.store.list().map((t) => t.name)): void {
    for (const name of names) {
      this.#settings.delete(name);
      const t = this.store.get(name);
      if (!t) continue;
      const log = this.settings(name).log;
      for (let p = 0; p < t.partitions; p++) {
        const partition = this.logs.get(name, p);
        if (partition) partition.config = log;
      }
    }
  }

  /**
   * The log of a partition, or the Kafka error a client gets for it: unknown topic or
   * partition, or KAFKA_STORAGE_ERROR for a partition refused at recovery or gone offline.
   */
  partition(topic: string, partition: number): PartitionLog | KafkaError {
    const t = this.store.get(topic);
    if (!t || partition < 0 || partition >= t.partitions) {
      return new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
    }
    const log = this.logs.get(topic, partition);
    if (!log || log.offline) {
      const reason = this.failedPartitions.get(`${topic}-${partition}`) ?? 'log is offline after an I/O error';
      return new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, reason);
    }
    return log;
  }

  /** Validates and (unless validateOnly) creates a topic. */
  async create(req: CreateTopicRequest): Promise<TopicRecord | KafkaError> {
    const problem = this.#checkCreate(req);
    if (problem) return problem;
    const partitions = req.partitions === -1 ? this.#config.numPartitions : req.partitions;
    const configs: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.configs)) configs[k] = v!;
    const record = { name: req.name, partitions, configs, createdAtMs: this.#clock.now() };
    if (req.validateOnly) return { ...record, id: '' };
    this.#busy.add(req.name);
    try {
      const created = await this.store.create(record);
      this.#settings.delete(req.name);
      const log = this.settings(req.name).log;
      for (let p = 0; p < partitions; p++) (await this.logs.create(req.name, p, log)).assignLeaderEpoch(LEADER_EPOCH);
      this.#logger.info('created topic', { topic: req.name, partitions, id: created.id });
      return created;
    } finally {
      this.#busy.delete(req.name);
    }
  }

  #checkCreate(req: CreateTopicRequest): KafkaError | null {
    const nameProblem = topicNameProblem(req.name);
    if (nameProblem) return new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem);
    if (this.store.get(req.name) || this.#busy.has(req.name)) {
      return new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${req.name}' already exists.`);
    }
    const key = collisionKey(req.name);
    const collides = this.store.list().find((t) => collisionKey(t.name) === key);
    if (collides) {
      return new KafkaError(
        ErrorCode.INVALID_TOPIC_EXCEPTION,
        `Topic '${req.name}' collides with existing topic: ${collides.name}`,
      );
    }
    if (isInternalTopic(req.name)) {
      return new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${req.name}' is reserved for internal use.`);
    }
    if (req.partitions === 0 || req.partitions < -1 || req.partitions > MAX_PARTITIONS) {
      return new KafkaError(ErrorCode.INVALID_PARTITIONS, `Number of partitions must be larger than 0 (got ${req.partitions}).`);
    }
    if (req.replicationFactor === 0 || req.replicationFactor < -1) {
      return new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0, or -1 to use the default value.');
    }
    if (req.replicationFactor > 1) {
      return new KafkaError(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `Unable to replicate the partition ${req.replicationFactor} time(s): The target replication factor of ${req.replicationFactor} cannot be reached because only 1 broker(s) are registered.`,
      );
    }
    const nulls = Object.keys(req.configs).filter((k) => req.configs[k] === null);
    if (nulls.length > 0) return new KafkaError(ErrorCode.INVALID_CONFIG, `Null value not supported for topic configs: ${nulls.join(',')}`);
    return validateTopicConfigs(req.configs as Record<string, string>);
  }

  /**
   * Creates an internal topic (`__consumer_offsets`, later `__transaction_state`): the broker's
   * own, so the reserved-name rule that refuses clients does not apply.
   */
  async createInternal(name: string, partitions: number, configs: Record<string, string>): Promise<TopicRecord | KafkaError> {
    if (!isInternalTopic(name)) throw new Error(`${name} is not an internal topic`);
    if (this.store.get(name) || this.#busy.has(name)) {
      return new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
    }
    this.#busy.add(name);
    try {
      const created = await this.store.create({ name, partitions, configs, createdAtMs: this.#clock.now() });
      this.#settings.delete(name);
      const log = this.settings(name).log;
      for (let p = 0; p < partitions; p++) (await this.logs.create(name, p, log)).assignLeaderEpoch(LEADER_EPOCH);
      this.#logger.info('created internal topic', { topic: name, partitions, id: created.id });
      return created;
    } finally {
      this.#busy.delete(name);
    }
  }

  async delete(name: string): Promise<TopicRecord | KafkaError> {
    const t = this.store.get(name);
    if (!t || this.#busy.has(name)) {
      return new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
    }
    if (!this.#config.deleteTopicEnable) {
      return new KafkaError(ErrorCode.TOPIC_DELETION_DISABLED, 'Topic deletion is disabled.');
    }
    if (isInternalTopic(name)) {
      return new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Internal topic ${name} cannot be deleted.`);
    }
    this.#busy.add(name);
    try {
      await this.store.delete(name);
      this.#settings.delete(name);
      for (let p = 0; p < t.partitions; p++) this.failedPartitions.delete(`${name}-${p}`);
      await this.logs.deleteTopic(name);
      this.#logger.info('deleted topic', { topic: name, id: t.id });
      return t;
    } finally {
      this.#busy.delete(name);
    }
  }

  /** CreatePartitions: grows a topic to `count` partitions. */
  async addPartitions(name: string, count: number, validateOnly: boolean): Promise<TopicRecord | KafkaError> {
    const t = this.store.get(name);
    if (!t || this.#busy.has(name)) {
      return new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
    }
    if (count < t.partitions) {
      return new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic currently has ${t.partitions} partitions, which is higher than the requested ${count}.`);
    }
    if (count === t.partitions) {
      return new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${t.partitions} partitions.`);
    }
    if (count > MAX_PARTITIONS) {
      return new KafkaError(ErrorCode.INVALID_PARTITIONS, `Too many partitions: ${count}.`);
    }
    if (validateOnly) return { ...t, partitions: count };
    this.#busy.add(name);
    try {
      const updated = await this.store.update(name, { partitions: count });
      const log = this.settings(name).log;
      for (let p = t.partitions; p < count; p++) (await this.logs.create(name, p, log)).assignLeaderEpoch(LEADER_EPOCH);
      this.#logger.info('added partitions', { topic: name, from: t.partitions, to: count });
      return updated;
    } finally {
      this.#busy.delete(name);
    }
  }
}
