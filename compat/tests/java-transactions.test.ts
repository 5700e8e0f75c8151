/**
 * Exactly-once with the Apache Kafka Java client (issue 6: idempotent producers and
 * transactions), kafka-clients 4.4.0: the harness's `txn-pipeline` scenario
 * (compat/java/src/main/java/dev/tributary/compat/TxnPipeline.java) copies 2000 keyed records
 * (3 input partitions, value = per-partition sequence number) to an output topic, input partition
 * P to output partition P, one transaction per poll (≤ 25 records): transactional producer
 * (transactional.id), read_committed KafkaConsumer (enable.auto.commit=false),
 * sendOffsetsToTransaction(offsets, consumer.groupMetadata()), commitTransaction. Every 7th
 * transaction is aborted on purpose (after its records are flushed and its offsets sent) and the
 * consumer rewinds to the committed offsets.
 *
 * Against Tributary the broker runs as a child process (test/testkit/broker.ts
 * spawnBrokerProcess) and is SIGKILLed and restarted on the same data dir and port 3 times at
 * random points while the pipeline runs (the second time it stays down 11 s, longer than the
 * clients' 10 s timeouts); the pipeline recovers as an application does (abort, or
 * a new producer with the same transactional.id, then seek to the committed offsets). Against an
 * external broker (BOOTSTRAP_SERVERS, --real-kafka) the same pipeline runs without kills.
 *
 * Then: a read_committed consumer of the output sees every input record exactly once, in order
 * per partition (keys, values, source headers); a read_uncommitted consumer also sees the copies
 * of the aborted transactions (so aborts really happened and are filtered); the group's committed
 * offsets are the input end offsets.
 *
 * A second, shorter test runs the same pipeline (600 records, no kills) with a subscribe()d
 * consumer, so sendOffsetsToTransaction carries a real group generation and member id (KIP-447)
 * that the broker's TxnOffsetCommit checks.
 */
import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import { uniqueTopic } from '../harness.ts';
import { javaClient, type CliClient } from '../java/client.ts';
import {
  brokerTrouble, javaPipeline, killDuring, killFractions, startTxnBroker, txnInput, txnSkipReason, verifyExactlyOnce,
  TXN_PARTITIONS, type PipelineProcess, type TxnBroker,
} from '../java/txn-scenarios.ts';

const VERSION = '4.4.0';
const N = Number(process.env.COMPAT_TXN_RECORDS ?? 2000);
const KILLS = Number(process.env.COMPAT_TXN_KILLS ?? 3);
const SUBSCRIBE_N = 600;
/** the second kill keeps the broker down this long: over the pipeline's 10 s max.block.ms, so its
 *  sendOffsetsToTransaction/commitTransaction/abortTransaction time out and it recovers */
const LONG_OUTAGE_MS = 11_000;

const skip = txnSkipReason();
let broker: TxnBroker;
let java: CliClient;
const running: PipelineProcess[] = [];

before(async () => {
  if (skip) return;
  java = await javaClient(VERSION);
  broker = await startTxnBroker();
});
after(async () => {
  for (const p of running) p.kill();
  await broker?.close();
});

const EXTERNAL = !!process.env.BOOTSTRAP_SERVERS?.trim() && process.env.COMPAT_TXN_KILL_KAFKA !== '1';
const kills = () => (broker?.killable ? KILLS : 0);
const HOW = EXTERNAL ? 'external broker: no kills (cannot kill it), aborts only' : `broker SIGKILLed and restarted ${KILLS} times`;

