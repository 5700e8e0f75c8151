/**
 * Turns a BenchRun into comparison rows: one row per (workload, client, metric, durability) with
 * the median of every peer, the ratio of Tributary to Kafka, the ratio of Tributary to the physical
 * limit that applies, and the targets from the issue with a verdict each. Pure functions only: the
 * terminal table (table.ts) and the SVG chart (svg.ts) both read these rows.
 */
import type { BenchRun, Better, Durability, Limit, Measurement, PeerName } from '../results.ts';

export type ReportKind = 'produce' | 'consume' | 'latency' | 'startup' | 'memory' | 'cpu';
export const KIND_ORDER: readonly ReportKind[] = ['produce', 'consume', 'latency', 'startup', 'memory', 'cpu'];
export const PEERS: readonly PeerName[] = ['tributary', 'kafka', 'redis', 'nats'];

/** One target from the issue: ratio (to Kafka or to the limit) `op` value. */
export interface Target {
  op: '>=' | '<=';
  value: number;
  of: 'kafka' | 'limit';
  /** The ratio it is judged on; undefined when a figure it needs was not measured. */
  ratio?: number;
  /** undefined when the ratio could not be computed (a figure is missing). */
  pass?: boolean;
}

export interface ReportRow {
  kind: ReportKind;
  workload: string;
  durability: Durability;
  /** The load generator of Tributary's and Kafka's figure (of the first peer seen otherwise). */
  client: string;
  /** Short name of `client` for a table column or a chart label, unique among the run's clients
   * that measure the same figure: "java", "rdkafka", … (see shortClient and clientLegend). */
  clientShort: string;
  /** Load generator per peer where it differs from `client` (secondary peers' own tools). */
  peerClients: Partial<Record<PeerName, string>>;
  metric: string;
  unit: string;
  better: Better;
  /** Median per peer. */
  values: Record<PeerName, number | undefined>;
  /** tributary.median / kafka.median, also for 'lower is better' metrics. */
  ratioToKafka?: number;
  /** The limit compared with: name, block size (disk) and median. */
  limitName?: string;
  limitBlockSize?: number;
  limitValue?: number;
  /** tributary.median / limit.median. */
  ratioToLimit?: number;
  /** Every target that applies to this row (none, a Kafka target, a limit target, or both). */
  targets: Target[];
  /** false if any target fails; true if at least one was judged and all judged pass. */
  pass?: boolean;
  notes: string[];
}

export interface TargetSummary {
  /** Targets judged and met. */
  passed: number;
  /** Targets judged and missed. */
  failed: number;
  /** Targets that apply but could not be judged because a figure is missing. */
  unjudged: number;
  /** Rows with at least one missed target, in row order. */
  failedRows: ReportRow[];
}

function isReportKind(k: string): k is ReportKind {
  return (KIND_ORDER as readonly string[]).includes(k);
}

function isPeer(p: string): p is PeerName {
  return (PEERS as readonly string[]).includes(p);
}

/** Block size from a note like "batchBytes=65536" on any of the measurements, if one says so. */
export function batchBytesOf(ms: readonly Measurement[]): number | undefined {
  for (const m of ms) {
    for (const n of m.notes ?? []) {
      const match = /\bbatchBytes\s*=\s*(\d+)/.exec(n);
      if (match) return Number(match[1]);
    }
  }
  return undefined;
}

/**
 * The limit named `name` whose block size is nearest to `blockSize` (nearest on a log scale, so
 * 16 KiB is as far from 4 KiB as from 64 KiB; a tie goes to the larger block). Without a block
 * size, the largest block size measured. Limits without a block size (loopback) match by name.
 */
