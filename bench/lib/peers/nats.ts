/**
 * Secondary peer: NATS JetStream (one file-storage stream on one subject = one partition). Starts
 * nats-server on a free loopback port with a fresh store dir under opts.workDir, measures, and
 * always stops it. Load generator: `nats bench` from natscli, built with `go install` into
 * bench/.tools/bin on first use (natscli is not a Debian package).
 * - pagecache: JetStream's default, which fsyncs the store every 2 minutes (sync_interval);
 * - durable:   `jetstream { sync_interval: always }` (fsync after every write). That option exists
 *              from nats-server 2.10 on; older servers (Debian 12 ships 2.9.10) reject it, and the
 *              durable figures are then reported as skipped with that reason.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measurement } from '../results.ts';
import type { Measurement } from '../results.ts';
import { parseNatsBench } from '../parsers.ts';
import {
  ensureTools, freePort, lastLines, rssMiB, run, sizeLabel, sleep, spawnServer, tcpExchange, waitForFirstAnswer, which,
} from '../tools.ts';
import type { SecondaryPeerOptions, SecondaryPeerRun } from '../tools.ts';

export type { SecondaryPeerOptions, SecondaryPeerRun } from '../tools.ts';

/**
 * natscli release whose `nats bench` has the flat --js --pub/--sub --pubbatch flags (0.2+ moved
 * them to subcommands); its go.mod says go 1.22.0 and it builds with go 1.26.
 */
export const NATSCLI_VERSION = 'v0.1.6';
const TOOLS_BIN = fileURLToPath(new URL('../../.tools/bin/', import.meta.url));
const PUB_BATCH = 100;
const SUBJECT = 'tributary.bench';

/** The INFO greeting, then CONNECT + PING -> PONG. */
function natsPing(port: number): Promise<void> {
  let sent = false;
  return tcpExchange(port, null, (received, socket) => {
    if (received.startsWith('-ERR')) throw new Error(received.trim());
    if (!sent) {
      if (!received.startsWith('INFO ') || !received.includes('\r\n')) return false;
      sent = true;
      socket.write('CONNECT {"verbose":false,"pedantic":false,"protocol":1}\r\nPING\r\n');
      return false;
    }
    if (received.includes('-ERR')) throw new Error(received.slice(received.indexOf('-ERR')).trim());
    return received.slice(received.indexOf('\r\n') + 2).includes('PONG\r\n');
  });
}

/** The natscli binary, installing it with `go install` when absent. Throws with the reason. */
async function natsCli(log: (s: string) => void): Promise<string> {
  const bin = join(TOOLS_BIN, 'nats');
  if (existsSync(bin)) {
    const v = await run(bin, ['--version'], { timeoutMs: 10_000 });
    if (v.stdout.trim() === NATSCLI_VERSION || v.stderr.trim() === NATSCLI_VERSION) return bin;
    log(`nats: ${bin} is ${(v.stdout || v.stderr).trim()}, want ${NATSCLI_VERSION}; reinstalling`);
  }
  if (!which('go')) throw new Error(`natscli not installed and no go toolchain to install github.com/nats-io/natscli/nats@${NATSCLI_VERSION}`);
  mkdirSync(TOOLS_BIN, { recursive: true });
  log(`nats: go install github.com/nats-io/natscli/nats@${NATSCLI_VERSION} (about a minute on 2 cores)`);
  const r = await run('go', ['install', `github.com/nats-io/natscli/nats@${NATSCLI_VERSION}`], {
    timeoutMs: 900_000, env: { ...process.env, GOBIN: TOOLS_BIN },
  });
  if (r.code !== 0 || !existsSync(bin)) throw new Error(`go install github.com/nats-io/natscli/nats@${NATSCLI_VERSION} failed (${r.timedOut ? 'timed out' : `exit ${r.code}`}): ${lastLines(r.stderr, 4)}`);
  return bin;
}

