/**
 * Dev script: renders the FIXTURE run (invented numbers) to bench/results/tmp/preview.svg and
 * prints its table, to look at the report's layout. `npx node bench/lib/report/preview.ts`
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtureRun } from './fixture.ts';
import { renderSvg } from './svg.ts';
import { renderTable } from './table.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'results', 'tmp');
mkdirSync(dir, { recursive: true });
const file = join(dir, 'preview.svg');
writeFileSync(file, renderSvg(fixtureRun));
process.stdout.write(renderTable(fixtureRun, { color: process.stdout.isTTY === true }));
process.stdout.write(`\nSVG written to ${file}\n`);
