import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from './buffer-pool.ts';

test('a released buffer is handed out again for a request of the same size class', () => {
  const pool = new BufferPool(1024, 1 << 20);
  const a = pool.acquire(3000);
  assert.equal(a.length, 3000);
  pool.release(a);
  assert.equal(pool.freeBytes, 4096);
  const b = pool.acquire(2049);
  assert.equal(b.buffer, a.buffer);
  assert.equal(b.length, 2049);
  assert.equal(pool.freeBytes, 0);
});

test('small requests are not pooled, foreign buffers and double releases are ignored', () => {
  const pool = new BufferPool(1024, 1 << 20);
  const small = pool.acquire(100);
  pool.release(small);
  pool.release(Buffer.alloc(8192));
  assert.equal(pool.freeBytes, 0);
  const a = pool.acquire(5000);
  pool.release(a.subarray(10, 20)); // any view of it gives it back
  pool.release(a);
  assert.equal(pool.freeBytes, 8192);
  const b = pool.acquire(5000);
  const c = pool.acquire(5000);
  assert.notEqual(b.buffer, c.buffer, 'one release hands the buffer out once');
});

test('the free lists never hold more than their budget', () => {
  const pool = new BufferPool(1024, 8192);
  const bufs = [pool.acquire(4096), pool.acquire(4096), pool.acquire(4096)];
  for (const b of bufs) pool.release(b);
  assert.equal(pool.freeBytes, 8192);
});
