/** Producer id blocks: persisted before use, never handed out twice across reopenings. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PRODUCER_IDS_FILE, ProducerIds } from './producer-ids.ts';

test('ids come from persisted blocks; a reopened store continues after the last reserved block', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'producer-ids-'));
  try {
    const a = await ProducerIds.open(dir, 10);
    assert.equal(a.available(), false);
    assert.throws(() => a.take(), /no producer id/);
    await a.ensure();
    const file = path.join(dir, '_meta', PRODUCER_IDS_FILE);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { version: 1, nextBlockStart: 10 }, 'reserved before use');
    const got: number[] = [];
    for (let i = 0; i < 25; i++) {
      await a.ensure();
      got.push(a.take());
    }
    assert.deepEqual(got, Array.from({ length: 25 }, (_, i) => i), 'contiguous across blocks');
    await a.ensure();
    const reserved = JSON.parse(await readFile(file, 'utf8')).nextBlockStart as number;
    assert.ok(reserved >= 30);
    const b = await ProducerIds.open(dir, 10);
    await b.ensure();
    assert.equal(b.take(), reserved, 'the rest of the old block is skipped, never reused');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