export async function benchNats(opts: SecondaryPeerOptions): Promise<SecondaryPeerRun> {
  const { log, durability } = opts;
  const includeNA = opts.includeNA ?? true;
  const result: SecondaryPeerRun = { measurements: [], version: 'nats-server (unknown)', config: {}, skipped: [] };
  const skip = (why: string) => { result.skipped.push(`nats ${durability}: ${why}`); log(`nats: skipped: ${why}`); };

  const { missing } = await ensureTools(['nats-server'], log);
  if (missing.length) {
    skip('nats-server could not be installed (apt-get)');
    return result;
  }
  const v = await run('nats-server', ['--version'], { timeoutMs: 10_000 });
  const serverVersion = /v?(\d+\.\d+\.\d+\S*)/.exec(v.stdout + v.stderr)?.[1] ?? 'unknown';
  result.version = `nats-server ${serverVersion}`;
  mkdirSync(opts.workDir, { recursive: true });

  // Durable needs fsync per write: `sync_interval: always`, checked with the server's own config test.
  let recordProduce = true;
  let syncAlways = false;
  if (durability === 'durable') {
    const probeDir = mkdtempSync(join(opts.workDir, 'nats-conf-'));
    try {
      const conf = join(probeDir, 'sync.conf');
      writeFileSync(conf, `jetstream { store_dir: ${JSON.stringify(join(probeDir, 'js'))}, sync_interval: always }\n`);
      const t = await run('nats-server', ['-t', '-c', conf], { timeoutMs: 10_000 });
      if (t.code === 0) syncAlways = true;
      else {
        recordProduce = false;
        const why = lastLines(t.stderr || t.stdout).replace(conf, 'nats.conf');
        skip(`produce (all sizes): nats-server ${serverVersion} has no fsync-per-write option (JetStream sync_interval: always needs nats-server >= 2.10; this one says: ${why}); its JetStream file store syncs only every 2 minutes, which is the pagecache class`);
      }
    } finally {
      rmSync(probeDir, { recursive: true, force: true });
    }
    if (!recordProduce) result.config = { sync: `no fsync-per-write option in nats-server ${serverVersion}: durable produce not measured` };
    if (!recordProduce && !includeNA) return result;
  }

  let cli: string;
  let client = `natscli ${NATSCLI_VERSION} bench`;
  try {
    cli = await natsCli(log);
  } catch (err) {
    skip(`produce and consume: ${(err as Error).message}`);
    cli = '';
  }

  result.config = {
    ...result.config,
    storage: 'JetStream file store, stream "benchstream" on one subject (= one partition), 1 replica',
    sync: syncAlways ? 'sync_interval: always (fsync after every write)'
      : recordProduce ? 'default sync_interval (fsync every 2 min)'
      : `default sync_interval (fsync every 2 min); durable produce not measured: nats-server ${serverVersion} has no sync_interval: always`,
    bind: '127.0.0.1',
    load: `${client} --js --pub 1 --pubbatch ${PUB_BATCH} (async publish, ${PUB_BATCH} outstanding); consume: --js --sub 1 (ordered ephemeral push consumer)`,
    layout: 'fresh server and store dir per repeat',
  };

  const startup: number[] = [];
  const rss: number[] = [];
  const produced = new Map<number, number[]>(opts.sizes.map((s) => [s, []]));
  const consumed = new Map<number, number[]>(opts.sizes.map((s) => [s, []]));

  for (let rep = 0; rep < Math.max(1, opts.repeats); rep++) {
    const dir = mkdtempSync(join(opts.workDir, 'nats-'));
    const port = await freePort();
    const args = ['-a', '127.0.0.1', '-p', String(port)];
    if (syncAlways) {
      const conf = join(dir, 'nats.conf');
      writeFileSync(conf, `jetstream { store_dir: ${JSON.stringify(join(dir, 'store'))}, sync_interval: always }\n`);
      args.push('-c', conf);
    } else {
      args.push('-js', '-sd', join(dir, 'store'));
    }
    const server = spawnServer('nats-server', args);
    try {
      const ms = await waitForFirstAnswer(server, port, natsPing);
      startup.push(ms);
      await sleep(500);
      rss.push(rssMiB(server.pid));
      log(`nats: #${rep + 1} first answer after ${ms.toFixed(1)} ms, idle RSS ${rss[rss.length - 1].toFixed(1)} MiB`);
      if (!cli) continue;
      const url = `nats://127.0.0.1:${port}`;
      for (const size of opts.sizes) {
        try {
          const p = await run(cli, ['-s', url, 'bench', SUBJECT, '--js', '--storage', 'file', '--purge', '--pub', '1', '--msgs', String(opts.records), '--size', String(size), '--pubbatch', String(PUB_BATCH), '--no-progress'], { timeoutMs: 600_000 });
          if (p.code !== 0) throw new Error(`nats bench --pub exited ${p.timedOut ? 'on timeout' : p.code}: ${lastLines(p.stderr || p.stdout)}`);
          const pub = parseNatsBench(p.stdout + p.stderr).find((s) => /pub/i.test(s.label));
          if (!pub) throw new Error(`nats bench --pub printed no Pub stats: ${lastLines(p.stdout + p.stderr)}`);
          const info = await run(cli, ['-s', url, 'stream', 'info', 'benchstream', '--json'], { timeoutMs: 30_000 });
          const stored = Number(JSON.parse(info.stdout || '{}')?.state?.messages);
          if (stored !== opts.records) throw new Error(`stream holds ${stored} messages after publishing ${opts.records}`);
          if (recordProduce) produced.get(size)!.push(pub.msgsPerSec);
          log(`nats: #${rep + 1} produce ${sizeLabel(size)}: ${pub.msgsPerSec} msgs/s${recordProduce ? '' : ' (not recorded: not durable)'}`);
          if (!includeNA) continue;
          const c = await run(cli, ['-s', url, 'bench', SUBJECT, '--js', '--sub', '1', '--msgs', String(opts.records), '--size', String(size), '--no-progress'], { timeoutMs: 600_000 });
          if (c.code !== 0) throw new Error(`nats bench --sub exited ${c.timedOut ? 'on timeout' : c.code}: ${lastLines(c.stderr || c.stdout)}`);
          const sub = parseNatsBench(c.stdout + c.stderr).find((s) => /sub/i.test(s.label));
          if (!sub) throw new Error(`nats bench --sub printed no Sub stats: ${lastLines(c.stdout + c.stderr)}`);
          consumed.get(size)!.push(sub.msgsPerSec);
          log(`nats: #${rep + 1} consume ${sizeLabel(size)}: ${sub.msgsPerSec} msgs/s`);
        } catch (err) {
          skip(`${sizeLabel(size)} repeat ${rep + 1}: ${(err as Error).message}`);
        }
      }
    } catch (err) {
      skip(`repeat ${rep + 1}: ${(err as Error).message}`);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const base = { peer: 'nats' as const };
  const ms: Measurement[] = result.measurements;
  if (includeNA && startup.length) {
    ms.push(measurement({ ...base, workload: 'startup/first-answer', kind: 'startup', durability: 'n/a', client: 'INFO + CONNECT/PING over raw TCP (node)', metric: 'ms', unit: 'ms', better: 'lower', values: startup, notes: ['spawn of nats-server -js until PONG, empty store dir'] }));
  }
  if (includeNA && rss.length) {
    ms.push(measurement({ ...base, workload: 'memory/idle-rss', kind: 'memory', durability: 'n/a', client: '/proc/<pid>/status VmRSS', metric: 'MiB', unit: 'MiB', better: 'lower', values: rss, notes: ['500 ms after the first answer, JetStream enabled'] }));
  }
  const acks = durability === 'durable' ? 'all' : '1';
  for (const size of opts.sizes) {
    const pv = produced.get(size)!;
    if (pv.length) {
      const workload = `produce/${sizeLabel(size)}/p1/acks=${acks}`;
      const notes = [`${opts.records} messages of ${size} B per repeat, 1 async publisher, pubbatch ${PUB_BATCH}, ${result.config.sync}`];
      ms.push(measurement({ ...base, workload, kind: 'produce', durability, client, metric: 'MB/s', unit: 'MB/s', better: 'higher', values: pv.map((r) => (r * size) / 1e6), notes }));
      ms.push(measurement({ ...base, workload, kind: 'produce', durability, client, metric: 'records/s', unit: 'records/s', better: 'higher', values: [...pv] }));
    }
    const cv = consumed.get(size)!;
    if (cv.length) {
      const workload = `consume/${sizeLabel(size)}/p1`;
      const notes = [`${opts.records} messages of ${size} B per repeat read back from the file store right after producing them, ordered ephemeral push consumer (no acks)`];
      ms.push(measurement({ ...base, workload, kind: 'consume', durability: 'n/a', client, metric: 'MB/s', unit: 'MB/s', better: 'higher', values: cv.map((r) => (r * size) / 1e6), notes }));
      ms.push(measurement({ ...base, workload, kind: 'consume', durability: 'n/a', client, metric: 'records/s', unit: 'records/s', better: 'higher', values: [...cv] }));
    }
  }
  return result;
}
