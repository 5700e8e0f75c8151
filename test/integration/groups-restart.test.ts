/**
 * Consumer groups across a broker restart (kafkajs 2.2.4 consumers and admin): committed
 * offsets live in `__consumer_offsets` and the coordinator is rebuilt from it on start.
 *
 * 1. A group commits, its members stop, the broker is killed with SIGKILL and restarted on the
 *    same data: admin.fetchOffsets shows the same offsets and a new member resumes from them.
 * 2. The broker is stopped (SIGTERM) and restarted while two members are consuming: the
 *    members reconnect, the group goes on, nothing committed before the restart is read again
 *    and every record is processed.
 * 3. The broker is killed while a third member joins (mid-rebalance): the group converges to
 *    three members sharing the partitions, offsets kept, nothing committed re-read.
 * 4. A KIP-848 group (@platformatic/kafka groupProtocol 'consumer') commits, the broker is killed
 *    and restarted, and a new member resumes from the committed offsets.
 *
 * Runs the Tributary CLI as a child process (an external broker cannot be restarted from here:
 * with BOOTSTRAP_SERVERS set the suite is skipped). To validate the scenarios on Apache Kafka:
 * start it with `compat/kafka/start-kafka.sh --port P --config group.initial.rebalance.delay.ms=0`
 * and run with GROUPS_RESTART_KAFKA_PORT=P (the test restarts it with --keep-data).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import { externalBootstrap, uniqueTopic, waitFor } from '../testkit/broker.ts';
import { restartableKafka, restartableTributary, type RestartableBroker } from '../testkit/restartable-broker.ts';
import { createKafka } from '../testkit/kafkajs.ts';
import { Consumer as PltConsumer } from '@platformatic/kafka';
import { createAdmin } from '../testkit/platformatic.ts';
import { HEARTBEAT_INTERVAL_MS, Ledger, REBALANCE_TIMEOUT_MS, SESSION_TIMEOUT_MS } from '../testkit/groups.ts';

const { Partitioners } = kafkajs;
const PARTITIONS = 12;
const PER_PARTITION = 20;
const WAIT_MS = 45000;

const kafkaPort = process.env.GROUPS_RESTART_KAFKA_PORT ? Number(process.env.GROUPS_RESTART_KAFKA_PORT) : undefined;
const skip = kafkaPort !== undefined
  ? undefined
  : externalBootstrap()
    ? 'restarts the broker: runs on the Tributary CLI only (BOOTSTRAP_SERVERS is set; see GROUPS_RESTART_KAFKA_PORT)'
    : undefined;

const tributaryCli = () =>
  restartableTributary({
    dirPrefix: 'tributary-groups-restart-',
    extraArgs: ['group.initial.rebalance.delay.ms=0', 'group.consumer.session.timeout.ms=6000', 'group.consumer.heartbeat.interval.ms=500'].flatMap((c) => ['--config', c]),
  });

/** Apache Kafka from compat/kafka (validation of the scenarios only). */
const apacheKafka = (port: number) =>
  restartableKafka(port, [
    'group.initial.rebalance.delay.ms=0',
    'group.consumer.session.timeout.ms=6000',
    'group.consumer.min.session.timeout.ms=6000',
    'group.consumer.heartbeat.interval.ms=500',
    'group.consumer.min.heartbeat.interval.ms=500',
  ]);

interface Member {
  name: string;
  consumer: Consumer;
  stopped: boolean;
  /** partition → offsets processed, in order */
  seen: Map<number, bigint[]>;
}

