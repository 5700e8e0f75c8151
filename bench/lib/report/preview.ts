/**
 * Dev script: renders a run to bench/results/tmp/<name>.svg and prints its table, to look at the
 * report's layout. Without an argument the FIXTURE run (invented numbers), as preview.svg:
 *   npx node bench/lib/report/preview.ts [path/to/run.json]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRun } from '../results.ts';
import { fixtureRun } from './fixture.ts';
import { renderSvg } from './svg.ts';
import { renderTable } from './table.ts';

const input = process.argv[2];
const run: BenchRun = input ? (JSON.parse(readFileSync(input, 'utf8')) as BenchRun) : fixtureRun;
const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'results', 'tmp');
mkdirSync(dir, { recursive: true });
const file = join(dir, input ? basename(input).replace(/\.json$/i, '') + '.svg' : 'preview.svg');
writeFileSync(file, renderSvg(run));
process.stdout.write(renderTable(run, { color: process.stdout.isTTY === true }));
process.stdout.write(`\nSVG written to ${file}\n`);
