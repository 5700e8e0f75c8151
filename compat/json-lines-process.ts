/**
 * A harness process whose stdout is JSON lines, parsed live (the long-running scenarios: a Java
 * group member in java/client.ts, a transactional pipeline in java/txn-scenarios.ts, a python
 * group member in tests/groups.test.ts). Subclasses decide what each line means (`onLine`); this class spawns the
 * process, splits and parses its output (a line that is not JSON becomes {ev: 'garbage'}), keeps
 * its stderr (the last ~2-4 MB) and its exit, and kills it.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export type Line = Record<string, any>;

export abstract class JsonLinesProcess {
  readonly name: string;
  readonly proc: ChildProcess;
  /** The last line with a `done` field: the harness's result. */
  done: Line | undefined;
  exited = false;
  exitCode: number | null = null;
  stderr = '';
  readonly #exit: Promise<void>;
  #waiters: Array<() => void> = [];

  /** `input`, if given, is written to the process's stdin (then closed). */
  constructor(name: string, cmd: string, args: string[], input?: string) {
    this.name = name;
    this.proc = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (input !== undefined) {
      this.proc.stdin!.on('error', () => {});
      this.proc.stdin!.end(input);
    }
    let pending = '';
    this.proc.stdout!.on('data', (b: Buffer) => {
      pending += b.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) {
        if (!l.trim()) continue;
        let ev: Line;
        try {
          ev = JSON.parse(l) as Line;
        } catch {
          ev = { ev: 'garbage', line: l.slice(0, 300) };
        }
        if ('done' in ev) this.done = ev;
        this.onLine(ev);
      }
      this.#wake();
    });
    this.proc.stderr!.on('data', (b: Buffer) => {
      this.stderr += b.toString('utf8');
      if (this.stderr.length > 4_000_000) this.stderr = this.stderr.slice(-2_000_000);
    });
    this.#exit = new Promise((resolve) => this.proc.on('exit', (code) => {
      this.exited = true;
      this.exitCode = code;
      this.#wake();
      resolve();
    }));
  }

  /** One parsed line of output (the `done` line too, after `done` is set). */
  protected abstract onLine(ev: Line): void;

  /** Resolves after the next batch of output or the exit (for polling a condition). */
  protected changed(): Promise<void> {
    return new Promise<void>((r) => this.#waiters.push(r));
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** SIGKILL: a crash. */
  kill(): void {
    if (!this.exited) this.proc.kill('SIGKILL');
  }

  /** Waits for the process to end by itself, SIGKILLs it after `ms`. */
  async exit(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#exit, new Promise((r) => { timer = setTimeout(r, ms); })]);
    clearTimeout(timer);
    this.kill();
    await this.#exit;
  }
}
