// Dev tool: `npx node bench/lib/try-secondary.ts [workDir]` runs measureLimits (1 s, 1 repeat, 16 KiB and 1 MiB) and the Redis and NATS peers with small counts, printing the JSON.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { measureLimits } from './limits.ts';
import { benchRedis } from './peers/redis.ts';
import { benchNats } from './peers/nats.ts';

const workDir = process.argv[2] ?? join(tmpdir(), `tributary-try-secondary-${process.pid}`);
mkdirSync(workDir, { recursive: true });
const log = (s: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
const started = performance.now();
try {
  const skipped: string[] = [];
  const limits = await measureLimits({ dir: workDir, blockSizes: [16384, 1048576], seconds: 1, repeats: 1, log, skipped });
  const common = { workDir, records: 20000, sizes: [100, 1024], repeats: 1, log };
  const redis = [
    await benchRedis({ ...common, durability: 'durable', includeNA: true }),
    await benchRedis({ ...common, durability: 'pagecache', includeNA: false }),
  ];
  const nats = [
    await benchNats({ ...common, durability: 'durable', includeNA: false }),
    await benchNats({ ...common, durability: 'pagecache', includeNA: true }),
  ];
  console.log(JSON.stringify({ limits, limitsSkipped: skipped, redis, nats, seconds: (performance.now() - started) / 1000 }, null, 2));
} finally {
  if (process.argv[2] === undefined) rmSync(workDir, { recursive: true, force: true });
}
