/**
 * Kafka protocol codec generator.
 *
 *   node scripts/codegen/main.ts [--messages <dir>] [--out <dir>] [--check]
 *
 * Reads the Apache Kafka message definitions (default: ../shared/kafka-protocol/messages
 * relative to the project root) and writes src/protocol/messages/<kebab-name>.generated.ts
 * for every request, response, header and data message, plus index.generated.ts and
 * header-versions.generated.ts.
 * With --check nothing is written; the exit code is 1 if any file would change or a
 * stale *.generated.ts file exists.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateHeaderVersionsFile, generateIndexFile } from './emit-index.ts';
import { generateMessageFile } from './emit-message.ts';
import { kebabName, loadMessages } from './schema.ts';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_MESSAGES_DIR = resolve(PROJECT_ROOT, '..', 'shared', 'kafka-protocol', 'messages');
export const DEFAULT_OUT_DIR = resolve(PROJECT_ROOT, 'src', 'protocol', 'messages');

/** Generates every file; returns a map of file name -> contents. */
export function generateAll(messagesDir: string): Map<string, string> {
  const specs = loadMessages(messagesDir);
  const out = new Map<string, string>();
  for (const spec of specs) {
    const file = `${kebabName(spec.file)}.generated.ts`;
    if (out.has(file)) throw new Error(`two messages map to ${file}`);
    out.set(file, generateMessageFile(spec, `${spec.file}.json`));
  }
  out.set('index.generated.ts', generateIndexFile(specs));
  out.set('header-versions.generated.ts', generateHeaderVersionsFile(specs));
  return out;
}

interface Options {
  messages: string;
  out: string;
  check: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { messages: DEFAULT_MESSAGES_DIR, out: DEFAULT_OUT_DIR, check: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return resolve(process.cwd(), v);
    };
    if (a === '--check') o.check = true;
    else if (a === '--messages') o.messages = value();
    else if (a.startsWith('--messages=')) o.messages = resolve(process.cwd(), a.slice('--messages='.length));
    else if (a === '--out') o.out = value();
    else if (a.startsWith('--out=')) o.out = resolve(process.cwd(), a.slice('--out='.length));
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/codegen/main.ts [--messages <dir>] [--out <dir>] [--check]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

export function run(argv: string[]): number {
  const opts = parseArgs(argv);
  if (!existsSync(opts.messages)) {
    console.error(`codegen: message definitions not found at ${opts.messages} (use --messages <dir>)`);
    return 2;
  }
  const files = generateAll(opts.messages);
  const existing = existsSync(opts.out) ? readdirSync(opts.out).filter((f) => f.endsWith('.generated.ts')) : [];
  const stale = existing.filter((f) => !files.has(f)).sort();
  const changed: string[] = [];
  for (const [name, text] of files) {
    const path = join(opts.out, name);
    if (!existsSync(path) || readFileSync(path, 'utf8') !== text) changed.push(name);
  }
  const rel = relative(process.cwd(), opts.out) || '.';
  if (opts.check) {
    if (changed.length === 0 && stale.length === 0) return 0;
    for (const f of changed) console.error(`codegen --check: ${join(rel, f)} is out of date`);
    for (const f of stale) console.error(`codegen --check: ${join(rel, f)} is stale (no message definition)`);
    console.error('codegen --check: run `npm run codegen` and commit the result');
    return 1;
  }
  mkdirSync(opts.out, { recursive: true });
  for (const f of changed) writeFileSync(join(opts.out, f), files.get(f)!);
  for (const f of stale) unlinkSync(join(opts.out, f));
  console.log(`codegen: ${files.size} files in ${rel} (${changed.length} written, ${stale.length} removed)`);
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = run(process.argv.slice(2));
  } catch (e) {
    console.error(`codegen: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 2;
  }
}
