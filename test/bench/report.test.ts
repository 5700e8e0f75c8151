import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BenchRun, Measurement } from '../../bench/lib/results.ts';
import { median } from '../../bench/lib/results.ts';
import { clientLegend, compareRun, formatNumber, pickLimit, shortClient, summarizeTargets } from '../../bench/lib/report/compare.ts';
import type { ReportRow } from '../../bench/lib/report/compare.ts';
import { fixtureRun } from '../../bench/lib/report/fixture.ts';
import { renderSvg } from '../../bench/lib/report/svg.ts';
import { renderTable } from '../../bench/lib/report/table.ts';

function find(rows: ReportRow[], workload: string, durability: string, metric: string, client?: string): ReportRow {
  const r = rows.find((x) => x.workload === workload && x.durability === durability && x.metric === metric && (client === undefined || x.clientShort === client));
  assert.ok(r, `row ${workload} ${durability} ${metric} ${client ?? ''}`);
  return r;
}

function run(measurements: Measurement[], limits: BenchRun['limits'] = fixtureRun.limits): BenchRun {
  return { ...fixtureRun, measurements, limits, skipped: [] };
}

function m(over: Partial<Measurement> & Pick<Measurement, 'peer' | 'values'>): Measurement {
  const base = {
    workload: 'startup/ready',
    kind: 'startup' as const,
    durability: 'n/a' as const,
    client: 'probe',
    metric: 'ms',
    unit: 'ms',
    better: 'lower' as const,
  };
  return { ...base, ...over, median: median(over.values) };
}

