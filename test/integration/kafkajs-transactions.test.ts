/**
 * kafkajs 2.2.4 transactions end to end (issue 6): the consume-transform-produce pipeline.
 *
 * 1. An input topic (3 partitions) is written by a transactional producer in committed
 *    transactions, with two aborted transactions in between (records that must never be seen
 *    by a read_committed consumer), and a non-transactional tail (so the input's end offsets
 *    are one past a data record). A kafkajs Consumer (readUncommitted: false, no auto-commit)
 *    and a transactional producer (transactionalId, idempotent, maxInFlightRequests 1) copy it
 *    to an output topic, partition p to partition p: at most TXN_MAX records per transaction,
 *    producer.transaction() → send → sendOffsets({ consumerGroupId, topics }) → commit. Every
 *    ABORT_EVERY-th transaction aborts instead, and the pipeline seeks its partition back to the
 *    group's committed offset (which the abort must not have moved) and re-reads. Against
 *    Tributary (the CLI as a child process, on a fixed port) the broker is restarted on its data
 *    twice in the middle: stopped with SIGTERM between two transactions (after RESTART_AT
 *    commits), and killed with SIGKILL while a transaction is open (its records and offsets sent,
 *    commit not yet asked; the commit goes to the restarted broker). Any error in a transaction
 *    makes the pipeline recover like a real one: a new producer with the same transactionalId
 *    (InitProducerId fences the old epoch and completes its transaction) and a seek to the
 *    group's committed offsets. After CRASH_AFTER commits the pipeline worker itself dies with a
 *    transaction open (records and offsets sent; producer and consumer disconnect without
 *    commit or abort); a new worker (new consumer in the group, new producer with the same
 *    transactionalId) aborts that transaction by fencing and resumes from the committed offsets.
 *    Asserts: read_committed, the output holds every committed input record exactly once, in
 *    per-partition order, and none of the aborted input; read_uncommitted shows the aborted
 *    output records too (aborts really happened); the group's committed offsets equal the
 *    input's end offsets.
 * 2. Zombie fencing: while a transaction is open its records are beyond the last stable offset
 *    (invisible read_committed, visible read_uncommitted). A second producer with the same
 *    transactionalId starts a transaction; the first one's send (Produce v7), send to a new
 *    partition (AddPartitionsToTxn v1), sendOffsets (AddOffsetsToTxn v1) and commit (EndTxn v1)
 *    all fail with INVALID_PRODUCER_EPOCH (what Apache Kafka 4.3.1 answers kafkajs), its records
 *    never become visible read_committed and its offsets are not committed; the new producer's
 *    transaction commits.
 *
 * 3. Transaction timeout: a producer sends in a transaction and never ends it; the coordinator
 *    aborts it once transactionTimeout (1.5 s) has passed, so the last stable offset moves on
 *    and read_committed readers see the records written after it; the producer's late commit
 *    gets INVALID_PRODUCER_EPOCH. (Tributary runs with a 500 ms
 *    transaction.abort.timed.out.transaction.cleanup.interval.ms; Kafka's default 10 s is fine.)
 *
 * The output is read without a group, with kafkajs's own Fetch requests (isolation level
 * READ_COMMITTED or READ_UNCOMMITTED) and kafkajs's own aborted-transaction filter (the one its
 * Consumer uses, consumer/filterAbortedMessages.js).
 *
 * Runs against Tributary, or against BOOTSTRAP_SERVERS (e.g. Apache Kafka from
 * compat/kafka/start-kafka.sh), which is not restarted. To validate the restarts on Apache Kafka:
 * start one with `compat/kafka/start-kafka.sh --port P` and run with TXN_RESTART_KAFKA_PORT=P
 * (the test kills/stops it and starts it again with --keep-data).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { Admin, Consumer, EachBatchPayload, Producer } from 'kafkajs';
import { externalBootstrap, uniqueTopic, waitFor } from '../testkit/broker.ts';
import { restartableKafka, restartableTributary } from '../testkit/restartable-broker.ts';
import { createKafka, kafkajsCluster, type KafkaClient } from '../testkit/kafkajs.ts';

const require = createRequire(import.meta.url);
const filterAbortedMessages = require('kafkajs/src/consumer/filterAbortedMessages.js') as (a: { messages: KjsMessage[]; abortedTransactions: unknown[] }) => KjsMessage[];

const kafkaRestartPort = process.env.TXN_RESTART_KAFKA_PORT ? Number(process.env.TXN_RESTART_KAFKA_PORT) : undefined;

const PARTITIONS = 3;
/** Committed input records per partition: INPUT_ROUNDS transactions + a non-transactional tail. */
const INPUT_ROUNDS = 5;
const PER_ROUND = 50;
const TAIL = 30;
const PER_PARTITION = INPUT_ROUNDS * PER_ROUND + TAIL;
/** Aborted input transactions (after these rounds), ABORTED_INPUT records per partition each. */
const ABORT_INPUT_AFTER = new Set([1, 3]);
const ABORTED_INPUT = 10;
const TXN_MAX = 40;
const ABORT_EVERY = 6;
/** Committed transactions after which the broker is stopped (SIGTERM) and started again. */
const RESTART_AT = 6;
/** The committed-transaction count at which the broker is killed (SIGKILL) with a transaction open. */
const KILL_AT = 13;
/** Committed transactions after which the first pipeline worker dies with a transaction open. */
const CRASH_AFTER = 16;
const PIPELINE_TIMEOUT_MS = kafkaRestartPort !== undefined ? 150_000 : 45_000;

