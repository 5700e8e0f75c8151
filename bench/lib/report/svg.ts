/**
 * The chart of a BenchRun as one self-contained SVG (no scripts, no external fonts): a panel per
 * kind with horizontal bars per peer, each labelled with its value, Tributary's with its ratio to
 * Kafka, and a dashed line for the physical limit where one applies. Each panel has its own axis:
 * linear, except latency's, which is logarithmic (a few ms and a few hundred ms in one panel).
 * Where one workload was measured with two load generators (Kafka's Java perf tools and
 * librdkafka's), each group's title ends with the client's short name ("· java", "· rdkafka").
 */
import type { BenchRun, PeerName } from '../results.ts';
import type { ReportRow } from './compare.ts';
import { clientLegendEntries, compareRun, formatNumber, formatRatio, limitLabel, PEERS, summarizeTargets } from './compare.ts';

export const PEER_COLORS: Record<PeerName, string> = {
  tributary: '#1f77b4',
  kafka: '#404040',
  redis: '#d1495b',
  nats: '#2a9d5c',
};

const W = 1100;
const MARGIN = 20;
const FONT = 'sans-serif';
const PASS = '#1a7f37';
const PANEL_BG = '#fafafa';
const FAIL = '#c62828';

/** Escapes text for SVG/XML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Rough width of text in px (sans-serif averages ~0.56 em a character). */
function textWidth(s: string, size: number): number {
  return s.length * size * 0.56;
}

function fit(s: string, size: number, width: number): string {
  if (textWidth(s, size) <= width) return s;
  const n = Math.max(1, Math.floor(width / (size * 0.56)) - 1);
  return s.slice(0, n) + '…';
}

function text(
  x: number,
  y: number,
  s: string,
  attrs: { size?: number; anchor?: string; weight?: string; fill?: string; halo?: boolean } = {},
): string {
  const a = [`x="${r1(x)}"`, `y="${r1(y)}"`, `font-size="${attrs.size ?? 11}"`];
  if (attrs.anchor) a.push(`text-anchor="${attrs.anchor}"`);
  if (attrs.weight) a.push(`font-weight="${attrs.weight}"`);
  if (attrs.fill) a.push(`fill="${attrs.fill}"`);
  // A halo of the panel's background keeps a label readable where a limit or grid line crosses it.
  if (attrs.halo) a.push(`stroke="${PANEL_BG}" stroke-width="3" stroke-linejoin="round" paint-order="stroke"`);
  return `<text ${a.join(' ')}>${escapeXml(s)}</text>`;
}

function r1(v: number): string {
  return String(Math.round(v * 10) / 10);
}

interface Bar {
  peer: PeerName;
  value: number;
  /** Ratio to Kafka, shown after Tributary's value. */
  ratio?: number;
  /** Verdict of the Kafka target of this figure, if one applies. */
  pass?: boolean;
}
interface Sub {
  label?: string;
  bars: Bar[];
}
interface Group {
  title: string;
  subs: Sub[];
  limit?: { value: number; label: string; ratio?: number; pass?: boolean; target?: string };
}
interface Panel {
  title: string;
  unit: string;
  /** Said after the unit, e.g. "log scale · client rdkafka". */
  note?: string;
  /** A logarithmic axis (bars start at the decade below the smallest value). */
  log?: boolean;
  groups: Group[];
}

const BAR_H = 13;
const BAR_GAP = 2;
const SUB_GAP = 5;
const GROUP_TITLE_H = 17;
const GROUP_GAP = 10;
const PANEL_TITLE_H = 24;
const AXIS_H = 16;
const RIGHT_PAD = 150;

function niceStep(max: number, ticks: number): number {
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10) * mag;
}

/** Tick values of a log axis from lo to hi (powers of ten): 1-2-5 per decade while they fit. */
function logTicks(lo: number, hi: number, maxTicks: number): number[] {
  for (const steps of [[1, 2, 5], [1, 3], [1]]) {
    const ticks: number[] = [];
    for (let d = lo; d <= hi * 1.0001; d *= 10) for (const s of steps) if (d * s <= hi * 1.0001) ticks.push(d * s);
    if (ticks.length <= maxTicks || steps.length === 1) return ticks;
  }
  return [lo, hi];
}

interface Scale {
  /** x of a value. */
  sx: (v: number) => number;
  ticks: number[];
}

