/**
 * Property tests: for every message and every valid version, a random valid
 * message survives encode -> decode unchanged, and re-encoding the decoded
 * message reproduces the same bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { messageArb } from './schema-arbitrary.ts';
import { decodeAll, encode, loadAll, versionsOf } from './helpers.ts';

const all = await loadAll();

// The hot and most used APIs get more runs.
const HOT = new Set([
  'ProduceRequest', 'ProduceResponse', 'FetchRequest', 'FetchResponse', 'MetadataRequest', 'MetadataResponse',
  'ApiVersionsRequest', 'ApiVersionsResponse', 'RequestHeader', 'ResponseHeader', 'ListOffsetsRequest',
  'ListOffsetsResponse', 'CreateTopicsRequest', 'CreateTopicsResponse', 'JoinGroupRequest', 'OffsetCommitRequest',
  'OffsetFetchResponse', 'SyncGroupRequest', 'FindCoordinatorResponse',
]);
const BASE_RUNS = Number(process.env['ROUNDTRIP_RUNS'] ?? 80);
const SEED = process.env['FC_SEED'] === undefined ? undefined : Number(process.env['FC_SEED']);

test('every message definition has a generated codec with matching metadata', () => {
  assert.ok(all.length >= 180, `only ${all.length} messages loaded`);
  for (const { spec, codec } of all) {
    assert.equal(codec.minVersion, spec.validVersions.lo, spec.name);
    assert.equal(codec.maxVersion, spec.validVersions.hi, spec.name);
    assert.equal(codec.type, spec.type, spec.name);
    assert.equal(codec.apiKey, spec.apiKey ?? -1, spec.name);
  }
});

test('default() encodes and decodes to itself in every version', () => {
  for (const { spec, codec } of all) {
    for (const v of versionsOf(spec)) {
      const d = codec.default();
      const bytes = encode(codec, d, v);
      assert.deepStrictEqual(decodeAll(codec, bytes, v), codec.default(), `${spec.name} v${v}`);
    }
  }
});

for (const { spec, codec } of all) {
  test(`round trip ${spec.name} v${spec.validVersions.lo}-${spec.validVersions.hi}`, () => {
    const numRuns = HOT.has(spec.name) ? BASE_RUNS * 8 : BASE_RUNS;
    for (const v of versionsOf(spec)) {
      fc.assert(
        fc.property(messageArb(spec, v), (msg) => {
          const bytes = encode(codec, msg, v);
          const decoded = decodeAll(codec, bytes, v);
          assert.deepStrictEqual(decoded, msg);
          const again = encode(codec, decoded, v);
          assert.ok(again.equals(bytes), 'encode(decode(bytes)) differs from bytes');
        }),
        { numRuns, seed: SEED, verbose: 1 },
      );
    }
  });
}
