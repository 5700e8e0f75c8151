/**
 * ConfigAdmin with real stores and logs in a temp dir: a change is persisted and put in force
 * at once (the partition logs get the new LogConfig), a broker-level change reaches every
 * topic without an override, validateOnly leaves everything alone, and after a reopen of the
 * data dir the persisted configs are what the logs run with.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { systemClock } from '../common/clock.ts';
import { KafkaError } from '../common/errors.ts';
import { silentLogger } from '../common/logger.ts';
import { DynamicConfigStore } from '../metadata/dynamic-config-store.ts';
import { TopicStore } from '../metadata/topic-store.ts';
import { LogManager } from '../storage/log-manager.ts';
import { tempDir } from '../storage/test-util.ts';
import { resolveBrokerConfig } from './broker-config.ts';
import { ConfigAdmin } from './topic-configs.ts';
import { TopicManager } from './topics.ts';

async function open(t: TestContext, dataDir: string) {
  const config = resolveBrokerConfig({ dataDir, host: '127.0.0.1', port: 0, settings: {} });
  const store = await TopicStore.open(dataDir, config.nodeId);
  const logs = new LogManager({ dataDir, clock: systemClock, logger: silentLogger });
  const topics = new TopicManager({ store, logs, config, clock: systemClock, logger: silentLogger });
  const admin = new ConfigAdmin({ topics, config, store: await DynamicConfigStore.open(dataDir) });
  await topics.load();
  t.after(() => logs.close());
  return { config, topics, logs, admin, close: () => logs.close() };
}

const set = (configs: Record<string, string>) => (cur: Record<string, string>) => ({ ...cur, ...configs });

test('a topic change is in force at once and after a reopen', async (t) => {
  const dir = await tempDir(t);
  const b = await open(t, dir);
  assert.ok(!((await b.topics.create({ name: 't', partitions: 2, replicationFactor: 1, configs: {} })) instanceof KafkaError));
  assert.equal(await b.admin.alterTopic('t', set({ 'segment.bytes': '2097152', 'cleanup.policy': 'compact' }), false), null);
  for (const p of [0, 1]) {
    const log = b.logs.get('t', p)!;
    assert.equal(log.config.segmentBytes, 2_097_152);
    assert.equal(log.config.compact, true);
    assert.equal(log.config.retentionMs, -1, 'compact-only: no time retention');
  }
  assert.equal(await b.admin.alterTopic('t', set({ 'segment.bytes': '3145728' }), true), null, 'validateOnly');
  assert.equal(b.logs.get('t', 0)!.config.segmentBytes, 2_097_152);
  await b.close();
  const again = await open(t, dir);
  assert.deepEqual(again.topics.get('t')!.configs, { 'segment.bytes': '2097152', 'cleanup.policy': 'compact' });
  assert.equal(again.logs.get('t', 1)!.config.segmentBytes, 2_097_152);
});

test('a broker-level change reaches every topic without an override, also after a reopen', async (t) => {
  const dir = await tempDir(t);
  const b = await open(t, dir);
  await b.topics.create({ name: 'plain', partitions: 1, replicationFactor: 1, configs: {} });
  await b.topics.create({ name: 'own', partitions: 1, replicationFactor: 1, configs: { 'retention.ms': '5000' } });
  assert.equal(await b.admin.alterBroker('', set({ 'log.retention.ms': '60000' }), false), null);
  assert.equal(b.logs.get('plain', 0)!.config.retentionMs, 60_000);
  assert.equal(b.logs.get('own', 0)!.config.retentionMs, 5000, 'the topic override wins');
  assert.equal(await b.admin.alterBroker(String(b.config.nodeId), set({ 'log.retention.ms': '70000' }), false), null);
  assert.equal(b.logs.get('plain', 0)!.config.retentionMs, 70_000, 'per-broker before cluster-wide');
  const refused = await b.admin.alterBroker('', set({ 'log.dirs': '/x' }), false);
  assert.ok(refused instanceof KafkaError);
  await b.close();
  const again = await open(t, dir);
  assert.equal(again.logs.get('plain', 0)!.config.retentionMs, 70_000);
  assert.equal(again.config.dynamic.clusterDefault.get('log.retention.ms'), '60000');
  assert.equal(await again.admin.alterBroker(String(again.config.nodeId), () => ({}), false), null);
  assert.equal(again.logs.get('plain', 0)!.config.retentionMs, 60_000);
});