function scaleOf(p: Panel, plotX: number, plotW: number, max: number): Scale {
  const maxTicks = Math.max(2, Math.min(6, Math.floor(plotW / 75)));
  const values = p.groups.flatMap((g) => g.subs.flatMap((s) => s.bars.map((b) => b.value))).filter((v) => v > 0);
  if (p.log && values.length > 0) {
    const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
    const hi = Math.max(lo * 10, 10 ** Math.ceil(Math.log10(max * 1.02)));
    const span = Math.log10(hi / lo);
    const sx = (v: number) => plotX + (Math.max(0, Math.log10(Math.max(v, lo) / lo)) / span) * plotW;
    return { sx, ticks: logTicks(lo, hi, Math.max(maxTicks, Math.round(span) + 1) + 3) };
  }
  const step = niceStep(max, maxTicks);
  const axisMax = Math.ceil((max * 1.02) / step) * step;
  const ticks: number[] = [];
  for (let v = 0; v <= axisMax + step / 1000; v += step) ticks.push(v);
  return { sx: (v: number) => plotX + (Math.max(0, v) / axisMax) * plotW, ticks };
}

function panelHeight(p: Panel): number {
  let h = PANEL_TITLE_H + AXIS_H;
  for (const g of p.groups) {
    h += GROUP_TITLE_H;
    for (const s of g.subs) h += s.bars.length * (BAR_H + BAR_GAP) + SUB_GAP;
    h += GROUP_GAP;
  }
  return h;
}

function renderPanel(p: Panel, x: number, y: number, w: number, h: number): string {
  const out: string[] = [];
  const gutter = p.groups.some((g) => g.subs.some((s) => s.label)) ? 52 : 10;
  const plotX = x + gutter;
  const plotW = Math.max(60, w - gutter - RIGHT_PAD);
  const barMax = Math.max(0, ...p.groups.flatMap((g) => g.subs.flatMap((s) => s.bars.map((b) => b.value))));
  // A limit far above every bar would flatten them: such a limit is written, not drawn to scale.
  const limitsOnScale = p.groups.map((g) => g.limit && (barMax === 0 || g.limit.value <= barMax * 2.5));
  const limitMax = Math.max(0, ...p.groups.map((g, i) => (limitsOnScale[i] ? (g.limit as { value: number }).value : 0)));
  const max = Math.max(barMax, limitMax) || 1;
  const { sx, ticks } = scaleOf(p, plotX, plotW, max);

  out.push(`<g class="panel">`);
  out.push(`<rect x="${r1(x - 8)}" y="${r1(y)}" width="${r1(w + 16)}" height="${r1(h)}" fill="${PANEL_BG}" stroke="#e0e0e0" rx="4"/>`);
  const sub = [p.unit, p.note].filter((t) => t).join(' · ');
  const subRoom = w - textWidth(p.title, 13) * 1.05 - 8;
  out.push(
    `<text x="${r1(x)}" y="${r1(y + 17)}" font-size="13" font-weight="bold">${escapeXml(p.title)}` +
      `<tspan font-size="11" font-weight="normal" fill="#666" dx="8">${escapeXml(fit(sub, 11, subRoom))}</tspan></text>`,
  );
  // Axis: grid lines and tick labels.
  const top = y + PANEL_TITLE_H + AXIS_H;
  out.push(`<g class="axis" stroke="#e3e3e3" stroke-width="1">`);
  for (const v of ticks) out.push(`<line x1="${r1(sx(v))}" y1="${r1(top - 4)}" x2="${r1(sx(v))}" y2="${r1(y + h - 6)}"/>`);
  out.push(`</g>`);
  out.push(`<g class="ticks" fill="#777">`);
  for (const v of ticks) out.push(text(sx(v), top - 7, formatNumber(v), { size: 9, anchor: 'middle' }));
  out.push(`</g>`);

  let cy = top;
  p.groups.forEach((g, gi) => {
    out.push(`<g class="group">`);
    let title = g.title;
    if (g.limit) {
      const t = g.limit.target ? ` (target ${g.limit.target})` : '';
      const mark = g.limit.pass === true ? ` ✓${t}` : g.limit.pass === false ? ` ✗${t}` : '';
      const lr = g.limit.ratio === undefined ? '' : `, tributary at ${formatRatio(g.limit.ratio)}× of it${mark}`;
      title += `   (limit ${g.limit.label}: ${formatNumber(g.limit.value)} ${p.unit}${lr})`;
    }
    out.push(text(x, cy + 12, fit(title, 11, w), { size: 11, fill: '#222' }));
    const groupTop = cy + GROUP_TITLE_H;
    cy = groupTop;
    // Bars first, then the limit line over them, then the labels (with a halo) over the line.
    const labels: string[] = [];
    for (const s of g.subs) {
      const subTop = cy;
      for (const b of s.bars) {
        const bw = Math.max(1, sx(b.value) - plotX);
        out.push(
          `<rect x="${r1(plotX)}" y="${r1(cy)}" width="${r1(bw)}" height="${BAR_H}" fill="${PEER_COLORS[b.peer]}"><title>${escapeXml(
            `${b.peer}: ${formatNumber(b.value)} ${p.unit}`,
          )}</title></rect>`,
        );
        const lx = plotX + bw + 4;
        const label = formatNumber(b.value);
        labels.push(text(lx, cy + BAR_H - 3, label, { size: 10, fill: '#222', halo: true }));
        if (b.ratio !== undefined) {
          const rt = `${formatRatio(b.ratio)}× kafka${b.pass === true ? ' ✓' : b.pass === false ? ' ✗' : ''}`;
          const fill = b.pass === true ? PASS : b.pass === false ? FAIL : '#555';
          labels.push(text(lx + textWidth(label, 10) + 6, cy + BAR_H - 3, rt, { size: 10, weight: 'bold', fill, halo: true }));
        }
        cy += BAR_H + BAR_GAP;
      }
      if (s.label) labels.push(text(plotX - 6, (subTop + cy - BAR_GAP) / 2 + 4, s.label, { size: 10, anchor: 'end', fill: '#444' }));
      cy += SUB_GAP;
    }
    if (g.limit) {
      const y1 = groupTop - 2;
      const y2 = cy - SUB_GAP + 1;
      if (limitsOnScale[gi]) {
        const lx = sx(g.limit.value);
        const stroke = g.limit.pass === false ? FAIL : '#b8860b';
        out.push(`<line x1="${r1(lx)}" y1="${r1(y1)}" x2="${r1(lx)}" y2="${r1(y2)}" stroke="${stroke}" stroke-width="2" stroke-dasharray="4 3"/>`);
      } else {
        const lx = plotX + plotW;
        out.push(`<line x1="${r1(lx)}" y1="${r1(y1)}" x2="${r1(lx)}" y2="${r1(y2)}" stroke="#b8860b" stroke-width="2" stroke-dasharray="1 3"/>`);
        labels.push(text(lx + 4, y2, `limit ${formatNumber(g.limit.value)} →`, { size: 9, fill: '#8a6d0b' }));
      }
    }
    out.push(...labels);
    cy += GROUP_GAP;
    out.push(`</g>`);
  });
  out.push(`</g>`);
  return out.join('\n');
}

