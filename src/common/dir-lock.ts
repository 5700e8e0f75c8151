/**
 * An exclusive lock on a data directory, so two brokers never write the same logs (Kafka
 * keeps a `.lock` file for the same reason). The lock file holds the owner's pid; a lock left
 * by a process that no longer exists (kill -9) is taken over.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export class DirLockedError extends Error {
  constructor(dir: string, pid: number) {
    super(`data directory ${dir} is in use by another broker (pid ${pid})`);
    this.name = 'DirLockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock; returns a function that releases it. */
export async function lockDir(dir: string): Promise<() => Promise<void>> {
  const file = path.join(dir, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await fs.open(file, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => fs.rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await fs.readFile(file, 'utf8').catch(() => '')).trim());
      if (owner === process.pid || (Number.isInteger(owner) && owner > 0 && alive(owner))) {
        throw new DirLockedError(dir, owner);
      }
      await fs.rm(file, { force: true }); // stale: its owner is gone
    }
  }
  throw new Error(`could not lock ${dir}`);
}
