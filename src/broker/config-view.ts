/**
 * The described form of topic and broker configs — value, source, synonyms, type,
 * documentation — shared by DescribeConfigs and the CreateTopics (v5+) response. Sources and
 * synonym order follow Kafka's ConfigHelper: topic override, dynamic per-broker, dynamic
 * cluster-wide, static, default.
 */
import { BROKER_CONFIGS, ConfigSource, ConfigType, TOPIC_CONFIGS, type ConfigDef } from '../metadata/config-defs.ts';
import { brokerConfigChain, topicConfigValue, type BrokerConfig, type ConfigSynonym } from './broker-config.ts';

export interface DescribedConfig {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  configSource: number;
  isSensitive: boolean;
  synonyms: { name: string; value: string | null; source: number }[];
  configType: number;
  documentation: string | null;
}

/** Every topic config (or only `keys`) of a topic with the given overrides. */
export function describeTopicConfigs(
  config: BrokerConfig,
  overrides: Record<string, string>,
  keys: string[] | null,
  opts: { synonyms: boolean; documentation: boolean },
): DescribedConfig[] {
  return selected(TOPIC_CONFIGS, keys).map((def) => {
    const chain: ConfigSynonym[] = [];
    if (overrides[def.name] !== undefined) {
      chain.push({ name: def.name, value: overrides[def.name]!, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
    }
    if (def.brokerSynonym) chain.push(...brokerConfigChain(config, def.brokerSynonym));
    const value = topicConfigValue(config, overrides, def.name);
    return describe(def, value, chain, false, opts);
  });
}

/** Every broker config (or only `keys`), with the values this broker runs with. */
export function describeBrokerConfigs(
  config: BrokerConfig,
  advertised: { host: string; port: number },
  keys: string[] | null,
  opts: { synonyms: boolean; documentation: boolean },
): DescribedConfig[] {
  const runtime: Record<string, string> = {
    'node.id': String(config.nodeId),
    'broker.id': String(config.nodeId),
    listeners: `PLAINTEXT://${config.host}:${config.port}`,
    'advertised.listeners': `PLAINTEXT://${advertised.host}:${advertised.port}`,
    'log.dirs': config.dataDir,
  };
  return selected(BROKER_CONFIGS, keys).map((def) => {
    const chain = brokerConfigChain(config, def.name);
    const run = runtime[def.name];
    if (run !== undefined) chain.unshift({ name: def.name, value: run, source: ConfigSource.STATIC_BROKER_CONFIG });
    return describe(def, chain[0]?.value ?? null, chain, !def.dynamic, opts);
  });
}

/**
 * The cluster-wide dynamic defaults (broker resource ""): only the configs set there, each with
 * its DYNAMIC_DEFAULT_BROKER_CONFIG synonym alone, as Kafka describes them. Names Tributary does
 * not know (Kafka keeps custom configs) are described with type UNKNOWN.
 */
export function describeClusterDefaults(
  config: BrokerConfig,
  keys: string[] | null,
  opts: { synonyms: boolean; documentation: boolean },
): DescribedConfig[] {
  const wanted = keys === null || keys.length === 0 ? null : new Set(keys);
  const out: DescribedConfig[] = [];
  for (const [name, value] of config.dynamic.clusterDefault) {
    if (wanted && !wanted.has(name)) continue;
    const def = BROKER_CONFIGS.get(name) ?? { name, type: ConfigType.UNKNOWN, default: null, doc: '' };
    const chain = [{ name, value, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG }];
    out.push(describe(def, value, chain, !def.dynamic, opts));
  }
  return out;
}

/** The configs asked for; null or an empty list means all of them, as in Kafka. */
function selected(defs: ReadonlyMap<string, ConfigDef>, keys: string[] | null): ConfigDef[] {
  if (keys === null || keys.length === 0) return [...defs.values()];
  return keys.map((k) => defs.get(k)).filter((d): d is ConfigDef => d !== undefined);
}

function describe(
  def: ConfigDef,
  value: string | null,
  chain: ConfigSynonym[],
  readOnly: boolean,
  opts: { synonyms: boolean; documentation: boolean },
): DescribedConfig {
  const source = chain[0]?.source ?? ConfigSource.DEFAULT_CONFIG;
  const hide = (v: string | null) => (def.sensitive ? null : v);
  return {
    name: def.name,
    value: hide(value),
    readOnly,
    isDefault: source === ConfigSource.DEFAULT_CONFIG,
    configSource: source,
    isSensitive: def.sensitive === true,
    synonyms: opts.synonyms ? chain.map((s) => ({ ...s, value: hide(s.value) })) : [],
    configType: def.type,
    documentation: opts.documentation ? def.doc || null : null,
  };
}