async function pipelineTest(t: TestContext, n: number, k: number, mode: 'assign' | 'subscribe'): Promise<void> {
    const started = Date.now();
    t.diagnostic(`broker: ${broker.kind} ${broker.bootstrap}; ${k > 0 ? `${k} kills` : 'no kills'}; consumer ${mode}()`);
    const input = uniqueTopic('txn-java-in');
    const output = `${input}-out`;
    await java.create(broker.bootstrap, input, TXN_PARTITIONS);
    await java.create(broker.bootstrap, output, TXN_PARTITIONS);
    const recs = txnInput(n, 'j');
    // the input is written without idempotence/transactions: only the pipeline exercises them
    const prod = await java.produce(broker.bootstrap, input, recs, { acks: 'all', 'enable.idempotence': 'false' });
    assert.equal(prod.done.ok, n, `input not fully written: ${JSON.stringify(prod.done)}`);
    const perPartition = new Map<number, number>();
    for (const d of prod.deliveries) {
      const next = perPartition.get(d.p) ?? 0;
      assert.equal(d.o, next, `input record ${d.i}: offset ${d.o} in partition ${d.p}, want ${next}`);
      perPartition.set(d.p, next + 1);
    }

    const pipeline = await javaPipeline(VERSION, broker.bootstrap, input, {
      output, group: `${input}-g`, txnid: `${input}-tx`, batch: 25, abortEvery: 7,
      // slow enough that the kills land while it copies
      pauseMs: k > 0 ? 40 : 0, timeoutSec: 180, extra: { mode },
    });
    running.push(pipeline);
    let points: number[] = [];
    try {
      if (k > 0) points = await killDuring(pipeline, broker, n, killFractions(k), (s) => t.diagnostic(s), k > 1 ? [300, LONG_OUTAGE_MS] : []);
      const done = await pipeline.finish(200_000);
      t.diagnostic(`pipeline: ${JSON.stringify(done)}`);
      const recoveries = pipeline.events.filter((e) => e.ev === 'recover' || e.ev === 'init_error' || e.ev === 'rewind_error');
      if (recoveries.length) {
        t.diagnostic(`recovery events (${recoveries.length}), first: ${recoveries.slice(0, 6).map((e) => JSON.stringify(e).slice(0, 300)).join(' | ')}`);
      }
      assert.equal(points.length, k, `only ${points.length} of ${k} kills happened before the pipeline finished`);
      assert.equal(done.copied >= n, true, `pipeline copied ${done.copied} < ${n}`);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${pipeline.describe()}\n--- broker log (trouble):\n${brokerTrouble(broker.output())}`);
    }

    const committed = await java.consume(broker.bootstrap, output, 'earliest', { 'isolation.level': 'read_committed' }, 90);
    const uncommitted = await java.consume(broker.bootstrap, output, 'earliest', { 'isolation.level': 'read_uncommitted' }, 90);
    try {
      const summary = verifyExactlyOnce(recs, committed.recs, uncommitted.recs, pipeline.of('abort'));
      t.diagnostic(summary);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${pipeline.describe()}\n--- broker log (trouble):\n${brokerTrouble(broker.output())}`);
    }

    // the group's committed offsets (TxnOffsetCommit) are the input's end offsets
    const g = await java.describeGroup(broker.bootstrap, input, `${input}-g`);
    const want: Record<string, number> = {};
    for (const [p, n] of perPartition) want[String(p)] = n;
    assert.deepEqual(g.offsets, want, `committed offsets of the group: ${JSON.stringify(g)}`);
    t.diagnostic(`${Date.now() - started} ms in all`);
}

test(`java ${VERSION}: exactly-once consume-transform-produce, ${N} records over ${TXN_PARTITIONS} partitions, every 7th transaction aborted, ${HOW}`,
  { skip, timeout: 240_000 }, (t) => pipelineTest(t, N, kills(), process.env.COMPAT_TXN_MODE === 'subscribe' ? 'subscribe' : 'assign'));

// subscribe(): sendOffsetsToTransaction carries the group generation and member id (KIP-447),
// which TxnOffsetCommit checks
test(`java ${VERSION}: the same pipeline with a subscribe()d consumer (group generation in TxnOffsetCommit), ${SUBSCRIBE_N} records, no kills`,
  { skip, timeout: 180_000 }, (t) => pipelineTest(t, SUBSCRIBE_N, 0, 'subscribe'));
