/**
 * Test brokers: an in-process Tributary (startBroker on port 0 with a temp data dir), an
 * external broker named by BOOTSTRAP_SERVERS (Apache Kafka, Redpanda, another Tributary), or
 * the Tributary CLI as a child process (for kill -9 / restart tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BROKER_ENTRY = join(REPO_ROOT, 'src', 'index.ts');
export const CLI_ENTRY = join(REPO_ROOT, 'src', 'cli', 'main.ts');

export interface TestBrokerOptions {
  /** Broker config overrides such as `log.segment.bytes` (in-process broker only). */
  config?: Record<string, string>;
  autoCreateTopics?: boolean;
  numPartitions?: number;
  /** Passed to startBroker; default: silent, or a logger at level TRIBUTARY_LOG if set. */
  logger?: unknown;
  /** Keep the data dir after close() (for debugging). Also: env TRIBUTARY_KEEP_DATA=1. */
  keepDataDir?: boolean;
}

export interface TestBroker {
  /** "host:port" (for an external broker: the whole BOOTSTRAP_SERVERS value). */
  bootstrap: string;
  /** `bootstrap` split on commas, for clients that take a list. */
  brokers: string[];
  host: string;
  port: number;
  /** Data dir of an in-process broker; '' for an external one. */
  dataDir: string;
  /** True when the broker is BOOTSTRAP_SERVERS: topics are shared, use unique names. */
  external: boolean;
  close(): Promise<void>;
}

/** The subset of src/index.ts this kit relies on (kept local so the kit loads without it). */
interface BrokerHandleLike {
  host: string;
  port: number;
  bootstrap: string;
  dataDir: string;
  close(): Promise<void>;
}
type StartBrokerFn = (opts: Record<string, unknown>) => Promise<BrokerHandleLike>;
interface BrokerModuleLike {
  startBroker?: StartBrokerFn;
  createLogger?: (level: string) => unknown;
  silentLogger?: unknown;
}

export function externalBootstrap(): string | undefined {
  const v = process.env.BOOTSTRAP_SERVERS?.trim();
  return v ? v : undefined;
}

export function parseHostPort(addr: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(addr.trim());
  if (!m) throw new Error(`not a host:port address: ${addr}`);
  return { host: m[1]!, port: Number(m[2]) };
}

async function loadBrokerModule(): Promise<BrokerModuleLike & { startBroker: StartBrokerFn }> {
  const spec = new URL('../../src/index.ts', import.meta.url).href;
  const mod = (await import(spec)) as BrokerModuleLike;
  if (typeof mod.startBroker !== 'function') throw new Error('src/index.ts does not export startBroker');
  return mod as BrokerModuleLike & { startBroker: StartBrokerFn };
}

/**
 * The in-process broker's logger: opts.logger if given; else TRIBUTARY_LOG=debug|info|warn|error
 * selects a level; else silent (test output stays readable).
 */
function testLogger(mod: BrokerModuleLike, given: unknown): unknown {
  if (given !== undefined) return given;
  const level = process.env.TRIBUTARY_LOG;
  if (level && mod.createLogger) return mod.createLogger(level);
  return mod.silentLogger;
}