describe('consumer groups across a broker restart (kafkajs; @platformatic/kafka for KIP-848)', { skip, timeout: 180000 }, () => {
  let broker: RestartableBroker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  const members: Member[] = [];

  before(async () => {
    broker = kafkaPort !== undefined ? apacheKafka(kafkaPort) : await tributaryCli();
    kafka = createKafka([broker.bootstrap], { retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2000 } });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, idempotent: false, retry: { retries: 0 } });
    await producer.connect();
  });

  after(async () => {
    for (const m of members) if (!m.stopped) await m.consumer.disconnect().catch(() => {});
    await producer?.disconnect().catch(() => {});
    await admin?.disconnect().catch(() => {});
    await broker?.close();
  });

  async function createTopic(prefix: string): Promise<string> {
    const topic = uniqueTopic(prefix);
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true });
    await waitFor(async () => (await admin.fetchTopicOffsets(topic)).length === PARTITIONS, { timeoutMs: 15000, message: 'partitions answer ListOffsets' });
    return topic;
  }

  async function produceRound(topic: string, ledger: Ledger, tag: string): Promise<void> {
    const messages: Array<{ partition: number; value: string }> = [];
    for (let p = 0; p < PARTITIONS; p++) for (let i = 0; i < PER_PARTITION; i++) messages.push({ partition: p, value: `${tag}-p${p}-${i}` });
    // the producer's connections may still be re-establishing after a restart: retry the whole
    // send only while nothing was acknowledged (a failed send with retries 0 appends nothing here)
    const meta = await waitFor(async () => producer.send({ topic, acks: -1, messages }), { timeoutMs: WAIT_MS, intervalMs: 500, message: 'produce' });
    for (const m of meta) for (let i = 0; i < PER_PARTITION; i++) ledger.addProduced(m.partition, BigInt(m.baseOffset!) + BigInt(i), `${tag}-p${m.partition}-${i}`);
  }

  async function startMember(name: string, topic: string, groupId: string, ledger: Ledger): Promise<Member> {
    const client = createKafka([broker.bootstrap], { clientId: name, retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2000 } });
    const consumer = client.consumer({
      groupId, sessionTimeout: SESSION_TIMEOUT_MS, heartbeatInterval: HEARTBEAT_INTERVAL_MS, rebalanceTimeout: REBALANCE_TIMEOUT_MS,
      maxWaitTimeInMs: 200, allowAutoTopicCreation: false,
    });
    const m: Member = { name, consumer, stopped: false, seen: new Map() };
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!batch.messages.length) return;
        for (const msg of batch.messages) {
          if (!isRunning() || isStale()) return;
          const list = m.seen.get(batch.partition) ?? [];
          list.push(BigInt(msg.offset));
          m.seen.set(batch.partition, list);
          ledger.addConsumed(name, batch.partition, msg.offset, msg.value!.toString());
          resolveOffset(msg.offset);
        }
        const next = (BigInt(batch.messages[batch.messages.length - 1]!.offset) + 1n).toString();
        await consumer.commitOffsets([{ topic, partition: batch.partition, offset: next }]);
        await heartbeat();
      },
    });
    members.push(m);
    return m;
  }

  async function stopMember(m: Member): Promise<void> {
    m.stopped = true;
    await m.consumer.disconnect();
  }

  async function committed(groupId: string, topic: string): Promise<Map<number, bigint>> {
    const res = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map(res[0]!.partitions.map((p) => [p.partition, BigInt(p.offset)]));
  }

  async function waitCommittedAtEnd(groupId: string, topic: string, why: string): Promise<Map<number, bigint>> {
    let last = '';
    return waitFor(async () => {
      const end = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
      const c = await committed(groupId, topic);
      last = JSON.stringify(Object.fromEntries([...c].map(([p, o]) => [p, `${o}/${end.get(p)}`])));
      for (const [p, o] of end) if (c.get(p) !== o) return undefined;
      return c;
    }, { timeoutMs: WAIT_MS, intervalMs: 250, message: `${why}: committed offsets reach the end offsets` }).catch((e: Error) => {
      throw new Error(`${e.message}; committed/end: ${last}`);
    });
  }

  async function waitAllConsumed(ledger: Ledger, why: string): Promise<void> {
    await waitFor(() => ledger.missing().length === 0, { timeoutMs: WAIT_MS, intervalMs: 100, message: `${why}: all records consumed` }).catch((e: Error) => {
      throw new Error(`${e.message}; missing ${ledger.missing().length}: ${ledger.missing().slice(0, 10).join(' ')}`);
    });
  }

  it('committed offsets survive kill -9 and the group resumes from them', async () => {
    const topic = await createTopic('grp-restart-kill');
    const group = `${topic}-g`;
    const ledger = new Ledger();
    await produceRound(topic, ledger, 'a');
    const ms = [await startMember('k1', topic, group, ledger), await startMember('k2', topic, group, ledger)];
    await waitAllConsumed(ledger, 'before the kill');
    const before = await waitCommittedAtEnd(group, topic, 'before the kill');
    await Promise.all(ms.map((m) => stopMember(m)));
    // a second group that never had members: offsets committed by an admin (a single
    // OffsetCommit with generation -1 and no member id, @platformatic/kafka's alterConsumerGroupOffsets)
    const simple = `${topic}-simple`;
    const simpleOffsets = Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, offset: BigInt(p) }));
    const pltAdmin = createAdmin([broker.bootstrap]);
    try {
      await pltAdmin.alterConsumerGroupOffsets({ groupId: simple, topics: [{ name: topic, partitionOffsets: simpleOffsets }] });
    } finally {
      await pltAdmin.close();
    }

    await broker.restart('SIGKILL');

    const afterRestart = await waitFor(async () => committed(group, topic), { timeoutMs: WAIT_MS, intervalMs: 500, message: 'OffsetFetch after restart' });
    assert.deepEqual(afterRestart, before, 'committed offsets after the restart');
    assert.deepEqual(await committed(simple, topic), new Map(simpleOffsets.map((o) => [o.partition, o.offset])), 'the admin-set offsets of a second group');
    await produceRound(topic, ledger, 'b');
    const r = await startMember('k3', topic, group, ledger);
    await waitAllConsumed(ledger, 'after the restart');
    for (let p = 0; p < PARTITIONS; p++) {
      assert.equal(r.seen.get(p)?.[0], before.get(p), `partition ${p}: the resumed member starts at the committed offset`);
    }
    await waitCommittedAtEnd(group, topic, 'after the restart');
    await stopMember(r);
  });

  it('an active group survives a broker restart (SIGTERM) without re-reading committed records', async () => {
    const topic = await createTopic('grp-restart-live');
    const group = `${topic}-g`;
    const ledger = new Ledger();
    await produceRound(topic, ledger, 'a');
    const ms = [await startMember('l1', topic, group, ledger), await startMember('l2', topic, group, ledger)];
    await waitAllConsumed(ledger, 'before the restart');
    const before = await waitCommittedAtEnd(group, topic, 'before the restart');
    const seenBefore = new Map(ms.map((m) => [m.name, new Map([...m.seen].map(([p, l]) => [p, l.length]))]));

    await broker.restart('SIGTERM');

    await produceRound(topic, ledger, 'b');
    await waitAllConsumed(ledger, 'after the restart');
    await waitCommittedAtEnd(group, topic, 'after the restart');
    // nothing below the committed offsets was processed again after the restart
    for (const m of ms) {
      for (const [p, list] of m.seen) {
        const from = seenBefore.get(m.name)!.get(p) ?? 0;
        for (const o of list.slice(from)) assert.ok(o >= before.get(p)!, `${m.name} re-read ${p}:${o} below the committed ${before.get(p)}`);
      }
    }
    await Promise.all(ms.map((m) => stopMember(m)));
  });

  it('a broker killed (SIGKILL) in the middle of a rebalance: the group converges and keeps its offsets', async () => {
    const topic = await createTopic('grp-restart-rebalance');
    const group = `${topic}-g`;
    const ledger = new Ledger();
    await produceRound(topic, ledger, 'a');
    const ms = [await startMember('r1', topic, group, ledger), await startMember('r2', topic, group, ledger)];
    await waitAllConsumed(ledger, 'before the kill');
    const before = await waitCommittedAtEnd(group, topic, 'before the kill');
    const seenBefore = new Map(ms.map((m) => [m.name, new Map([...m.seen].map(([p, l]) => [p, l.length]))]));

    // a third member starts joining (the others are told to rejoin) and the broker dies
    ms.push(await startMember('r3', topic, group, ledger));
    await waitFor(async () => {
      const { groups } = await admin.describeGroups([group]);
      return groups[0]!.state !== 'Stable' || groups[0]!.members.length === 3;
    }, { timeoutMs: WAIT_MS, intervalMs: 20, message: 'rebalance under way' });
    await broker.restart('SIGKILL');

    assert.deepEqual(await waitFor(async () => committed(group, topic), { timeoutMs: WAIT_MS, intervalMs: 500, message: 'OffsetFetch after restart' }), before);
    await waitFor(async () => {
      const { groups } = await admin.describeGroups([group]);
      const g = groups[0]!;
      if (g.state !== 'Stable' || g.members.length !== 3) return false;
      const owned = g.members.flatMap((m) => kafkajs.AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[topic] ?? []);
      return owned.length === PARTITIONS && new Set(owned).size === PARTITIONS;
    }, { timeoutMs: WAIT_MS, intervalMs: 250, message: 'the group is Stable with three members sharing the partitions' });
    await produceRound(topic, ledger, 'b');
    await waitAllConsumed(ledger, 'after the restart');
    await waitCommittedAtEnd(group, topic, 'after the restart');
    for (const m of ms) {
      for (const [p, list] of m.seen) {
        const from = seenBefore.get(m.name)?.get(p) ?? 0;
        for (const o of list.slice(from)) assert.ok(o >= before.get(p)!, `${m.name} re-read ${p}:${o} below the committed ${before.get(p)}`);
      }
    }
    await Promise.all(ms.map((m) => stopMember(m)));
  });

  it('a KIP-848 group (@platformatic/kafka, groupProtocol consumer) resumes from its committed offsets after kill -9', async () => {
    const topic = await createTopic('grp-restart-848');
    const group = `${topic}-g`;
    const ledger = new Ledger();
    await produceRound(topic, ledger, 'a');
    const firstSeen = new Map<number, bigint>();
    type M = { consumer: PltConsumer<Buffer, Buffer, Buffer, Buffer>; stream: { close(): Promise<void> } };
    const start = async (name: string, trackFirst: boolean): Promise<M> => {
      const consumer = new PltConsumer<Buffer, Buffer, Buffer, Buffer>({
        clientId: name, bootstrapBrokers: [broker.bootstrap], groupId: group, groupProtocol: 'consumer',
        autocommit: false, maxWaitTime: 200, timeout: 10000, retries: 10, retryDelay: 300,
      });
      const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', maxWaitTime: 200 });
      stream.on('data', (msg) => {
        if (trackFirst && !firstSeen.has(msg.partition)) firstSeen.set(msg.partition, msg.offset);
        ledger.addConsumed(name, msg.partition, msg.offset, msg.value.toString());
        Promise.resolve(msg.commit()).catch(() => {});
      });
      stream.on('error', () => {});
      return { consumer, stream };
    };
    const stop = async (m: M) => {
      await m.stream.close().catch(() => {});
      await m.consumer.close().catch(() => {});
    };
    const ms = [await start('c1', false), await start('c2', false)];
    try {
      await waitAllConsumed(ledger, 'before the kill');
    } finally {
      await waitCommittedAtEnd(group, topic, 'before the kill').finally(() => Promise.all(ms.map(stop)));
    }
    const before = await committed(group, topic);

    await broker.restart('SIGKILL');

    assert.deepEqual(await waitFor(async () => committed(group, topic), { timeoutMs: WAIT_MS, intervalMs: 500, message: 'OffsetFetch after restart' }), before);
    await produceRound(topic, ledger, 'b');
    const r = await start('c3', true);
    try {
      await waitAllConsumed(ledger, 'after the restart');
      for (let p = 0; p < PARTITIONS; p++) assert.equal(firstSeen.get(p), before.get(p), `partition ${p}: resumed at the committed offset`);
      await waitCommittedAtEnd(group, topic, 'after the restart');
    } finally {
      await stop(r);
    }
  });
});
