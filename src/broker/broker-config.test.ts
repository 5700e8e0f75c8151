/**
 * Broker config resolution: where a topic config's value comes from (override, dynamic per
 * broker, dynamic cluster-wide, static, the *.hours fallbacks, default), the cleaner settings,
 * and Kafka's wording for an invalid startup value.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigSource } from '../metadata/config-defs.ts';
import { brokerConfigChain, ConfigError, resolveBrokerConfig, topicConfigValue, topicSettings } from './broker-config.ts';

const resolve = (settings: Record<string, string> = {}) => resolveBrokerConfig({ dataDir: '/tmp/x', host: '127.0.0.1', port: 0, settings });

test('a topic config comes from its override, then dynamic per broker, dynamic cluster-wide, static, default', () => {
  const config = resolve({ 'log.retention.bytes': '100' });
  assert.equal(topicConfigValue(config, {}, 'retention.bytes'), '100');
  config.dynamic = { perBroker: new Map(), clusterDefault: new Map([['log.retention.bytes', '200']]) };
  assert.equal(topicConfigValue(config, {}, 'retention.bytes'), '200');
  config.dynamic = { perBroker: new Map([['log.retention.bytes', '300']]), clusterDefault: new Map([['log.retention.bytes', '200']]) };
  assert.equal(topicConfigValue(config, {}, 'retention.bytes'), '300');
  assert.equal(topicConfigValue(config, { 'retention.bytes': '400' }, 'retention.bytes'), '400');
  assert.deepEqual(brokerConfigChain(config, 'log.retention.bytes').map((s) => [s.value, s.source]), [
    ['300', ConfigSource.DYNAMIC_BROKER_CONFIG],
    ['200', ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG],
    ['100', ConfigSource.STATIC_BROKER_CONFIG],
    ['-1', ConfigSource.DEFAULT_CONFIG],
  ]);
  assert.equal(topicSettings(config, {}).log.retentionBytes, 300);
});

test('log.retention.hours and log.roll.hours stand in for unset log.retention.ms and log.roll.ms', () => {
  const config = resolve({ 'log.retention.hours': '2', 'log.roll.hours': '1' });
  assert.equal(topicConfigValue(config, {}, 'retention.ms'), '7200000');
  assert.equal(topicConfigValue(config, {}, 'segment.ms'), '3600000');
  assert.equal(topicConfigValue(resolve({ 'log.retention.hours': '2', 'log.retention.ms': '5' }), {}, 'retention.ms'), '5');
  assert.deepEqual(brokerConfigChain(resolve(), 'log.retention.ms'), [], 'log.retention.ms has no default of its own');
});

test('cleaner settings and Kafka-worded startup errors', () => {
  const config = resolve();
  assert.equal(config.cleanerEnable, true);
  assert.equal(config.cleanerBackoffMs, 15_000);
  const off = resolve({ 'log.cleaner.enable': 'false', 'log.cleaner.backoff.ms': '500' });
  assert.equal(off.cleanerEnable, false);
  assert.equal(off.cleanerBackoffMs, 500);
  assert.throws(() => resolve({ 'log.cleaner.backoff.ms': 'soon' }),
    (e: Error) => e instanceof ConfigError && e.message === 'Invalid value soon for configuration log.cleaner.backoff.ms: Not a number of type LONG');
});

test('transaction coordinator settings: Kafka defaults, explicit values, validation', () => {
  assert.deepEqual(resolve().transactions, {
    stateLogNumPartitions: 50,
    stateLogSegmentBytes: 104857600,
    maxTimeoutMs: 900000,
    abortTimedOutIntervalMs: 10000,
    idExpirationMs: 604800000,
    removeExpiredIntervalMs: 3600000,
  });
  const config = resolve({
    'transaction.state.log.num.partitions': '3',
    'transaction.state.log.segment.bytes': '1048576',
    'transaction.max.timeout.ms': '60000',
    'transaction.abort.timed.out.transaction.cleanup.interval.ms': '500',
    'transactional.id.expiration.ms': '1000',
    'transaction.remove.expired.transaction.cleanup.interval.ms': '200',
  });
  assert.deepEqual(config.transactions, {
    stateLogNumPartitions: 3,
    stateLogSegmentBytes: 1048576,
    maxTimeoutMs: 60000,
    abortTimedOutIntervalMs: 500,
    idExpirationMs: 1000,
    removeExpiredIntervalMs: 200,
  });
  assert.throws(() => resolve({ 'transaction.max.timeout.ms': '0' }), ConfigError);
  assert.throws(() => resolve({ 'transaction.state.log.num.partitions': 'x' }), ConfigError);
});
