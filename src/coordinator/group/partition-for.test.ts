import { test } from 'node:test';
import assert from 'node:assert/strict';
import { javaStringHashCode, partitionFor } from './partition-for.ts';

test("javaStringHashCode matches Java's String.hashCode", () => {
  assert.equal(javaStringHashCode(''), 0);
  assert.equal(javaStringHashCode('a'), 97);
  assert.equal(javaStringHashCode('ab'), 97 * 31 + 98); // 3105
  assert.equal(javaStringHashCode('hello'), 99162322);
  // Overflow wraps in int32: "hello world".hashCode() == 1794106052
  assert.equal(javaStringHashCode('hello world'), 1794106052);
  // Negative hash: "polygenelubricants".hashCode() == Integer.MIN_VALUE
  assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
  // UTF-16 code units: U+1F600 is the surrogate pair D83D DE00 → 0xD83D*31 + 0xDE00
  assert.equal(javaStringHashCode('\u{1F600}'), 0xd83d * 31 + 0xde00);
});

test('partitionFor: abs(hashCode) % partitions, Integer.MIN_VALUE → 0', () => {
  assert.equal(partitionFor('a'), 97 % 50); // 47
  assert.equal(partitionFor('ab'), 3105 % 50); // 5
  assert.equal(partitionFor('hello'), 99162322 % 50); // 22
  assert.equal(partitionFor('polygenelubricants'), 0);
  // "Aa" and "BB" collide in Java (2112).
  assert.equal(partitionFor('Aa', 7), 2112 % 7);
  assert.equal(partitionFor('BB', 7), 2112 % 7);
  // A negative hash: "abcdefghij".hashCode() == -634317659 in Java → 634317659 % 50 == 9.
  assert.equal(javaStringHashCode('abcdefghij'), -634317659);
  assert.equal(partitionFor('abcdefghij'), 9);
  assert.throws(() => partitionFor('g', 0));
});
