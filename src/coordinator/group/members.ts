/** A member of a classic group (Kafka's ClassicGroupMember). */
import type { JoinGroupResponse } from '../../protocol/messages/join-group-response.generated.ts';
import type { SyncGroupResponse } from '../../protocol/messages/sync-group-response.generated.ts';
import type { Respond } from './types.ts';

export interface Protocol {
  name: string;
  metadata: Buffer;
}

export const EMPTY_ASSIGNMENT: Buffer = Buffer.alloc(0);

export class ClassicGroupMember {
  memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  readonly protocolType: string;
  protocols: Protocol[];
  assignment: Buffer;
  awaitingJoin: Respond<JoinGroupResponse> | null = null;
  awaitingSync: Respond<SyncGroupResponse> | null = null;
  /** Joined in the current rebalance and not yet answered: may expire even while awaiting join. */
  isNew = false;

  constructor(init: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    rebalanceTimeoutMs: number;
    sessionTimeoutMs: number;
    protocolType: string;
    protocols: Protocol[];
    assignment?: Buffer;
  }) {
    this.memberId = init.memberId;
    this.groupInstanceId = init.groupInstanceId;
    this.clientId = init.clientId;
    this.clientHost = init.clientHost;
    this.rebalanceTimeoutMs = init.rebalanceTimeoutMs;
    this.sessionTimeoutMs = init.sessionTimeoutMs;
    this.protocolType = init.protocolType;
    this.protocols = init.protocols;
    this.assignment = init.assignment ?? EMPTY_ASSIGNMENT;
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  get isAwaitingJoin(): boolean {
    return this.awaitingJoin !== null;
  }

  get isAwaitingSync(): boolean {
    return this.awaitingSync !== null;
  }

  /** The metadata this member sent for `protocol` (empty if it does not support it). */
  metadata(protocol: string | null): Buffer {
    return this.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY_ASSIGNMENT;
  }

  /** Same protocols, in the same order, with the same metadata. */
  matches(protocols: readonly Protocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    return protocols.every((p, i) => p.name === this.protocols[i]!.name && p.metadata.equals(this.protocols[i]!.metadata));
  }

  /** This member's preferred protocol among `candidates`. */
  vote(candidates: ReadonlySet<string>): string {
    const p = this.protocols.find((x) => candidates.has(x.name));
    if (!p) throw new Error(`member ${this.memberId} does not support any candidate protocol`);
    return p.name;
  }

  /**
   * Kafka's hasSatisfiedHeartbeat: a new member must heartbeat (its join may expire); a member
   * awaiting a rebalance answer satisfies the expectation; others need the next heartbeat.
   */
  hasSatisfiedHeartbeat(): boolean {
    if (this.isNew) return false;
    return this.isAwaitingJoin || this.isAwaitingSync;
  }
}
