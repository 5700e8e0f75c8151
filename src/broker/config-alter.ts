/**
 * The request walk AlterConfigs (33) and IncrementalAlterConfigs (44) share, in Kafka 4.x's
 * order (ConfigAdminManager.preprocess, then the controller): a resource named twice gets
 * INVALID_REQUEST for each occurrence; then per resource the shape checks (repeated keys,
 * null values), then the topic or broker change through ConfigAdmin. Results come back in
 * request order, one per resource.
 */
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { applyBrokerChanges, applyTopicChanges, checkChanges, type ConfigChange, type Configs } from '../metadata/config-changes.ts';
import type { ConfigAdmin } from './topic-configs.ts';

export const RESOURCE_TOPIC = 2;
export const RESOURCE_BROKER = 4;
export const RESOURCE_BROKER_LOGGER = 8;

export interface AlterResource {
  resourceType: number;
  resourceName: string;
  changes: ConfigChange[];
}

export interface AlterResult {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}

/** 'replace': the legacy API (the request's set becomes the whole set); 'incremental': ops. */
export async function alterConfigResources(
  admin: ConfigAdmin,
  resources: AlterResource[],
  mode: 'replace' | 'incremental',
  validateOnly: boolean,
): Promise<AlterResult[]> {
  const counts = new Map<string, number>();
  const key = (r: AlterResource) => `${r.resourceType}\u0000${r.resourceName}`;
  for (const r of resources) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1);
  const results: AlterResult[] = [];
  for (const r of resources) {
    const error = counts.get(key(r))! > 1
      ? new KafkaError(ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.')
      : await alterOne(admin, r, mode, validateOnly);
    results.push({
      errorCode: error?.code ?? ErrorCode.NONE,
      errorMessage: error ? error.message : null,
      resourceType: r.resourceType,
      resourceName: r.resourceName,
    });
  }
  return results;
}

async function alterOne(admin: ConfigAdmin, r: AlterResource, mode: 'replace' | 'incremental', validateOnly: boolean): Promise<KafkaError | null> {
  const shape = checkChanges(r.changes);
  if (shape) return shape;
  const replace = (): Configs => Object.fromEntries(r.changes.map((c) => [c.name, c.value!]));
  switch (r.resourceType) {
    case RESOURCE_TOPIC:
      return admin.alterTopic(r.resourceName, mode === 'replace' ? replace : (cur) => applyTopicChanges(cur, r.changes), validateOnly);
    case RESOURCE_BROKER:
      return admin.alterBroker(r.resourceName, mode === 'replace' ? replace : (cur) => applyBrokerChanges(cur, r.changes), validateOnly);
    case RESOURCE_BROKER_LOGGER:
      // Kafka's IncrementalAlterConfigs sets log4j levels here; Tributary's loggers have no
      // runtime levels, so both APIs refuse it as Kafka's legacy AlterConfigs does.
      return new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown resource type ${r.resourceType}`);
    default:
      return new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown resource type ${r.resourceType}`);
  }
}