const INVALID_PRODUCER_EPOCH = 47;

interface KjsMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  isControlRecord?: boolean;
  batchContext: { producerId: string; inTransaction: boolean };
}
interface KjsFetchPartition {
  partition: number;
  errorCode: number;
  highWatermark: string;
  lastStableOffset: string;
  abortedTransactions: unknown[];
  messages: KjsMessage[];
}
interface KjsBroker {
  fetch(req: object): Promise<{ responses: Array<{ topicName: string; partitions: KjsFetchPartition[] }> }>;
}

/** A broker that may be restartable on its data at the same address. */
interface PipelineBroker {
  bootstrap: string;
  restart?: (signal: 'SIGTERM' | 'SIGKILL') => Promise<void>;
  close(): Promise<void>;
}


/**
 * The Tributary CLI as a child process (so it can be killed with SIGKILL) on a fixed port; with
 * BOOTSTRAP_SERVERS, that broker, not restarted; with TXN_RESTART_KAFKA_PORT=P, Apache Kafka
 * from compat/kafka on port P, restarted with --keep-data (to validate the scenario).
 */
async function startPipelineBroker(): Promise<PipelineBroker> {
  if (kafkaRestartPort !== undefined) return restartableKafka(kafkaRestartPort);
  const ext = externalBootstrap();
  if (ext) return { bootstrap: ext.split(',')[0]!.trim(), close: async () => {} };
  return restartableTributary({
    dirPrefix: 'tributary-txn-',
    extraArgs: ['--config', 'group.initial.rebalance.delay.ms=0', '--config', 'transaction.abort.timed.out.transaction.cleanup.interval.ms=500'],
  });
}

/**
 * Every record of a topic per partition, read without a group: READ_COMMITTED fetches (up to the
 * last stable offset) filtered with kafkajs's aborted-transaction filter, or READ_UNCOMMITTED
 * fetches (up to the high watermark), control records left out.
 */
