/**
 * The config admin service behind AlterConfigs and IncrementalAlterConfigs: checks a change
 * to a topic's overrides or to the dynamic broker configs the way Kafka 4.x does, persists it
 * (topic overrides in the topic store, dynamic broker configs in `_meta/broker-configs.json`)
 * and puts it in force at once (TopicManager.refreshSettings hands the logs their new
 * LogConfig). Handlers pass a function from the current configs to the new ones, so the
 * legacy whole-set API and the incremental one share every other step.
 *
 * Each change is computed from the in-memory state and applied to it synchronously before
 * the write is awaited, so concurrent requests on one resource see each other's changes.
 */
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { validateBrokerConfigs, validateTopicConfigs, type Configs } from '../metadata/config-changes.ts';
import type { DynamicConfigStore, DynamicScope } from '../metadata/dynamic-config-store.ts';
import { topicNameProblem } from '../metadata/topic-names.ts';
import type { BrokerConfig } from './broker-config.ts';
import type { TopicManager } from './topics.ts';

export type ConfigUpdate = (current: Configs) => Configs | KafkaError;

export class ConfigAdmin {
  readonly #topics: TopicManager;
  readonly #config: BrokerConfig;
  readonly #store: DynamicConfigStore;

  /** Puts the persisted dynamic broker configs in force (before the logs are opened). */
  constructor(opts: { topics: TopicManager; config: BrokerConfig; store: DynamicConfigStore }) {
    this.#topics = opts.topics;
    this.#config = opts.config;
    this.#store = opts.store;
    this.#publish();
  }

  /** A topic's overrides: validated, then (unless validateOnly) persisted and applied. */
  async alterTopic(name: string, update: ConfigUpdate, validateOnly: boolean): Promise<KafkaError | null> {
    if (name === '') return new KafkaError(ErrorCode.INVALID_REQUEST, 'Default topic resources are not allowed.');
    const nameProblem = topicNameProblem(name);
    if (nameProblem) return new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem);
    const topic = this.#topics.get(name);
    const next = update(topic?.configs ?? {});
    if (next instanceof KafkaError) return next;
    const invalid = validateTopicConfigs(next);
    if (invalid) return invalid;
    if (!topic) return new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`);
    if (!validateOnly) await this.#topics.setConfigs(name, next);
    return null;
  }

  /**
   * Dynamic broker configs: resource "" (cluster-wide defaults) or this broker's id. Applied
   * to every topic's settings. Broker settings read once at start (log.cleaner.backoff.ms)
   * take a changed value at the next start.
   */
  async alterBroker(resourceName: string, update: ConfigUpdate, validateOnly: boolean): Promise<KafkaError | null> {
    const scope = this.#scope(resourceName);
    if (scope instanceof KafkaError) return scope;
    const next = update({ ...this.#store.get(scope) });
    if (next instanceof KafkaError) return next;
    const invalid = validateBrokerConfigs(next);
    if (invalid) return invalid;
    if (validateOnly) return null;
    const written = this.#store.set(scope, next);
    this.#publish();
    await written;
    return null;
  }

  #scope(resourceName: string): DynamicScope | KafkaError {
    if (resourceName === '') return 'clusterDefault';
    if (!/^-?\d+$/.test(resourceName)) {
      return new KafkaError(ErrorCode.INVALID_REQUEST, `Node id must be an integer, but it is: ${resourceName}`);
    }
    if (Number(resourceName) !== this.#config.nodeId) {
      return new KafkaError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${this.#config.nodeId}, but received ${resourceName}`);
    }
    return 'perBroker';
  }

  #publish(): void {
    this.#config.dynamic = {
      perBroker: new Map(Object.entries(this.#store.get('perBroker'))),
      clusterDefault: new Map(Object.entries(this.#store.get('clusterDefault'))),
    };
    this.#topics.refreshSettings();
  }
}
