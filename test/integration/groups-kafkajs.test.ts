/**
 * Consumer groups with the kafkajs 2.2.4 Consumer (classic protocol: FindCoordinator, JoinGroup,
 * SyncGroup, Heartbeat, OffsetCommit, OffsetFetch, LeaveGroup) and its admin
 * (DescribeGroups, OffsetFetch).
 *
 * One scenario, in steps, on a 12-partition topic: three members share the partitions with none
 * owned twice; one crashes (its sockets are cut, no LeaveGroup) and the others take over its
 * partitions once its session times out; a fourth joins and the partitions are rebalanced;
 * every record produced is processed at least once (offsets are committed explicitly after a
 * batch is processed); committed offsets are visible to admin.fetchOffsets; a restarted member
 * resumes from the committed offsets; a second group reads the same topic independently.
 *
 * Runs against an in-process Tributary, or against BOOTSTRAP_SERVERS (e.g. Apache Kafka:
 * start it with `--config group.initial.rebalance.delay.ms=0` to avoid a 3 s wait per new group).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import type { Admin, Consumer, Producer } from 'kafkajs';
import { startTestBroker, uniqueTopic, waitFor, type TestBroker } from '../testkit/broker.ts';
import { createKafka, type KafkaClient } from '../testkit/kafkajs.ts';
import {
  assertDisjointCover, createCrashableKafka, fmt, HEARTBEAT_INTERVAL_MS, isDisjointCover, Ledger,
  REBALANCE_TIMEOUT_MS, SESSION_TIMEOUT_MS, type CrashableKafka,
} from '../testkit/groups.ts';

const { AssignerProtocol, Partitioners } = kafkajs;
const PARTITIONS = 12;
const PER_PARTITION = 25;
/** Safety net for each wait (a session timeout plus a rebalance, with margin). */
const WAIT_MS = 30000;

/** kafkajs's messages for the errors a stale member's commit may get. */
const KAFKA_ERROR_BY_MESSAGE: Record<string, string> = {
  'The coordinator is not aware of this member': 'UNKNOWN_MEMBER_ID',
  'Specified group generation id is not valid': 'ILLEGAL_GENERATION',
  'The group is rebalancing, so a rejoin is needed': 'REBALANCE_IN_PROGRESS',
};

function kafkaErrorType(e: unknown): string {
  const x = e as { type?: string; message?: string; cause?: { type?: string } };
  return x.type ?? x.cause?.type ?? KAFKA_ERROR_BY_MESSAGE[x.message ?? ''] ?? String(e);
}

interface Member {
  name: string;
  consumer: Consumer;
  crashable?: CrashableKafka;
  /** Latest assignment from GROUP_JOIN (this member's own view). */
  assigned: number[];
  joins: number;
  crashed: boolean;
  /** Lowest offset processed per partition (for the resume check). */
  firstOffset: Map<number, bigint>;
  /** Kafka error types of failed commits (a member that lost its partitions). */
  commitErrors: string[];
}

