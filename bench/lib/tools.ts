/**
 * External tools the benchmark needs beyond Node: installs Debian packages on demand, and a small
 * process runner (spawn with a hard kill on timeout) that the limit and secondary-peer drivers use.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Measurement } from './results.ts';

export interface RunResult {
  stdout: string;
  stderr: string;
  /** Exit code; null when killed by a signal (then `signal` says which). */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

export interface RunOptions {
  /** Hard limit: SIGTERM at the timeout, SIGKILL 2 s later. Default 60 s. */
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command without a shell and collects its output. Never rejects for a non-zero exit. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 2000);
    }, timeoutMs);
    const finish = (code: number | null, signal: NodeJS.Signals | null, extra = '') => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      resolve({ stdout, stderr: stderr + extra, code, signal, timedOut });
    };
    child.on('error', (err) => finish(127, null, `spawn ${cmd}: ${err.message}`));
    child.on('close', (code, signal) => finish(code, signal));
  });
}

/** True when `name` is an executable on PATH (or an existing path). */
export function which(name: string): string | undefined {
  if (name.includes('/')) return existsSync(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Tool name -> the Debian packages that provide it and the executables that prove it is there. */
const PACKAGES: Record<string, { packages: string[]; binaries: string[] }> = {
  iperf3: { packages: ['iperf3'], binaries: ['iperf3'] },
  fio: { packages: ['fio'], binaries: ['fio'] },
  'redis-server': { packages: ['redis-server', 'redis-tools'], binaries: ['redis-server', 'redis-cli', 'redis-benchmark'] },
  'redis-tools': { packages: ['redis-tools'], binaries: ['redis-cli', 'redis-benchmark'] },
  'nats-server': { packages: ['nats-server'], binaries: ['nats-server'] },
};

let aptUpdated = false;

/**
 * Makes sure the named tools (iperf3, fio, redis-server, redis-tools, nats-server) are installed,
 * installing missing ones with apt-get (one `apt-get update` per process). Returns the names that
 * are still missing afterwards, each with the reason in the log; callers report them as skipped.
 */
export async function ensureTools(names: string[], log: (s: string) => void): Promise<{ missing: string[] }> {
  const need: string[] = [];
  const unknown: string[] = [];
  for (const name of names) {
    const spec = PACKAGES[name];
    if (!spec) { unknown.push(name); continue; }
    if (spec.binaries.some((b) => !which(b))) need.push(name);
  }
  for (const u of unknown) log(`ensureTools: no package known for "${u}"`);
  if (need.length === 0) return { missing: unknown };

  const pkgs = [...new Set(need.flatMap((n) => PACKAGES[n].packages))];
  if (!which('apt-get')) {
    log(`ensureTools: apt-get not available; cannot install ${pkgs.join(' ')}`);
  } else {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (!aptUpdated) {
      log('ensureTools: apt-get update');
      const u = await run('apt-get', ['update', '-qq'], { timeoutMs: 300_000, env });
      if (u.code !== 0) log(`ensureTools: apt-get update failed (${u.code}): ${lastLines(u.stderr)}`);
      else aptUpdated = true;
    }
    log(`ensureTools: apt-get install ${pkgs.join(' ')}`);
    const r = await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { timeoutMs: 600_000, env });
    if (r.code !== 0) log(`ensureTools: apt-get install failed (${r.code}): ${lastLines(r.stderr || r.stdout)}`);
    // The Debian redis-server postinst may start a system instance; the benchmark starts its own
    // on another port, so that instance does not interfere and is left as the package set it up.
  }
  const missing = [...unknown];
  for (const name of need) {
    const absent = PACKAGES[name].binaries.filter((b) => !which(b));
    if (absent.length) {
      missing.push(name);
      log(`ensureTools: ${name} still missing (${absent.join(', ')} not on PATH)`);
    }
  }
  return { missing };
}

export function lastLines(s: string, n = 3): string {
  return s.trim().split('\n').slice(-n).join(' | ');
}

/** Workload size label shared with the Kafka peers: 100 -> "100B", 1024 -> "1KiB", 1048576 -> "1MiB". */
export function sizeLabel(bytes: number): string {
  if (bytes >= 1048576 && bytes % 1048576 === 0) return `${bytes / 1048576}MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024}KiB`;
  return `${bytes}B`;
}

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  /** performance.now() just before spawn. */
  spawnedAt: number;
  /** stdout+stderr so far (last 64 KiB). */
  output(): string;
  exited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Servers started here and not yet stopped: killed if this process exits without stopping them. */
const liveServers = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Spawns a long-running server process (no shell), keeping the tail of its output. */
export function spawnServer(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ServerProcess {
  let out = '';
  const spawnedAt = performance.now();
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: string) => { out = (out + d).slice(-65536); };
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  let gone = false;
  liveServers.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => { for (const c of liveServers) c.kill('SIGKILL'); });
  }
  const closed = new Promise<void>((resolve) => child.on('close', () => { gone = true; liveServers.delete(child); resolve(); }));
  child.on('error', (err) => { keep(`spawn ${cmd}: ${err.message}\n`); gone = true; });
  return {
    child,
    pid: child.pid ?? -1,
    spawnedAt,
    output: () => out,
    exited: () => gone || child.exitCode !== null || child.signalCode !== null,
    async stop(graceMs = 5000) {
      if (child.pid === undefined || gone) return;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => { if (!gone) child.kill('SIGKILL'); }, graceMs);
      await closed;
      clearTimeout(t);
    },
  };
}

