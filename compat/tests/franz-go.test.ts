/**
 * franz-go (kgo + kadm, compat/go): kadm admin (CreateTopics, Metadata, DescribeConfigs,
 * DescribeCluster, TOPIC_ALREADY_EXISTS), producing with kgo.DisableIdempotentWrite() in every
 * codec with headers and explicit timestamps, consuming with kgo.ConsumePartitions (no group),
 * kadm.ListOffsetsAfterMilli and kgo.NewOffset().AfterMilli; 10,000 records from franz-go read
 * by the Java client.
 */
import { after, before, test } from 'node:test';
import { brokerSkipReason, startCompatBroker, type CompatBroker } from '../broker.ts';
import { franzGoClient } from '../go/client.ts';
import { JAVA_CLIENT_VERSIONS, javaClient, type CliClient } from '../java/client.ts';
import { adminScenario, bulkScenario, codecScenario, timestampScenario, BULK_N } from '../java/scenarios.ts';

const skip = brokerSkipReason();
let broker: CompatBroker;
let franz: CliClient;
let java: CliClient;

before(async () => {
  if (skip) return;
  broker = await startCompatBroker();
  franz = await franzGoClient();
  java = await javaClient(JAVA_CLIENT_VERSIONS[0]!);
});
after(async () => { await broker?.close(); });

const T = { skip, timeout: 180_000 };
const create = (topic: string) => franz.create(broker.bootstrap, topic, 3);

test('franz-go kadm: CreateTopic (3 partitions), ListTopics, DescribeTopicConfigs, DescribeCluster; TOPIC_ALREADY_EXISTS', T, async () => {
  await adminScenario(franz, broker, 'franz-admin', { error: 'TOPIC_ALREADY_EXISTS', code: 36 });
});

test('franz-go: keyed records with headers and timestamps to 3 partitions in none/gzip/snappy/lz4/zstd (acks=all), read by ConsumePartitions and by the Java client', T, async () => {
  await codecScenario(franz, [franz, java], broker, 'franz-codecs', create);
});

test('franz-go: kadm ListOffsetsAfterMilli and consuming from kgo.NewOffset().AfterMilli', T, async () => {
  await timestampScenario(franz, broker, 'franz-ts', create, 'end-offset');
});

test(`franz-go produces ${BULK_N} records, the Java client consumes them byte for byte`, { ...T, timeout: 240_000 }, async () => {
  await bulkScenario(franz, java, broker, 'bulk-franz-to-java', create);
});