export function pickLimit(limits: readonly Limit[], name: string, blockSize?: number): Limit | undefined {
  const named = limits.filter((l) => l.name === name && Number.isFinite(l.median));
  if (named.length === 0) return undefined;
  const sized = named.filter((l) => l.blockSize !== undefined);
  if (sized.length === 0) return named[0];
  if (blockSize === undefined || !(blockSize > 0)) {
    return sized.reduce((a, b) => ((b.blockSize as number) > (a.blockSize as number) ? b : a));
  }
  const dist = (l: Limit) => Math.abs(Math.log2(l.blockSize as number) - Math.log2(blockSize));
  return sized.reduce((a, b) => {
    const da = dist(a);
    const db = dist(b);
    if (Math.abs(da - db) < 1e-9) return (b.blockSize as number) > (a.blockSize as number) ? b : a;
    return db < da ? b : a;
  });
}

function isThroughput(metric: string): boolean {
  return metric === 'MB/s' || metric === 'records/s';
}

function kafkaTarget(kind: ReportKind, workload: string, metric: string): Target | undefined {
  if ((kind === 'produce' || kind === 'consume') && isThroughput(metric)) return { op: '>=', value: 1, of: 'kafka' };
  if (kind === 'latency' && metric === 'p99 ms' && workload.includes('half-peak')) return { op: '<=', value: 1, of: 'kafka' };
  if (kind === 'startup') return { op: '<=', value: 0.1, of: 'kafka' };
  if (kind === 'memory' && workload === 'memory/idle-rss') return { op: '<=', value: 0.2, of: 'kafka' };
  if (kind === 'cpu') return { op: '<=', value: 1, of: 'kafka' };
  return undefined;
}

function judge(t: Target, ratio: number | undefined): Target {
  if (ratio === undefined || !Number.isFinite(ratio)) return { ...t };
  return { ...t, ratio, pass: t.op === '>=' ? ratio >= t.value : ratio <= t.value };
}

function metricRank(metric: string): number {
  if (metric === 'MB/s') return 0;
  if (metric === 'records/s') return 1;
  const p = /^p(\d+(?:\.\d+)?)\b/.exec(metric);
  if (p) return 10 + Number(p[1]) / 1000;
  if (/^max\b/.test(metric)) return 11;
  return 20;
}

const DURABILITY_ORDER: readonly Durability[] = ['durable', 'pagecache', 'n/a'];

const collator = new Intl.Collator('en', { numeric: true });

export function compareRows(a: ReportRow, b: ReportRow): number {
  return (
    KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
    collator.compare(a.workload, b.workload) ||
    DURABILITY_ORDER.indexOf(a.durability) - DURABILITY_ORDER.indexOf(b.durability) ||
    collator.compare(a.client, b.client) ||
    metricRank(a.metric) - metricRank(b.metric) ||
    collator.compare(a.metric, b.metric)
  );
}

interface Group {
  key: string;
  ms: Measurement[];
}

/** Every comparison row of a run, sorted by kind (produce … cpu), workload, durability, client, metric. */
export function compareRun(run: BenchRun): ReportRow[] {
  const groups = new Map<string, Group>();
  for (const m of run.measurements) {
    if (!isReportKind(m.kind) || !isPeer(m.peer)) continue;
    const key = JSON.stringify([m.kind, m.workload, m.client, m.metric, m.durability]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, ms: [] }));
    g.ms.push(m);
  }
  // A secondary peer measured with its own tool joins the row of the same workload, metric and
  // durability that Tributary or Kafka are in, if there is exactly one; otherwise it stays alone.
  const primary = [...groups.values()].filter((g) => g.ms.some((m) => m.peer === 'tributary' || m.peer === 'kafka'));
  const merged: Group[] = [...primary];
  for (const g of groups.values()) {
    if (primary.includes(g)) continue;
    const m0 = g.ms[0];
    const homes = primary.filter((p) => {
      const q = p.ms[0];
      return q.kind === m0.kind && q.workload === m0.workload && q.metric === m0.metric && q.durability === m0.durability;
    });
    const home = homes.length === 1 ? homes[0] : undefined;
    if (home && g.ms.every((m) => !home.ms.some((h) => h.peer === m.peer))) home.ms.push(...g.ms);
    else merged.push(g);
  }

  const rows = merged.map((g) => rowOf(run, g.ms));
  const shorts = shortClients(rows);
  for (const r of rows) r.clientShort = shorts.get(r.client) ?? shortClient(r.client);
  rows.sort(compareRows);
  return rows;
}

