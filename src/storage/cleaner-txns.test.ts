import { test } from 'node:test';
import fs from 'node:fs/promises';
import path from 'node:path';
import assert from 'node:assert/strict';
import { buildRecordBatch, decodeRecords } from '../protocol/records.ts';
import { ATTR_TRANSACTIONAL, batchLastOffset, batchSize } from '../protocol/record-batch.ts';
import { batchIsControl, batchProducerId, buildTxnMarkerBatch, readTxnMarker } from '../protocol/control-batch.ts';
import { harness, T0 } from './test-util.ts';
import type { PartitionLog } from './partition-log.ts';

const E = { leaderEpoch: 0 };
const seqs = new Map<number, number>();

/** A batch of keyed records; transactional when `txn`. Sequences follow per producer. */
async function put(log: PartitionLog, pid: number, rows: [string, string][], txn: boolean): Promise<number> {
  const seq = seqs.get(pid) ?? 0;
  seqs.set(pid, seq + rows.length);
  const batch = buildRecordBatch({
    baseTimestamp: T0,
    producerId: pid,
    producerEpoch: 0,
    baseSequence: seq,
    attributes: txn ? ATTR_TRANSACTIONAL : 0,
    records: rows.map(([k, v]) => ({ key: Buffer.from(k), value: Buffer.from(v) })),
  });
  return (await log.append(batch, E)).baseOffset;
}

async function end(log: PartitionLog, pid: number, committed: boolean): Promise<number> {
  const m = buildTxnMarkerBatch({ producerId: pid, producerEpoch: 0, coordinatorEpoch: 0, committed, timestamp: T0 });
  return (await log.append(m, { ...E, origin: 'coordinator' })).baseOffset;
}

interface Seen {
  records: string[];
  markers: string[];
  /** Producer ids of batches without records (emptied by the cleaner). */
  empty: number[];
}

/** Every batch of the log, reading segment after segment. */
async function allBatches(log: PartitionLog): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let offset = log.logStartOffset;
  while (offset < log.highWatermark) {
    const got = await log.read(offset, 1 << 22);
    if (got.bytes === 0) break;
    const buf = Buffer.concat(got.records);
    for (let pos = 0; pos < buf.length; pos += batchSize(buf, pos)) {
      const b = buf.subarray(pos, pos + batchSize(buf, pos));
      out.push(b);
      offset = Math.max(offset, batchLastOffset(b) + 1);
    }
  }
  return out;
}

async function scan(log: PartitionLog): Promise<Seen> {
  const out: Seen = { records: [], markers: [], empty: [] };
  for (const b of await allBatches(log)) {
    if (batchIsControl(b)) {
      out.markers.push(`${batchProducerId(b)}:${readTxnMarker(b)?.committed ? 'commit' : 'abort'}`);
      continue;
    }
    const recs = decodeRecords(b);
    if (recs.length === 0) out.empty.push(batchProducerId(b));
    for (const r of recs) out.records.push(`${r.key}=${r.value}`);
  }
  return out;
}

test('the cleaner removes aborted data, compacts committed data, and removes markers after their horizon', async (t) => {
  seqs.clear();
  const h = await harness(t);
  const log = await h.open({ compact: true, segmentBytes: 1, deleteRetentionMs: 1000, minCleanableDirtyRatio: 0 });
  await put(log, 1, [['k1', 'a1'], ['k2', 'a2']], true); // A: committed, k1 superseded later
  await end(log, 1, true);
  await put(log, 2, [['k1', 'b1']], true); // B: aborted, its last batch
  await end(log, 2, false);
  await put(log, 4, [['k4', 'd1']], true); // D: aborted, then more from D
  await end(log, 4, false);
  await put(log, 4, [['k4', 'd2']], true);
  await end(log, 4, true);
  await put(log, 9, [['k3', 'x']], false); // idempotent, not transactional
  await put(log, 1, [['k1', 'a3']], true); // A again
  await end(log, 1, true);
  await put(log, 9, [['k9', 'filler']], false); // the active segment
  await log.sync();
  assert.equal(log.lastStableOffset, log.highWatermark);
  assert.equal(log.abortedTransactions(0, log.highWatermark).length, 2);

  await log.clean({ force: true });
  let seen = await scan(log);
  assert.deepEqual(seen.records, ['k2=a2', 'k4=d2', 'k3=x', 'k1=a3', 'k9=filler'], 'aborted b1, d1 and the superseded a1 are gone');
  assert.deepEqual(seen.empty, [2], "B's aborted batch stays as an empty batch: it is B's last");
  // Markers stay on the first pass; D's abort marker (nothing of its transaction left) gets a horizon.
  assert.deepEqual(seen.markers, ['1:commit', '2:abort', '4:abort', '4:commit', '1:commit']);

  // The snapshot as it is before the marker's removal (D's aborted entry still in it).
  const { encodeSnapshot } = await import('./producer-snapshot.ts');
  const { ProducerState } = await import('./producer-state.ts');
  const before = new ProducerState('t-0');
  for (const a of log.abortedTransactions(0, log.highWatermark)) before.aborted.push({ ...a });
  const beforeRemoval = encodeSnapshot(log.logEndOffset, before);

  h.clock.advance(2000);
  await log.clean({ force: true });
  seen = await scan(log);
  // D's abort marker is past its horizon: removed, and its aborted entry with it. B's stays
  // (B's empty batch is left); A's first commit stays while its batch (k2=a2) is in the log.
  assert.deepEqual(seen.markers, ['1:commit', '2:abort', '4:commit', '1:commit']);
  assert.deepEqual(
    log.abortedTransactions(0, log.highWatermark).map((a) => a.producerId),
    [2],
  );
  assert.deepEqual(seen.records, ['k2=a2', 'k4=d2', 'k3=x', 'k1=a3', 'k9=filler']);

  // After a restart the state (aborted entries) is the same.
  await log.close();
  const config = { compact: true, segmentBytes: 1, deleteRetentionMs: 1000, minCleanableDirtyRatio: 0 };
  const reopened = await h.open(config);
  assert.deepEqual(reopened.abortedTransactions(0, reopened.highWatermark).map((a) => a.producerId), [2]);
  // Even when the state comes from a snapshot taken before the marker was removed (the newer
  // one lost), D's entry must not come back: it would hide D's later data from read_committed.
  await reopened.close();
  for (const f of await fs.readdir(h.dir)) if (f.endsWith('.snapshot')) await fs.writeFile(path.join(h.dir, f), beforeRemoval);
  const fromOld = await h.open(config);
  assert.deepEqual(fromOld.abortedTransactions(0, fromOld.highWatermark).map((a) => a.producerId), [2]);
});

test('the cleaner stops before an open transaction', async (t) => {
  seqs.clear();
  const h = await harness(t);
  const log = await h.open({ compact: true, segmentBytes: 1, minCleanableDirtyRatio: 0 });
  await put(log, 9, [['k', 'v1']], false);
  await put(log, 9, [['k', 'v2']], false);
  await put(log, 1, [['k', 'open']], true); // stays open
  await put(log, 9, [['k', 'v3']], false);
  await put(log, 9, [['z', 'filler']], false);
  await log.sync();
  assert.equal(log.lastStableOffset, 2);
  await log.clean({ force: true });
  const seen = await scan(log);
  // Only the segments below the LSO were cleaned, against each other: v1 gives way to v2, and v2
  // (latest of the cleaned range) stays although v3 is later.
  assert.deepEqual(seen.records, ['k=v2', 'k=open', 'k=v3', 'z=filler']);
});