function barsOf(row: ReportRow): Bar[] {
  const bars: Bar[] = [];
  for (const peer of PEERS) {
    const v = row.values[peer];
    if (v === undefined) continue;
    const bar: Bar = { peer, value: v };
    if (peer === 'tributary' && row.ratioToKafka !== undefined) {
      bar.ratio = row.ratioToKafka;
      bar.pass = row.targets.find((t) => t.of === 'kafka')?.pass;
    }
    bars.push(bar);
  }
  return bars;
}

/**
 * How a panel names its rows' load generators: when some workload (and durability) of the panel
 * was measured with two clients, every group title ends with " · <client>"; when the whole panel
 * has one client, and the run has others, the panel's heading says which.
 */
function clientNaming(rows: readonly ReportRow[], allRows: readonly ReportRow[]): { suffix: (r: ReportRow) => string; note?: string } {
  const clients = new Map<string, Set<string>>();
  for (const r of rows) {
    const k = JSON.stringify([r.workload, r.durability]);
    clients.set(k, (clients.get(k) ?? new Set()).add(r.clientShort));
  }
  if ([...clients.values()].some((c) => c.size > 1)) return { suffix: (r) => ` · ${r.clientShort}` };
  const here = new Set(rows.map((r) => r.clientShort));
  const all = new Set(allRows.map((r) => r.clientShort));
  return { suffix: () => '', note: here.size === 1 && all.size > 1 ? `client ${[...here][0]}` : undefined };
}

