/**
 * Physical limits of this machine, measured in the same run as the brokers so every broker figure
 * can be set against what the hardware allows:
 * - 'loopback': one iperf3 TCP stream over 127.0.0.1 (receiver-side MB/s);
 * - 'disk-write': fio sequential buffered writes (psync, no fsync) on the brokers' filesystem;
 * - 'disk-write-fdatasync': the same with fdatasync after every write, which is what a durable
 *   broker does once per (group-committed) batch.
 * 1 MB = 1e6 bytes. Each figure is repeated and its median kept.
 */
import { mkdirSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import type { Limit } from './results.ts';
import { median } from './results.ts';
import { ensureTools, freePort, lastLines, run, which } from './tools.ts';
import { parseFio, parseIperf3 } from './parsers.ts';

export interface LimitsOptions {
  /** Directory on the filesystem the brokers write to; fio's file goes here and is deleted. */
  dir: string;
  /** fio block sizes in bytes, e.g. [16384, 65536, 1048576]. */
  blockSizes: number[];
  /** Seconds per single measurement (iperf3 -t, fio --runtime). */
  seconds: number;
  repeats: number;
  log: (s: string) => void;
  /** When given, a reason is pushed here for every limit that could not be measured. */
  skipped?: string[];
}

const GiB = 1024 ** 3;

export async function measureLimits(opts: LimitsOptions): Promise<Limit[]> {
  const { log } = opts;
  const skipped = opts.skipped ?? [];
  const skip = (why: string) => { skipped.push(why); log(`limits: skipped: ${why}`); };
  const seconds = Math.max(1, Math.round(opts.seconds));
  const repeats = Math.max(1, opts.repeats);
  const limits: Limit[] = [];

  const { missing } = await ensureTools(['iperf3', 'fio'], log);

  // Loopback.
  if (missing.includes('iperf3') || !which('iperf3')) {
    skip('limit loopback: iperf3 could not be installed');
  } else {
    const values: number[] = [];
    let tool = 'iperf3';
    const errors: string[] = [];
    for (let i = 0; i < repeats; i++) {
      try {
        const r = await iperf3Once(seconds);
        values.push(r.mbPerSec);
        if (r.version) tool = r.version.replace(/^iperf /, 'iperf3 ');
        log(`limits: loopback #${i + 1}: ${r.mbPerSec.toFixed(0)} MB/s`);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (values.length) limits.push({ name: 'loopback', metric: 'MB/s', values, median: median(values), tool });
    if (errors.length) skip(`limit loopback: ${errors.length}/${repeats} iperf3 runs failed: ${errors[0]}`);
  }

  // Disk.
  if (missing.includes('fio') || !which('fio')) {
    skip('limits disk-write, disk-write-fdatasync: fio could not be installed');
    return limits;
  }
  mkdirSync(opts.dir, { recursive: true });
  const free = freeBytes(opts.dir);
  // 1 GiB, or less when the disk is nearly full (keep at least 3/4 of the free space free).
  const size = Math.min(GiB, Math.floor(free / 4 / (1024 * 1024)) * 1024 * 1024);
  if (size < 64 * 1024 * 1024) {
    skip(`limits disk-write, disk-write-fdatasync: only ${(free / GiB).toFixed(2)} GiB free in ${opts.dir}`);
    return limits;
  }
  const file = join(opts.dir, `.fio-limit-${process.pid}.tmp`);
  try {
    for (const fdatasync of [false, true]) {
      const name = fdatasync ? 'disk-write-fdatasync' : 'disk-write';
      for (const bs of opts.blockSizes) {
        const values: number[] = [];
        let tool = 'fio';
        const errors: string[] = [];
        for (let i = 0; i < repeats; i++) {
          try {
            rmSync(file, { force: true });
            const r = await fioOnce(file, bs, size, seconds, fdatasync);
            values.push(r.mbPerSec);
            if (r.version) tool = r.version.replace(/^fio-/, 'fio ');
            log(`limits: ${name} bs=${bs} #${i + 1}: ${r.mbPerSec.toFixed(1)} MB/s`);
          } catch (err) {
            errors.push((err as Error).message);
          }
        }
        if (values.length) limits.push({ name, blockSize: bs, metric: 'MB/s', values, median: median(values), tool });
        if (errors.length) skip(`limit ${name} bs=${bs}: ${errors.length}/${repeats} fio runs failed: ${errors[0]}`);
      }
    }
  } finally {
    rmSync(file, { force: true });
  }
  return limits;
}

function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

async function fioOnce(file: string, bs: number, size: number, seconds: number, fdatasync: boolean) {
  const args = [
    '--name=tributary-limit', `--filename=${file}`, '--rw=write', `--bs=${bs}`, `--size=${size}`,
    '--ioengine=psync', '--end_fsync=0', `--runtime=${seconds}`, '--time_based', '--output-format=json',
  ];
  if (fdatasync) args.push('--fdatasync=1');
  const r = await run('fio', args, { timeoutMs: seconds * 1000 + 60_000 });
  if (r.timedOut) throw new Error(`fio timed out (${seconds} s runtime)`);
  if (r.code !== 0) throw new Error(`fio exited ${r.code}: ${lastLines(r.stderr || r.stdout)}`);
  return parseFio(r.stdout);
}

/** One iperf3 run: a one-shot server on a free loopback port and a single-stream client. */
async function iperf3Once(seconds: number) {
  const port = await freePort();
  const server = spawn('iperf3', ['-s', '-1', '-B', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let serverOut = '';
  server.stdout.setEncoding('utf8').on('data', (d: string) => { serverOut += d; });
  server.stderr.setEncoding('utf8').on('data', (d: string) => { serverOut += d; });
  const exited = new Promise<void>((resolve) => server.on('close', () => resolve()));
  server.on('error', () => {});
  try {
    // Wait until the server listens: it announces it; a probing connect would use up its one test.
    const deadline = Date.now() + 5000;
    while (!/listening/i.test(serverOut) && server.exitCode === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    let last = '';
    for (let attempt = 0; attempt < 10; attempt++) {
      const r = await run('iperf3', ['-c', '127.0.0.1', '-p', String(port), '-t', String(seconds), '-J'], { timeoutMs: seconds * 1000 + 15_000 });
      if (r.code === 0) return parseIperf3(r.stdout);
      last = r.stdout.includes('"error"') ? safeIperfError(r.stdout) : lastLines(r.stderr || r.stdout);
      if (!/refused|unable to connect/i.test(last)) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`iperf3 client failed: ${last}; server: ${lastLines(serverOut)}`);
  } finally {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    await exited;
  }
}

function safeIperfError(text: string): string {
  try { return String(JSON.parse(text.slice(text.indexOf('{'))).error); } catch { return lastLines(text); }
}
