/** Test harness for the group coordinator (not a test file itself). */
import { ManualClock } from '../../common/clock.ts';
import { Writer } from '../../protocol/primitives/writer.ts';
import type { JoinGroupRequest } from '../../protocol/messages/join-group-request.generated.ts';
import type { JoinGroupResponse } from '../../protocol/messages/join-group-response.generated.ts';
import type { SyncGroupResponse } from '../../protocol/messages/sync-group-response.generated.ts';
import { GroupCoordinator } from './coordinator.ts';
import type { GroupRecord } from './records.ts';
import type { ErrorCode } from '../../common/errors.ts';
import type { GroupCoordinatorConfig, RequestContext, Result } from './types.ts';

/** A consumer-protocol subscription, version 0 (int16 version, topics, null user data). */
export function subscription(topics: string[], version = 0): Buffer {
  const w = new Writer();
  w.writeInt16(version);
  w.writeArrayLength(topics.length);
  for (const t of topics) w.writeString(t);
  w.writeNullableBytes(null);
  if (version >= 1) w.writeArrayLength(0);
  return w.toBuffer();
}

export interface Pending<T> {
  response: T | undefined;
  /** Number of times the continuation was called (must end at most 1). */
  calls: number;
}

export class Harness {
  readonly clock = new ManualClock(1_700_000_000_000);
  /** Every record appended so far, in order (the `__consumer_offsets` content). */
  readonly log: GroupRecord[] = [];
  /** When set, the next appends fail with this error. */
  failAppends: ErrorCode | null = null;
  /** Fields every JoinGroup of this harness starts from. */
  joinDefaults: Partial<JoinGroupRequest> = {};
  readonly coordinator: GroupCoordinator;
  #uuid = 0;

  constructor(config: Partial<GroupCoordinatorConfig> = {}, retainOffsets?: (groupId: string) => boolean) {
    this.coordinator = new GroupCoordinator({
      clock: this.clock,
      config,
      retainOffsets,
      onTimerResult: (r) => this.run(r),
      newUuid: () => `uuid${++this.#uuid}`,
    });
  }

  /** Appends a result's records (or fails them) and completes it. */
  run<R>(result: Result<R>): R {
    if (this.failAppends !== null && result.records.length > 0) return result.complete(this.failAppends);
    this.log.push(...result.records);
    return result.complete(null);
  }

  ctx(apiVersion: number, clientId = 'client'): RequestContext {
    return { clientId, clientHost: '/127.0.0.1', apiVersion };
  }

  join(
    groupId: string,
    memberId: string,
    opts: Partial<JoinGroupRequest> & { version?: number; clientId?: string; topics?: string[] } = {},
  ): Pending<JoinGroupResponse> {
    const p: Pending<JoinGroupResponse> = { response: undefined, calls: 0 };
    const req: JoinGroupRequest = {
      groupId,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 30_000,
      memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: subscription(opts.topics ?? ['t']) }],
      reason: null,
      ...this.joinDefaults,
      ...opts,
    };
    this.run(
      this.coordinator.joinGroup(this.ctx(opts.version ?? 9, opts.clientId), req, (res) => {
        p.response = res;
        p.calls++;
      }),
    );
    return p;
  }

  sync(
    groupId: string,
    memberId: string,
    generationId: number,
    assignments: { memberId: string; assignment: Buffer }[] = [],
    opts: { groupInstanceId?: string | null; protocolType?: string | null; protocolName?: string | null } = {},
  ): Pending<SyncGroupResponse> {
    const p: Pending<SyncGroupResponse> = { response: undefined, calls: 0 };
    this.run(
      this.coordinator.syncGroup(
        this.ctx(5),
        {
          groupId,
          generationId,
          memberId,
          groupInstanceId: opts.groupInstanceId ?? null,
          protocolType: opts.protocolType ?? null,
          protocolName: opts.protocolName ?? null,
          assignments,
        },
        (res) => {
          p.response = res;
          p.calls++;
        },
      ),
    );
    return p;
  }

  heartbeat(groupId: string, memberId: string, generationId: number, groupInstanceId: string | null = null): number {
    return this.run(this.coordinator.heartbeat(this.ctx(4), { groupId, memberId, generationId, groupInstanceId })).errorCode;
  }

  /** Advances the clock in 1 s steps until `p` is answered (at most `maxMs`). */
  settle<T>(p: Pending<T>, maxMs = 600_000): T {
    for (let t = 0; p.response === undefined && t < maxMs; t += 1000) this.clock.advance(1000);
    if (p.response === undefined) throw new Error('not answered');
    return p.response;
  }

  /** Dynamic member joins a fresh or existing group (v4+ two-step join) and returns its id. */
  memberId(groupId: string, clientId = 'client'): string {
    const first = this.join(groupId, '', { clientId });
    if (first.response?.errorCode !== 79) throw new Error(`expected MEMBER_ID_REQUIRED, got ${JSON.stringify(first.response)}`);
    return first.response.memberId;
  }

  /**
   * Brings a group of `n` dynamic members to Stable (generation, leader, member ids). Members
   * join within the initial delay; the leader assigns `assignment-<memberId>`.
   */
  stableGroup(groupId: string, n: number, topics = ['t']): { ids: string[]; generation: number; leader: string } {
    const ids = Array.from({ length: n }, (_, i) => this.memberId(groupId, `c${i}`));
    const joins = ids.map((id, i) => this.join(groupId, id, { clientId: `c${i}`, topics }));
    this.settle(joins[0]!);
    const generation = joins[0]!.response!.generationId;
    const leader = joins[0]!.response!.leader;
    const syncs = ids.filter((id) => id !== leader).map((id) => this.sync(groupId, id, generation));
    this.sync(
      groupId,
      leader,
      generation,
      ids.map((id) => ({ memberId: id, assignment: Buffer.from(`assignment-${id}`) })),
    );
    for (const s of syncs) if (s.response?.errorCode !== 0) throw new Error('sync failed');
    return { ids, generation, leader };
  }
}