/**
 * Polls `probe` (one request/answer exchange on a fresh TCP connection to 127.0.0.1:port) until it
 * succeeds; returns the ms from the server's spawn to the first answer.
 */
export async function waitForFirstAnswer(server: ServerProcess, port: number, probe: (port: number) => Promise<void>, timeoutMs = 30_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  while (performance.now() < deadline) {
    if (server.exited()) throw new Error(`server exited before answering: ${lastLines(server.output(), 5)}`);
    try {
      await probe(port);
      return performance.now() - server.spawnedAt;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`no answer on port ${port} within ${timeoutMs} ms (last: ${last}): ${lastLines(server.output(), 5)}`);
}

/**
 * One request/answer on a fresh connection: connects, calls `onData(buffer, socket)` with everything
 * received so far, which returns true once the expected answer is complete.
 */
export function tcpExchange(port: number, first: string | null, onData: (received: string, socket: Socket) => boolean, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    const done = (err?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err); else resolve();
    };
    const timer = setTimeout(() => done(new Error('timeout')), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => { if (first !== null) socket.write(first); });
    socket.on('data', (d: string) => {
      received += d;
      try {
        if (onData(received, socket)) done();
      } catch (err) {
        done(err as Error);
      }
    });
    socket.on('error', (err) => done(err));
    socket.on('close', () => done(new Error(`closed after ${JSON.stringify(received.slice(0, 100))}`)));
  });
}

/** Resident set size of a process in MiB, from /proc/<pid>/status VmRSS. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What a secondary peer (Redis Streams, NATS JetStream) driver returns. */
export interface SecondaryPeerRun {
  measurements: Measurement[];
  /** e.g. "Redis 7.0.15", "nats-server 2.9.10". */
  version: string;
  config: Record<string, string>;
  /** Every figure that could not be measured, with the reason. */
  skipped: string[];
}

export interface SecondaryPeerOptions {
  /** A fresh temp data dir is made (and removed) under here for every server start. */
  workDir: string;
  durability: 'durable' | 'pagecache';
  /** Records per produce (and consume) run. */
  records: number;
  /** Record payload sizes in bytes, e.g. [100, 1024]. */
  sizes: number[];
  repeats: number;
  log: (s: string) => void;
  /**
   * Whether this call also emits the figures that do not depend on durability (startup/first-answer,
   * memory/idle-rss, consume/...; durability 'n/a'). Default true; pass false on the second call
   * for the same peer so they are not reported twice.
   */
  includeNA?: boolean;
}