/**
 * A load generator's short name, at most 8 characters: "java" for Kafka's own perf tools
 * (kafka-tools …, kafka-producer-perf …, kafka-consumer-perf …), "rdkafka" for rdkperf
 * (librdkafka), otherwise the first word of the name.
 */
export function shortClient(client: string): string {
  if (/^kafka-(tools|producer-perf|consumer-perf)\b/i.test(client)) return 'java';
  if (/^rdkperf\b/i.test(client)) return 'rdkafka';
  return (client.trim().split(/\s+/)[0] || '?').slice(0, 8);
}

/**
 * Short name of every row client. Two clients that get the same short name keep it if they never
 * measure the same figure (kind, workload, durability, metric); otherwise they are numbered
 * ("java", "java2"), so that rows of one figure can always be told apart by their short names.
 */
function shortClients(rows: readonly ReportRow[]): Map<string, string> {
  const byShort = new Map<string, string[]>();
  for (const c of [...new Set(rows.map((r) => r.client))].sort(collator.compare)) {
    const s = shortClient(c);
    byShort.set(s, [...(byShort.get(s) ?? []), c]);
  }
  const figure = (r: ReportRow) => JSON.stringify([r.kind, r.workload, r.durability, r.metric]);
  const out = new Map<string, string>();
  const taken = new Set(byShort.keys());
  for (const [s, clients] of byShort) {
    const figures = clients.map((c) => new Set(rows.filter((r) => r.client === c).map(figure)));
    const clash = figures.some((f, i) => figures.some((g, j) => j > i && [...f].some((x) => g.has(x))));
    if (!clash) {
      for (const c of clients) out.set(c, s);
      continue;
    }
    let n = 1;
    clients.forEach((c, i) => {
      if (i === 0) return void out.set(c, s);
      let name: string;
      do {
        n++;
        name = s.slice(0, 8 - String(n).length) + n;
      } while (taken.has(name));
      taken.add(name);
      out.set(c, name);
    });
  }
  return out;
}

/** The short client names of these rows, in row order, each with the full names it stands for. */
export function clientLegend(rows: readonly ReportRow[]): { short: string; clients: string[] }[] {
  const out: { short: string; clients: string[] }[] = [];
  for (const r of rows) {
    let e = out.find((x) => x.short === r.clientShort);
    if (!e) out.push((e = { short: r.clientShort, clients: [] }));
    if (!e.clients.includes(r.client)) e.clients.push(r.client);
  }
  return out;
}

/** "java = kafka-tools 4.3.1 perf · rdkafka = rdkperf (librdkafka 2.0.2)" as separate entries. */
export function clientLegendEntries(rows: readonly ReportRow[]): string[] {
  return clientLegend(rows).map((e) => (e.clients.length === 1 && e.clients[0] === e.short ? e.short : `${e.short} = ${e.clients.join(', ')}`));
}

