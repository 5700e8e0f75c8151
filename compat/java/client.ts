/**
 * TypeScript side of the JVM and Go client harnesses (compat/java, compat/go): both are CLIs
 * `<harness> BOOTSTRAP SCENARIO TOPIC [option=value ...]` with the same stdin record format and
 * the same JSON-lines output, so one wrapper (`CliClient`) drives either; `javaClient(version)`
 * and `franzGoClient()` (compat/go/client.ts) build the harness if needed (cached) and return one.
 */
import { join } from 'node:path';
import { REPO_ROOT } from '../broker.ts';
import { run, type Rec } from '../harness.ts';
import { JsonLinesProcess, type Line } from '../json-lines-process.ts';

export type { Line } from '../json-lines-process.ts';

export interface ProduceResult {
  /** one per input record, in input order: {i, p, o, ts} or {i, error, code, message} */
  deliveries: Line[];
  done: Line;
}

export interface ConsumeResult {
  /** records sorted by (partition, offset) */
  recs: Rec[];
  /** lines that are not records (offsets_for_times, start_offsets, fetch errors) */
  info: Line[];
  done: Line;
}

export interface DescribedGroup {
  state?: string;
  assignor?: string;
  members?: Array<{ client_id: string; parts: number[] }>;
  offsets?: Record<string, number>;
  describe_error: Line | null;
  offsets_error?: Line | null;
}

const b64 = (b: Buffer | null | undefined): string => (b === null || b === undefined ? '-' : b.toString('base64'));
const unb64 = (s: string | null): Buffer | null => (s === null ? null : Buffer.from(s, 'base64'));

/** The harnesses' stdin format: `PARTITION TIMESTAMP KEY VALUE [HNAME:HVALUE ...]`, '-' = unset/null. */
export function encodeRecords(recs: Rec[]): string {
  return recs.map((r) => [
    r.partition ?? '-', r.timestamp ?? '-', b64(r.key), b64(r.value),
    ...r.headers.map(([n, v]) => `${b64(Buffer.from(n))}:${b64(v)}`),
  ].join(' ')).join('\n') + '\n';
}

export class CliClient {
  readonly name: string;
  readonly #cmd: string;
  readonly #prefix: string[];

  constructor(name: string, cmd: string, prefix: string[]) {
    this.name = name;
    this.#cmd = cmd;
    this.#prefix = prefix;
  }

