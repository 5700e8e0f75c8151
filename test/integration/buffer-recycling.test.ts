/**
 * Pooled buffers under load: Produce frames over 64 KiB come from the shared buffer pool and go
 * back once their appends are written; Fetch reads come from the same pool and go back once
 * their response is on the socket. A buffer given back too early is handed out again while
 * its bytes are still to be written (to a segment file or to a socket), and some other
 * request's bytes take their place. So: many pipelined produce requests of large batches of
 * random bytes to several partitions, from several connections, while several consumers fetch
 * large ranges at once; then every batch any consumer received, and a full read-back, is
 * compared byte for byte with what was produced.
 *
 * Raw Kafka requests (test/testkit/raw-client.ts) so requests can be pipelined. No timing
 * assertions: timeouts are only safety nets.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestBroker, uniqueTopic, type TestBroker } from '../testkit/broker.ts';
import { RawClient } from '../testkit/raw-client.ts';
import { createTopic, E, fetchRequest, K, produceRequest, type Any, type FetchPart } from '../broker/helpers.ts';
import { buildRecordBatch, decodeRecords } from '../../src/protocol/records.ts';

const PARTITIONS = 4;
const PRODUCERS = 3;
const REQUESTS_PER_PRODUCER = 12;
const CONSUMERS = 3;
const PRODUCE_VERSION = 9;
const FETCH_VERSION = 12;

interface Produced {
  batch: Buffer;
  values: Buffer[];
}

/** Splits a record set into its complete batches (a trailing partial batch is dropped, as clients do). */
function batchesOf(records: Buffer | null): Buffer[] {
  const out: Buffer[] = [];
  if (!records) return out;
  let pos = 0;
  while (pos + 12 <= records.length) {
    const size = 12 + records.readInt32BE(pos + 8);
    if (pos + size > records.length) break;
    out.push(records.subarray(pos, pos + size));
    pos += size;
  }
  return out;
}

const baseOffsetOf = (b: Buffer) => Number(b.readBigInt64BE(0));

/** A batch of 1-3 records of random bytes, 200-900 KiB in all. */
function randomBatch(): Produced {
  const total = (200 + Math.floor(Math.random() * 700)) * 1024;
  const count = 1 + Math.floor(Math.random() * 3);
  const values = Array.from({ length: count }, (_, i) =>
    randomBytes(i < count - 1 ? Math.floor(total / count) : total - Math.floor(total / count) * (count - 1)),
  );
  const batch = buildRecordBatch({
    baseTimestamp: Date.now(),
    records: values.map((value, i) => ({ key: Buffer.from(`k${i}`), value })),
  });
  return { batch, values };
}