async function readTopic(kafka: KafkaClient, topic: string, isolation: 'read_committed' | 'read_uncommitted'): Promise<Map<number, Array<{ offset: bigint; key: string | null; value: string | null }>>> {
  const cluster = kafkajsCluster(kafka);
  await cluster.connect();
  try {
    await cluster.addTargetTopic(topic);
    const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId).sort((a, b) => a - b);
    const out = new Map<number, Array<{ offset: bigint; key: string | null; value: string | null }>>();
    for (const partition of partitions) {
      const list: Array<{ offset: bigint; key: string | null; value: string | null }> = [];
      out.set(partition, list);
      let next = 0n;
      const deadline = Date.now() + 20_000;
      for (;;) {
        if (Date.now() > deadline) throw new Error(`readTopic(${topic}/${partition}, ${isolation}) timed out at offset ${next}`);
        const leader = cluster.findLeaderForPartitions(topic, [partition]);
        const nodeId = Object.keys(leader)[0]!;
        const broker = (await cluster.findBroker({ nodeId })) as unknown as KjsBroker;
        const res = await broker.fetch({
          replicaId: -1,
          isolationLevel: isolation === 'read_committed' ? 1 : 0,
          maxWaitTime: 10,
          minBytes: 1,
          maxBytes: 4 * 1024 * 1024,
          topics: [{ topic, partitions: [{ partition, fetchOffset: next.toString(), maxBytes: 1024 * 1024 }] }],
        });
        const p = res.responses[0]!.partitions[0]!;
        if (p.errorCode !== 0) throw new Error(`fetch ${topic}/${partition} (${isolation}): error code ${p.errorCode}`);
        const end = BigInt(isolation === 'read_committed' ? p.lastStableOffset : p.highWatermark);
        const within = p.messages.filter((m) => BigInt(m.offset) >= next);
        const visible = isolation === 'read_committed' ? filterAbortedMessages({ messages: within, abortedTransactions: p.abortedTransactions }) : within;
        for (const m of visible) {
          if (m.isControlRecord || BigInt(m.offset) >= end) continue;
          list.push({ offset: BigInt(m.offset), key: m.key?.toString() ?? null, value: m.value?.toString() ?? null });
        }
        if (within.length) next = BigInt(within[within.length - 1]!.offset) + 1n;
        if (next >= end) break;
        if (!within.length) throw new Error(`fetch ${topic}/${partition} (${isolation}) at ${next} returned nothing below ${end}`);
      }
    }
    return out;
  } finally {
    await cluster.disconnect();
  }
}

/** High watermark and last stable offset of a partition (a READ_COMMITTED kafkajs Fetch). */
async function partitionEnds(kafka: KafkaClient, topic: string, partition: number): Promise<{ highWatermark: bigint; lastStableOffset: bigint }> {
  const cluster = kafkajsCluster(kafka);
  await cluster.connect();
  try {
    await cluster.addTargetTopic(topic);
    const nodeId = Object.keys(cluster.findLeaderForPartitions(topic, [partition]))[0]!;
    const broker = (await cluster.findBroker({ nodeId })) as unknown as KjsBroker;
    const res = await broker.fetch({
      replicaId: -1,
      isolationLevel: 1,
      maxWaitTime: 10,
      minBytes: 1,
      maxBytes: 1024 * 1024,
      topics: [{ topic, partitions: [{ partition, fetchOffset: '0', maxBytes: 1024 * 1024 }] }],
    });
    const p = res.responses[0]!.partitions[0]!;
    assert.equal(p.errorCode, 0);
    return { highWatermark: BigInt(p.highWatermark), lastStableOffset: BigInt(p.lastStableOffset) };
  } finally {
    await cluster.disconnect();
  }
}

const inputValue = (p: number, i: number) => `in-p${p}-${i}`;
const transform = (v: string) => `out:${v}`;

