/**
 * Secondary peer: Redis Streams (XADD into one stream = one partition). Starts redis-server on a
 * free loopback port with a fresh data dir under opts.workDir, measures, and always stops it.
 * - durable:   --appendonly yes --appendfsync always (the AOF is fsynced before replies are sent;
 *              pipelined writes of one event-loop turn share the fsync, i.e. group commit);
 * - pagecache: --appendonly yes --appendfsync no (the OS flushes when it likes).
 * RDB snapshots are off (--save ''). Load: redis-benchmark, 50 connections, pipeline 100.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { measurement } from '../results.ts';
import type { Measurement } from '../results.ts';
import { parseRedisBenchmarkCsv } from '../parsers.ts';
import {
  ensureTools, freePort, lastLines, rssMiB, run, sizeLabel, sleep, spawnServer, tcpExchange, waitForFirstAnswer,
} from '../tools.ts';
import type { SecondaryPeerOptions, SecondaryPeerRun } from '../tools.ts';

export type { SecondaryPeerOptions, SecondaryPeerRun } from '../tools.ts';

const CONNECTIONS = 50;
const PIPELINE = 100;

/** PING -> +PONG on a fresh connection (RESP inline command). */
function redisPing(port: number): Promise<void> {
  return tcpExchange(port, 'PING\r\n', (received) => {
    if (received.startsWith('+PONG\r\n')) return true;
    if (received.includes('\r\n')) throw new Error(`unexpected answer ${JSON.stringify(received)}`);
    return false;
  });
}

export async function benchRedis(opts: SecondaryPeerOptions): Promise<SecondaryPeerRun> {
  const { log, durability } = opts;
  const includeNA = opts.includeNA ?? true;
  const result: SecondaryPeerRun = { measurements: [], version: 'redis (unknown)', config: {}, skipped: [] };
  const skip = (why: string) => { result.skipped.push(`redis ${durability}: ${why}`); log(`redis: skipped: ${why}`); };

  const { missing } = await ensureTools(['redis-server'], log);
  if (missing.length) {
    skip(`redis-server/redis-tools could not be installed (apt-get): ${missing.join(', ')}`);
    return result;
  }
  const v = await run('redis-server', ['--version'], { timeoutMs: 10_000 });
  result.version = `Redis ${/v=(\S+)/.exec(v.stdout)?.[1] ?? v.stdout.trim()}`;
  const bv = await run('redis-benchmark', ['--version'], { timeoutMs: 10_000 });
  const client = bv.stdout.trim().split(/\s+/).slice(0, 2).join(' ') || 'redis-benchmark';

  const appendfsync = durability === 'durable' ? 'always' : 'no';
  result.config = {
    appendonly: 'yes',
    appendfsync,
    save: "'' (RDB snapshots off)",
    bind: '127.0.0.1',
    load: `${client} -c ${CONNECTIONS} -P ${PIPELINE} XADD <key> * f <payload>`,
    layout: 'one stream (= one partition), fresh server and data dir per repeat',
  };

  const startup: number[] = [];
  const rss: number[] = [];
  const rps = new Map<number, number[]>(opts.sizes.map((s) => [s, []]));
  const notes = new Map<number, string[]>(opts.sizes.map((s) => [s, []]));

  mkdirSync(opts.workDir, { recursive: true });
  for (let rep = 0; rep < Math.max(1, opts.repeats); rep++) {
    const dir = mkdtempSync(join(opts.workDir, 'redis-'));
    const port = await freePort();
    const server = spawnServer('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      '--appendonly', 'yes', '--appendfsync', appendfsync, '--daemonize', 'no', '--logfile', '',
    ]);
    try {
      const ms = await waitForFirstAnswer(server, port, redisPing);
      startup.push(ms);
      await sleep(500);
      rss.push(rssMiB(server.pid));
      log(`redis: #${rep + 1} first answer after ${ms.toFixed(1)} ms, idle RSS ${rss[rss.length - 1].toFixed(1)} MiB`);
      const check = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'CONFIG', 'GET', 'appendfsync'], { timeoutMs: 10_000 });
      if (check.stdout.trim().split(/\s+/)[1] !== appendfsync) throw new Error(`CONFIG GET appendfsync answered ${JSON.stringify(check.stdout)}`);

      for (const size of opts.sizes) {
        const key = `bench:stream:${size}`;
        const r = await run('redis-benchmark', [
          '-h', '127.0.0.1', '-p', String(port), '-n', String(opts.records), '-c', String(CONNECTIONS), '-P', String(PIPELINE),
          '-q', '--csv', 'XADD', key, '*', 'f', 'x'.repeat(size),
        ], { timeoutMs: 600_000 });
        try {
          if (r.timedOut) throw new Error('redis-benchmark timed out after 600 s');
          if (r.code !== 0) throw new Error(`redis-benchmark exited ${r.code}: ${lastLines(r.stderr || r.stdout)}`);
          const rows = parseRedisBenchmarkCsv(r.stdout);
          const xlen = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'XLEN', key], { timeoutMs: 10_000 });
          const n = Number(xlen.stdout.trim());
          if (n !== opts.records) throw new Error(`XLEN ${key} is ${xlen.stdout.trim()} after ${opts.records} XADDs: ${lastLines(r.stderr || r.stdout)}`);
          rps.get(size)!.push(rows[0].rps);
          if (rows[0].p99LatencyMs !== undefined) notes.get(size)!.push(`repeat ${rep + 1}: p50 ${rows[0].p50LatencyMs} ms, p99 ${rows[0].p99LatencyMs} ms per pipelined request`);
          log(`redis: #${rep + 1} ${sizeLabel(size)}: ${rows[0].rps.toFixed(0)} XADD/s`);
        } catch (err) {
          skip(`produce ${sizeLabel(size)} repeat ${rep + 1}: ${(err as Error).message}`);
        }
        await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'DEL', key], { timeoutMs: 30_000 });
      }
    } catch (err) {
      skip(`repeat ${rep + 1}: ${(err as Error).message}`);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const base = { peer: 'redis' as const };
  const ms: Measurement[] = result.measurements;
  if (includeNA && startup.length) {
    ms.push(measurement({ ...base, workload: 'startup/first-answer', kind: 'startup', durability: 'n/a', client: 'PING over raw TCP (node)', metric: 'ms', unit: 'ms', better: 'lower', values: startup, notes: [`spawn of redis-server until +PONG, appendfsync ${appendfsync}, empty data dir`] }));
  }
  if (includeNA && rss.length) {
    ms.push(measurement({ ...base, workload: 'memory/idle-rss', kind: 'memory', durability: 'n/a', client: '/proc/<pid>/status VmRSS', metric: 'MiB', unit: 'MiB', better: 'lower', values: rss, notes: ['500 ms after the first answer'] }));
  }
  const acks = durability === 'durable' ? 'all' : '1';
  for (const size of opts.sizes) {
    const values = rps.get(size)!;
    if (!values.length) continue;
    const workload = `produce/${sizeLabel(size)}/p1/acks=${acks}`;
    const n = [`${opts.records} XADD of a ${size} B field value per repeat, -c ${CONNECTIONS} -P ${PIPELINE}, appendfsync ${appendfsync}`, ...notes.get(size)!];
    ms.push(measurement({ ...base, workload, kind: 'produce', durability, client, metric: 'MB/s', unit: 'MB/s', better: 'higher', values: values.map((r) => (r * size) / 1e6), notes: n }));
    ms.push(measurement({ ...base, workload, kind: 'produce', durability, client, metric: 'records/s', unit: 'records/s', better: 'higher', values: [...values] }));
  }
  return result;
}