describe('pooled Produce frames and Fetch read buffers', () => {
  let broker: TestBroker;
  const clients: RawClient[] = [];
  const connect = async () => {
    const c = await RawClient.connect(broker.host, broker.port);
    clients.push(c);
    return c;
  };

  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await broker?.close();
  });

  it('pipelined large produces and concurrent large fetches: every record comes back byte for byte', async () => {
    const topic = uniqueTopic('recycle');
    const admin = await connect();
    await createTopic(admin, topic, PARTITIONS);

    /** Per partition: base offset -> the batch produced there. */
    const expected = Array.from({ length: PARTITIONS }, () => new Map<number, Produced>());
    /** Every batch any consumer received, with where it came from (checked at the end). */
    const received: { partition: number; batch: Buffer; how: string }[] = [];
    let producing = true;

    // ---- producers: every request written at once, 1-2 partitions each, acks 1 or -1
    const producers = await Promise.all(Array.from({ length: PRODUCERS }, connect));
    const produceAll = Promise.all(
      producers.map((c, pi) =>
        Promise.all(
          Array.from({ length: REQUESTS_PER_PRODUCER }, async (_, ri) => {
            const parts = ri % 3 === 0 ? [(pi + ri) % PARTITIONS, (pi + ri + 1) % PARTITIONS] : [(pi * 5 + ri) % PARTITIONS];
            const sent = parts.map((partition) => ({ partition, ...randomBatch() }));
            const res = await c.request(
              K.Produce,
              PRODUCE_VERSION,
              produceRequest(
                sent.map((s) => ({ topic, partition: s.partition, records: s.batch })),
                ri % 2 === 0 ? 1 : -1,
              ),
              { timeoutMs: 60_000 },
            );
            const byIndex = new Map<number, Any>(res.responses[0].partitionResponses.map((p: Any) => [p.index, p]));
            for (const s of sent) {
              const p = byIndex.get(s.partition);
              assert.equal(p?.errorCode, E.NONE, `produce to ${s.partition}: ${p?.errorMessage}`);
              const base = Number(p.baseOffset);
              assert.ok(!expected[s.partition]!.has(base), `base offset ${base} of partition ${s.partition} given twice`);
              expected[s.partition]!.set(base, { batch: s.batch, values: s.values });
            }
          }),
        ),
      ),
    ).finally(() => (producing = false));

    // ---- consumers, while the producers run: each follows every partition (one multi-partition
    // fetch per round) and, pipelined with it, re-reads a large range of one partition from 0
    // or from a batch it has seen.
    const ends = new Array<number>(PARTITIONS).fill(0);
    const consumers = await Promise.all(Array.from({ length: CONSUMERS }, connect));
    const consumeAll = Promise.all(
      consumers.map(async (c, ci) => {
        const pos = new Array<number>(PARTITIONS).fill(0);
        const seenBases: number[][] = Array.from({ length: PARTITIONS }, () => []);
        for (let round = 0; producing || pos.some((p, i) => p < ends[i]!); round++) {
          const follow = c.request(
            K.Fetch,
            FETCH_VERSION,
            fetchRequest(
              pos.map((offset, partition): FetchPart => ({ topic, partition, offset, partitionMaxBytes: (2 + ci) * 1024 * 1024 })),
              { maxWaitMs: 100, minBytes: 1, maxBytes: 8 * 1024 * 1024 },
            ),
            { timeoutMs: 60_000 },
          );
          const rp = (ci + round) % PARTITIONS;
          const known = seenBases[rp]!;
          const from = known.length === 0 || round % 2 === 0 ? 0 : known[Math.floor(Math.random() * known.length)]!;
          const reread = c.request(
            K.Fetch,
            FETCH_VERSION,
            fetchRequest([{ topic, partition: rp, offset: from, partitionMaxBytes: 6 * 1024 * 1024 }], { maxBytes: 6 * 1024 * 1024 }),
            { timeoutMs: 60_000 },
          );
          const [f, r] = await Promise.all([follow, reread]);
          assert.equal(f.errorCode, E.NONE);
          for (const p of f.responses[0].partitions) {
            assert.equal(p.errorCode, E.NONE);
            for (const b of batchesOf(p.records)) {
              const base = baseOffsetOf(b);
              assert.equal(base, pos[p.partitionIndex], `consumer ${ci} partition ${p.partitionIndex}: batches follow on`);
              received.push({ partition: p.partitionIndex, batch: b, how: `consumer ${ci} following` });
              seenBases[p.partitionIndex]!.push(base);
              pos[p.partitionIndex] = base + b.readInt32BE(23) + 1;
            }
          }
          const rpData = r.responses[0].partitions[0];
          assert.equal(rpData.errorCode, E.NONE);
          const again = batchesOf(rpData.records);
          if (again.length > 0) assert.equal(baseOffsetOf(again[0]!), from, `consumer ${ci} re-read of ${rp} from ${from}`);
          for (const b of again) received.push({ partition: rp, batch: b, how: `consumer ${ci} re-reading from ${from}` });
        }
      }),
    );

    await produceAll;
    // the log end offsets the consumers read up to
    for (let p = 0; p < PARTITIONS; p++) {
      let end = 0;
      for (const [base, { values }] of expected[p]!) end = Math.max(end, base + values.length);
      ends[p] = end;
    }
    await consumeAll;

    const check = (partition: number, b: Buffer, how: string) => {
      const base = baseOffsetOf(b);
      const want = expected[partition]!.get(base);
      assert.ok(want, `${how}: partition ${partition} has no batch at ${base}`);
      // Same bytes apart from the base offset and the partition leader epoch (bytes 12-16).
      assert.equal(b.length, want.batch.length, `${how}: size of ${partition}@${base}`);
      assert.ok(b.subarray(8, 12).equals(want.batch.subarray(8, 12)), `${how}: length field of ${partition}@${base}`);
      assert.ok(b.subarray(16).equals(want.batch.subarray(16)), `${how}: bytes of ${partition}@${base} differ from what was produced`);
      const records = decodeRecords(b);
      assert.deepEqual(
        records.map((r) => r.offset),
        want.values.map((_, i) => base + i),
      );
      records.forEach((r, i) => assert.ok(r.value?.equals(want.values[i]!), `${how}: value of ${partition}@${base + i}`));
    };
    assert.ok(received.length > 0);
    for (const { partition, batch, how } of received) check(partition, batch, how);

    // ---- read everything back: two consumers at once, each with a fetch per partition in
    // flight on its connection (pipelined), partition by partition from offset 0
    const readers = await Promise.all([connect(), connect()]);
    await Promise.all(
      readers.flatMap((c, ri) =>
        Array.from({ length: PARTITIONS }, async (_, partition) => {
          let count = 0;
          let next = 0;
          while (next < ends[partition]!) {
            const res = await c.request(
              K.Fetch,
              FETCH_VERSION,
              fetchRequest([{ topic, partition, offset: next, partitionMaxBytes: (4 + ri) * 1024 * 1024 }], {
                maxBytes: 16 * 1024 * 1024,
              }),
              { timeoutMs: 60_000 },
            );
            const p = res.responses[0].partitions[0];
            assert.equal(p.errorCode, E.NONE);
            const got = batchesOf(p.records);
            assert.ok(got.length > 0, `read-back of ${partition} from ${next} returned nothing`);
            for (const b of got) {
              assert.equal(baseOffsetOf(b), next);
              check(partition, b, `read-back ${ri}`);
              count++;
              next = baseOffsetOf(b) + b.readInt32BE(23) + 1;
            }
          }
          assert.equal(next, ends[partition]);
          assert.equal(count, expected[partition]!.size, `read-back ${ri} of ${partition}: every produced batch once`);
        }),
      ),
    );
  });
});
