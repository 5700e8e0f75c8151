import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseHostPort, parseStartArgs } from './main.ts';

const MAIN = new URL('./main.ts', import.meta.url).pathname;

function run(...args: string[]) {
  return spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20_000 });
}

describe('tributary CLI', () => {
  it('parses start flags', () => {
    const args = parseStartArgs(['--data-dir', '/d', '--listen', '0.0.0.0:19000', '--advertise', 'kafka:9092', '--config', 'num.partitions=3']);
    assert.notEqual(args, 'help');
    if (args === 'help') return;
    assert.equal(args.dataDir, '/d');
    assert.deepEqual(args.listen, { host: '0.0.0.0', port: 19000 });
    assert.deepEqual(args.advertise, { host: 'kafka', port: 9092 });
    assert.deepEqual(args.config, { 'num.partitions': '3' });
  });

  it('parses IPv6 listeners and rejects malformed ones', () => {
    assert.deepEqual(parseHostPort('--listen', '[::1]:9092'), { host: '::1', port: 9092 });
    assert.throws(() => parseHostPort('--listen', 'localhost'), /expects host:port/);
    assert.throws(() => parseHostPort('--listen', 'h:70000'), /out of range/);
  });

  it('prints help and the version', () => {
    const help = run('--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: tributary/);
    assert.match(run('start', '--help').stdout, /--data-dir/);
    assert.match(run('--version').stdout, /^tributary \d+\.\d+\.\d+/);
  });

  it('exits 2 with a clear message on bad flags', () => {
    const unknown = run('start', '--bogus');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /bogus/);
    const cmd = run('launch');
    assert.equal(cmd.status, 2);
    assert.match(cmd.stderr, /unknown command 'launch'/);
    const listen = run('start', '--listen', 'nowhere');
    assert.equal(listen.status, 2);
    assert.match(listen.stderr, /--listen expects host:port/);
  });

  it('exits 1 for an unusable data directory or an unknown broker config', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tributary-cli-'));
    try {
      const file = path.join(dir, 'a-file');
      writeFileSync(file, 'x');
      const notDir = run('start', '--data-dir', file, '--listen', '127.0.0.1:0');
      assert.equal(notDir.status, 1);
      assert.match(notDir.stderr, /data directory .* is not usable/);
      const badConfig = run('start', '--data-dir', dir, '--listen', '127.0.0.1:0', '--config', 'no.such.config=1');
      assert.equal(badConfig.status, 1);
      assert.match(badConfig.stderr, /unknown broker config 'no.such.config'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
