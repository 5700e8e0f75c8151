/**
 * Unit tests of the AlterConfigs rules (metadata/config-changes.ts) and Kafka-worded value
 * validation (config-validators.ts), without a broker. The protocol suites in
 * test/broker/*alter-configs.test.ts check the same messages against Apache Kafka 4.3.1.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { applyBrokerChanges, applyTopicChanges, checkChanges, ConfigOp, validateBrokerConfigs, validateTopicConfigs } from './config-changes.ts';
import { double, gzipLevel, int, invalidValueMessage, listOf, long, throttledReplicas } from './config-validators.ts';

const err = (e: unknown) => (e instanceof KafkaError ? [e.code, e.message] : e);
const { SET, DELETE, APPEND, SUBTRACT } = ConfigOp;

test('validators: Kafka parsing (trimmed, Java int/long bounds) and messages', () => {
  assert.equal(long(-1)(' 100 '), null);
  assert.deepEqual(long(-1)('1.5'), { shown: '1.5', reason: 'Not a number of type LONG' });
  assert.deepEqual(long(-1)('-5'), { shown: '-5', reason: 'Value must be at least -1' });
  assert.equal(long()('9223372036854775807'), null);
  assert.deepEqual(long()('9223372036854775808'), { shown: '9223372036854775808', reason: 'Not a number of type LONG' });
  assert.deepEqual(int(0)('2147483648'), { shown: '2147483648', reason: 'Not a number of type INT' });
  assert.deepEqual(int(-131072, 22)('99'), { shown: '99', reason: 'Value must be no more than 22' });
  assert.deepEqual(double(0, 1)('2'), { shown: '2.0', reason: 'Value must be no more than 1' });
  assert.deepEqual(double(0, 1)('abc'), { shown: 'abc', reason: 'Not a number of type DOUBLE' });
  assert.equal(listOf('compact', 'delete')(''), null, 'an empty list is allowed');
  assert.equal(listOf('compact', 'delete')('compact, delete'), null);
  assert.deepEqual(listOf('compact', 'delete')('delete,shred'), { shown: 'shred', reason: 'String must be one of: compact, delete' });
  assert.deepEqual(gzipLevel('12'), { shown: '12', reason: 'Value must be between 1 and 9 or equal to -1' });
  assert.equal(gzipLevel('-1'), null);
  assert.equal(throttledReplicas('x.replicas')('0:1,1:1'), null);
  assert.equal(throttledReplicas('x.replicas')('*'), null);
  assert.match(throttledReplicas('x.replicas')('x')!.reason, /must be the literal '\*'/);
  assert.equal(invalidValueMessage('retention.ms', { shown: 'foo', reason: 'Not a number of type LONG' }),
    'Invalid value foo for configuration retention.ms: Not a number of type LONG');
});

test('checkChanges: repeated keys, then null values (DELETE may be null), then unknown operations', () => {
  assert.deepEqual(err(checkChanges([{ name: 'a', op: SET, value: '1' }, { name: 'a', op: DELETE, value: null }])),
    [ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys']);
  assert.deepEqual(err(checkChanges([{ name: 'a', op: SET, value: null }, { name: 'b', op: APPEND, value: null }, { name: 'c', op: DELETE, value: null }])),
    [ErrorCode.INVALID_REQUEST, 'Null value not supported for : a, b']);
  assert.deepEqual(err(checkChanges([{ name: 'a', op: 7, value: '1' }])), [ErrorCode.INVALID_REQUEST, 'Unknown operations type 7']);
  assert.equal(checkChanges([{ name: 'a', op: DELETE, value: null }]), null);
});

test('topic changes: SET/DELETE; APPEND/SUBTRACT on LIST configs start from the default and skip duplicates', () => {
  assert.deepEqual(applyTopicChanges({ 'retention.ms': '1', 'segment.ms': '2' }, [
    { name: 'retention.ms', op: SET, value: '5' },
    { name: 'segment.ms', op: DELETE, value: null },
  ]), { 'retention.ms': '5' });
  assert.deepEqual(applyTopicChanges({}, [{ name: 'cleanup.policy', op: APPEND, value: 'compact,delete' }]), { 'cleanup.policy': 'delete,compact' });
  assert.deepEqual(applyTopicChanges({ 'cleanup.policy': 'delete,compact' }, [{ name: 'cleanup.policy', op: SUBTRACT, value: 'delete' }]),
    { 'cleanup.policy': 'compact' });
  assert.deepEqual(applyTopicChanges({}, [{ name: 'cleanup.policy', op: SUBTRACT, value: 'delete' }]), { 'cleanup.policy': '' });
  assert.deepEqual(applyTopicChanges({}, [{ name: 'follower.replication.throttled.replicas', op: APPEND, value: '0:1' }]),
    { 'follower.replication.throttled.replicas': '0:1' });
  assert.deepEqual(err(applyTopicChanges({}, [{ name: 'retention.ms', op: APPEND, value: '1' }])),
    [ErrorCode.INVALID_CONFIG, "Can't APPEND to key retention.ms because its type is not LIST."]);
  assert.deepEqual(err(applyTopicChanges({}, [{ name: 'nope', op: SUBTRACT, value: '1' }])),
    [ErrorCode.INVALID_CONFIG, "Can't SUBTRACT to key nope because its type is not LIST."]);
});

test('broker changes: APPEND/SUBTRACT only on LIST broker configs, unknown names refused for them', () => {
  assert.deepEqual(applyBrokerChanges({ 'log.retention.ms': '1' }, [{ name: 'log.cleanup.policy', op: APPEND, value: 'compact' }]),
    { 'log.retention.ms': '1', 'log.cleanup.policy': 'delete,compact' });
  assert.deepEqual(applyBrokerChanges({ 'log.cleanup.policy': 'delete,compact' }, [{ name: 'log.cleanup.policy', op: SUBTRACT, value: 'compact' }]),
    { 'log.cleanup.policy': 'delete' });
  assert.deepEqual(err(applyBrokerChanges({}, [{ name: 'log.retention.ms', op: APPEND, value: '1' }])),
    [ErrorCode.INVALID_CONFIG, 'Config value append is not allowed for config key: log.retention.ms']);
  assert.deepEqual(err(applyBrokerChanges({}, [{ name: 'no.such', op: SUBTRACT, value: '1' }])),
    [ErrorCode.INVALID_CONFIG, 'Unknown config name: no.such']);
});

test('validateTopicConfigs: unknown names first, then values, then compaction lags and tiered storage', () => {
  assert.equal(validateTopicConfigs({ 'retention.ms': '1', 'cleanup.policy': 'compact,delete' }), null);
  assert.deepEqual(err(validateTopicConfigs({ 'retention.ms': 'x', foo: '1' })), [ErrorCode.INVALID_CONFIG, 'Unknown topic config name: foo']);
  assert.deepEqual(err(validateTopicConfigs({ 'segment.bytes': '100' })),
    [ErrorCode.INVALID_CONFIG, 'Invalid value 100 for configuration segment.bytes: Value must be at least 1048576']);
  assert.deepEqual(err(validateTopicConfigs({ 'min.compaction.lag.ms': '10', 'max.compaction.lag.ms': '5' })),
    [ErrorCode.INVALID_CONFIG, 'conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)']);
  assert.equal((validateTopicConfigs({ 'remote.storage.enable': 'true' }) as KafkaError).code, ErrorCode.INVALID_CONFIG);
  assert.equal(validateTopicConfigs({ 'remote.storage.enable': 'false' }), null);
});

test('validateBrokerConfigs: read-only keys, then values (held to the topic rules); custom names are kept', () => {
  assert.equal(validateBrokerConfigs({ 'log.retention.ms': '1000', 'log.cleaner.backoff.ms': '10', 'my.custom': 'x' }), null);
  assert.deepEqual(err(validateBrokerConfigs({ 'log.dirs': '/x', 'num.partitions': '3' })),
    [ErrorCode.INVALID_REQUEST, 'Cannot update these configs dynamically: [log.dirs, num.partitions]']);
  assert.deepEqual(err(validateBrokerConfigs({ 'log.segment.bytes': '524288' })),
    [ErrorCode.INVALID_REQUEST, 'Invalid value 524288 for configuration log.segment.bytes: Value must be at least 1048576']);
  assert.deepEqual(err(validateBrokerConfigs({ 'log.cleaner.backoff.ms': '-1' })),
    [ErrorCode.INVALID_REQUEST, 'Invalid value -1 for configuration log.cleaner.backoff.ms: Value must be at least 0']);
});
