/**
 * Issue 5 (log management) with the Apache Kafka Java AdminClient, consumer and producer
 * (kafka-clients 4.4.0 and 3.9.2; COMPAT_JAVA_CLIENTS to change): describeConfigs of a topic and
 * of the broker with synonyms, incrementalAlterConfigs SET/APPEND/SUBTRACT/DELETE, validateOnly,
 * invalid values (InvalidConfigurationException, 40), legacy alterConfigs (3.9.2 only: removed
 * from Admin in 4.0); deleteRecords then listOffsets, a consumer from the beginning and
 * describeLogDirs; and a compacted topic read from the beginning after the cleaner ran.
 *
 * The in-process broker gets `log.cleaner.backoff.ms=100`; against Kafka start it with a short
 * `log.cleaner.backoff.ms` too (compat/run.sh --real-kafka does), else the cleaner's 15 s default
 * backoff makes the compacted test slower (it waits up to 60 s).
 */
import { after, before, test } from 'node:test';
import { brokerSkipReason, startCompatBroker, type CompatBroker } from '../broker.ts';
import { JAVA_CLIENT_VERSIONS, javaClient, type CliClient } from '../java/client.ts';
import { compactedScenario, configsScenario, deleteRecordsScenario } from '../java/log-scenarios.ts';

const skip = brokerSkipReason();
let broker: CompatBroker;
const java = new Map<string, CliClient>();

/** Broker configs for the in-process Tributary: the log cleaner and retention checks run often. */
export const LOG_MANAGEMENT_BROKER_CONFIG = {
  'log.cleaner.backoff.ms': '100',
  'log.retention.check.interval.ms': '200',
};

before(async () => {
  if (skip) return;
  broker = await startCompatBroker({ config: LOG_MANAGEMENT_BROKER_CONFIG });
  for (const v of JAVA_CLIENT_VERSIONS) java.set(v, await javaClient(v));
});
after(async () => { await broker?.close(); });

const T = { skip, timeout: 180_000 };
const [PRIMARY] = JAVA_CLIENT_VERSIONS;

for (const v of JAVA_CLIENT_VERSIONS) {
  const j = () => java.get(v)!;
  test(`java ${v}: describeConfigs (topic, broker, synonyms), incrementalAlterConfigs SET/APPEND/SUBTRACT/DELETE, validateOnly, invalid values, legacy alterConfigs`, T, async () => {
    await configsScenario(j(), broker, `java-configs-${v}`, v.startsWith('3.'));
  });
}

test(`java ${PRIMARY}: deleteRecords, listOffsets earliest/latest, consumer from the beginning, describeLogDirs; past the end: OffsetOutOfRangeException`, T, async () => {
  await deleteRecordsScenario(java.get(PRIMARY!)!, broker, 'java-delete-records');
});

test(`java ${PRIMARY}: a compacted topic (overwrites, tombstones) read from the beginning after the cleaner ran`, T, async () => {
  await compactedScenario(java.get(PRIMARY!)!, broker, 'java-compacted');
});