  /** Run one scenario; the harness's own watchdog is `timeoutSec`, ours a bit longer. */
  async run(bootstrap: string, scenario: string, topic: string, options: Record<string, string | number> = {},
    input = '', timeoutSec = 60): Promise<{ lines: Line[]; done: Line; stderr: string }> {
    const args = [...this.#prefix, bootstrap, scenario, topic,
      ...Object.entries({ timeout: timeoutSec, ...options }).map(([k, v]) => `${k}=${v}`)];
    const r = await run(this.#cmd, args, { input, timeoutMs: (timeoutSec + 20) * 1000 });
    const text = r.stdout.toString('utf8');
    const lines = text.split('\n').filter((l) => l.trim() !== '').map((l) => {
      try {
        return JSON.parse(l) as Line;
      } catch {
        throw new Error(`${this.name} ${scenario}: not JSON: ${l.slice(0, 300)}\n--- stderr:\n${r.stderr.slice(-3000)}`);
      }
    });
    const done = lines.pop();
    if (r.timedOut || !done || !('done' in done) || done.done !== true || r.code !== 0) {
      const how = r.timedOut ? `killed after ${r.ms} ms` : `exited ${r.code ?? r.signal}`;
      throw new Error(`${this.name} ${scenario} ${topic} ${how}; last line: ${JSON.stringify(done)}\n`
        + `--- stderr:\n${r.stderr.slice(-3000)}\n--- stdout:\n${text.slice(-1500)}`);
    }
    return { lines, done, stderr: r.stderr };
  }

  admin(bootstrap: string, topic: string): Promise<{ lines: Line[]; done: Line }> {
    return this.run(bootstrap, 'admin', topic);
  }

  async create(bootstrap: string, topic: string, partitions = 3): Promise<void> {
    await this.run(bootstrap, 'create', topic, { partitions });
  }

  async produce(bootstrap: string, topic: string, recs: Rec[], options: Record<string, string | number> = {},
    timeoutSec = 60): Promise<ProduceResult> {
    const { lines, done } = await this.run(bootstrap, 'produce', topic, options, encodeRecords(recs), timeoutSec);
    return { deliveries: lines, done };
  }

  async consume(bootstrap: string, topic: string, from: 'earliest' | { timestamp: number } = 'earliest',
    options: Record<string, string | number> = {}, timeoutSec = 60): Promise<ConsumeResult> {
    const f = from === 'earliest' ? 'earliest' : `ts:${from.timestamp}`;
    const { lines, done } = await this.run(bootstrap, 'consume', topic, { from: f, ...options }, '', timeoutSec);
    const recs: Rec[] = [];
    const info: Line[] = [];
    for (const l of lines) {
      if (typeof l.o !== 'number' || l.error) {
        info.push(l);
        continue;
      }
      recs.push({
        partition: l.p, offset: l.o, timestamp: l.ts, tsType: l.tst, key: unb64(l.k), value: unb64(l.v),
        headers: (l.h as Array<[string, string | null]>).map(([n, v]) => [n, unb64(v)] as [string, Buffer | null]),
      });
    }
    return { recs, info, done };
  }

  /** Start one consumer group member (scenario `group`, see GroupMember); `timeoutSec` is its
   *  watchdog. Options: group, name, assignor, idle, instance, and client configs. */
  groupMember(bootstrap: string, topic: string, options: Record<string, string | number>, timeoutSec = 120): GroupMember {
    const args = [...this.#prefix, bootstrap, 'group', topic,
      ...Object.entries({ timeout: timeoutSec, ...options }).map(([k, v]) => `${k}=${v}`)];
    return new GroupMember(String(options.name ?? this.name), this.#cmd, args);
  }

  /** describeConsumerGroups + listConsumerGroupOffsets (scenario `describe-group`). */
  async describeGroup(bootstrap: string, topic: string, group: string): Promise<DescribedGroup> {
    const { lines } = await this.run(bootstrap, 'describe-group', topic, { group });
    return lines[0] as DescribedGroup;
  }

  /** Per timestamp and partition: {ts, p, start, end, o (first offset with timestamp >= ts;
   *  -1 or the end offset if none, by client), ots (its timestamp)}. */
  async offsets(bootstrap: string, topic: string, timestamps: number[]): Promise<Line[]> {
    return (await this.run(bootstrap, 'offsets', topic, { ts: timestamps.join(',') })).lines;
  }
}

/** The Java harness for one kafka-clients version, built (cached) by compat/java/build.sh. */
export async function javaClient(version: string): Promise<CliClient> {
  const build = join(REPO_ROOT, 'compat/java/build.sh');
  const r = await run('bash', [build, '--print-cp', version], { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`compat/java/build.sh ${version} failed:\n${r.stderr}`);
  const cp = r.stdout.toString('utf8').trim();
  // -XX:TieredStopAtLevel=1 + SerialGC: a short-lived CLI starts faster and needs less CPU
  return new CliClient(`java kafka-clients ${version}`, 'java',
    ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-cp', cp, 'dev.tributary.compat.Harness']);
}

/** Versions under test: COMPAT_JAVA_CLIENTS (comma separated), default 4.4.0 and 3.9.2. */
export const JAVA_CLIENT_VERSIONS = (process.env.COMPAT_JAVA_CLIENTS ?? '4.4.0,3.9.2')
  .split(',').map((s) => s.trim()).filter(Boolean);

/** A record a group member processed (value as UTF-8 text). */
export interface GroupRecord { p: number; o: number; v: string }

/**
 * One consumer group member running in its own process (the harnesses' `group` scenario), its
 * JSON-lines output parsed live: `owned` is what it owns now (after each assigned / revoked /
 * lost callback), `records` what it processed, `events` everything else.
 */
export class GroupMember extends JsonLinesProcess {
  owned: number[] = [];
  readonly records: GroupRecord[] = [];
  readonly events: Line[] = [];

  protected onLine(ev: Line): void {
    if (ev.ev === 'rec') this.records.push({ p: ev.p, o: ev.o, v: ev.v === null ? '' : Buffer.from(ev.v, 'base64').toString('utf8') });
    else if (!('done' in ev)) this.events.push(ev);
    if (ev.ev === 'assigned' || ev.ev === 'revoked' || ev.ev === 'lost') this.owned = ev.all;
  }

  /** Wait for the process to end (by itself: idle, watchdog), SIGKILL after `ms`. */
  override async exit(ms = 30_000): Promise<void> {
    await super.exit(ms);
  }

  /** SIGTERM: the member closes its consumer (LeaveGroup) and exits; SIGKILL after `ms`. */
  async stop(ms = 20_000): Promise<void> {
    if (!this.exited) this.proc.kill('SIGTERM');
    await this.exit(ms);
  }

  /** Commit failures, poll errors and close errors it reported. */
  errors(): Line[] {
    return this.events.filter((e) => /error/.test(String(e.ev)));
  }

  describe(): string {
    return `${this.name}: owned ${JSON.stringify(this.owned)}, ${this.records.length} records, exited ${this.exited}`
      + `${this.done ? ` ${JSON.stringify(this.done)}` : ''}; errors ${JSON.stringify(this.errors()).slice(0, 500)}; stderr: ${this.stderr.slice(-800)}`;
  }
}
