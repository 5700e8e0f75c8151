/**
 * Configuration and shared types of the KIP-848 consumer-group coordinator. `Result` has the
 * same shape as the classic coordinator's (../group/types.ts), with this module's records.
 */
import type { ErrorCode } from '../../common/errors.ts';
import type { ConsumerGroupRecord } from './records.ts';

export interface ConsumerCoordinatorConfig {
  /** group.consumer.session.timeout.ms */
  sessionTimeoutMs: number;
  /** group.consumer.heartbeat.interval.ms */
  heartbeatIntervalMs: number;
  /** group.consumer.max.size */
  maxGroupSize: number;
}

export const DEFAULT_CONSUMER_CONFIG: ConsumerCoordinatorConfig = {
  sessionTimeoutMs: 45_000,
  heartbeatIntervalMs: 5_000,
  maxGroupSize: 2_147_483_647,
};

/** What the handler knows about the request besides its body. */
export interface RequestContext {
  clientId: string;
  /** The client's address as Kafka shows it (e.g. "/127.0.0.1"). */
  clientHost: string;
  apiVersion: number;
}

/** A topic as the metadata layer knows it; undefined if the topic does not exist. */
export type TopicLookup = (topic: string) => { id: string; partitions: number } | undefined;

/**
 * Append `records` (each to `partitionFor(record.groupId)`), then `complete(null)` once they
 * are durable or `complete(errorCode)` if the append failed. In order, once each.
 */
export interface Result<R> {
  readonly records: readonly ConsumerGroupRecord[];
  complete(appendError: ErrorCode | null): R;
}

/** The member epoch sent to leave the group. */
export const LEAVE_GROUP_MEMBER_EPOCH = -1;
/** The member epoch a static member sends to leave temporarily (it will rejoin). */
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;
/** From ConsumerGroupHeartbeat v1 the client generates its member id (KIP-1082). */
export const CONSUMER_GENERATED_MEMBER_ID_REQUIRED_VERSION = 1;
