/**
 * The Apache Kafka Java client (kafka-clients 4.4.0 and 3.9.2 by default, COMPAT_JAVA_CLIENTS to
 * change) through compat/java: AdminClient, KafkaProducer (acks=all, enable.idempotence=false,
 * every codec, headers, explicit timestamps) and KafkaConsumer without a group (assign() +
 * seekToBeginning, offsetsForTimes + seek); 10,000 records from Java read by franz-go.
 */
import { after, before, test } from 'node:test';
import { brokerSkipReason, startCompatBroker, type CompatBroker } from '../broker.ts';
import { franzGoClient } from '../go/client.ts';
import { JAVA_CLIENT_VERSIONS, javaClient, type CliClient } from '../java/client.ts';
import { adminScenario, bulkScenario, codecScenario, timestampScenario, BULK_N } from '../java/scenarios.ts';

const skip = brokerSkipReason();
let broker: CompatBroker;
const java = new Map<string, CliClient>();
let franz: CliClient;

before(async () => {
  if (skip) return;
  broker = await startCompatBroker();
  for (const v of JAVA_CLIENT_VERSIONS) java.set(v, await javaClient(v));
  franz = await franzGoClient();
});
after(async () => { await broker?.close(); });

const T = { skip, timeout: 180_000 };
const [PRIMARY] = JAVA_CLIENT_VERSIONS;

for (const v of JAVA_CLIENT_VERSIONS) {
  const j = () => java.get(v)!;
  const create = (topic: string) => j().create(broker.bootstrap, topic, 3);

  test(`java ${v}: AdminClient createTopics (3 partitions), listTopics, describeTopics, describeConfigs, describeCluster; TopicExistsException`, T, async () => {
    await adminScenario(j(), broker, `java-admin-${v}`, { error: 'TopicExistsException', code: 36 });
  });

  test(`java ${v}: keyed records with headers and timestamps to 3 partitions in none/gzip/snappy/lz4/zstd (acks=all), read by assign()+seekToBeginning and by franz-go`, T, async () => {
    await codecScenario(j(), [j(), franz], broker, `java-codecs-${v}`, create);
  });

  test(`java ${v}: offsetsForTimes and consuming from a timestamp`, T, async () => {
    await timestampScenario(j(), broker, `java-ts-${v}`, create, 'minus-one');
  });
}

test(`java ${PRIMARY} produces ${BULK_N} records, franz-go consumes them byte for byte`, { ...T, timeout: 240_000 }, async () => {
  await bulkScenario(java.get(PRIMARY!)!, franz, broker, 'bulk-java-to-franz', (t) => franz.create(broker.bootstrap, t, 3));
});
