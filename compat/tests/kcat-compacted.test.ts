/**
 * kcat (librdkafka) on a compacted topic: created with cleanup.policy=compact and settings that
 * make the cleaner run soon (compat/compacted.ts; by confluent-kafka's AdminClient, kcat cannot
 * create topics), written by kcat in rounds (keyed overwrites, tombstones with -Z, a revived key,
 * a last record that opens the active segment), then read with `kcat -C -e -f '%o %k %S %s\n'`
 * until the cleaner has run (at most 60 s): each key once, at the offset of its latest write, with
 * that value, offsets increasing.
 *
 * Against Kafka, start it with a short log.cleaner.backoff.ms (compat/run.sh --real-kafka does).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { brokerSkipReason, startCompatBroker, type CompatBroker } from '../broker.ts';
import { COMPACTED_TOPIC_CONFIG, compactedPlan, expectedState, untilCompacted, type SeenRecord } from '../compacted.ts';
import { KCAT, pyCreateTopic, run, uniqueTopic } from '../harness.ts';

const skip = brokerSkipReason();
let broker: CompatBroker;

before(async () => {
  if (skip) return;
  broker = await startCompatBroker({ config: { 'log.cleaner.backoff.ms': '100', 'log.retention.check.interval.ms': '200' } });
});
after(async () => { await broker?.close(); });

/** `kcat -C -e -f '%o %k %S %s\n'` of partition 0 (keys and values here have no spaces or LF). */
async function kcatRead(topic: string): Promise<SeenRecord[]> {
  const args = ['-C', '-b', broker.bootstrap, '-m', '15', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-f', '%o %k %S %s\\n'];
  const r = await run(KCAT, args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `kcat -C: ${r.stderr}`);
  return r.stdout.toString('utf8').split('\n').filter((l) => l !== '').map((l) => {
    const [o, k, len, ...v] = l.split(' ');
    return { offset: Number(o), key: k!, value: len === '-1' ? null : v.join(' ') };
  });
}

test('kcat reads a compacted topic: the latest value per key at its original offset, tombstones kept as null or gone', { skip, timeout: 150_000 }, async () => {
  const topic = uniqueTopic('kcat-compacted');
  await pyCreateTopic(broker.bootstrap, topic, 1, COMPACTED_TOPIC_CONFIG);
  const plan = compactedPlan('kc');
  const written: Array<{ key: string; value: string | null }> = [];
  for (const round of [...plan.rounds, plan.roll]) {
    await new Promise((r) => setTimeout(r, 150)); // > segment.ms: each round starts a segment
    const input = round.recs.map((r) => `${r.key}\t${r.value ?? ''}\n`).join('');
    const args = ['-P', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-K', '\t', '-Z', '-X', 'message.timeout.ms=30000'];
    const res = await run(KCAT, args, { input, timeoutMs: 60_000 });
    assert.equal(res.code, 0, `kcat -P: ${res.stderr}`);
    written.push(...round.recs);
  }
  const state = await untilCompacted('kcat', written, 60_000, () => kcatRead(topic));
  assert.deepEqual(state, expectedState(written), 'latest value per key, tombstoned keys absent');
});
