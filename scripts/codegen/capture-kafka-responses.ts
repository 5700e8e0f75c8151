/**
 * Captures request AND response frames exchanged between real clients and a
 * real Apache Kafka broker, through a recording proxy (golden/recording-proxy.ts).
 *
 *   BOOTSTRAP=$(compat/kafka/start-kafka.sh --port 19592)
 *   node scripts/codegen/capture-kafka-responses.ts --kafka "$BOOTSTRAP" [--out test/fixtures/golden]
 *   compat/kafka/stop-kafka.sh --port 19592
 *
 * Writes <out>/apache-kafka.json; test/protocol/golden.test.ts decodes and
 * re-encodes every response byte for byte.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pkgVersion, runKafkajsFlows, runPlatformaticFlows, select, GOLDEN_TOPIC } from './capture-golden.ts';
import { RecordingProxy, type RecordedExchange } from './golden/recording-proxy.ts';
import { PROJECT_ROOT } from './main.ts';

function kafkaVersion(): string {
  const libs = readdirSync(join(PROJECT_ROOT, 'compat', 'kafka', 'target')).filter((d) => d.startsWith('libs-')).sort();
  return libs.length ? libs[libs.length - 1]!.slice('libs-'.length) : 'unknown';
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const kafka = arg('--kafka') ?? process.env['BOOTSTRAP_SERVERS'];
  if (!kafka) throw new Error('usage: capture-kafka-responses.ts --kafka host:port');
  const upstreamPort = Number(kafka.split(':').pop());
  const outDir = resolve(arg('--out') ?? join(PROJECT_ROOT, 'test', 'fixtures', 'golden'));
  mkdirSync(outDir, { recursive: true });

  const all: Array<RecordedExchange & { client: string }> = [];
  for (const [client, run] of [['kafkajs', runKafkajsFlows], ['@platformatic/kafka', runPlatformaticFlows]] as const) {
    const proxy = new RecordingProxy(upstreamPort);
    await proxy.start();
    console.log(`capturing ${client} <-> Apache Kafka at ${kafka} through proxy port ${proxy.port}`);
    try {
      await run(proxy.port);
    } finally {
      await proxy.stop();
    }
    const done = proxy.exchanges.filter((e) => e.responseHex !== null);
    for (const e of done) all.push({ ...e, client: `${client} ${pkgVersion(client)}` });
    console.log(`  ${done.length} exchanges`);
  }
  const kept = select(all.map((e) => ({ ...e, hex: e.responseHex! })), 2).map(({ hex: _hex, ...e }) => e);
  console.log(`kept ${kept.length}: ${[...new Set(kept.map((e) => `${e.api} v${e.apiVersion}`))].join(', ')}`);
  const file = join(outDir, 'apache-kafka.json');
  writeFileSync(file, JSON.stringify({
    broker: `Apache Kafka ${kafkaVersion()}`,
    capturedWith: 'scripts/codegen/capture-kafka-responses.ts',
    topic: GOLDEN_TOPIC,
    exchanges: kept,
  }, null, 2) + '\n');
  console.log(`wrote ${file}`);
}

await main();
process.exit(0);