describe('compareRun', () => {
  const rows = compareRun(fixtureRun);

  it('pairs Tributary with Kafka in the same durability class: 200 vs 100 MB/s is 2× and passes', () => {
    const r = find(rows, 'produce/1KiB/p16/acks=all', 'durable', 'MB/s');
    assert.equal(r.values.tributary, 200);
    assert.equal(r.values.kafka, 100);
    assert.equal(r.values.redis, 41);
    assert.equal(r.values.nats, 88);
    assert.equal(r.ratioToKafka, 2);
    const kt = r.targets.find((t) => t.of === 'kafka');
    assert.deepEqual(kt, { op: '>=', value: 1, of: 'kafka', ratio: 2, pass: true });
    assert.equal(r.pass, true);
    const pc = find(rows, 'produce/1KiB/p16/acks=all', 'pagecache', 'MB/s');
    assert.equal(pc.ratioToKafka, 512 / 430);
  });

  it('compares durable produce MB/s with fdatasync at the batch block size, and targets ≥ 0.5×', () => {
    const r = find(rows, 'produce/1KiB/p16/acks=all', 'durable', 'MB/s');
    assert.equal(r.limitName, 'disk-write-fdatasync');
    assert.equal(r.limitBlockSize, 65536);
    assert.equal(r.ratioToLimit, 200 / 350);
    assert.deepEqual(r.targets.find((t) => t.of === 'limit'), { op: '>=', value: 0.5, of: 'limit', ratio: 200 / 350, pass: true });
    // batchBytes=8192 is nearest to 4 KiB; 1 MiB batches to 1 MiB, where 121/905 misses the target.
    assert.equal(find(rows, 'produce/100B/p16/acks=all', 'durable', 'MB/s', 'java').limitBlockSize, 4096);
    const big = find(rows, 'produce/1KiB/p1/acks=all/k<16&"x"', 'durable', 'MB/s');
    assert.equal(big.limitBlockSize, 1048576);
    assert.equal(big.targets.find((t) => t.of === 'limit')?.pass, false);
    assert.equal(big.targets.find((t) => t.of === 'kafka')?.pass, true);
    assert.equal(big.pass, false);
  });

  it('compares page-cache produce with disk-write, consume with loopback, and shows no limit elsewhere', () => {
    const pc = find(rows, 'produce/1KiB/p16/acks=all', 'pagecache', 'MB/s');
    assert.equal(pc.limitName, 'disk-write');
    assert.equal(pc.limitBlockSize, 65536);
    assert.equal(pc.targets.length, 1, 'only durable produce has a limit target');
    const c = find(rows, 'consume/1KiB/p16', 'n/a', 'MB/s');
    assert.equal(c.limitName, 'loopback');
    assert.equal(c.ratioToLimit, 1210 / 3800);
    assert.equal(find(rows, 'produce/1KiB/p16/acks=all', 'durable', 'records/s').ratioToLimit, undefined);
    assert.equal(find(rows, 'startup/ready', 'n/a', 'ms').limitName, undefined);
  });

  it('picks the nearest block size on a log scale, the larger on a tie, the largest without a batch size', () => {
    const L = fixtureRun.limits;
    assert.equal(pickLimit(L, 'disk-write-fdatasync', 8192)?.blockSize, 4096);
    assert.equal(pickLimit(L, 'disk-write-fdatasync', 131072)?.blockSize, 65536);
    assert.equal(pickLimit(L, 'disk-write-fdatasync', 16384)?.blockSize, 65536); // 2 octaves either way
    assert.equal(pickLimit(L, 'disk-write-fdatasync', 4 << 20)?.blockSize, 1048576);
    assert.equal(pickLimit(L, 'disk-write-fdatasync')?.blockSize, 1048576);
    assert.equal(pickLimit(L, 'loopback')?.median, 3800);
    assert.equal(pickLimit(L, 'nonexistent'), undefined);
    // Without a batchBytes note the row uses the largest fdatasync block.
    const noNote = compareRun(
      run([
        m({ peer: 'tributary', kind: 'produce', workload: 'produce/x', durability: 'durable', metric: 'MB/s', unit: 'MB/s', better: 'higher', values: [500] }),
      ]),
    );
    assert.equal(noNote[0].limitBlockSize, 1048576);
    assert.equal(noNote[0].ratioToLimit, 500 / 905);
  });

  it('judges startup ≤ 0.1× Kafka: 0.05 passes, 0.2 fails', () => {
    const ok = compareRun(run([m({ peer: 'tributary', values: [50] }), m({ peer: 'kafka', values: [1000] })]));
    assert.equal(ok[0].ratioToKafka, 0.05);
    assert.equal(ok[0].pass, true);
    const bad = compareRun(run([m({ peer: 'tributary', values: [200] }), m({ peer: 'kafka', values: [1000] })]));
    assert.equal(bad[0].ratioToKafka, 0.2);
    assert.equal(bad[0].pass, false);
    assert.deepEqual(bad[0].targets, [{ op: '<=', value: 0.1, of: 'kafka', ratio: 0.2, pass: false }]);
  });

  it('applies the issue targets to the right rows only', () => {
    const target = (w: string, d: string, metric: string) => find(rows, w, d, metric).targets.map((t) => `${t.op}${t.value}${t.of}`);
    assert.deepEqual(target('memory/idle-rss', 'n/a', 'MiB'), ['<=0.2kafka']);
    assert.equal(find(rows, 'memory/idle-rss', 'n/a', 'MiB').pass, true); // 71.5/406
    assert.deepEqual(target('memory/rss-under-load', 'n/a', 'MiB'), []);
    assert.deepEqual(target('cpu/produce/1KiB/p16/acks=all', 'durable', 'CPU-s/GB'), ['<=1kafka']);
    assert.equal(find(rows, 'cpu/produce/1KiB/p16/acks=all', 'durable', 'CPU-s/GB').pass, false);
    assert.deepEqual(target('latency/1KiB/p1/acks=1/half-peak', 'durable', 'p99 ms'), ['<=1kafka']);
    assert.deepEqual(target('latency/1KiB/p1/acks=1/half-peak', 'durable', 'p50 ms'), []);
    assert.deepEqual(target('latency/1KiB/p1/acks=1/rate=5000', 'durable', 'p99 ms'), []);
    assert.equal(find(rows, 'latency/1KiB/p1/acks=1/half-peak', 'pagecache', 'p99 ms').pass, false); // 3.6/3.0
    assert.deepEqual(target('consume/1KiB/p16', 'n/a', 'records/s'), ['>=1kafka']);
    // p50 has no verdict but still a ratio.
    assert.equal(find(rows, 'latency/1KiB/p1/acks=1/half-peak', 'durable', 'p50 ms').ratioToKafka, 2.6 / 3.1);
  });

  it('merges secondary peers measured with their own tool into the matching row', () => {
    const c = find(rows, 'consume/1KiB/p16', 'n/a', 'MB/s');
    assert.equal(c.values.redis, 310);
    assert.equal(c.peerClients.redis, 'redis XREAD (FIXTURE)');
    assert.equal(rows.filter((r) => r.workload === 'consume/1KiB/p16' && r.metric === 'MB/s').length, 1);
  });

  it('keeps the rows of two clients of one workload apart, each with its own batch size and limit', () => {
    const same = rows.filter((r) => r.workload === 'produce/100B/p16/acks=all' && r.durability === 'durable');
    assert.deepEqual(
      same.map((r) => `${r.clientShort} ${r.metric}`),
      ['java MB/s', 'java records/s', 'rdkafka MB/s', 'rdkafka records/s'],
    );
    const rdk = find(rows, 'produce/100B/p16/acks=all', 'durable', 'MB/s', 'rdkafka');
    assert.equal(rdk.client, 'rdkperf (librdkafka 2.6.1) (FIXTURE)');
    assert.equal(rdk.ratioToKafka, 88 / 71);
    assert.equal(rdk.limitBlockSize, 1048576);
    assert.equal(rdk.targets.find((t) => t.of === 'limit')?.pass, false);
  });

  it('gives clients short names: java, rdkafka, else the first word in 8 characters', () => {
    assert.equal(shortClient('kafka-tools 4.3.1 perf'), 'java');
    assert.equal(shortClient('kafka-producer-perf 4.3.1'), 'java');
    assert.equal(shortClient('rdkperf (librdkafka 2.0.2)'), 'rdkafka');
    assert.equal(shortClient('Metadata probe'), 'Metadata');
    assert.equal(shortClient('redis-benchmark 7.4'), 'redis-be');
    assert.deepEqual(
      clientLegend(rows).map((e) => e.short),
      ['java', 'rdkafka', 'e2e-late', 'tcp-read', 'ps'],
    );
    assert.deepEqual(clientLegend(rows)[0].clients, ['kafka-producer-perf 4.3.1 (FIXTURE)', 'kafka-consumer-perf 4.3.1 (FIXTURE)']);
    // Two clients with one short name that measure the same figure are numbered.
    const twin = compareRun(run([m({ peer: 'tributary', values: [1], client: 'tool a' }), m({ peer: 'tributary', values: [2], client: 'tool b' })]));
    assert.deepEqual(twin.map((r) => r.clientShort), ['tool', 'tool2']);
  });

  it('sorts by kind (produce, consume, latency, startup, memory, cpu), then workload', () => {
    const kinds = rows.map((r) => r.kind).filter((k, i, a) => a.indexOf(k) === i);
    assert.deepEqual(kinds, ['produce', 'consume', 'latency', 'startup', 'memory', 'cpu']);
    for (let i = 1; i < rows.length; i++) {
      if (rows[i].kind !== rows[i - 1].kind) continue;
      assert.ok(rows[i - 1].workload.localeCompare(rows[i].workload, 'en', { numeric: true }) <= 0, `${rows[i - 1].workload} before ${rows[i].workload}`);
    }
  });

  it('summarizes targets met and missed', () => {
    const s = summarizeTargets(rows);
    const all = rows.flatMap((r) => r.targets);
    assert.equal(s.passed + s.failed + s.unjudged, all.length);
    assert.equal(s.passed, all.filter((t) => t.pass === true).length);
    assert.equal(s.unjudged, 0);
    assert.ok(s.failed > 0);
    assert.ok(s.failedRows.every((r) => r.pass === false));
    assert.ok(s.failedRows.some((r) => r.workload === 'cpu/produce/1KiB/p16/acks=all'));
    // A Tributary figure without Kafka's is not judged, and not counted as met.
    const lone = summarizeTargets(compareRun(run([m({ peer: 'tributary', values: [50] })])));
    assert.deepEqual({ passed: lone.passed, failed: lone.failed, unjudged: lone.unjudged }, { passed: 0, failed: 0, unjudged: 1 });
  });
});

