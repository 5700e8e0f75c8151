/**
 * Replaying an internal topic's partition (`__consumer_offsets`, `__transaction_state`) on
 * start: every whole batch from the log start to the high watermark, in order. Compaction leaves
 * gaps — a batch can end past its last remaining record, or hold none — so each read starts
 * after the last batch of the previous one, and `from` tells the caller which records of a batch
 * were already seen (those below it, in the first batch of a read).
 */
import { BATCH_HEADER_SIZE, batchLastOffset, batchSize } from '../protocol/record-batch.ts';
import type { PartitionLog } from '../storage/partition-log.ts';

const LOAD_READ_BYTES = 1024 * 1024;

export async function replayBatches(log: PartitionLog, onBatch: (batch: Buffer, from: number) => void): Promise<void> {
  let offset = log.logStartOffset;
  while (offset < log.highWatermark) {
    const read = await log.read(offset, LOAD_READ_BYTES, { minOneBatch: true, maxOffset: log.highWatermark });
    if (read.bytes === 0) break;
    const data = Buffer.concat(read.records, read.bytes);
    const from = offset;
    for (let pos = 0; pos + BATCH_HEADER_SIZE <= data.length; ) {
      const size = batchSize(data, pos);
      if (pos + size > data.length) break;
      const batch = data.subarray(pos, pos + size);
      pos += size;
      const last = batchLastOffset(batch);
      offset = Math.max(offset, last + 1);
      if (last >= from) onBatch(batch, from);
    }
    if (offset === from) break; // no whole batch: nothing more to read
  }
}
