#!/usr/bin/env node
/**
 * The `tributary` command. A thin shell over the library (DESIGN.md principle 5):
 * `tributary start` parses flags, calls startBroker, prints a one-line banner, and shuts down
 * cleanly on SIGINT/SIGTERM (in-flight appends finish and are synced, then exit 0).
 */
import { parseArgs } from 'node:util';
import { startBroker, type BrokerHandle } from '../broker/broker.ts';
import { ConfigError } from '../broker/broker-config.ts';
import { createLogger, type LogLevel } from '../common/logger.ts';
import { VERSION } from '../common/version.ts';

const USAGE = `Usage: tributary <command> [options]

Commands:
  start                      Run a broker

Options for start:
  --data-dir <dir>           Data directory (default: ./data)
  --listen <host:port>       Listener address (default: 127.0.0.1:9092)
  --advertise <host:port>    Address given to clients (default: the listener address)
  --config <key=value>       A broker config by its Kafka name, e.g.
                             --config auto.create.topics.enable=false (repeatable)
  --log-level <level>        debug, info, warn, error (default: info)
  -h, --help                 Show this help
  -v, --version              Show the version
`;

class UsageError extends Error {}

export function parseHostPort(flag: string, value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  if (!m) throw new UsageError(`${flag} expects host:port, got '${value}'`);
  const port = Number(m[3]);
  if (port > 65535) throw new UsageError(`${flag}: port ${port} is out of range`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export interface StartArgs {
  dataDir: string;
  listen: { host: string; port: number };
  advertise?: { host: string; port: number };
  config: Record<string, string>;
  logLevel: LogLevel;
}

export function parseStartArgs(argv: string[]): StartArgs | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        'data-dir': { type: 'string' },
        listen: { type: 'string' },
        advertise: { type: 'string' },
        config: { type: 'string', multiple: true },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const config: Record<string, string> = {};
  for (const kv of v.config ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--config expects key=value, got '${kv}'`);
    config[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const logLevel = (v['log-level'] ?? 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new UsageError(`--log-level must be debug, info, warn or error, got '${logLevel}'`);
  }
  if (v['data-dir'] === '') throw new UsageError('--data-dir must not be empty');
  return {
    dataDir: v['data-dir'] ?? './data',
    listen: parseHostPort('--listen', v.listen ?? '127.0.0.1:9092'),
    advertise: v.advertise ? parseHostPort('--advertise', v.advertise) : undefined,
    config,
    logLevel,
  };
}

async function start(args: StartArgs): Promise<void> {
  const logger = createLogger(args.logLevel);
  // Signal handlers go in before anything else, so a signal that arrives while the broker
  // starts (or right after the banner) still shuts it down cleanly.
  let handle: BrokerHandle | undefined;
  let stopping: string | undefined;
  const shutdown = () => {
    if (!handle) return; // startup finishes, then sees `stopping`
    logger.info('shutting down', { signal: stopping });
    handle.close().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error('shutdown failed', { error: err.stack ?? err.message });
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: string) => {
    if (stopping) {
      process.stderr.write(`tributary: ${signal} again, exiting without waiting\n`);
      process.exit(1);
    }
    stopping = signal;
    shutdown();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  try {
    handle = await startBroker({
      dataDir: args.dataDir,
      host: args.listen.host,
      port: args.listen.port,
      advertisedHost: args.advertise?.host,
      advertisedPort: args.advertise?.port,
      config: args.config,
      logger,
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tributary: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const s = handle.startup;
  const advertised = handle.broker.advertised;
  process.stdout.write(
    `Tributary ${VERSION} listening on ${handle.bootstrap}` +
      (advertised.host !== handle.host || advertised.port !== handle.port ? ` (advertised ${advertised.host}:${advertised.port})` : '') +
      `, data dir ${handle.dataDir}, ${s.topics} topics / ${s.partitions} partitions recovered` +
      (s.failedPartitions ? `, ${s.failedPartitions} partitions REFUSED (see log)` : '') +
      `, ready in ${Math.round(s.readyMs)} ms\n`,
  );
  if (stopping) shutdown();
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      process.stdout.write(USAGE);
      return;
    }
    if (command === '-v' || command === '--version' || command === 'version') {
      process.stdout.write(`tributary ${VERSION}\n`);
      return;
    }
    if (command !== 'start') throw new UsageError(`unknown command '${command}'`);
    const args = parseStartArgs(rest);
    if (args === 'help') {
      process.stdout.write(USAGE);
      return;
    }
    await start(args);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`tributary: ${err.message}\nRun 'tributary --help' for usage.\n`);
      process.exit(2);
    }
    throw err;
  }
}

if (import.meta.main) {
  await main(process.argv.slice(2));
}
