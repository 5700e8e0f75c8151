/**
 * The broker a compat test talks to: by default an in-process Tributary (`startBroker` from
 * src/index.ts, port 0, temp data dir); when env BOOTSTRAP_SERVERS is set, that external broker
 * (e.g. real Apache Kafka from compat/kafka/start-kafka.sh) instead.
 *
 * src/index.ts is imported dynamically through a computed specifier, so this file loads and
 * type-checks before the broker exists; `brokerSkipReason()` lets a suite skip with a reason.
 *
 * Env:
 *   BOOTSTRAP_SERVERS                  external broker (auto topic creation assumed ON, Kafka's default)
 *   BOOTSTRAP_SERVERS_NO_AUTOCREATE    optional external broker with auto.create.topics.enable=false,
 *                                      used by tests that ask for { autoCreateTopics: false }
 *   COMPAT_EXTERNAL_DATA_DIR           optional log.dirs of the external broker (enables on-disk checks)
 *   TRIBUTARY_KEEP_DATA=1              keep in-process data dirs (printed) for debugging
 *   COMPAT_BROKER_LOG=debug|info|...   in-process broker log level (default: silent)
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const BROKER_ENTRY = join(REPO_ROOT, 'src', 'index.ts');

export interface CompatBrokerOptions {
  /** false: the broker must not auto-create topics on Metadata/Produce. Default: broker default. */
  autoCreateTopics?: boolean;
  /** In-process Tributary only: further broker configs by Kafka name (startBroker's `config`),
   *  e.g. { 'group.initial.rebalance.delay.ms': '0' }. An external broker is used as started. */
  config?: Record<string, string>;
}

export interface CompatBroker {
  bootstrap: string;
  /** True when BOOTSTRAP_SERVERS is used: topics are shared between runs, use unique names. */
  external: boolean;
  /** Whether the broker auto-creates unknown topics when a client allows it. */
  autoCreates: boolean;
  /** The broker's log dir if known (in-process always; external via COMPAT_EXTERNAL_DATA_DIR). */
  dataDir: string | undefined;
  /** "tributary" or "external", for messages. */
  kind: string;
  close(): Promise<void>;
}

interface StartedBroker {
  host: string;
  port: number;
  bootstrap: string;
  close(): Promise<void>;
}
type StartBroker = (opts: Record<string, unknown>) => Promise<StartedBroker>;

function env(name: string): string | undefined {
  const v = process.env[name]?.trim();
  return v ? v : undefined;
}

/** undefined when a broker can be had, else a reason usable as `{ skip: reason }`. */
export function brokerSkipReason(): string | undefined {
  if (env('BOOTSTRAP_SERVERS')) return undefined;
  if (!existsSync(BROKER_ENTRY)) {
    return 'src/index.ts (startBroker) does not exist yet; set BOOTSTRAP_SERVERS to run against an external broker';
  }
  return undefined;
}

export async function startCompatBroker(opts: CompatBrokerOptions = {}): Promise<CompatBroker> {
  const external = env('BOOTSTRAP_SERVERS');
  if (external) {
    const noAuto = env('BOOTSTRAP_SERVERS_NO_AUTOCREATE');
    if (opts.autoCreateTopics === false && noAuto) {
      return externalBroker(noAuto, false, undefined);
    }
    return externalBroker(external, true, env('COMPAT_EXTERNAL_DATA_DIR'));
  }

  const mod = (await import(pathToFileURL(BROKER_ENTRY).href)) as {
    startBroker?: StartBroker;
    silentLogger?: unknown;
    createLogger?: (level: string) => unknown;
  };
  if (typeof mod.startBroker !== 'function') {
    throw new Error(`${BROKER_ENTRY} does not export startBroker()`);
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'tributary-compat-'));
  const startOpts: Record<string, unknown> = { dataDir, host: '127.0.0.1', port: 0 };
  if (opts.autoCreateTopics !== undefined) startOpts.autoCreateTopics = opts.autoCreateTopics;
  if (opts.config) startOpts.config = opts.config;
  // quiet by default: the broker shares stdout/stderr with the test runner
  const level = env('COMPAT_BROKER_LOG');
  if (level && mod.createLogger) startOpts.logger = mod.createLogger(level);
  else if (!level && mod.silentLogger) startOpts.logger = mod.silentLogger;
  let broker: StartedBroker;
  try {
    broker = await mod.startBroker(startOpts);
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  const keep = process.env.TRIBUTARY_KEEP_DATA === '1';
  return {
    bootstrap: broker.bootstrap ?? `${broker.host}:${broker.port}`,
    external: false,
    autoCreates: opts.autoCreateTopics !== false,
    dataDir,
    kind: 'tributary',
    async close() {
      await broker.close();
      if (keep) console.error(`# kept data dir ${dataDir}`);
      else await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function externalBroker(bootstrap: string, autoCreates: boolean, dataDir: string | undefined): CompatBroker {
  return { bootstrap, external: true, autoCreates, dataDir, kind: 'external', async close() {} };
}
