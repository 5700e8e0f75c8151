/**
 * The rules of AlterConfigs and IncrementalAlterConfigs as pure functions, so they can be
 * tested without a broker: the request-shape checks (repeated keys, null values), the four
 * incremental operations, and the validation of a resulting config set. They follow Apache
 * Kafka 4.x — ConfigAdminManager (broker resources), ConfigurationControlManager (topic
 * resources) and LogConfig.validate — including its error codes and messages.
 */
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { BROKER_CONFIGS, ConfigType, TOPIC_CONFIGS, topicConfigOfSynonym } from './config-defs.ts';
import { invalidValueMessage } from './config-validators.ts';

export const ConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;
const OP_NAMES = ['SET', 'DELETE', 'APPEND', 'SUBTRACT'];

export interface ConfigChange {
  name: string;
  /** ConfigOp; AlterConfigs entries are SETs. */
  op: number;
  value: string | null;
}

export type Configs = Record<string, string>;

/** Kafka's checks of one resource before anything else: a key twice, a null value to set, an unknown operation. */
export function checkChanges(changes: ConfigChange[]): KafkaError | null {
  if (new Set(changes.map((c) => c.name)).size !== changes.length) {
    return new KafkaError(ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys');
  }
  const nulls = changes.filter((c) => c.op !== ConfigOp.DELETE && c.value === null).map((c) => c.name);
  if (nulls.length > 0) return new KafkaError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${nulls.join(', ')}`);
  const unknown = changes.find((c) => !(c.op in OP_NAMES));
  if (unknown) return new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown operations type ${unknown.op}`);
  return null;
}

/** Java's String.split(","): trailing empty strings are dropped. */
function javaSplit(v: string): string[] {
  const parts = v.split(',');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** SET and DELETE as such; APPEND and SUBTRACT through `listOp` (the rules differ by resource). */
function applyChanges(
  current: Configs,
  changes: ConfigChange[],
  listOp: (c: ConfigChange, old: string | undefined) => string | KafkaError,
): Configs | KafkaError {
  const next: Configs = { ...current };
  for (const c of changes) {
    if (c.op === ConfigOp.SET) next[c.name] = c.value!;
    else if (c.op === ConfigOp.DELETE) delete next[c.name];
    else {
      const value = listOp(c, next[c.name]);
      if (value instanceof KafkaError) return value;
      next[c.name] = value;
    }
  }
  return next;
}

/** A topic's overrides after incremental changes (the controller's rules), or the error. */
export function applyTopicChanges(current: Configs, changes: ConfigChange[]): Configs | KafkaError {
  return applyChanges(current, changes, (c, old) => {
    const def = TOPIC_CONFIGS.get(c.name);
    if (def?.type !== ConfigType.LIST) {
      return new KafkaError(ErrorCode.INVALID_CONFIG, `Can't ${OP_NAMES[c.op]} to key ${c.name} because its type is not LIST.`);
    }
    const parts = javaSplit(old ?? def.default ?? '').filter((p) => p !== '');
    for (const v of javaSplit(c.value!)) {
      if (c.op === ConfigOp.APPEND && !parts.includes(v)) parts.push(v);
      if (c.op === ConfigOp.SUBTRACT && parts.includes(v)) parts.splice(parts.indexOf(v), 1);
    }
    return parts.join(',');
  });
}

/** Dynamic broker configs after incremental changes (the forwarding broker's rules), or the error. */
export function applyBrokerChanges(current: Configs, changes: ConfigChange[]): Configs | KafkaError {
  return applyChanges(current, changes, (c, old) => {
    const def = BROKER_CONFIGS.get(c.name);
    if (!def) return new KafkaError(ErrorCode.INVALID_CONFIG, `Unknown config name: ${c.name}`);
    const verb = c.op === ConfigOp.APPEND ? 'append' : 'subtract';
    if (def.type !== ConfigType.LIST) {
      return new KafkaError(ErrorCode.INVALID_CONFIG, `Config value ${verb} is not allowed for config key: ${c.name}`);
    }
    const values = javaSplit(c.value!);
    if (c.op === ConfigOp.APPEND) {
      const parts = javaSplit(old ?? def.default ?? '').filter((p) => p !== '');
      return [...parts, ...values.filter((v) => !parts.includes(v))].join(',');
    }
    const parts = (old ?? def.default ?? '').split(',');
    for (const v of values) if (parts.includes(v)) parts.splice(parts.indexOf(v), 1);
    return parts.join(',');
  });
}

/** LogConfig.validate: unknown names, then values, then the cross-config rules. INVALID_CONFIG. */
export function validateTopicConfigs(configs: Configs): KafkaError | null {
  const invalid = (message: string) => new KafkaError(ErrorCode.INVALID_CONFIG, message);
  const unknown = Object.keys(configs).find((name) => !TOPIC_CONFIGS.has(name));
  if (unknown !== undefined) return invalid(`Unknown topic config name: ${unknown}`);
  for (const [name, value] of Object.entries(configs)) {
    const bad = TOPIC_CONFIGS.get(name)!.validate?.(value);
    if (bad) return invalid(invalidValueMessage(name, bad));
  }
  const minLag = BigInt((configs['min.compaction.lag.ms'] ?? '0').trim());
  const maxLag = BigInt((configs['max.compaction.lag.ms'] ?? TOPIC_CONFIGS.get('max.compaction.lag.ms')!.default!).trim());
  if (minLag > maxLag) {
    return invalid(`conflict topic config setting min.compaction.lag.ms (${minLag}) > max.compaction.lag.ms (${maxLag})`);
  }
  if (configs['remote.storage.enable']?.trim().toLowerCase() === 'true') {
    return invalid('Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.');
  }
  return null;
}

/**
 * DynamicBrokerConfig.validate: read-only keys, then values. Kafka answers INVALID_REQUEST
 * for both (KAFKA-13609). Unknown names are accepted and kept, as Kafka keeps custom configs.
 */
export function validateBrokerConfigs(configs: Configs): KafkaError | null {
  const readOnly = Object.keys(configs).filter((name) => BROKER_CONFIGS.has(name) && !BROKER_CONFIGS.get(name)!.dynamic);
  if (readOnly.length > 0) {
    return new KafkaError(ErrorCode.INVALID_REQUEST, `Cannot update these configs dynamically: [${readOnly.join(', ')}]`);
  }
  for (const [name, value] of Object.entries(configs)) {
    // A topic default is held to the topic config's rules (log.segment.bytes: at least 1 MiB).
    const validate = topicConfigOfSynonym(name)?.validate ?? BROKER_CONFIGS.get(name)?.validate;
    const bad = validate?.(value);
    if (bad) return new KafkaError(ErrorCode.INVALID_REQUEST, invalidValueMessage(name, bad));
  }
  return null;
}
