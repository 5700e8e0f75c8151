/**
 * Corruption in the middle of a log (a flipped byte in an early batch, valid data after it):
 * on restart that partition is refused — reported in the start-up summary and the log, shown
 * as unavailable in Metadata, KAFKA_STORAGE_ERROR for produce and fetch — and its file is left
 * exactly as it was (never cut silently). Every other partition keeps working.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startBroker, type BrokerHandle } from '../../src/broker/broker.ts';
import { createLogger } from '../../src/common/logger.ts';
import { ErrorCode } from '../../src/common/errors.ts';
import { RawClient } from '../testkit/raw-client.ts';
import { batch, createTopic, fetchPartition, metadata, produce, produceOk, valuesOf } from '../broker/helpers.ts';

describe('mid-log corruption', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tributary-corrupt-'));
  let broker: BrokerHandle | undefined;
  after(async () => {
    await broker?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses the damaged partition, leaves its file untouched, and serves the others', async () => {
    broker = await startBroker({ dataDir, port: 0, logger: createLogger('silent') });
    let c = await RawClient.connect(broker.host, broker.port);
    await createTopic(c, 'orders', 2);
    for (let i = 0; i < 5; i++) {
      await produceOk(c, 'orders', 0, batch([`p0-${i}-a`, `p0-${i}-b`]));
      await produceOk(c, 'orders', 1, batch([`p1-${i}`]));
    }
    await c.close();
    await broker.close();

    const segment = path.join(dataDir, 'orders-0', '00000000000000000000.log');
    const bytes = readFileSync(segment);
    const damaged = Buffer.from(bytes);
    damaged[bytes.readInt32BE(8) + 12 + 70] ^= 0x40; // inside the second batch's records
    writeFileSync(segment, damaged);

    const lines: string[] = [];
    broker = await startBroker({ dataDir, port: 0, logger: createLogger('info', (l) => lines.push(l)) });
    assert.equal(broker.startup.failedPartitions, 1);
    assert.ok(lines.some((l) => l.includes('partition refused') && l.includes('orders')), lines.join('\n'));
    assert.deepEqual(readFileSync(segment), damaged, 'the damaged log is not cut');

    c = await RawClient.connect(broker.host, broker.port);
    const md = await metadata(c, ['orders'], 12, false);
    const [p0, p1] = md.topics[0].partitions;
    assert.equal(p0.errorCode, ErrorCode.LEADER_NOT_AVAILABLE);
    assert.equal(p0.leaderId, -1);
    assert.equal(p1.errorCode, ErrorCode.NONE);

    const refused = await produce(c, 'orders', 0, batch(['late']), { acks: -1 });
    assert.equal(refused.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
    assert.equal((await fetchPartition(c, 'orders', 0, 0)).errorCode, ErrorCode.KAFKA_STORAGE_ERROR);

    assert.equal(await produceOk(c, 'orders', 1, batch(['p1-after'])), 5);
    const p1Data = await fetchPartition(c, 'orders', 1, 0);
    assert.deepEqual(valuesOf(p1Data.records), ['p1-0', 'p1-1', 'p1-2', 'p1-3', 'p1-4', 'p1-after']);
    await c.close();
  });
});
