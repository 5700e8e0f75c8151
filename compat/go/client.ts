/** The franz-go harness (compat/go), built (cached) by compat/go/build.sh; see compat/java/client.ts. */
import { join } from 'node:path';
import { REPO_ROOT } from '../broker.ts';
import { run } from '../harness.ts';
import { CliClient } from '../java/client.ts';

export async function franzGoClient(): Promise<CliClient> {
  const r = await run('bash', [join(REPO_ROOT, 'compat/go/build.sh')], { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`compat/go/build.sh failed:\n${r.stderr}`);
  return new CliClient('franz-go', join(REPO_ROOT, 'compat/go/target/franz-go-harness'), []);
}