function rowOf(run: BenchRun, ms: Measurement[]): ReportRow {
  const byPeer = new Map<PeerName, Measurement>();
  for (const m of ms) if (!byPeer.has(m.peer as PeerName)) byPeer.set(m.peer as PeerName, m);
  const lead = byPeer.get('tributary') ?? byPeer.get('kafka') ?? ms[0];
  const kind = lead.kind as ReportKind;
  const values = { tributary: undefined, kafka: undefined, redis: undefined, nats: undefined } as Record<
    PeerName,
    number | undefined
  >;
  const peerClients: Partial<Record<PeerName, string>> = {};
  const notes: string[] = [];
  for (const [peer, m] of byPeer) {
    values[peer] = Number.isFinite(m.median) ? m.median : undefined;
    if (m.client !== lead.client) peerClients[peer] = m.client;
    for (const n of m.notes ?? []) notes.push(`${peer}: ${n}`);
  }
  const row: ReportRow = {
    kind,
    workload: lead.workload,
    durability: lead.durability,
    client: lead.client,
    clientShort: shortClient(lead.client),
    peerClients,
    metric: lead.metric,
    unit: lead.unit,
    better: lead.better,
    values,
    targets: [],
    notes,
  };
  const t = values.tributary;
  const k = values.kafka;
  if (t !== undefined && k !== undefined && k !== 0) row.ratioToKafka = t / k;

  let limit: Limit | undefined;
  if (row.metric === 'MB/s' && kind === 'produce') {
    const block = batchBytesOf([...(byPeer.get('tributary') ? [byPeer.get('tributary') as Measurement] : []), ...ms]);
    if (row.durability === 'durable') limit = pickLimit(run.limits, 'disk-write-fdatasync', block);
    else if (row.durability === 'pagecache') limit = pickLimit(run.limits, 'disk-write', block);
  } else if (row.metric === 'MB/s' && kind === 'consume') {
    limit = pickLimit(run.limits, 'loopback');
  }
  if (limit) {
    row.limitName = limit.name;
    row.limitBlockSize = limit.blockSize;
    row.limitValue = limit.median;
    if (t !== undefined && limit.median > 0) row.ratioToLimit = t / limit.median;
  }

  const kt = kafkaTarget(kind, row.workload, row.metric);
  // Targets are Tributary's: a row without a Tributary figure (a secondary peer alone) has none.
  if (kt && byPeer.has('tributary')) row.targets.push(judge(kt, row.ratioToKafka));
  if (kind === 'produce' && row.metric === 'MB/s' && row.durability === 'durable' && byPeer.has('tributary')) {
    row.targets.push(judge({ op: '>=', value: 0.5, of: 'limit' }, row.ratioToLimit));
  }
  if (row.targets.some((x) => x.pass === false)) row.pass = false;
  else if (row.targets.some((x) => x.pass === true)) row.pass = true;
  return row;
}

/** Counts of targets met, missed and not judged, and the rows that miss one. */
export function summarizeTargets(rows: readonly ReportRow[]): TargetSummary {
  let passed = 0;
  let failed = 0;
  let unjudged = 0;
  const failedRows: ReportRow[] = [];
  for (const r of rows) {
    for (const t of r.targets) {
      if (t.pass === true) passed++;
      else if (t.pass === false) failed++;
      else unjudged++;
    }
    if (r.targets.some((t) => t.pass === false)) failedRows.push(r);
  }
  return { passed, failed, unjudged, failedRows };
}

/** "≥ 1× kafka", "≤ 0.1× kafka", "≥ 0.5× limit". */
export function describeTarget(t: Target): string {
  return `${t.op === '>=' ? '≥' : '≤'} ${t.value}× ${t.of}`;
}

/** Short name of a limit for tables and charts: "fsync 64K", "disk 1M", "loopback". */
export function limitLabel(name: string | undefined, blockSize?: number): string {
  if (!name) return '';
  const short = name === 'disk-write-fdatasync' ? 'fsync' : name === 'disk-write' ? 'disk' : name;
  return blockSize === undefined ? short : `${short} ${formatBytes(blockSize)}`;
}

export function formatBytes(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)}M`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024}K`;
  return `${n}B`;
}

/** 3 significant digits below 1000; whole numbers with thousands separators from 1000 up. */
export function formatNumber(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a < 0.001) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}

/** A ratio: two decimals below 10, 3 significant digits above. */
export function formatRatio(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  if (Math.abs(v) >= 10) return formatNumber(v);
  if (Math.abs(v) < 0.01 && v !== 0) return String(Number(v.toPrecision(2)));
  return v.toFixed(2);
}
