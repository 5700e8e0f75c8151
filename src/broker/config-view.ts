/**
 * The described form of topic and broker configs — value, source, synonyms, type,
 * documentation — shared by DescribeConfigs and the CreateTopics (v5+) response.
 */
import { BROKER_CONFIGS, ConfigSource, TOPIC_CONFIGS, type ConfigDef } from '../metadata/config-defs.ts';
import type { BrokerConfig } from './broker-config.ts';

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
  const out: DescribedConfig[] = [];
  for (const def of selected(TOPIC_CONFIGS, keys)) {
    const chain: { name: string; value: string | null; source: number }[] = [];
    if (overrides[def.name] !== undefined) {
      chain.push({ name: def.name, value: overrides[def.name]!, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
    }
    const brokerValue = def.brokerSynonym ? config.explicit.get(def.brokerSynonym) : undefined;
    if (def.brokerSynonym && brokerValue !== undefined) {
      chain.push({ name: def.brokerSynonym, value: brokerValue, source: ConfigSource.STATIC_BROKER_CONFIG });
    }
    chain.push({ name: def.brokerSynonym ?? def.name, value: def.default, source: ConfigSource.DEFAULT_CONFIG });
    out.push(describe(def, chain, false, opts));
  }
  return out;
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
  const out: DescribedConfig[] = [];
  for (const def of selected(BROKER_CONFIGS, keys)) {
    const chain: { name: string; value: string | null; source: number }[] = [];
    const value = runtime[def.name] ?? config.explicit.get(def.name);
    if (value !== undefined) chain.push({ name: def.name, value, source: ConfigSource.STATIC_BROKER_CONFIG });
    chain.push({ name: def.name, value: def.default, source: ConfigSource.DEFAULT_CONFIG });
    out.push(describe(def, chain, true, opts));
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
  chain: { name: string; value: string | null; source: number }[],
  readOnly: boolean,
  opts: { synonyms: boolean; documentation: boolean },
): DescribedConfig {
  const effective = chain[0]!;
  const hide = (v: string | null) => (def.sensitive ? null : v);
  return {
    name: def.name,
    value: hide(effective.value),
    readOnly: readOnly || def.readOnly === true,
    isDefault: effective.source === ConfigSource.DEFAULT_CONFIG,
    configSource: effective.source,
    isSensitive: def.sensitive === true,
    synonyms: opts.synonyms ? chain.map((s) => ({ ...s, value: hide(s.value) })) : [],
    configType: def.type,
    documentation: opts.documentation ? def.doc : null,
  };
}
