/**
 * The durable dynamic broker configs (AlterConfigs on a broker resource): the cluster-wide
 * defaults (resource name "") and this broker's own (resource name = node id). One JSON file,
 * `_meta/broker-configs.json`, written atomically (temp → fsync → rename → fsync dir), so a
 * crash leaves the old or the new set, never a mix. Writes are serialised in call order.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../storage/atomic-file.ts';
import { META_DIR } from './topic-store.ts';

export type DynamicScope = 'clusterDefault' | 'perBroker';

interface DynamicConfigsFile {
  version: 1;
  clusterDefault: Record<string, string>;
  perBroker: Record<string, string>;
}

export const DYNAMIC_CONFIGS_FILE = 'broker-configs.json';

export class DynamicConfigStore {
  readonly #file: string;
  #data: DynamicConfigsFile;
  #writing: Promise<void> = Promise.resolve();

  private constructor(file: string, data: DynamicConfigsFile) {
    this.#file = file;
    this.#data = data;
  }

  static async open(dataDir: string): Promise<DynamicConfigStore> {
    const dir = path.join(dataDir, META_DIR);
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, DYNAMIC_CONFIGS_FILE);
    let data: DynamicConfigsFile = { version: 1, clusterDefault: {}, perBroker: {} };
    try {
      const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as DynamicConfigsFile;
      if (parsed.version !== 1 || typeof parsed.clusterDefault !== 'object' || typeof parsed.perBroker !== 'object') {
        throw new Error(`unsupported ${DYNAMIC_CONFIGS_FILE} version ${String(parsed.version)}`);
      }
      data = parsed;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(`cannot read dynamic broker configs in ${file}: ${(err as Error).message}`);
      }
    }
    return new DynamicConfigStore(file, data);
  }

  get(scope: DynamicScope): Readonly<Record<string, string>> {
    return this.#data[scope];
  }

  /** Replaces one scope's configs (in memory at once, on disk when the promise resolves). */
  set(scope: DynamicScope, configs: Record<string, string>): Promise<void> {
    this.#data = { ...this.#data, [scope]: { ...configs } };
    const text = JSON.stringify(this.#data, null, 1);
    this.#writing = this.#writing.catch(() => {}).then(() => writeFileAtomic(this.#file, text));
    return this.#writing;
  }
}
