/**
 * Makes a partition of the in-process broker offline, for the suites that check
 * KAFKA_STORAGE_ERROR: two batches are produced, a byte of the first one is flipped on disk,
 * and the broker restarts; recovery then finds corruption in the middle of the log and refuses
 * the partition (storage/README.md, Recovery). Tributary only: it edits the data dir.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { batch, createTopic, produceOk, type RawClient, type Target } from './helpers.ts';

/** Creates `topic` (partitions 0..n-1), takes partition 0 offline; returns a fresh client. */
export async function offlinePartition(target: Target, c: RawClient, topic: string, partitions = 2): Promise<RawClient> {
  await createTopic(c, topic, partitions);
  await produceOk(c, topic, 0, batch(['a', 'b']));
  await produceOk(c, topic, 0, batch(['c', 'd']));
  const file = join(target.dataDir, `${topic}-0`, '00000000000000000000.log');
  const bytes = await readFile(file);
  bytes[63] ^= 0xff; // inside the first batch's records: its CRC no longer matches
  await writeFile(file, bytes);
  await c.close();
  await target.restart();
  return target.connect();
}
