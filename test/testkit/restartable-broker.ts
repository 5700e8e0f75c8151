/**
 * A broker the tests can kill (SIGKILL) or stop (SIGTERM) and start again on its data at the
 * same address: the Tributary CLI as a child process, or — to validate a scenario — Apache Kafka
 * from compat/kafka (`start-kafka.sh --keep-data`).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, makeTempDir, removeDir, REPO_ROOT, spawnBrokerProcess, waitFor, type BrokerProcess } from './broker.ts';

const execFileP = promisify(execFile);

export interface RestartableBroker {
  bootstrap: string;
  restart(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  close(): Promise<void>;
}

/** The Tributary CLI on a free port with `extraArgs`; its data dir is removed on close (unless TRIBUTARY_KEEP_DATA=1). */
export async function restartableTributary(opts: { dirPrefix: string; extraArgs?: string[] }): Promise<RestartableBroker> {
  const dataDir = await makeTempDir(opts.dirPrefix);
  const port = await freePort();
  const start = () => spawnBrokerProcess({ dataDir, port, extraArgs: opts.extraArgs });
  let proc: BrokerProcess = await start().catch(async (e: Error) => {
    await removeDir(dataDir);
    throw e;
  });
  return {
    bootstrap: proc.bootstrap,
    async restart(signal) {
      proc.kill(signal);
      await proc.waitForExit(20_000);
      proc = await start();
    },
    async close() {
      proc.kill('SIGTERM');
      await proc.waitForExit(20_000).catch(() => proc.kill('SIGKILL'));
      if (process.env.TRIBUTARY_KEEP_DATA !== '1') await removeDir(dataDir);
    },
  };
}

/** Apache Kafka already started with compat/kafka/start-kafka.sh on `port`; restarts pass `configs` as --config. */
export function restartableKafka(port: number, configs: string[] = []): RestartableBroker {
  const script = (name: string) => join(REPO_ROOT, 'compat/kafka', name);
  return {
    bootstrap: `127.0.0.1:${port}`,
    async restart(signal) {
      if (signal === 'SIGKILL') {
        const pid = Number(readFileSync(join(REPO_ROOT, `compat/kafka/target/run-${port}/kafka.pid`), 'utf8').trim());
        process.kill(pid, 'SIGKILL');
        await waitFor(() => { try { process.kill(pid, 0); return false; } catch { return true; } }, { timeoutMs: 10_000 });
      } else {
        await execFileP('bash', [script('stop-kafka.sh'), '--port', String(port)]);
      }
      const args = [script('start-kafka.sh'), '--port', String(port), '--keep-data', ...configs.flatMap((c) => ['--config', c])];
      await execFileP('bash', args, { timeout: 120_000 });
    },
    async close() {},
  };
}