describe('renderTable', () => {
  const table = renderTable(fixtureRun);
  const s = summarizeTargets(compareRun(fixtureRun));

  it('lists every workload, the limits, the summary and the skipped', () => {
    // Four peers' columns leave less room: a long id may lose its kind prefix (the section heading).
    for (const x of fixtureRun.measurements) assert.ok(table.includes(x.workload) || table.includes('…' + x.workload.slice(x.kind.length)), x.workload);
    assert.ok(renderTable({ ...fixtureRun, measurements: fixtureRun.measurements.filter((x) => x.peer === 'tributary' || x.peer === 'kafka') }).includes('latency/1KiB/p1/acks=1/half-peak'));
    assert.ok(table.includes(`targets met: ${s.passed} of ${s.passed + s.failed}`));
    assert.ok(table.includes('loopback 3,800 MB/s'));
    assert.ok(table.includes('64K 350'));
    assert.ok(table.includes('1,181,640'), 'thousands separators');
    for (const sk of fixtureRun.skipped) assert.ok(table.includes(sk));
    assert.ok(!table.includes('\x1b['), 'no colour unless asked');
    assert.ok(renderTable(fixtureRun, { color: true }).includes('\x1b[32m✓'));
  });

  it('fits a 130-column terminal', () => {
    const header = table.split('\n').find((l) => l.startsWith('kind/workload'));
    assert.ok(header && header.length <= 130, `${header?.length}`);
    const rowLines = table.split('\n').filter((l) => /^(produce|consume|latency|startup|memory|cpu|…)\/|^ {2}″/.test(l));
    assert.ok(rowLines.length > 30, `${rowLines.length}`);
    for (const l of table.split('\n')) if (!l.startsWith('skipped') && !l.startsWith('  - ')) assert.ok([...l].length <= 130, l);
  });

  it('has a client column and a legend of the short names; a repeated workload shows ″', () => {
    const lines = table.split('\n');
    const header = lines.find((l) => l.startsWith('kind/workload')) as string;
    assert.match(header, /^kind\/workload +durabil\. +client +metric /);
    const legend = lines.slice(lines.findIndex((l) => l.startsWith('clients: ')), lines.indexOf(header)).join(' ');
    assert.ok(legend.includes('java = kafka-producer-perf 4.3.1 (FIXTURE), kafka-consumer-perf 4.3.1 (FIXTURE)'), legend);
    assert.ok(legend.includes('rdkafka = rdkperf (librdkafka 2.6.1) (FIXTURE)'), legend);
    const i = lines.findIndex((l) => l.startsWith('produce/100B/p16/acks=all '));
    assert.match(lines[i], /^produce\/100B\/p16\/acks=all +durable +java +MB\/s +31\.5 +38\.2 /);
    assert.match(lines[i + 1], /^ {2}″ +durable +java +records\/s /);
    assert.match(lines[i + 2], /^ {2}″ +durable +rdkafka +MB\/s +88 +71 /);
    assert.match(lines[i + 3], /^ {2}″ +durable +rdkafka +records\/s /);
    assert.match(lines[i + 4], /^ {2}″ +pagecache +java +MB\/s /);
    // A new kind starts over: its first workload is written even if the last one had the same id.
    const c = lines.findIndex((l) => l === 'cpu');
    assert.ok(!lines[c + 1].startsWith('  ″'));
  });

  it('names the client in each missed target', () => {
    assert.ok(table.includes('✗ produce/100B/p16/acks=all [durable, rdkafka] MB/s: 0.10× limit (≥ 0.5): 88 vs fsync 1M 905 MB/s'), table);
    assert.ok(table.includes('✗ produce/100B/p16/acks=all [durable, java] MB/s: 0.82× kafka (≥ 1)'));
  });

  it('formats numbers with three significant digits or thousands separators', () => {
    assert.equal(formatNumber(97.3), '97.3');
    assert.equal(formatNumber(0.8123), '0.812');
    assert.equal(formatNumber(1234567.4), '1,234,567');
    assert.equal(formatNumber(undefined), '—');
  });
});

