/**
 * Loading `__transaction_state`: replaying a scenario's records (through the byte format)
 * rebuilds the same state; transactions found in PrepareCommit/PrepareAbort get their markers
 * and complete; Ongoing ones stay ongoing and still time out.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode as E } from '../../common/errors.ts';
import { Harness } from './test-helpers.ts';

const tp = (topic: string, partition: number) => ({ topic, partition });

/** Every kind of record: new ids, bumps, adds, commits, aborts, a fence, a rotation, an expiry. */
function scenario(): Harness {
  const h = new Harness({ config: { abortTimedOutIntervalMs: 1000, idExpirationMs: 100_000, removeExpiredIntervalMs: 50_000 } });
  h.c.onLoaded();
  const a = h.init('a');
  h.ok(h.c.addPartitions('a', a.producerId, 0, [tp('x', 0), tp('y', 1)]));
  h.ok(h.c.addOffsets('a', a.producerId, 0, 'g'));
  h.ok(h.c.endTxn('a', a.producerId, 0, true));
  h.completeMarkers();
  const b = h.init('b', 2000);
  h.ok(h.c.addPartitions('b', b.producerId, 0, [tp('x', 1)]));
  h.clock.advance(3000); // b times out: fenced and aborted
  h.flushTimers();
  h.completeMarkers();
  const c = h.init('c');
  h.ok(h.c.addPartitions('c', c.producerId, 0, [tp('z', 0)]));
  h.ok(h.c.initProducerId('c', 60_000)); // fence of an ongoing transaction
  h.completeMarkers();
  h.ok(h.c.initProducerId('c', 60_000));
  h.init('gone');
  h.clock.advance(160_000); // 'gone' (and the idle others) expire
  h.flushTimers();
  h.completeMarkers();
  const d = h.init('d', 900_000);
  h.ok(h.c.addPartitions('d', d.producerId, 0, [tp('x', 2)]));
  const e = h.init('e');
  h.ok(h.c.addPartitions('e', e.producerId, 0, [tp('y', 0)]));
  h.ok(h.c.endTxn('e', e.producerId, 0, false));
  h.markers.length = 0; // e stays in PrepareAbort (markers not written yet)
  h.c.stop();
  return h;
}

test('replaying the records (through bytes) rebuilds identical state', () => {
  const h = scenario();
  assert.ok(h.log.some((r) => r.value === null), 'the scenario has tombstones');
  const states = new Set(h.log.filter((r) => r.value).map((r) => r.value!.state));
  for (const s of ['Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort']) assert.ok(states.has(s as never), s);
  const r = h.replayed();
  assert.deepEqual(r.c.snapshot(), h.c.snapshot());
  assert.deepEqual(
    h.c.snapshot().map((s) => [s.transactionalId, s.state]),
    [['d', 'Ongoing'], ['e', 'PrepareAbort']],
  );
  for (const id of ['d', 'e']) assert.deepEqual(r.c.describe(id), h.c.describe(id));
});

test('recovery: PrepareCommit/PrepareAbort transactions get their markers written and complete', () => {
  const h = new Harness();
  const p = h.init('p');
  h.ok(h.c.addPartitions('p', p.producerId, 0, [tp('x', 0)]));
  h.ok(h.c.endTxn('p', p.producerId, 0, true));
  const q = h.init('q');
  h.ok(h.c.addPartitions('q', q.producerId, 0, [tp('x', 1), tp('x', 2)]));
  h.ok(h.c.endTxn('q', q.producerId, 0, false));
  const r = h.replayed();
  assert.deepEqual(r.markers, []);
  r.c.onLoaded();
  assert.deepEqual(r.markers, [
    { transactionalId: 'p', producerId: p.producerId, producerEpoch: 0, committed: true, partitions: [tp('x', 0)] },
    { transactionalId: 'q', producerId: q.producerId, producerEpoch: 0, committed: false, partitions: [tp('x', 1), tp('x', 2)] },
  ]);
  assert.equal(r.ok(r.c.initProducerId('p', 60_000)).errorCode, E.CONCURRENT_TRANSACTIONS);
  assert.deepEqual(r.completeMarkers(), [true, true]);
  assert.equal(r.c.state('p'), 'CompleteCommit');
  assert.equal(r.c.state('q'), 'CompleteAbort');
  assert.deepEqual(r.ok(r.c.endTxn('p', p.producerId, 0, true)).errorCode, E.NONE, 'a retried EndTxn after the restart');
  r.c.stop();
});

test('recovery: an Ongoing transaction stays ongoing and still times out', () => {
  const h = new Harness({ config: { abortTimedOutIntervalMs: 1000 } });
  const p = h.init('p', 10_000);
  h.ok(h.c.addPartitions('p', p.producerId, 0, [tp('x', 0)]));
  h.clock.advance(5000);
  const rr = new Harness({ clock: h.clock, config: { abortTimedOutIntervalMs: 1000 } });
  for (const rec of h.log) rr.c.replay(rec);
  rr.c.onLoaded();
  assert.equal(rr.c.state('p'), 'Ongoing');
  assert.equal(rr.c.verifyPartition('p', p.producerId, 0, 'x', 0), E.NONE);
  assert.equal(rr.ok(rr.c.addPartitions('p', p.producerId, 0, [tp('x', 1)])), E.NONE, 'the producer carries on');
  rr.clock.advance(6000);
  assert.equal(rr.timerResults.length, 1);
  rr.flushTimers();
  assert.equal(rr.c.state('p'), 'PrepareAbort');
  assert.equal(rr.markers[0]!.producerEpoch, 1);
  rr.c.stop();
});

test('replay: the last record of an id wins; a tombstone removes it; a later record brings it back', () => {
  const h = new Harness();
  h.init('t');
  h.init('t');
  const r = h.replayed();
  assert.equal(r.c.describe('t').producerEpoch, 1);
  r.c.replay({ transactionalId: 't', value: null });
  assert.equal(r.c.describe('t').errorCode, E.TRANSACTIONAL_ID_NOT_FOUND);
  r.c.replay(h.log[0]!);
  assert.equal(r.c.describe('t').producerEpoch, 0);
});
