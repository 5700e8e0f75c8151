/**
 * Exactly-once with librdkafka's transactional producer through confluent-kafka-python (issue 6):
 * compat/python/txn.py copies 1500 keyed records (3 input partitions, value = per-partition
 * sequence number) to an output topic, input partition P to output partition P, one transaction
 * per consume() (≤ 25 records): transactional Producer (transactional.id), read_committed
 * Consumer (enable.auto.commit=false), send_offsets_to_transaction(offsets,
 * consumer.consumer_group_metadata()), commit_transaction. Every 7th transaction is aborted on
 * purpose (after its records are flushed and its offsets sent) and the consumer rewinds to the
 * committed offsets.
 *
 * Against Tributary (a child process, see compat/java/txn-scenarios.ts) the broker is SIGKILLed
 * and restarted once while the pipeline runs and stays down 12 s (longer than the pipeline's 10 s
 * operation timeouts, so it aborts or replaces its producer); against an external broker (BOOTSTRAP_SERVERS,
 * --real-kafka) there is no kill.
 *
 * Then a read_committed librdkafka consumer of the output sees every input record exactly once,
 * in order per partition; a read_uncommitted one also sees the aborted copies.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PYTHON, pyConsume, pyCreateTopic, pyProduce, uniqueTopic } from '../harness.ts';
import {
  brokerTrouble, killDuring, killFractions, pythonPipeline, startTxnBroker, txnInput, txnSkipReason, verifyExactlyOnce,
  TXN_PARTITIONS, type PipelineProcess, type TxnBroker,
} from '../java/txn-scenarios.ts';

const N = Number(process.env.COMPAT_TXN_PY_RECORDS ?? 1500);
const KILLS = Number(process.env.COMPAT_TXN_PY_KILLS ?? 1);

const skip = txnSkipReason();
let broker: TxnBroker;
const running: PipelineProcess[] = [];

before(async () => {
  if (skip) return;
  broker = await startTxnBroker();
});
after(async () => {
  for (const p of running) p.kill();
  await broker?.close();
});

const EXTERNAL = !!process.env.BOOTSTRAP_SERVERS?.trim() && process.env.COMPAT_TXN_KILL_KAFKA !== '1';
const HOW = EXTERNAL ? 'external broker: no kills (cannot kill it), aborts only'
  : `broker SIGKILLed and restarted ${KILLS} time${KILLS === 1 ? '' : 's'}`;

test(`confluent-kafka (librdkafka): exactly-once consume-transform-produce, ${N} records over ${TXN_PARTITIONS} partitions, every 7th transaction aborted, ${HOW}`,
  { skip, timeout: 240_000 }, async (t) => {
    const started = Date.now();
    t.diagnostic(`broker: ${broker.kind} ${broker.bootstrap}; ${HOW}`);
    const input = uniqueTopic('txn-py-in');
    const output = `${input}-out`;
    await pyCreateTopic(broker.bootstrap, input, TXN_PARTITIONS);
    await pyCreateTopic(broker.bootstrap, output, TXN_PARTITIONS);
    const recs = txnInput(N, 'py');
    // the input is written without idempotence/transactions: only the pipeline exercises them
    const prod = await pyProduce(broker.bootstrap, input, recs, { acks: 'all', 'enable.idempotence': false });
    assert.equal(prod.done.ok, N, `input not fully written: ${JSON.stringify(prod.done)}`);
    const perPartition = new Map<number, number>();
    for (const d of prod.deliveries) {
      const next = perPartition.get(d.p!) ?? 0;
      assert.equal(d.o, next, `input record ${d.i}: offset ${d.o} in partition ${d.p}, want ${next}`);
      perPartition.set(d.p!, next + 1);
    }

    const k = broker.killable ? KILLS : 0;
    const pipeline = pythonPipeline(PYTHON, broker.bootstrap, input, {
      output, group: `${input}-g`, txnid: `${input}-tx`, batch: 25, abortEvery: 7,
      pauseMs: k > 0 ? 40 : 0, timeoutSec: Number(process.env.COMPAT_TXN_TIMEOUT_SEC ?? 180),
    });
    running.push(pipeline);
    try {
      const points = k > 0 ? await killDuring(pipeline, broker, N, killFractions(k).map((f) => f * 0.8 + 0.1), (s) => t.diagnostic(s), [12_000]) : [];
      const done = await pipeline.finish(200_000);
      t.diagnostic(`pipeline: ${JSON.stringify(done)}`);
      const recoveries = pipeline.events.filter((e) => /recover|error|retry/.test(String(e.ev)));
      if (recoveries.length) {
        t.diagnostic(`recovery events (${recoveries.length}), first: ${recoveries.slice(0, 6).map((e) => JSON.stringify(e).slice(0, 300)).join(' | ')}`);
      }
      assert.equal(points.length, k, `only ${points.length} of ${k} kills happened before the pipeline finished`);
      assert.equal(done.copied >= N, true, `pipeline copied ${done.copied} < ${N}`);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${pipeline.describe()}\n--- broker log (trouble):\n${brokerTrouble(broker.output())}`);
    }

    const committed = await pyConsume(broker.bootstrap, output, 'earliest', { 'isolation.level': 'read_committed' });
    const uncommitted = await pyConsume(broker.bootstrap, output, 'earliest', { 'isolation.level': 'read_uncommitted' });
    try {
      t.diagnostic(verifyExactlyOnce(recs, committed, uncommitted, pipeline.of('abort')));
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${pipeline.describe()}\n--- broker log (trouble):\n${brokerTrouble(broker.output())}`);
    }
    t.diagnostic(`${Date.now() - started} ms in all`);
  });
