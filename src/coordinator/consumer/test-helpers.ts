/** The harness the consumer-group tests share (not a test). */
import { ManualClock } from '../../common/clock.ts';
import { ErrorCode } from '../../common/errors.ts';
import type { ConsumerGroupHeartbeatRequest } from '../../protocol/messages/consumer-group-heartbeat-request.generated.ts';
import type { ConsumerGroupHeartbeatResponse } from '../../protocol/messages/consumer-group-heartbeat-response.generated.ts';
import { uuidFromHex } from '../../protocol/primitives/uuid.ts';
import { fromTopicPartitions, type Assignment } from './assignment.ts';
import { ConsumerGroupCoordinator } from './coordinator.ts';
import type { ConsumerGroupRecord } from './records.ts';
import type { ConsumerCoordinatorConfig, Result } from './types.ts';

export function topicId(n: number): string {
  return uuidFromHex(n.toString(16).padStart(32, '0'));
}

export class Harness {
  readonly clock = new ManualClock();
  readonly topics = new Map<string, { id: string; partitions: number }>();
  /** Every record appended, in order (timer results included). */
  readonly log: ConsumerGroupRecord[] = [];
  /** Make the next appends fail with this error. */
  failAppends: ErrorCode | null = null;
  readonly coordinator: ConsumerGroupCoordinator;
  #ids = 0;

  constructor(config: Partial<ConsumerCoordinatorConfig> = {}, listTopics?: () => Iterable<string>) {
    this.coordinator = new ConsumerGroupCoordinator({
      clock: this.clock,
      ...(listTopics ? { listTopics } : {}),
      metadata: (t) => this.topics.get(t),
      config,
      onTimerResult: (r) => this.run(r),
      newUuid: () => `srv-${++this.#ids}`,
    });
  }

  addTopic(name: string, partitions: number, id = topicId(this.topics.size + 1)): string {
    this.topics.set(name, { id, partitions });
    return id;
  }

  id(name: string): string {
    return this.topics.get(name)!.id;
  }

  run<R>(r: Result<R>): R {
    if (this.failAppends !== null && r.records.length > 0) return r.complete(this.failAppends);
    this.log.push(...r.records);
    return r.complete(null);
  }

  hb(req: Partial<ConsumerGroupHeartbeatRequest> & { memberId: string; memberEpoch: number }, apiVersion = 1): ConsumerGroupHeartbeatResponse {
    const full: ConsumerGroupHeartbeatRequest = {
      groupId: 'g',
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: -1,
      subscribedTopicNames: null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: null,
      ...req,
    };
    return this.run(this.coordinator.heartbeat({ clientId: 'c', clientHost: '/127.0.0.1', apiVersion }, full));
  }

  /** A first heartbeat (epoch 0) subscribing to `topics`. */
  join(memberId: string, topics: string[], extra: Partial<ConsumerGroupHeartbeatRequest> = {}): ConsumerGroupHeartbeatResponse {
    return this.hb({ memberId, memberEpoch: 0, rebalanceTimeoutMs: 30_000, subscribedTopicNames: topics, topicPartitions: [], ...extra });
  }

  /** Name-keyed view of an assignment, e.g. { t: [0, 1] }. */
  named(a: Assignment | { topicPartitions: { topicId: string; partitions: number[] }[] } | null): Record<string, number[]> | null {
    if (a === null) return null;
    const asg = 'topicPartitions' in a && Array.isArray(a.topicPartitions) ? fromTopicPartitions(a.topicPartitions as { topicId: string; partitions: number[] }[]) : (a as Assignment);
    const out: Record<string, number[]> = {};
    for (const [name, t] of [...this.topics].sort()) if (asg[t.id]) out[name] = asg[t.id]!;
    return out;
  }

  /** The wire form of a name-keyed assignment. */
  owned(named: Record<string, number[]>): { topicId: string; partitions: number[] }[] {
    return Object.keys(named).sort().map((n) => ({ topicId: this.id(n), partitions: named[n]! }));
  }
}