describe('renderSvg', () => {
  const svg = renderSvg(fixtureRun);

  it('is a well-formed, self-contained SVG', () => {
    assert.ok(svg.startsWith('<svg'));
    assert.ok(svg.trimEnd().endsWith('</svg>'));
    assert.equal((svg.match(/<g[\s>]/g) ?? []).length, (svg.match(/<\/g>/g) ?? []).length);
    assert.equal((svg.match(/<text[\s>]/g) ?? []).length, (svg.match(/<\/text>/g) ?? []).length);
    assert.ok(!/<script|href=|@import|url\(/i.test(svg));
    assert.ok(svg.includes('font-family="sans-serif"'));
    // Every element's text is escaped: no raw '<' or '&' between tags.
    for (const chunk of svg.split(/<[^>]*>/)) {
      assert.ok(!chunk.includes('<'), chunk);
      assert.ok(!/&(?!amp;|lt;|gt;|quot;|#39;)/.test(chunk), chunk);
    }
  });

  it('names each peer, the mode and machine, and escapes workload ids', () => {
    for (const p of ['tributary', 'kafka', 'redis', 'nats']) assert.ok(svg.includes(p), p);
    assert.ok(svg.includes('quick run'));
    assert.ok(svg.includes('2 CPUs'));
    assert.ok(svg.includes('produce/1KiB/p1/acks=all/k&lt;16&amp;&quot;x&quot;'));
    assert.ok(!svg.includes('k<16'));
    assert.ok(svg.includes('2.00× kafka'));
  });

  it('tells two clients of one workload apart and names the clients', () => {
    assert.match(svg, /produce\/100B\/p16\/acks=all · durable · java +\(limit fsync 4K/);
    assert.match(svg, /produce\/100B\/p16\/acks=all · durable · rdkafka +\(limit fsync 1M/);
    assert.match(svg, /produce\/1KiB\/p16\/acks=all · durable · java +\(/, 'every group of a mixed panel says its client');
    assert.ok(svg.includes('clients: java = kafka-producer-perf'));
    assert.ok(svg.includes('rdkafka = rdkperf (librdkafka 2.6.1) (FIXTURE)'));
    // Latency has one client here: the panel heading says which, and that its axis is logarithmic.
    assert.ok(svg.includes('ms · log scale · client e2e-late'));
    assert.ok(!svg.includes('half-peak · durable · e2e-late'));
  });
});

describe('an empty run', () => {
  it('renders a table and a chart without rows', () => {
    const empty: BenchRun = { ...fixtureRun, measurements: [], limits: [], skipped: ['everything (test)'] };
    assert.ok(renderTable(empty).includes('targets met: 0 of 0'));
    assert.ok(renderTable(empty).includes('limits:  none measured'));
    const svg = renderSvg(empty);
    assert.ok(svg.startsWith('<svg') && svg.includes('everything (test)'));
  });
});
