/**
 * Reading producer state out of record batches: the header fields ProducerState needs, and the
 * replay of a stretch of log into a ProducerState (recovery, and the rebuild after a failed
 * write). Called by append-plan.ts (producerBatchAt) and log-producers.ts (replayProducerBatches).
 */
import {
  batchBaseSequence,
  batchIsControl,
  batchIsTransactional,
  batchProducerEpoch,
  batchProducerId,
  batchRecordCount,
  lastSequenceOf,
  readTxnMarker,
} from '../protocol/control-batch.ts';
import { BATCH_HEADER_SIZE, batchBaseOffset, batchLastOffset, batchMaxTimestamp, batchSize } from '../protocol/record-batch.ts';
import { largeBuffers } from '../common/buffer-pool.ts';
import type { ProducerBatch, ProducerState } from './producer-state.ts';
import type { ReadResult } from './log-reads.ts';

/** The producer fields of the batch at `pos` (of `size` bytes), or null when it has no producer id. */
export function producerBatchAt(buf: Buffer, pos: number, size: number): ProducerBatch | null {
  const producerId = batchProducerId(buf, pos);
  if (producerId < 0) return null;
  const baseSequence = batchBaseSequence(buf, pos);
  const b: ProducerBatch = {
    producerId,
    producerEpoch: batchProducerEpoch(buf, pos),
    baseSequence,
    lastSequence: lastSequenceOf(baseSequence, batchRecordCount(buf, pos)),
    isTransactional: batchIsTransactional(buf, pos),
    maxTimestamp: batchMaxTimestamp(buf, pos),
  };
  if (batchIsControl(buf, pos)) b.marker = readTxnMarker(buf, pos, size);
  return b;
}

const REPLAY_READ_BYTES = 1024 * 1024;

/**
 * Applies every producer batch in [from, end) to `state`, reading whole batches through `read`
 * (PartitionLog.read). Compaction gaps are fine: a read returns the next batch that remains.
 */
export async function replayProducerBatches(
  state: ProducerState,
  from: number,
  end: number,
  read: (offset: number, maxBytes: number, opts: { minOneBatch: boolean; maxOffset: number }) => Promise<ReadResult>,
): Promise<number> {
  let offset = from;
  let batches = 0;
  while (offset < end) {
    const got = await read(offset, REPLAY_READ_BYTES, { minOneBatch: true, maxOffset: end });
    if (got.bytes === 0) break;
    let next = offset;
    try {
      for (const buf of got.records) {
        for (let pos = 0; pos + BATCH_HEADER_SIZE <= buf.length; ) {
          const size = batchSize(buf, pos);
          if (size < BATCH_HEADER_SIZE || pos + size > buf.length) break;
          const last = batchLastOffset(buf, pos);
          if (last >= offset) {
            const pb = producerBatchAt(buf, pos, size);
            if (pb) {
              state.apply(pb, batchBaseOffset(buf, pos), last);
              batches++;
            }
          }
          next = Math.max(next, last + 1);
          pos += size;
        }
      }
    } finally {
      for (const b of got.records) largeBuffers.release(b);
    }
    if (next <= offset) break;
    offset = next;
  }
  return batches;
}
