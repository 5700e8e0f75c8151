/**
 * Crash-safe small-file replacement (DESIGN.md §4): write a temp file, fsync it, rename it
 * over the target, fsync the directory. After a crash the target holds either the old or
 * the new content, never a mix. Used for checkpoints, index files of closed segments and
 * broker metadata.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** Makes a directory's entries (created, renamed, removed files) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    // Some filesystems refuse fsync on a directory handle; there is nothing more to do there.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EBADF') throw err;
  } finally {
    await handle.close();
  }
}

/** The temp name used next to `file`; `cleanTempFiles` recognises it. */
export function tempNameFor(file: string): string {
  return `${file}.${randomBytes(4).toString('hex')}.tmp`;
}

/** Writes the temp file and fsyncs it, without renaming (see writeFilesAtomic). */
async function writeTemp(target: string, data: Buffer | string): Promise<string> {
  const tmp = tempNameFor(target);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.datasync();
  } catch (err) {
    await handle.close().catch(() => {});
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
  await handle.close();
  return tmp;
}

/** write temp → fsync → rename → fsync dir. */
export async function writeFileAtomic(file: string, data: Buffer | string): Promise<void> {
  await writeFilesAtomic([{ path: file, data }]);
}

/**
 * Replaces several files in the same directory with one directory fsync. Each file is
 * individually atomic (old or new content); the set is not atomic as a whole.
 */
export async function writeFilesAtomic(files: { path: string; data: Buffer | string }[]): Promise<void> {
  if (files.length === 0) return;
  const temps: string[] = [];
  try {
    for (const f of files) temps.push(await writeTemp(f.path, f.data));
    for (let i = 0; i < files.length; i++) await fs.rename(temps[i]!, files[i]!.path);
  } catch (err) {
    await Promise.all(temps.map((t) => fs.rm(t, { force: true }).catch(() => {})));
    throw err;
  }
  const dirs = new Set(files.map((f) => path.dirname(f.path)));
  for (const dir of dirs) await fsyncDir(dir);
}
