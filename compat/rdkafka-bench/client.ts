/**
 * The librdkafka load generator (compat/rdkafka-bench/rdkperf.c), built (cached) by build.sh.
 * Dependency-free: node:child_process only. See README.md beside this file for the CLI and the
 * JSON each subcommand prints.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const HERE = import.meta.dirname;
const BIN = join(HERE, 'target', 'rdkperf');

export interface LatencySummary {
  p50: number | null;
  p99: number | null;
  max: number | null;
  samples: number;
}

export interface ProduceResult {
  mode: 'produce';
  records: number;
  bytes: number;
  seconds: number;
  errors: number;
  recordsPerSec: number;
  mbPerSec: number;
  ackLatencyMs: LatencySummary;
  requested: number;
  partitions: number;
  partitioning: 'round-robin' | 'librdkafka';
  spread: number;
  size: number;
  config: Record<string, string>;
  librdkafka: string;
}

export interface ConsumeResult {
  mode: 'consume';
  records: number;
  bytes: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
  firstRecordMs: number | null;
  requested: number;
  complete: boolean;
  errors: number;
  partitions: number;
  config: Record<string, string>;
  librdkafka: string;
}

export interface E2eResult {
  mode: 'e2e';
  rate: number;
  offered: number;
  sent: number;
  received: number;
  lost: number;
  seconds: number;
  achievedRate: number;
  latencyMs: LatencySummary & { p90: number | null; p999: number | null; mean: number | null };
  warmup: number;
  produceErrors: number;
  duplicates: number;
  sendSeconds: number;
  maxSendLagMs: number;
  size: number;
  partitions: number;
  partitioning: 'round-robin' | 'librdkafka';
  spread: number;
  config: Record<string, string>;
  consumerConfig: Record<string, string>;
  librdkafka: string;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function exec(cmd: string, args: string[], timeoutMs: number): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
  });
}

let built: Promise<string> | undefined;

/** Runs build.sh (installs librdkafka-dev if needed, compiles once per source hash); returns the binary path. */
export async function buildRdkperf(): Promise<string> {
  built ??= (async () => {
    const r = await exec('bash', [join(HERE, 'build.sh')], 600_000);
    if (r.code !== 0) {
      built = undefined;
      throw new Error(`compat/rdkafka-bench/build.sh failed (exit ${r.code ?? r.signal}):\n${r.stderr}`);
    }
    return BIN;
  })();
  return built;
}

/**
 * Runs `rdkperf ...args` and returns its one JSON line, parsed (see ProduceResult, ConsumeResult,
 * E2eResult). Its stderr is shown only when it fails: non-zero exit, timeout (the process is
 * killed) or no JSON on stdout.
 */
export async function runRdkperf(args: string[], timeoutMs: number): Promise<any> {
  const bin = await buildRdkperf();
  const r = await exec(bin, args, timeoutMs);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let parsed: unknown;
  let parseError: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (e) {
    parseError = e;
  }
  if (r.timedOut || r.code !== 0 || parseError !== undefined) {
    process.stderr.write(r.stderr);
    const why = r.timedOut
      ? `timed out after ${timeoutMs} ms`
      : r.code !== 0
        ? `exited with ${r.code ?? r.signal}`
        : `printed no JSON (${String(parseError)})`;
    const tail = r.stderr.trim().split('\n').slice(-5).join('\n');
    throw new Error(`rdkperf ${args.join(' ')}: ${why}${tail ? `\n${tail}` : ''}`);
  }
  return parsed;
}