describe('kafkajs 2.2.4 transactions: consume-transform-produce', { timeout: kafkaRestartPort !== undefined ? 400_000 : 120_000 }, () => {
  let broker: PipelineBroker;
  let kafka: KafkaClient;
  let admin: Admin;

  before(async () => {
    broker = await startPipelineBroker();
    kafka = createKafka([broker.bootstrap], { retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 } });
    admin = kafka.admin();
    await admin.connect();
  });
  after(async () => {
    await admin?.disconnect().catch(() => {});
    await broker?.close();
  });

  async function createTopic(prefix: string, partitions = PARTITIONS): Promise<string> {
    const topic = uniqueTopic(prefix);
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true }), true);
    // Apache Kafka answers NOT_LEADER_OR_FOLLOWER for a moment after CreateTopics
    await waitFor(async () => (await admin.fetchTopicOffsets(topic)).length === partitions, { timeoutMs: 15_000, message: `partitions of ${topic} answer ListOffsets` });
    return topic;
  }

  function transactionalProducer(transactionalId: string): Producer {
    return kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 },
    });
  }

  /** Writes the input; returns the committed values per partition. */
  async function writeInput(topic: string): Promise<Map<number, string[]>> {
    const expected = new Map<number, string[]>([...Array(PARTITIONS).keys()].map((p) => [p, []]));
    const producer = transactionalProducer(`${topic}-writer`);
    await producer.connect();
    try {
      let i = 0;
      for (let round = 0; round < INPUT_ROUNDS; round++) {
        const txn = await producer.transaction();
        const messages = [];
        for (let k = 0; k < PER_ROUND; k++, i++) {
          for (let p = 0; p < PARTITIONS; p++) {
            messages.push({ partition: p, key: `key-${i % 17}`, value: inputValue(p, i) });
            expected.get(p)!.push(inputValue(p, i));
          }
        }
        await txn.send({ topic, acks: -1, messages });
        await txn.commit();
        if (ABORT_INPUT_AFTER.has(round)) {
          const aborted = await producer.transaction();
          await aborted.send({ topic, acks: -1, messages: [...Array(PARTITIONS * ABORTED_INPUT).keys()].map((k) => ({ partition: k % PARTITIONS, key: 'x', value: `aborted-input-${round}-${k}` })) });
          await aborted.abort();
        }
      }
      // a non-transactional tail, so each partition ends with a data record
      const plain = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await plain.connect();
      try {
        const messages = [];
        for (let k = 0; k < TAIL; k++, i++) {
          for (let p = 0; p < PARTITIONS; p++) {
            messages.push({ partition: p, key: `key-${i % 17}`, value: inputValue(p, i) });
            expected.get(p)!.push(inputValue(p, i));
          }
        }
        await plain.send({ topic, acks: -1, messages });
      } finally {
        await plain.disconnect();
      }
    } finally {
      await producer.disconnect();
    }
    return expected;
  }

  it('copies every committed input record exactly once across aborted transactions and broker restarts', async (t) => {
    const input = await createTopic('txn-in');
    const output = await createTopic('txn-out');
    const groupId = `${input}-copier`;
    const transactionalId = `${input}-copier-txn`;
    const expected = await writeInput(input);
    const endOffsets = new Map((await admin.fetchTopicOffsets(input)).map((o) => [o.partition, BigInt(o.high)]));

    const stats = { workers: 0, txns: 0, committed: 0, aborted: 0, restarts: 0, crashes: 0, recoveries: 0, errors: [] as string[] };
    const problems: string[] = [];
    /** The group's committed offset per input partition, as this pipeline last committed it. */
    const committedOffsets = new Map<number, bigint>();
    const groupOffset = async (partition: number): Promise<bigint> => {
      const res = await admin.fetchOffsets({ groupId, topics: [input] });
      const o = res[0]!.partitions.find((x) => x.partition === partition)!.offset;
      return BigInt(o) < 0n ? 0n : BigInt(o);
    };
    const isComplete = () => [...endOffsets].every(([p, end]) => committedOffsets.get(p) === end);

    /**
     * One pipeline worker: a transactional producer and a group consumer. Returns 'complete' once
     * the group's offsets reach the input's end, or with crashAfterCommits, once that many
     * transactions have committed in all: it then opens one more transaction (records and offsets
     * sent) and "crashes": disconnects without committing or aborting ('crashed'). The next worker's
     * producer (same transactionalId) fences it and completes the open transaction as aborted; its
     * consumer starts from the group's committed offsets.
     */
    const runWorker = async (crashAfterCommits?: number): Promise<'complete' | 'crashed'> => {
      stats.workers++;
      let producer = transactionalProducer(transactionalId);
      await producer.connect();
      // initTransactions (kafkajs does it at the first transaction): fences older producers of the id
      await (await producer.transaction()).abort();
      const consumer: Consumer = kafka.consumer({
        groupId,
        readUncommitted: false,
        maxWaitTimeInMs: 100,
        retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      await consumer.connect();
      let finish!: (r: 'complete' | 'crashed') => void;
      const done = new Promise<'complete' | 'crashed'>((resolve) => { finish = resolve; });
      let stopped = false;
      const stop = (r: 'complete' | 'crashed') => {
        stopped = true;
        finish(r);
      };

      /**
       * Seeks a partition back to the group's committed offset. After an abort that is the
       * offset this pipeline last committed; after a failed commit it may also be the failed
       * transaction's offset (if the commit happened but its answer was lost).
       */
      const seekToCommitted = async (partition: number, failedTxnOffset?: bigint) => {
        const offset = await groupOffset(partition);
        const before = committedOffsets.get(partition) ?? 0n;
        if (offset !== before && offset !== failedTxnOffset) {
          problems.push(`partition ${partition}: group offset ${offset} after an abort/recovery, expected ${before}${failedTxnOffset === undefined ? '' : ` or ${failedTxnOffset}`}`);
        }
        committedOffsets.set(partition, offset);
        consumer.seek({ topic: input, partition, offset: offset.toString() });
      };
      /** What a real pipeline does after an error: a new producer (fencing the old) and a seek. */
      const recover = async (partition: number, failedTxnOffset: bigint) => {
        stats.recoveries++;
        await producer.disconnect().catch(() => {});
        producer = transactionalProducer(transactionalId);
        await producer.connect();
        await (await producer.transaction()).abort(); // InitProducerId: the old epoch's transaction is completed
        await seekToCommitted(partition, failedTxnOffset);
      };

      await consumer.subscribe({ topic: input, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
          if (stopped || !isRunning() || isStale()) return;
          const partition = batch.partition;
          for (const m of batch.messages) {
            if (m.value?.toString().startsWith('aborted-input')) problems.push(`read_committed consumer saw aborted input ${m.value} at ${partition}/${m.offset}`);
          }
          const msgs = batch.messages.slice(0, TXN_MAX);
          if (!msgs.length) return;
          const last = msgs[msgs.length - 1]!;
          const nextOffset = msgs.length === batch.messages.length ? BigInt(batch.lastOffset()) + 1n : BigInt(last.offset) + 1n;
          const n = ++stats.txns;
          const abortThis = n % ABORT_EVERY === 0;
          try {
            const txn = await producer.transaction();
            try {
              await txn.send({
                topic: output,
                acks: -1,
                messages: msgs.map((m) => ({ partition, key: m.key, value: transform(m.value!.toString()), headers: { src: `${partition}:${m.offset}` } })),
              });
              await txn.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition, offset: nextOffset.toString() }] }] });
              if (!abortThis && crashAfterCommits !== undefined && stats.committed >= crashAfterCommits) {
                stats.crashes++;
                stop('crashed'); // leave this transaction open: the worker dies here
                return;
              }
              if (!abortThis && stats.committed + 1 === KILL_AT && stats.restarts === 1 && broker.restart) {
                stats.restarts++;
                await broker.restart('SIGKILL'); // the broker dies with this transaction open
              }
              if (abortThis) await txn.abort();
              else await txn.commit();
            } catch (err) {
              if (txn.isActive()) await txn.abort().catch(() => {});
              throw err;
            }
          } catch (err) {
            stats.errors.push(`txn ${n}: ${(err as Error).name}: ${(err as Error).message}`);
            await recover(partition, nextOffset);
            return;
          }
          if (abortThis) {
            stats.aborted++;
            await seekToCommitted(partition); // re-read what the aborted transaction had consumed
            return;
          }
          stats.committed++;
          committedOffsets.set(partition, nextOffset);
          resolveOffset(last.offset);
          if (isComplete()) return stop('complete');
          if (stats.committed === RESTART_AT && broker.restart) {
            stats.restarts++;
            await broker.restart('SIGTERM'); // between two transactions
          }
          await heartbeat().catch(() => {});
        },
      });

      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          done,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`pipeline worker ${stats.workers} did not finish within ${PIPELINE_TIMEOUT_MS} ms: ${JSON.stringify({ stats, problems, committed: [...committedOffsets], end: [...endOffsets] }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`)), PIPELINE_TIMEOUT_MS);
          }),
        ]);
      } finally {
        clearTimeout(timer);
        stopped = true;
        await consumer.disconnect().catch(() => {});
        await producer.disconnect().catch(() => {});
      }
    };

    assert.equal(await runWorker(CRASH_AFTER), 'crashed');
    assert.equal(await runWorker(), 'complete');

    t.diagnostic(`pipeline: ${JSON.stringify(stats)}`);
    assert.deepEqual(problems, []);
    assert.ok(stats.aborted >= 2, `aborted transactions: ${JSON.stringify(stats)}`);
    if (broker.restart) assert.equal(stats.restarts, 2, 'the broker was restarted twice in the middle');
    assert.equal(stats.crashes, 1);

    // read_committed: every committed input record exactly once, in order, nothing aborted
    const committed = await readTopic(kafka, output, 'read_committed');
    for (let p = 0; p < PARTITIONS; p++) {
      const values = (committed.get(p) ?? []).map((r) => r.value);
      assert.equal(values.length, PER_PARTITION, `output partition ${p}: ${values.length} committed records, expected ${PER_PARTITION} (pipeline ${JSON.stringify(stats)})`);
      assert.deepEqual(values, expected.get(p)!.map(transform), `output partition ${p}: each input record once, in order`);
    }

    // read_uncommitted: the aborted transactions' records are there too
    const uncommitted = await readTopic(kafka, output, 'read_uncommitted');
    const allExpected = new Set([...expected.values()].flat().map(transform));
    let extra = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const values = (uncommitted.get(p) ?? []).map((r) => r.value!);
      for (const v of values) assert.ok(allExpected.has(v), `read_uncommitted: unexpected value ${v}`);
      extra += values.length - PER_PARTITION;
    }
    assert.ok(extra > 0, `read_uncommitted shows the aborted records (${extra} more than committed; ${stats.aborted} aborted transactions)`);

    // the group's committed offsets are the input's end offsets
    const group = await admin.fetchOffsets({ groupId, topics: [input] });
    assert.deepEqual(
      new Map(group[0]!.partitions.map((o) => [o.partition, BigInt(o.offset)])),
      endOffsets,
      'committed group offsets = input end offsets',
    );
  });

  it('fences a zombie: the older producer with the same transactionalId gets INVALID_PRODUCER_EPOCH and its records and offsets stay invisible', async () => {
    const output = await createTopic('txn-zombie', 3);
    const transactionalId = `${output}-txn`;
    const groupId = `${output}-group`;
    const zombie = transactionalProducer(transactionalId);
    const successor = transactionalProducer(transactionalId);
    await zombie.connect();
    await successor.connect();
    const values = async (isolation: 'read_committed' | 'read_uncommitted') =>
      [...(await readTopic(kafka, output, isolation))].map(([p, recs]) => [p, recs.map((r) => r.value)]);
    try {
      const old = await zombie.transaction();
      await old.send({ topic: output, acks: -1, messages: [{ partition: 0, value: 'zombie-1' }, { partition: 1, value: 'zombie-1' }] });

      // while the transaction is open its records are beyond the last stable offset
      assert.deepEqual(await partitionEnds(kafka, output, 0), { highWatermark: 1n, lastStableOffset: 0n });
      assert.deepEqual(await values('read_committed'), [[0, []], [1, []], [2, []]]);
      assert.deepEqual(await values('read_uncommitted'), [[0, ['zombie-1']], [1, ['zombie-1']], [2, []]]);

      // the successor's first transaction initialises the transactional id: new epoch, old transaction aborted
      const current = await successor.transaction();

      const fenced = (what: string) => (err: unknown) => {
        const e = err as { name?: string; type?: string; code?: number };
        assert.equal(e.name, 'KafkaJSProtocolError', `${what}: ${String(err)}`);
        assert.equal(e.type, 'INVALID_PRODUCER_EPOCH', `${what}: ${String(err)}`);
        assert.equal(e.code, INVALID_PRODUCER_EPOCH);
        return true;
      };
      // Produce to partitions of its transaction
      await assert.rejects(old.send({ topic: output, acks: -1, messages: [{ partition: 0, value: 'zombie-2' }, { partition: 1, value: 'zombie-2' }] }), fenced('zombie send'));
      // AddPartitionsToTxn for a new partition
      await assert.rejects(old.send({ topic: output, acks: -1, messages: [{ partition: 2, value: 'zombie-3' }] }), fenced('zombie send to a new partition'));
      // AddOffsetsToTxn
      await assert.rejects(old.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: output, partitions: [{ partition: 0, offset: '7' }] }] }), fenced('zombie sendOffsets'));
      // EndTxn
      await assert.rejects(old.commit(), fenced('zombie commit'));

      await current.send({ topic: output, acks: -1, messages: [0, 1, 2].map((partition) => ({ partition, value: 'successor' })) });
      await current.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: output, partitions: [{ partition: 0, offset: '42' }] }] });
      await current.commit();
    } finally {
      await zombie.disconnect().catch(() => {});
      await successor.disconnect().catch(() => {});
    }

    assert.deepEqual(await values('read_committed'), [[0, ['successor']], [1, ['successor']], [2, ['successor']]]);
    // the zombie's first records were appended (and aborted by the fencing), the later ones never
    assert.deepEqual(await values('read_uncommitted'), [[0, ['zombie-1', 'successor']], [1, ['zombie-1', 'successor']], [2, ['successor']]]);
    const group = await admin.fetchOffsets({ groupId, topics: [output] });
    assert.equal(group[0]!.partitions.find((p) => p.partition === 0)!.offset, '42', "the successor's offset commit, not the zombie's");
  });

  it('aborts a transaction its producer abandoned once its timeout passes; read_committed readers then get past it and the producer is fenced', async () => {
    const topic = await createTopic('txn-timeout', 1);
    const abandoning = kafka.producer({ transactionalId: `${topic}-txn`, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 1500, allowAutoTopicCreation: false });
    const plain = kafka.producer({ idempotent: false, allowAutoTopicCreation: false, retry: { retries: 0 } });
    await abandoning.connect();
    await plain.connect();
    try {
      const txn = await abandoning.transaction();
      await txn.send({ topic, acks: -1, messages: [{ partition: 0, value: 'abandoned' }] });
      await plain.send({ topic, acks: -1, messages: [{ partition: 0, value: 'after' }] });
      // the open transaction holds the last stable offset at its first record
      assert.deepEqual(await partitionEnds(kafka, topic, 0), { highWatermark: 2n, lastStableOffset: 0n });

      // no commit, no abort: the coordinator aborts it after transaction.timeout.ms (1.5 s), at its
      // next check for timed-out transactions (Kafka's default interval is 10 s)
      const committedValues = await waitFor(async () => {
        const v = (await readTopic(kafka, topic, 'read_committed')).get(0)!.map((r) => r.value);
        return v.length ? v : undefined;
      }, { timeoutMs: 30_000, intervalMs: 250, message: 'the abandoned transaction is aborted and read_committed gets past it' });
      assert.deepEqual(committedValues, ['after']);
      assert.deepEqual((await readTopic(kafka, topic, 'read_uncommitted')).get(0)!.map((r) => r.value), ['abandoned', 'after']);
      assert.deepEqual(await partitionEnds(kafka, topic, 0), { highWatermark: 3n, lastStableOffset: 3n }, 'the abort marker is at offset 2');

      // the producer comes back: its epoch was bumped by the abort
      await assert.rejects(txn.commit(), (err: unknown) => {
        const e = err as { name?: string; type?: string; code?: number };
        assert.equal(e.type, 'INVALID_PRODUCER_EPOCH', String(err));
        assert.equal(e.code, INVALID_PRODUCER_EPOCH);
        return true;
      });
    } finally {
      await abandoning.disconnect().catch(() => {});
      await plain.disconnect().catch(() => {});
    }
  });
});