describe('consumer groups: kafkajs 2.2.4', { timeout: 120000 }, () => {
  let broker: TestBroker;
  let kafka: KafkaClient;
  let admin: Admin;
  let producer: Producer;
  const members: Member[] = [];
  const topic = uniqueTopic('grp-kjs');
  const group = `${topic}-g`;
  const ledger = new Ledger();
  let phase = 0;

  before(async () => {
    broker = await startTestBroker({ config: { 'group.initial.rebalance.delay.ms': '0' } });
    kafka = createKafka(broker.brokers);
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, idempotent: false, retry: { retries: 0 } });
    await producer.connect();
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true }), true);
    await waitFor(async () => (await admin.fetchTopicOffsets(topic)).length === PARTITIONS, { timeoutMs: 15000, message: 'partitions answer ListOffsets' });
  });

  after(async () => {
    // members still running leave cleanly; the crashed one is left alone (it has no
    // connection and its disconnect() would only retry against the closed port for ~11 s)
    for (const m of members) if (!m.crashed) await m.consumer.disconnect().catch(() => {});
    await producer?.disconnect();
    await admin?.disconnect();
    await broker?.close();
  });

  /** Produce PER_PARTITION records to every partition; the ledger learns their offsets. */
  async function produceRound(): Promise<void> {
    phase++;
    const messages = [];
    for (let p = 0; p < PARTITIONS; p++) {
      for (let i = 0; i < PER_PARTITION; i++) messages.push({ partition: p, key: `k${p}`, value: `r${phase}-p${p}-${i}` });
    }
    const meta = await producer.send({ topic, acks: -1, messages });
    assert.equal(meta.length, PARTITIONS);
    for (const m of meta) {
      assert.equal(m.errorCode, 0);
      for (let i = 0; i < PER_PARTITION; i++) ledger.addProduced(m.partition, BigInt(m.baseOffset!) + BigInt(i), `r${phase}-p${m.partition}-${i}`);
    }
  }

  async function startMember(name: string, groupId: string, opts: { crashable?: boolean; sink?: Ledger; stallFirstBatchMs?: number } = {}): Promise<Member> {
    const crashable = opts.crashable ? createCrashableKafka(broker.brokers, { clientId: name }) : undefined;
    const client = crashable?.kafka ?? createKafka(broker.brokers, { clientId: name });
    const consumer = client.consumer({
      groupId,
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      rebalanceTimeout: REBALANCE_TIMEOUT_MS,
      maxWaitTimeInMs: 200,
      allowAutoTopicCreation: false,
      // a crashed member must stay dead rather than restart itself
      retry: { retries: crashable ? 0 : 5, initialRetryTime: 100, maxRetryTime: 1000, restartOnFailure: async () => !crashable },
    });
    const m: Member = { name, consumer, crashable, assigned: [], joins: 0, crashed: false, firstOffset: new Map(), commitErrors: [] };
    let stalled = false;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      m.joins++;
      m.assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
    });
    const sink = opts.sink ?? ledger;
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
        if (!batch.messages.length) return;
        if (opts.stallFirstBatchMs && !stalled) {
          // a processing stall: the connection stays open but no heartbeat is sent
          stalled = true;
          await new Promise((r) => setTimeout(r, opts.stallFirstBatchMs));
        }
        for (const msg of batch.messages) {
          if (!isRunning() || isStale()) return;
          const off = BigInt(msg.offset);
          const first = m.firstOffset.get(batch.partition);
          if (first === undefined || off < first) m.firstOffset.set(batch.partition, off);
          sink.addConsumed(name, batch.partition, off, msg.value!.toString());
        }
        // commit after processing: the next offset to read
        const next = (BigInt(batch.messages[batch.messages.length - 1]!.offset) + 1n).toString();
        try {
          await consumer.commitOffsets([{ topic, partition: batch.partition, offset: next }]);
        } catch (e) {
          m.commitErrors.push(kafkaErrorType(e));
          // Not rethrown: kafkajs 2.2.4 wraps the commit's UNKNOWN_MEMBER_ID in a
          // KafkaJSNonRetriableError without its type, so its runner would not recognise it and
          // would retry the batch with the stale member id; its next heartbeat finds out and rejoins.
          return;
        }
        await heartbeat();
      },
    });
    members.push(m);
    return m;
  }

  /** The group as the broker describes it: state and each member's decoded assignment. */
  async function describeGroup(groupId: string): Promise<{ state: string; protocol: string; assignments: Map<string, number[]>; clientIds: string[] }> {
    const { groups } = await admin.describeGroups([groupId]);
    const g = groups[0]!;
    const assignments = new Map<string, number[]>();
    for (const mem of g.members) {
      const decoded = mem.memberAssignment.length ? AssignerProtocol.MemberAssignment.decode(mem.memberAssignment) : null;
      assignments.set(mem.clientId + '/' + mem.memberId, [...(decoded?.assignment[topic] ?? [])]);
    }
    return { state: g.state, protocol: g.protocol, assignments, clientIds: g.members.map((x) => x.clientId).sort() };
  }

  /** Wait until the group is Stable with exactly `live` as members and their assignments tile the topic. */
  async function waitStable(live: Member[], why: string, groupId = group): Promise<Map<string, number[]>> {
    const names = live.map((m) => m.name).sort();
    let last = '';
    return waitFor(async () => {
      const d = await describeGroup(groupId);
      last = `${d.state} ${JSON.stringify(d.clientIds)} ${fmt(d.assignments)}; members' own views ${JSON.stringify(live.map((m) => [m.name, m.assigned]))}`;
      if (d.state !== 'Stable' || JSON.stringify(d.clientIds) !== JSON.stringify(names)) return undefined;
      if (!isDisjointCover(d.assignments, PARTITIONS)) return undefined;
      // each member's own view (from its SyncGroup response) agrees with the broker's
      const own = new Map(live.map((m) => [m.name, m.assigned]));
      if (!isDisjointCover(own, PARTITIONS)) return undefined;
      return d.assignments;
    }, { timeoutMs: WAIT_MS, intervalMs: 200, message: `${why}: group stable with ${names.join(', ')}` }).catch((e: Error) => {
      throw new Error(`${e.message}; last seen: ${last}`);
    });
  }

  async function waitAllConsumed(l: Ledger, why: string): Promise<void> {
    await waitFor(() => l.missing().length === 0, { timeoutMs: WAIT_MS, intervalMs: 100, message: `${why}: all records consumed` }).catch((e: Error) => {
      throw new Error(`${e.message}; missing ${l.missing().length}: ${l.missing().slice(0, 10).join(' ')}`);
    });
  }

  async function committed(groupId: string): Promise<Map<number, bigint>> {
    const res = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map(res[0]!.partitions.map((p) => [p.partition, BigInt(p.offset)]));
  }

  async function endOffsets(): Promise<Map<number, bigint>> {
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  }

  async function waitCommittedAtEnd(groupId: string, why: string): Promise<Map<number, bigint>> {
    const end = await endOffsets();
    let last = '';
    return waitFor(async () => {
      const c = await committed(groupId);
      last = JSON.stringify(Object.fromEntries([...c].map(([p, o]) => [p, `${o}/${end.get(p)}`])));
      for (const [p, o] of end) if (c.get(p) !== o) return undefined;
      return c;
    }, { timeoutMs: WAIT_MS, intervalMs: 200, message: `${why}: committed offsets reach the end offsets` }).catch((e: Error) => {
      throw new Error(`${e.message}; committed/end: ${last}`);
    });
  }

  it('three members share 12 partitions, none owned twice', async () => {
    await produceRound();
    const ms = await Promise.all(['m1', 'm2', 'm3'].map((n) => startMember(n, group)));
    const asg = await waitStable(ms, 'three members');
    assertDisjointCover(asg, PARTITIONS, 'DescribeGroups after three joined');
    for (const [, parts] of asg) assert.ok(parts.length >= 3 && parts.length <= 5, `balanced enough: ${fmt(asg)}`);
    const d = await describeGroup(group);
    assert.equal(d.protocol, 'RoundRobinAssigner', 'kafkajs\'s only default assignor was selected');
    await waitAllConsumed(ledger, 'three members');
  });

  it('a crashed member (no LeaveGroup) loses its partitions to the others', async () => {
    const victim = await startMember('m4-crash', group, { crashable: true });
    const live = members.filter((m) => !m.crashed);
    await waitStable(live, 'crash victim joined');
    assert.ok(victim.assigned.length > 0, 'the victim owns partitions before it crashes');
    const victimParts = [...victim.assigned];
    await victim.crashable!.crash();
    victim.crashed = true;
    await produceRound();
    const survivors = members.filter((m) => !m.crashed);
    const asg = await waitStable(survivors, 'after the crash');
    assertDisjointCover(asg, PARTITIONS, 'DescribeGroups after the crash');
    const owned = survivors.flatMap((m) => m.assigned);
    for (const p of victimParts) assert.ok(owned.includes(p), `victim's partition ${p} moved to a survivor`);
    await waitAllConsumed(ledger, 'after the crash');
  });

  it('a fourth member joins and the partitions are rebalanced', async () => {
    const m5 = await startMember('m5', group);
    const live = members.filter((m) => !m.crashed);
    assert.equal(live.length, 4);
    const asg = await waitStable(live, 'fourth joined');
    assertDisjointCover(asg, PARTITIONS, 'DescribeGroups after the fourth joined');
    for (const [, parts] of asg) assert.equal(parts.length, 3, `12 partitions over 4 members: ${fmt(asg)}`);
    assert.equal(m5.assigned.length, 3);
    await produceRound();
    await waitAllConsumed(ledger, 'after the fourth joined');
    assert.deepEqual(ledger.unexpected(), []);
  });

  it('committed offsets are visible to admin.fetchOffsets', async () => {
    const c = await waitCommittedAtEnd(group, 'live group');
    assert.equal(c.size, PARTITIONS);
    for (const [, o] of c) assert.equal(o, BigInt(phase * PER_PARTITION));
    const d = await describeGroup(group);
    assert.equal(d.state, 'Stable');
  });

  it('a restarted member resumes from the committed offsets', async () => {
    for (const m of members.filter((x) => !x.crashed)) {
      await m.consumer.disconnect();
      m.crashed = true; // stopped: not part of the group any more
    }
    await waitFor(async () => (await describeGroup(group)).state === 'Empty', { timeoutMs: WAIT_MS, message: 'group Empty after every member left' });
    const before = await committed(group);
    await produceRound();
    const resumed = await startMember('m6-restarted', group);
    await waitStable([resumed], 'restarted member');
    assert.equal(resumed.assigned.length, PARTITIONS);
    await waitAllConsumed(ledger, 'restarted member');
    for (let p = 0; p < PARTITIONS; p++) {
      assert.equal(resumed.firstOffset.get(p), before.get(p), `partition ${p}: first offset read after restart is the committed one`);
    }
    await waitCommittedAtEnd(group, 'after restart');
  });

  it('a second group reads the same topic independently (fan-out)', async () => {
    const before = await committed(group);
    const other = new Ledger();
    for (const [k, v] of ledger.produced) {
      const [p, o] = k.split(':');
      other.addProduced(Number(p), o!, v);
    }
    const g2 = `${topic}-g2`;
    const a = await startMember('fan-a', g2, { sink: other });
    const b = await startMember('fan-b', g2, { sink: other });
    await waitAllConsumed(other, 'second group');
    // the first member may have read everything before the second joined; then they share
    const asg = await waitStable([a, b], 'second group', g2);
    assertDisjointCover(asg, PARTITIONS, 'second group members');
    // the first group's offsets did not move; the second group has its own
    assert.deepEqual(await committed(group), before);
    await waitCommittedAtEnd(g2, 'second group');
  });

  it('a member that stalls past its session timeout (socket open, no heartbeats) is removed, then rejoins', async (t) => {
    const other = new Ledger();
    for (const [k, v] of ledger.produced) {
      const [p, o] = k.split(':');
      other.addProduced(Number(p), o!, v);
    }
    const g3 = `${topic}-g3`;
    const steady = await startMember('steady', g3, { sink: other });
    await waitStable([steady], 'steady alone', g3);
    const staller = await startMember('staller', g3, { sink: other, stallFirstBatchMs: SESSION_TIMEOUT_MS + 4000 });
    await waitStable([steady, staller], 'both', g3);
    await produceRound(); // gives the staller a batch to stall on
    for (const [k, v] of ledger.produced) {
      const [p, o] = k.split(':');
      other.addProduced(Number(p), o!, v);
    }
    // the staller's session expires during its stall: the steady member gets everything
    await waitFor(async () => {
      const { groups } = await admin.describeGroups([g3]);
      return groups[0]!.state === 'Stable' && groups[0]!.members.length === 1 && steady.assigned.length === PARTITIONS;
    }, { timeoutMs: WAIT_MS, intervalMs: 100, message: 'the stalled member was removed' });
    // back from the stall, its commit fails and it joins again
    const asg = await waitStable([steady, staller], 'staller rejoined', g3);
    assertDisjointCover(asg, PARTITIONS, 'after the staller rejoined');
    assert.ok(staller.commitErrors.length > 0, 'the stalled member\'s commit was refused');
    for (const t of staller.commitErrors) assert.ok(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS'].includes(t), `commit error ${t}`);
    await waitAllConsumed(other, 'third group');
    await waitCommittedAtEnd(g3, 'third group');
    t.diagnostic(`stalled member's commit errors: ${staller.commitErrors.join(', ')}`);
  });
});
