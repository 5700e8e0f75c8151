/**
 * The durable list of topics: name, topic id (Kafka UUID string), partition count and config
 * overrides. Held in memory and written as one JSON document with write-temp, fsync, rename,
 * fsync-directory (DESIGN.md §4), so a crash leaves either the old or the new list.
 *
 * Also keeps the cluster identity (cluster id, node id) in `meta.properties`, as Kafka does.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../storage/atomic-file.ts';
import { randomUuid } from '../protocol/primitives/index.ts';

export interface TopicRecord {
  name: string;
  id: string;
  partitions: number;
  /** Config overrides set on the topic (DYNAMIC_TOPIC_CONFIG); defaults are not stored. */
  configs: Record<string, string>;
  createdAtMs: number;
}

interface TopicsFile {
  version: 1;
  topics: TopicRecord[];
}

/** Folder name inside the data dir; it cannot be mistaken for a `<topic>-<partition>` dir. */
export const META_DIR = '_meta';

export class TopicStore {
  readonly dir: string;
  readonly clusterId: string;
  #byName = new Map<string, TopicRecord>();
  #byId = new Map<string, TopicRecord>();
  /** Serialises writes so the file always reflects a prefix of the changes. */
  #writing: Promise<void> = Promise.resolve();

  private constructor(dir: string, clusterId: string, topics: TopicRecord[]) {
    this.dir = dir;
    this.clusterId = clusterId;
    for (const t of topics) this.#index(t);
  }

  static async open(dataDir: string, nodeId: number): Promise<TopicStore> {
    const dir = path.join(dataDir, META_DIR);
    await fs.mkdir(dir, { recursive: true });
    const clusterId = await loadOrCreateClusterId(dataDir, nodeId);
    let topics: TopicRecord[] = [];
    try {
      const raw = await fs.readFile(path.join(dir, 'topics.json'), 'utf8');
      const parsed = JSON.parse(raw) as TopicsFile;
      if (parsed.version !== 1 || !Array.isArray(parsed.topics)) {
        throw new Error(`unsupported topics.json version ${String(parsed.version)}`);
      }
      topics = parsed.topics;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(`cannot read topic metadata in ${dir}: ${(err as Error).message}`);
      }
    }
    return new TopicStore(dir, clusterId, topics);
  }

  list(): TopicRecord[] {
    return [...this.#byName.values()];
  }

  get(name: string): TopicRecord | undefined {
    return this.#byName.get(name);
  }

  getById(id: string): TopicRecord | undefined {
    return this.#byId.get(id);
  }

  async create(topic: Omit<TopicRecord, 'id'> & { id?: string }): Promise<TopicRecord> {
    if (this.#byName.has(topic.name)) throw new Error(`topic ${topic.name} exists`);
    let id = topic.id ?? randomUuid();
    while (this.#byId.has(id)) id = randomUuid();
    const record: TopicRecord = { ...topic, id };
    this.#index(record);
    await this.#persist();
    return record;
  }

  async update(name: string, change: Partial<Pick<TopicRecord, 'partitions' | 'configs'>>): Promise<TopicRecord> {
    const current = this.#byName.get(name);
    if (!current) throw new Error(`unknown topic ${name}`);
    const next = { ...current, ...change };
    this.#index(next);
    await this.#persist();
    return next;
  }

  /**
   * Replaces a topic's config overrides (AlterConfigs); visible at once, durable when the
   * promise resolves. The write is the whole topic list, atomically, like every other change.
   */
  async updateConfigs(name: string, configs: Record<string, string>): Promise<TopicRecord> {
    return this.update(name, { configs: { ...configs } });
  }

  async delete(name: string): Promise<void> {
    const current = this.#byName.get(name);
    if (!current) return;
    this.#byName.delete(name);
    this.#byId.delete(current.id);
    await this.#persist();
  }

  #index(t: TopicRecord): void {
    this.#byName.set(t.name, t);
    this.#byId.set(t.id, t);
  }

  #persist(): Promise<void> {
    const snapshot: TopicsFile = { version: 1, topics: this.list() };
    const data = JSON.stringify(snapshot, null, 1);
    const file = path.join(this.dir, 'topics.json');
    this.#writing = this.#writing.catch(() => {}).then(() => writeFileAtomic(file, data));
    return this.#writing;
  }
}

/** Reads `meta.properties` (Kafka's format) or creates it with a new cluster id. */
async function loadOrCreateClusterId(dataDir: string, nodeId: number): Promise<string> {
  const file = path.join(dataDir, 'meta.properties');
  try {
    const text = await fs.readFile(file, 'utf8');
    const props = new Map(
      text
        .split('\n')
        .filter((l) => l.includes('=') && !l.startsWith('#'))
        .map((l) => [l.slice(0, l.indexOf('=')).trim(), l.slice(l.indexOf('=') + 1).trim()] as const),
    );
    const clusterId = props.get('cluster.id');
    if (!clusterId) throw new Error(`${file} has no cluster.id`);
    const storedNode = props.get('node.id');
    if (storedNode !== undefined && Number(storedNode) !== nodeId) {
      throw new Error(`${file} belongs to node ${storedNode}, not node ${nodeId}`);
    }
    return clusterId;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const clusterId = randomUuid();
  await writeFileAtomic(file, `#Tributary\nversion=1\ncluster.id=${clusterId}\nnode.id=${nodeId}\n`);
  return clusterId;
}