function throughputPanel(rows: ReportRow[], kind: 'produce' | 'consume', title: string): Panel | undefined {
  const ofKind = rows.filter((r) => r.kind === kind);
  const metric = ofKind.some((r) => r.metric === 'MB/s') ? 'MB/s' : ofKind.some((r) => r.metric === 'records/s') ? 'records/s' : undefined;
  if (!metric) return undefined;
  const sel = ofKind.filter((r) => r.metric === metric);
  const naming = clientNaming(sel, rows);
  const groups: Group[] = sel
    .map((r) => {
      const g: Group = { title: `${r.workload} · ${r.durability}${naming.suffix(r)}`, subs: [{ bars: barsOf(r) }] };
      if (r.limitValue !== undefined) {
        const lt = r.targets.find((t) => t.of === 'limit');
        g.limit = { value: r.limitValue, label: limitLabel(r.limitName, r.limitBlockSize), ratio: r.ratioToLimit, pass: lt?.pass };
        if (lt) g.limit.target = `${lt.op === '>=' ? '≥' : '≤'} ${lt.value}×`;
      }
      return g;
    })
    .filter((g) => g.subs[0].bars.length > 0);
  return groups.length ? { title, unit: metric, note: naming.note, groups } : undefined;
}

const LATENCY_METRICS = ['p50 ms', 'p99 ms', 'p99.9 ms'];

function rateOrder(workload: string): number {
  const m = /rate=(\d+)/.exec(workload);
  if (m) return Number(m[1]);
  return workload.includes('half-peak') ? Number.MAX_SAFE_INTEGER : Number.MAX_SAFE_INTEGER - 1;
}

function latencyPanel(rows: ReportRow[]): Panel | undefined {
  const lat = rows.filter((r) => r.kind === 'latency' && LATENCY_METRICS.includes(r.metric));
  if (lat.length === 0) return undefined;
  const naming = clientNaming(lat, rows);
  const keys: string[] = [];
  for (const r of lat) {
    const k = JSON.stringify([r.workload, r.durability, r.client]);
    if (!keys.includes(k)) keys.push(k);
  }
  keys.sort((a, b) => {
    const [wa, da, ca] = JSON.parse(a) as [string, string, string];
    const [wb, db, cb] = JSON.parse(b) as [string, string, string];
    return rateOrder(wa) - rateOrder(wb) || wa.localeCompare(wb) || da.localeCompare(db) || ca.localeCompare(cb);
  });
  const groups: Group[] = keys.map((k) => {
    const [w, d, c] = JSON.parse(k) as [string, string, string];
    const subs: Sub[] = [];
    let first: ReportRow | undefined;
    for (const metric of LATENCY_METRICS) {
      const r = lat.find((x) => x.workload === w && x.durability === d && x.client === c && x.metric === metric);
      if (r) subs.push({ label: metric.replace(/ ms$/, ''), bars: barsOf(r) });
      first ??= r;
    }
    return { title: `${w} · ${d}${first ? naming.suffix(first) : ''}`, subs };
  });
  // Milliseconds at a low rate and hundreds of them at half the peak rate share one log axis.
  const note = ['log scale', naming.note].filter((t) => t).join(' · ');
  return { title: 'Latency (p50 / p99 / p99.9)', unit: 'ms', note, log: true, groups };
}

function smallPanel(rows: ReportRow[], pick: (r: ReportRow) => boolean, title: string, sayClient = false): Panel | undefined {
  const sel = rows.filter(pick);
  if (sel.length === 0) return undefined;
  const units = [...new Set(sel.map((r) => r.unit))];
  const naming = clientNaming(sel, rows);
  const groups: Group[] = sel.map((r) => ({
    title: `${r.workload}${r.durability === 'n/a' ? '' : ` · ${r.durability}`}${naming.suffix(r)}${units.length > 1 ? ` (${r.unit})` : ''}`,
    subs: [{ bars: barsOf(r) }],
  }));
  return { title, unit: units.length === 1 ? units[0] : '', note: sayClient ? naming.note : undefined, groups };
}

