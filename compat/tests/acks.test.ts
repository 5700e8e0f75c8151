/**
 * Produce with acks=all, acks=1 and acks=0 from both clients. With acks=0 the broker sends no
 * Produce response, so the client reports no offset; the records must still all arrive.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { brokerSkipReason, startCompatBroker, type CompatBroker } from '../broker.ts';
import {
  digest, eventually, genRecords, kcatConsume, kcatProduce, py, pyConsume, pyCreateTopic, pyProduce, uniqueTopic,
} from '../harness.ts';

const skip = brokerSkipReason();
let broker: CompatBroker;
before(async () => { if (!skip) broker = await startCompatBroker(); });
after(async () => { await broker?.close(); });

const T = { skip, timeout: 120_000 };

async function highWatermark(topic: string): Promise<number> {
  const res = await py(broker.bootstrap, 'watermarks', { topic });
  return res.lines.reduce((n, l) => n + l.high, 0);
}

for (const acks of ['all', '1', '0'] as const) {
  test(`python acks=${acks}`, T, async () => {
    const topic = uniqueTopic(`acks-py-${acks}`);
    await pyCreateTopic(broker.bootstrap, topic, 1);
    const recs = genRecords(500, `acks${acks}`, { maxLen: 200 }).map((r) => ({ ...r, partition: 0 }));
    const { done, deliveries } = await pyProduce(broker.bootstrap, topic, recs, { acks });
    assert.equal(done.ok, recs.length, JSON.stringify(deliveries.find((d) => d.error)));
    if (acks === '0') {
      // librdkafka reports OFFSET_INVALID (None in python) when the broker does not respond
      for (const d of deliveries) assert.equal(d.o, null);
    } else {
      assert.deepEqual(deliveries.map((d) => d.o), recs.map((_, i) => i));
    }
    await eventually(async () => (await highWatermark(topic)) === recs.length, 20_000);
    const got = await pyConsume(broker.bootstrap, topic);
    assert.equal(digest(got), digest(recs));
  });

  test(`kcat acks=${acks}`, T, async () => {
    const topic = uniqueTopic(`acks-kcat-${acks}`);
    await pyCreateTopic(broker.bootstrap, topic, 1);
    const recs = genRecords(500, `kacks${acks}`, { maxLen: 200 });
    await kcatProduce(broker.bootstrap, topic, recs, { partition: 0, config: { acks } });
    await eventually(async () => (await highWatermark(topic)) === recs.length, 20_000);
    const got = await kcatConsume(broker.bootstrap, topic);
    assert.equal(digest(got), digest(recs));
  });
}

test('acks=0 and acks=all interleave on one partition without losing order', T, async () => {
  const topic = uniqueTopic('acks-mixed');
  await pyCreateTopic(broker.bootstrap, topic, 1);
  const a = genRecords(200, 'mixA', { maxLen: 100 }).map((r) => ({ ...r, partition: 0 }));
  const b = genRecords(200, 'mixB', { maxLen: 100 }).map((r) => ({ ...r, partition: 0 }));
  assert.equal((await pyProduce(broker.bootstrap, topic, a, { acks: '0' })).done.ok, a.length);
  await eventually(async () => (await highWatermark(topic)) === a.length, 20_000);
  const second = await pyProduce(broker.bootstrap, topic, b, { acks: 'all' });
  assert.deepEqual(second.deliveries.map((d) => d.o), b.map((_, i) => a.length + i));
  assert.equal(digest(await kcatConsume(broker.bootstrap, topic)), digest([...a, ...b]));
});