export async function makeTempDir(prefix = 'tributary-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

const keepData = (opts: TestBrokerOptions) => opts.keepDataDir === true || process.env.TRIBUTARY_KEEP_DATA === '1';

/**
 * Start a broker for a test file. With BOOTSTRAP_SERVERS set, returns that broker (close() is
 * a no-op); otherwise starts Tributary in-process on 127.0.0.1 port 0 with a fresh temp dir,
 * which close() shuts down and removes.
 */
export async function startTestBroker(opts: TestBrokerOptions = {}): Promise<TestBroker> {
  const ext = externalBootstrap();
  if (ext) {
    const brokers = ext.split(',').map((s) => s.trim()).filter(Boolean);
    const { host, port } = parseHostPort(brokers[0]!);
    return { bootstrap: ext, brokers, host, port, dataDir: '', external: true, close: async () => {} };
  }
  const mod = await loadBrokerModule();
  const dataDir = await makeTempDir();
  const startOpts: Record<string, unknown> = { dataDir, host: '127.0.0.1', port: 0 };
  if (opts.config) startOpts.config = opts.config;
  if (opts.autoCreateTopics !== undefined) startOpts.autoCreateTopics = opts.autoCreateTopics;
  if (opts.numPartitions !== undefined) startOpts.numPartitions = opts.numPartitions;
  const logger = testLogger(mod, opts.logger);
  if (logger !== undefined) startOpts.logger = logger;
  let handle: BrokerHandleLike;
  try {
    handle = await mod.startBroker(startOpts);
  } catch (err) {
    await removeDir(dataDir);
    throw err;
  }
  let closed = false;
  return {
    bootstrap: handle.bootstrap,
    brokers: [handle.bootstrap],
    host: handle.host,
    port: handle.port,
    dataDir,
    external: false,
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        await handle.close();
      } finally {
        if (!keepData(opts)) await removeDir(dataDir);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The CLI as a child process

export interface SpawnBrokerOptions {
  dataDir: string;
  /** 0 (default) lets the broker pick; the real port is read from the banner. */
  port?: number;
  host?: string;
  /** Extra CLI arguments after `start --data-dir D --listen H:P`. */
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the banner (default 20 s). */
  readyTimeoutMs?: number;
  /** Script to run instead of src/cli/main.ts (same arguments), e.g. another build. */
  cliEntry?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface BrokerProcess {
  pid: number;
  host: string;
  port: number;
  bootstrap: string;
  dataDir: string;
  /** The banner line that announced readiness. */
  banner: string;
  /** Everything the process wrote so far (stdout and stderr interleaved), for diagnostics. */
  output(): string;
  kill(signal?: NodeJS.Signals): boolean;
  waitForExit(timeoutMs?: number): Promise<ExitInfo>;
  readonly exited: boolean;
}

/** A currently free TCP port on host (there is a small race until someone binds it). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves true if a TCP connection to host:port succeeds within timeoutMs. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

const ADDR_RE = /(\d{1,3}(?:\.\d{1,3}){3}|localhost|\[[0-9a-fA-F:]+\]):(\d{1,5})/;

/**
 * Run `node src/cli/main.ts start --data-dir D --listen H:P` with the Node running the tests and
 * resolve once the startup banner (a line naming the listener address) appears and the port
 * accepts connections. Rejects with the process output if it exits or times out first.
 */
export async function spawnBrokerProcess(opts: SpawnBrokerOptions): Promise<BrokerProcess> {
  const host = opts.host ?? '127.0.0.1';
  const requestedPort = opts.port ?? 0;
  const args = [opts.cliEntry ?? CLI_ENTRY, 'start', '--data-dir', opts.dataDir, '--listen', `${host}:${requestedPort}`, ...(opts.extraArgs ?? [])];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let exitInfo: ExitInfo | undefined;
  const exitWaiters: Array<(e: ExitInfo) => void> = [];
  child.on('exit', (code, signal) => {
    exitInfo = { code, signal };
    for (const w of exitWaiters.splice(0)) w(exitInfo);
  });

  const banner = await new Promise<{ line: string; port: number }>((resolve, reject) => {
    let pending = '';
    let settled = false;
    const timer = setTimeout(() => finish(new Error(`broker did not print its banner within ${opts.readyTimeoutMs ?? 20000} ms`)), opts.readyTimeoutMs ?? 20000);
    const finish = (err: Error | null, value?: { line: string; port: number }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        child.kill('SIGKILL');
        reject(new Error(`${err.message}\n--- broker output ---\n${out}`));
      } else resolve(value!);
    };
    const onData = (chunk: Buffer) => {
      const s = chunk.toString('utf8');
      out += s;
      if (settled) return;
      pending += s;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const m = ADDR_RE.exec(line);
        if (!m) continue;
        const port = Number(m[2]);
        if (port === 0 || (requestedPort !== 0 && port !== requestedPort)) continue;
        finish(null, { line, port });
        return;
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (err) => finish(err));
    child.once('exit', (code, signal) => finish(new Error(`broker exited before it was ready (code ${code}, signal ${signal})`)));
  });

  // The banner should only be printed once the listener is bound; check rather than trust.
  const deadline = Date.now() + 5000;
  while (!(await canConnect(host, banner.port, 1000))) {
    if (Date.now() > deadline || exitInfo) {
      child.kill('SIGKILL');
      throw new Error(`banner printed but ${host}:${banner.port} refuses connections\n--- broker output ---\n${out}`);
    }
    await sleep(100);
  }

  return {
    pid: child.pid!,
    host,
    port: banner.port,
    bootstrap: `${host}:${banner.port}`,
    dataDir: opts.dataDir,
    banner: banner.line,
    output: () => out,
    kill: (signal: NodeJS.Signals = 'SIGTERM') => (exitInfo ? false : child.kill(signal)),
    get exited() {
      return exitInfo !== undefined;
    },
    waitForExit: (timeoutMs = 20000) =>
      new Promise<ExitInfo>((resolve, reject) => {
        if (exitInfo) return resolve(exitInfo);
        const timer = setTimeout(() => reject(new Error(`broker pid ${child.pid} did not exit within ${timeoutMs} ms\n--- broker output ---\n${out}`)), timeoutMs);
        exitWaiters.push((e) => {
          clearTimeout(timer);
          resolve(e);
        });
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** A topic name unique across runs and files (safe on a shared external broker). */
export function uniqueTopic(prefix = 't'): string {
  const rand = Math.random().toString(36).slice(2, 8);
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${rand}`;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Poll `predicate` until it returns a truthy value (which is returned) or `timeoutMs` passes
 * (then throws with `message` and the last error the predicate threw, if any).
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  opts: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10000);
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await predicate();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() >= deadline) {
      const why = lastErr instanceof Error ? `: last error: ${lastErr.message}` : '';
      throw new Error(`${opts.message ?? 'condition not met'} within ${opts.timeoutMs ?? 10000} ms${why}`);
    }
    await sleep(opts.intervalMs ?? 50);
  }
}
