/**
 * Helpers shared by the config admin suites (DescribeConfigs, AlterConfigs,
 * IncrementalAlterConfigs): resource types, config sources, and "describe one topic" /
 * "alter and wait until the change shows" steps. Apache Kafka applies a config change to its
 * metadata cache a moment after answering, so reads after a change poll with `eventually`.
 */
import assert from 'node:assert/strict';
import { E, eventually, type Any, type RawClient } from './helpers.ts';

export const TOPIC = 2;
export const BROKER = 4;
export const BROKER_LOGGER = 8;
export const Source = {
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;
export const Op = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

export const K_ALTER = 33;
export const K_INCREMENTAL = 44;
export const K_DESCRIBE = 32;

/** DescribeConfigs v4 of one resource: name → described config. */
export async function describeResource(
  c: RawClient,
  resourceType: number,
  resourceName: string,
  keys: string[] | null = null,
  synonyms = false,
): Promise<Map<string, Any>> {
  const res = await c.request(K_DESCRIBE, 4, {
    resources: [{ resourceType, resourceName, configurationKeys: keys }],
    includeSynonyms: synonyms,
    includeDocumentation: false,
  });
  const r = res.results[0];
  assert.equal(r.errorCode, E.NONE, r.errorMessage);
  return new Map(r.configs.map((x: Any) => [x.name, x]));
}

/** Value and source of a topic config. */
export async function topicConfig(c: RawClient, topic: string, name: string): Promise<{ value: string | null; source: number }> {
  const x = (await describeResource(c, TOPIC, topic, [name])).get(name);
  return { value: x.value, source: x.configSource };
}

/** Waits until a topic config has the given value (and source, if given). */
export async function awaitTopicConfig(c: RawClient, topic: string, name: string, value: string, source?: number): Promise<void> {
  await eventually(async () => {
    const x = await topicConfig(c, topic, name);
    return x.value === value && (source === undefined || x.source === source);
  }, `${topic} ${name}=${value}`);
}

/** Every result of an alter response as [errorCode, errorMessage] in request order. */
export function outcomes(res: Any): [number, string | null][] {
  return res.responses.map((r: Any) => [r.errorCode, r.errorMessage]);
}