export function renderSvg(run: BenchRun): string {
  const rows = compareRun(run);
  const summary = summarizeTargets(rows);
  const peersPresent = PEERS.filter((p) => rows.some((r) => r.values[p] !== undefined));
  const body: string[] = [];
  const innerW = W - 2 * MARGIN;
  let y = MARGIN;

  // Title, machine, legend.
  const date = run.started.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
  body.push(text(MARGIN, y + 18, `Tributary vs Apache Kafka — ${run.mode} run, ${date}`, { size: 20, weight: 'bold' }));
  y += 28;
  const mc = run.machine;
  const machine = `${mc.cpus} CPUs, ${mc.cpuModel}, ${formatNumber(mc.memoryGiB)} GiB RAM, kernel ${mc.kernel}, node ${mc.node}${mc.java ? `, java ${mc.java}` : ''}${mc.disk ? `, disk ${mc.disk}` : ''}`;
  body.push(text(MARGIN, y + 14, fit(machine, 12, innerW), { size: 12, fill: '#444' }));
  y += 20;
  const judged = summary.passed + summary.failed;
  const met = `targets met: ${summary.passed} of ${judged}${summary.unjudged ? ` (${summary.unjudged} not judged)` : ''}; ratios are tributary ÷ kafka, like with like (durable vs durable, page cache vs page cache)`;
  body.push(text(MARGIN, y + 14, fit(met, 12, innerW), { size: 12, fill: summary.failed === 0 && judged > 0 ? PASS : '#444' }));
  y += 24;
  body.push(`<g class="legend">`);
  let lx = MARGIN;
  for (const p of peersPresent) {
    const version = run.peers[p]?.version;
    const label = version ? `${p} ${version}` : p;
    body.push(`<rect x="${lx}" y="${y}" width="14" height="12" fill="${PEER_COLORS[p]}"/>`);
    body.push(text(lx + 19, y + 10.5, label, { size: 12 }));
    lx += 19 + textWidth(label, 12) + 22;
  }
  body.push(`<line x1="${r1(lx)}" y1="${y + 6}" x2="${r1(lx + 22)}" y2="${y + 6}" stroke="#b8860b" stroke-width="2" stroke-dasharray="4 3"/>`);
  body.push(text(lx + 28, y + 10.5, 'physical limit (fio write, fio write+fdatasync, loopback)', { size: 12 }));
  body.push(`</g>`);
  y += 20;
  // Load generators: the short names that end a group's title when a workload has two.
  const clients = clientLegendEntries(rows);
  const lines: string[] = [];
  for (const c of clients) {
    const last = lines.length - 1;
    if (last >= 0 && textWidth(`${lines[last]} · ${c}`, 12) <= innerW) lines[last] += ` · ${c}`;
    else lines.push(last < 0 ? `clients: ${c}` : `    ${c}`);
  }
  for (const l of lines) {
    body.push(text(MARGIN, y + 12, fit(l, 12, innerW), { size: 12, fill: '#444' }));
    y += 16;
  }
  if (lines.length > 0) y += 2;
  y += 6;

  const full: Panel[] = [];
  const produce = throughputPanel(rows, 'produce', 'Produce throughput');
  if (produce) full.push(produce);
  const consume = throughputPanel(rows, 'consume', 'Consume throughput');
  if (consume) full.push(consume);
  const latency = latencyPanel(rows);
  if (latency) full.push(latency);
  for (const p of full) {
    const h = panelHeight(p);
    body.push(renderPanel(p, MARGIN + 8, y, innerW - 16, h));
    y += h + 14;
  }

  const small = [
    smallPanel(rows, (r) => r.kind === 'startup', 'Startup'),
    smallPanel(rows, (r) => r.kind === 'memory', 'Memory (RSS)'),
    smallPanel(rows, (r) => r.kind === 'cpu', 'CPU per GB', true),
  ].filter((p): p is Panel => p !== undefined);
  if (small.length > 0) {
    const gap = 24;
    const pw = (innerW - 16 - gap * (small.length - 1)) / small.length;
    const h = Math.max(...small.map(panelHeight));
    small.forEach((p, i) => body.push(renderPanel(p, MARGIN + 8 + i * (pw + gap), y, pw, h)));
    y += h + 14;
  }

  if (run.skipped.length > 0) {
    body.push(text(MARGIN, y + 12, `skipped (${run.skipped.length}):`, { size: 11, weight: 'bold', fill: '#444' }));
    y += 16;
    for (const s of run.skipped) {
      body.push(text(MARGIN + 10, y + 12, fit(`• ${s}`, 11, innerW - 10), { size: 11, fill: '#444' }));
      y += 15;
    }
  }
  y += MARGIN;

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${Math.ceil(y)}" viewBox="0 0 ${W} ${Math.ceil(y)}" font-family="${FONT}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...body,
    `</svg>`,
    '',
  ].join('\n');
}
