/**
 * The terminal table of a BenchRun: machine, limits and load generators on top, one line per
 * comparison row grouped by kind, and the targets met or missed at the bottom. Fixed width, at
 * most 130 columns: the workload column shrinks when many peers need value columns.
 */
import type { BenchRun, PeerName } from '../results.ts';
import type { ReportRow } from './compare.ts';
import {
  clientLegendEntries,
  compareRun,
  formatBytes,
  formatNumber,
  formatRatio,
  KIND_ORDER,
  limitLabel,
  PEERS,
  summarizeTargets,
} from './compare.ts';

const GREEN = '\x1b[32m';
const RED = '\x1b[31m';
const DIM = '\x1b[2m';
const BOLD = '\x1b[1m';
const RESET = '\x1b[0m';

const MAX_WORKLOAD = 40;
const MIN_WORKLOAD = 16;
const MAX_WIDTH = 130;
const CLIENT_W = 8;

function padEnd(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}
function padStart(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}
function clip(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n - 1) + '…';
}

/** A workload id in n columns: its kind prefix (already the section's heading) goes first. */
function clipWorkload(w: string, kind: string, n: number): string {
  if (w.length <= n) return w;
  const tail = w.startsWith(`${kind}/`) ? '…' + w.slice(kind.length) : w;
  return clip(tail, n);
}

/** Words joined by `sep` into lines of at most `width` columns, each after `first` or `indent`. */
function wrap(first: string, indent: string, words: string[], sep: string, width: number): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const w of words) {
    const add = (empty ? '' : sep) + w;
    // Room for the word and, but on the last line, the separator that ends the line.
    if (!empty && line.length + add.length + sep.trimEnd().length > width) {
      lines.push(line + sep.trimEnd());
      line = indent + w;
    } else line += add;
    empty = false;
  }
  lines.push(line);
  return lines;
}

type Mark = '✓' | '✗' | '?' | ' ';

/** The mark of the row's target of `of`: ✓ met, ✗ missed, ? not judged, blank when none applies. */
function markOf(row: ReportRow, of: 'kafka' | 'limit'): Mark {
  const t = row.targets.find((x) => x.of === of);
  if (!t) return ' ';
  return t.pass === true ? '✓' : t.pass === false ? '✗' : '?';
}

function overallMark(row: ReportRow): Mark {
  if (row.targets.length === 0) return ' ';
  return row.pass === false ? '✗' : row.pass === true && row.targets.every((t) => t.pass === true) ? '✓' : '?';
}

function limitCell(row: ReportRow): string {
  if (row.ratioToLimit === undefined) return '—';
  return `${formatRatio(row.ratioToLimit)} ${markOf(row, 'limit')} ${limitLabel(row.limitName, row.limitBlockSize)}`;
}

