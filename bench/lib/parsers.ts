/**
 * Pure parsers for the output of the external tools the benchmark runs (iperf3, fio,
 * redis-benchmark, nats bench). 1 MB = 1e6 bytes throughout. Each throws with the reason when the
 * output does not hold the figure, so the caller can report it as skipped instead of a zero.
 */

/** The first JSON object in `text` (fio and iperf3 may print warnings before it). */
function firstJson(text: string, what: string): any {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end < start) throw new Error(`${what}: no JSON in output: ${text.trim().slice(0, 200)}`);
  return JSON.parse(text.slice(start, end + 1));
}

/** iperf3 -J: receiver-side throughput of the whole test, in MB/s. */
export function parseIperf3(text: string): { mbPerSec: number; version?: string } {
  const j = firstJson(text, 'iperf3');
  if (j.error) throw new Error(`iperf3: ${j.error}`);
  const bps = j?.end?.sum_received?.bits_per_second;
  if (typeof bps !== 'number' || !(bps > 0)) throw new Error('iperf3: no end.sum_received.bits_per_second');
  return { mbPerSec: bps / 8 / 1e6, version: j?.start?.version };
}

/** fio --output-format=json: write bandwidth of the first job, in MB/s. */
export function parseFio(text: string): { mbPerSec: number; version?: string; ioBytes: number } {
  const j = firstJson(text, 'fio');
  const job = j?.jobs?.[0];
  if (!job) throw new Error('fio: no jobs[0] in output');
  if (job.error) throw new Error(`fio: job error ${job.error}`);
  const bw = job.write?.bw_bytes;
  if (typeof bw !== 'number' || !(bw > 0)) throw new Error('fio: no jobs[0].write.bw_bytes');
  return { mbPerSec: bw / 1e6, version: j['fio version'], ioBytes: job.write.io_bytes };
}

/** Splits one CSV line with double-quoted fields ("" escapes a quote). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') { v += '"'; i += 2; }
        else if (line[i] === '"') { i++; break; }
        else v += line[i++];
      }
      out.push(v);
      i++; // the comma
    } else {
      const c = line.indexOf(',', i);
      const e = c < 0 ? line.length : c;
      out.push(line.slice(i, e));
      i = e + 1;
    }
  }
  return out;
}

export interface RedisBenchmarkRow {
  test: string;
  rps: number;
  avgLatencyMs?: number;
  p50LatencyMs?: number;
  p99LatencyMs?: number;
}

/** redis-benchmark -q --csv (7.x): the header line, then one row per test. */
export function parseRedisBenchmarkCsv(text: string): RedisBenchmarkRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l.startsWith('"'));
  if (lines.length < 2) throw new Error(`redis-benchmark: no CSV rows in output: ${text.trim().slice(0, 200)}`);
  const header = csvFields(lines[0]);
  const col = (name: string) => header.indexOf(name);
  if (col('rps') < 0) throw new Error(`redis-benchmark: no rps column in header ${lines[0]}`);
  return lines.slice(1).map((l) => {
    const f = csvFields(l);
    const num = (name: string) => (col(name) >= 0 ? Number(f[col(name)]) : undefined);
    const rps = Number(f[col('rps')]);
    if (!(rps > 0)) throw new Error(`redis-benchmark: bad rps in ${l.slice(0, 200)}`);
    return {
      test: f[col('test')] ?? f[0],
      rps,
      avgLatencyMs: num('avg_latency_ms'),
      p50LatencyMs: num('p50_latency_ms'),
      p99LatencyMs: num('p99_latency_ms'),
    };
  });
}

export interface NatsBenchSummary {
  /** "Pub" / "Sub" (or "NATS Pub/Sub" etc. as printed before "stats:"). */
  label: string;
  msgsPerSec: number;
  /**
   * The byte rate as printed, e.g. "6.73 MB/sec". natscli 0.1.x labels a 1024-based figure "MB"
   * (70,561 msgs/sec of 100 B prints 6.73 MB/sec), so callers compute MB/s from msgsPerSec and the
   * message size instead of trusting this.
   */
  rateText: string;
}

/**
 * nats bench (natscli 0.1.x) prints one summary line per side after the run, e.g.
 *   "Pub stats: 70,561 msgs/sec ~ 6.73 MB/sec"
 *   "Sub stats: 221,720 msgs/sec ~ 21.14 MB/sec"
 * (and with several clients, per-client lines indented under a total). Every such line is returned
 * in order; the first with a given label is that side's total.
 */
export function parseNatsBench(text: string): NatsBenchSummary[] {
  const out: NatsBenchSummary[] = [];
  const re = /^\s*([A-Za-z /]*?)\s*stats:\s*([\d,.]+)\s*msgs\/sec\s*~\s*([\d,.]+\s*[KMGT]?i?B\/sec)/gim;
  for (const m of text.matchAll(re)) {
    out.push({ label: m[1].trim(), msgsPerSec: Number(m[2].replace(/,/g, '')), rateText: m[3] });
  }
  if (out.length === 0) throw new Error(`nats bench: no "stats: N msgs/sec" line in output: ${text.trim().slice(-300)}`);
  return out;
}
