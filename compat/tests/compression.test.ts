/**
 * gzip, snappy, lz4 and zstd batches produced by each client and consumed back by the other.
 * When the broker's log dir is known (in-process Tributary, or COMPAT_EXTERNAL_DATA_DIR for an
 * external broker) the stored batches are also checked to carry the codec.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { brokerSkipReason, startCompatBroker, type CompatBroker } from '../broker.ts';
import {
  digest, genRecords, kcatConsume, kcatProduce, pyConsume, pyCreateTopic, pyProduce, storedCodecs, uniqueTopic,
} from '../harness.ts';

const skip = brokerSkipReason();
let broker: CompatBroker;
before(async () => { if (!skip) broker = await startCompatBroker(); });
after(async () => { await broker?.close(); });

const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
const T = { skip, timeout: 120_000 };

function checkStored(topic: string, codec: string): void {
  const stored = storedCodecs(broker.dataDir, topic);
  if (stored === undefined) return; // log dir unknown or not in Kafka's layout: cannot check
  assert.deepEqual([...stored], [codec], `stored batches of ${topic} use ${codec}`);
}

for (const codec of CODECS) {
  test(`${codec}: python produces, kcat consumes`, T, async () => {
    const topic = uniqueTopic(`z-py-${codec}`);
    await pyCreateTopic(broker.bootstrap, topic, 2);
    // compressible values (compression must actually shrink the batch), plus a random tail
    const recs = genRecords(300, codec, { minLen: 50, maxLen: 2000, compressible: true })
      .map((r, i) => ({ ...r, partition: i % 2, headers: [['codec', Buffer.from(codec)]] as Array<[string, Buffer | null]> }));
    const { done } = await pyProduce(broker.bootstrap, topic, recs, { 'compression.type': codec, 'linger.ms': 20 });
    assert.equal(done.ok, recs.length);
    const got = await kcatConsume(broker.bootstrap, topic);
    assert.equal(got.length, recs.length);
    for (const p of [0, 1]) {
      const exp = recs.filter((r) => r.partition === p);
      const g = got.filter((r) => r.partition === p);
      assert.equal(digest(g), digest(exp), `partition ${p} key+value stream`);
      assert.deepEqual(g.map((r) => r.offset), exp.map((_, i) => i));
    }
    for (const r of got) assert.deepEqual(r.headers, [['codec', Buffer.from(codec)]]);
    checkStored(topic, codec);
  });

  test(`${codec}: kcat produces, python consumes`, T, async () => {
    const topic = uniqueTopic(`z-kcat-${codec}`);
    await pyCreateTopic(broker.bootstrap, topic, 1);
    const recs = genRecords(300, codec, { minLen: 50, maxLen: 2000, compressible: true });
    await kcatProduce(broker.bootstrap, topic, recs, {
      partition: 0, headers: [['codec', codec]], config: { 'compression.codec': codec, 'linger.ms': 20 },
    });
    const got = await pyConsume(broker.bootstrap, topic);
    assert.equal(got.length, recs.length);
    assert.equal(digest(got), digest(recs));
    assert.deepEqual(got.map((r) => r.offset), recs.map((_, i) => i));
    for (const r of got) assert.deepEqual(r.headers, [['codec', Buffer.from(codec)]]);
    checkStored(topic, codec);
  });
}

test('mixed codecs in one partition are all readable in order', T, async () => {
  const topic = uniqueTopic('z-mixed');
  await pyCreateTopic(broker.bootstrap, topic, 1);
  const all = [];
  for (const codec of ['none', ...CODECS]) {
    const recs = genRecords(50, `mixed-${codec}`, { minLen: 100, maxLen: 300, compressible: true })
      .map((r) => ({ ...r, partition: 0 }));
    if (codec === 'gzip' || codec === 'zstd') {
      await kcatProduce(broker.bootstrap, topic, recs, { partition: 0, config: { 'compression.codec': codec } });
    } else {
      const { done } = await pyProduce(broker.bootstrap, topic, recs, { 'compression.type': codec });
      assert.equal(done.ok, recs.length);
    }
    all.push(...recs);
  }
  const viaPy = await pyConsume(broker.bootstrap, topic);
  const viaKcat = await kcatConsume(broker.bootstrap, topic);
  assert.equal(digest(viaPy), digest(all));
  assert.equal(digest(viaKcat), digest(all));
  const stored = storedCodecs(broker.dataDir, topic);
  if (stored) assert.deepEqual([...stored].sort(), ['gzip', 'lz4', 'none', 'snappy', 'zstd']);
});
