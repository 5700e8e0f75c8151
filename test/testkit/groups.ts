/**
 * Helpers for the consumer-group suites (test/integration/groups-*.test.ts): assignment
 * checks, a record ledger (what was produced, what each member consumed) and a kafkajs
 * client whose sockets can be cut to simulate a crashed consumer (no LeaveGroup is sent).
 */
import { connect, type Socket } from 'node:net';
import type { Kafka as KafkaClient, KafkaConfig } from 'kafkajs';
import { freePort } from './broker.ts';
import { createKafka } from './kafkajs.ts';

/** Session/heartbeat settings for quick rebalances (no assertion depends on them). */
export const SESSION_TIMEOUT_MS = 6000;
export const HEARTBEAT_INTERVAL_MS = 500;
export const REBALANCE_TIMEOUT_MS = 10000;

/**
 * Throws unless the per-member partition lists are pairwise disjoint and together cover
 * exactly 0..partitions-1. `what` names the source (for messages).
 */
export function assertDisjointCover(assignments: Map<string, number[]>, partitions: number, what: string): void {
  const owner = new Map<number, string>();
  for (const [member, parts] of assignments) {
    for (const p of parts) {
      const prev = owner.get(p);
      if (prev !== undefined) throw new Error(`${what}: partition ${p} owned by both ${prev} and ${member}: ${fmt(assignments)}`);
      owner.set(p, member);
    }
  }
  const missing = [];
  for (let p = 0; p < partitions; p++) if (!owner.has(p)) missing.push(p);
  if (missing.length || owner.size !== partitions) {
    throw new Error(`${what}: partitions ${missing.join(',')} unowned (or extra ones owned): ${fmt(assignments)}`);
  }
}

/** Whether the assignments are disjoint and cover 0..partitions-1 (no throw). */
export function isDisjointCover(assignments: Map<string, number[]>, partitions: number): boolean {
  try {
    assertDisjointCover(assignments, partitions, '');
    return true;
  } catch {
    return false;
  }
}

export function fmt(assignments: Map<string, number[]>): string {
  return JSON.stringify(Object.fromEntries([...assignments].map(([m, ps]) => [m, [...ps].sort((a, b) => a - b)])));
}

/** Records keyed "partition:offset" → value, to compare produced and consumed sets. */
export class Ledger {
  readonly produced = new Map<string, string>();
  /** key → members that processed it (a record may be processed more than once). */
  readonly consumed = new Map<string, string[]>();

  addProduced(partition: number, offset: bigint | number | string, value: string): void {
    this.produced.set(`${partition}:${offset}`, value);
  }

  addConsumed(member: string, partition: number, offset: bigint | number | string, value: string): void {
    const k = `${partition}:${offset}`;
    const expected = this.produced.get(k);
    if (expected !== undefined && expected !== value) {
      throw new Error(`record ${k} consumed by ${member} has value ${value}, produced ${expected}`);
    }
    const list = this.consumed.get(k) ?? [];
    list.push(member);
    this.consumed.set(k, list);
  }

  /** Produced records not consumed yet. */
  missing(): string[] {
    return [...this.produced.keys()].filter((k) => !this.consumed.has(k));
  }

  /** Consumed records that were never produced (by this test). */
  unexpected(): string[] {
    return [...this.consumed.keys()].filter((k) => !this.produced.has(k));
  }

  /** Number of records consumed more than once. */
  duplicates(): number {
    let n = 0;
    for (const v of this.consumed.values()) if (v.length > 1) n++;
    return n;
  }
}

export interface CrashableKafka {
  kafka: KafkaClient;
  /**
   * Cut every socket of this client at once and refuse all new connections (they go to a
   * closed port): the consumer stops heartbeating without sending LeaveGroup, as if its
   * process had been killed.
   */
  crash(): Promise<void>;
  readonly crashed: boolean;
}

/** A kafkajs client (own connection pool) whose sockets can be cut, see `crash()`. */
export function createCrashableKafka(brokers: string[], config: Partial<KafkaConfig> = {}): CrashableKafka {
  const sockets = new Set<Socket>();
  let crashed = false;
  let deadPort = 0;
  const kafka = createKafka(brokers, {
    ...config,
    socketFactory: ({ host, port, onConnect }) => {
      if (crashed) return connect({ host: '127.0.0.1', port: deadPort });
      const s = connect({ host, port }, onConnect);
      s.setKeepAlive(true, 60000);
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      return s;
    },
  });
  return {
    kafka,
    get crashed() {
      return crashed;
    },
    async crash() {
      deadPort = await freePort();
      crashed = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
  };
}