export function renderTable(run: BenchRun, opts?: { color?: boolean }): string {
  const color = opts?.color === true;
  const paint = (code: string, s: string) => (color ? code + s + RESET : s);
  const rows = compareRun(run);
  const peers = PEERS.filter((p) => rows.some((r) => r.values[p] !== undefined));
  const out: string[] = [];

  // Header: what ran, where, and what this machine can do at best.
  const mc = run.machine;
  out.push(paint(BOLD, `Tributary vs Apache Kafka — ${run.mode} run, started ${run.started}, took ${formatDuration(run.seconds)}`));
  out.push(`machine: ${mc.cpus} CPUs, ${mc.cpuModel}, ${formatNumber(mc.memoryGiB)} GiB RAM, kernel ${mc.kernel}`);
  out.push(`         node ${mc.node}` + (mc.java ? `, java ${mc.java}` : '') + (mc.disk ? `, disk ${mc.disk}` : ''));
  const peerNames = Object.keys(run.peers);
  if (peerNames.length > 0) out.push(`peers:   ${peerNames.map((p) => `${p} ${run.peers[p].version}`).join(', ')}`);
  out.push(...limitLines(run));
  // Which load generator each short name in the "client" column stands for.
  const legend = clientLegendEntries(rows);
  if (legend.length > 0) out.push(...wrap('clients: ', '         ', legend, ' · ', MAX_WIDTH));
  out.push('');

  // Columns. Each ratio carries the mark of its own target; "verdict" is the row's overall one.
  const metricW = Math.max(8, ...rows.map((r) => r.metric.length));
  const valueW = Math.max(9, ...rows.flatMap((r) => peers.map((p) => formatNumber(r.values[p]).length)));
  const limitW = Math.max(6, ...rows.map((r) => limitCell(r).length));
  // Everything but the workload: durability, client, metric, values, ×kafka, ×limit, verdict.
  const rest = 1 + 9 + 1 + CLIENT_W + 1 + metricW + peers.length * (1 + valueW) + 1 + 8 + 1 + limitW + 8;
  const wl = Math.max(MIN_WORKLOAD, Math.min(MAX_WORKLOAD, MAX_WIDTH - rest, Math.max(13, ...rows.map((r) => r.workload.length))));
  const paintMarks = (s: string) => (color ? s.replace(/✓/g, GREEN + '✓' + RESET).replace(/✗/g, RED + '✗' + RESET) : s);
  const head =
    padEnd('kind/workload', wl) +
    ' ' +
    padEnd('durabil.', 9) +
    ' ' +
    padEnd('client', CLIENT_W) +
    ' ' +
    padEnd('metric', metricW) +
    peers.map((p) => ' ' + padStart(p, valueW)).join('') +
    ' ' +
    padStart('×kafka  ', 8) +
    ' ' +
    padEnd('×limit', limitW) +
    ' verdict';
  out.push(paint(BOLD, head));
  out.push('─'.repeat(head.length));

  for (const kind of KIND_ORDER) {
    const ofKind = rows.filter((r) => r.kind === kind);
    if (ofKind.length === 0) continue;
    out.push(paint(DIM, `${kind}`));
    // A workload repeated from the line above shows as ″; durability and client are always written.
    let last: string | undefined;
    for (const r of ofKind) {
      const same = r.workload === last;
      last = r.workload;
      const name = same ? padEnd('  ″', wl) : padEnd(clipWorkload(r.workload, kind, wl), wl);
      const xk = r.ratioToKafka === undefined ? '—' : formatRatio(r.ratioToKafka);
      out.push(
        name +
          ' ' +
          padEnd(r.durability, 9) +
          ' ' +
          padEnd(clip(r.clientShort, CLIENT_W), CLIENT_W) +
          ' ' +
          padEnd(r.metric, metricW) +
          peers.map((p) => ' ' + padStart(formatNumber(r.values[p]), valueW)).join('') +
          ' ' +
          paintMarks(padStart(xk, 6) + ' ' + markOf(r, 'kafka')) +
          ' ' +
          paintMarks(padEnd(limitCell(r), limitW)) +
          ' ' +
          paintMarks(overallMark(r)),
      );
    }
  }
  out.push('─'.repeat(head.length));

  // Footer: the targets.
  const s = summarizeTargets(rows);
  const judged = s.passed + s.failed;
  const met = `targets met: ${s.passed} of ${judged}` + (s.unjudged > 0 ? ` (${s.unjudged} more not judged: a figure is missing)` : '');
  out.push(
    paint(DIM, 'ratios are tributary ÷ kafka (or ÷ limit), like with like; a mark after a ratio is its target: ✓ met, ✗ missed, ? not judged'),
  );
  out.push(paint(BOLD, s.failed === 0 ? paint(GREEN, met) : met));
  for (const r of s.failedRows) {
    for (const t of r.targets) {
      if (t.pass !== false) continue;
      const other = t.of === 'kafka' ? 'kafka' : limitLabel(r.limitName, r.limitBlockSize);
      const otherValue = t.of === 'kafka' ? r.values.kafka : r.limitValue;
      const what = `${formatNumber(r.values.tributary)} vs ${other} ${formatNumber(otherValue)} ${r.unit}`;
      const target = `${t.op === '>=' ? '≥' : '≤'} ${t.value}`;
      out.push(
        `  ${paint(RED, '✗')} ${r.workload} [${r.durability}, ${r.clientShort}] ${r.metric}: ${formatRatio(t.ratio)}× ${t.of} (${target}): ${what}`,
      );
    }
  }
  const unjudged = rows.filter((r) => r.targets.some((t) => t.pass === undefined));
  for (const r of unjudged) {
    const missing = (['tributary', 'kafka'] as PeerName[]).filter((p) => r.values[p] === undefined);
    out.push(`  ? ${r.workload} [${r.durability}, ${r.clientShort}] ${r.metric}: not judged${missing.length ? `, no ${missing.join(', ')} figure` : ''}`);
  }
  if (run.skipped.length > 0) {
    out.push(`skipped (${run.skipped.length}):`);
    for (const sk of run.skipped) out.push(`  - ${sk}`);
  }
  return out.join('\n') + '\n';
}

function limitLines(run: BenchRun): string[] {
  const lines: string[] = [];
  const loop = run.limits.filter((l) => l.name === 'loopback');
  const parts: string[] = [];
  for (const l of loop) parts.push(`loopback ${formatNumber(l.median)} MB/s (${l.tool})`);
  const byName = new Map<string, typeof run.limits>();
  for (const l of run.limits) {
    if (l.name === 'loopback') continue;
    const list = byName.get(l.name) ?? [];
    list.push(l);
    byName.set(l.name, list);
  }
  for (const [name, list] of byName) {
    list.sort((a, b) => (a.blockSize ?? 0) - (b.blockSize ?? 0));
    const label = name === 'disk-write' ? 'fio write (page cache)' : name === 'disk-write-fdatasync' ? 'fio write+fdatasync' : name;
    const cells = list.map((l) => (l.blockSize === undefined ? '' : `${formatBytes(l.blockSize)} `) + formatNumber(l.median));
    parts.push(`${label} MB/s: ${cells.join(', ')}`);
  }
  if (parts.length === 0) return ['limits:  none measured'];
  lines.push(`limits:  ${parts[0]}`);
  for (const p of parts.slice(1)) lines.push(`         ${p}`);
  return lines;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
