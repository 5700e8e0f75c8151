/**
 * ApiVersions (key 18) against one broker. Checked against Apache Kafka 4.3.1 with
 * BOOTSTRAP_SERVERS=127.0.0.1:19092 (the exact-list checks are Tributary's own).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { E, K, startTarget, tributaryOnly, type Any, type RawClient, type Target } from './helpers.ts';
import { apiMessages } from '../../src/protocol/messages/index.generated.ts';

/** The handlers Tributary registers, as ApiVersions should list them (advertisedMinVersion: see api.ts). */
async function ourHandlers(): Promise<{ apiKey: number; minVersion: number; maxVersion: number }[]> {
  const { HANDLERS } = (await import('../../src/broker/handlers.ts')) as Any;
  return [...(HANDLERS as Map<number, Any>).entries()]
    .sort(([a], [b]) => a - b)
    .map(([apiKey, h]) => ({ apiKey, minVersion: h.advertisedMinVersion ?? h.minVersion, maxVersion: h.maxVersion }));
}

/** An ApiVersions v3+ body (compact strings + empty tagged fields), for versions our codec cannot encode. */
function v3Body(name: string, version: string): Buffer {
  const s = (v: string) => Buffer.concat([Buffer.from([Buffer.byteLength(v) + 1]), Buffer.from(v)]);
  return Buffer.concat([s(name), s(version), Buffer.from([0])]);
}

describe('ApiVersions', () => {
  let target: Target;
  let c: RawClient;

  before(async () => {
    target = await startTarget();
    c = await target.connect();
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  for (const version of [0, 1, 2, 3, 4]) {
    test(`v${version} answers with no error and a sorted list including ApiVersions 0-4`, async () => {
      const body = version >= 3 ? { clientSoftwareName: 'raw-client', clientSoftwareVersion: '1.0.0' } : {};
      const res = await c.request(K.ApiVersions, version, body);
      assert.equal(res.errorCode, E.NONE);
      const keys = res.apiKeys.map((k: Any) => k.apiKey);
      assert.deepEqual(keys, [...keys].sort((a: number, b: number) => a - b), 'sorted by api key');
      assert.deepEqual(
        res.apiKeys.find((k: Any) => k.apiKey === K.ApiVersions),
        { apiKey: K.ApiVersions, minVersion: 0, maxVersion: 4 },
      );
      for (const k of res.apiKeys) assert.ok(k.minVersion <= k.maxVersion, `api ${k.apiKey} range`);
    });
  }

  test('lists exactly the registered handlers and their version ranges', tributaryOnly, async () => {
    const res = await c.request(K.ApiVersions, 3, { clientSoftwareName: 'raw-client', clientSoftwareVersion: '1.0.0' });
    assert.deepEqual(res.apiKeys, await ourHandlers());
    const keys = res.apiKeys.map((k: Any) => k.apiKey);
    for (const key of [0, 1, 2, 3, 18, 19, 20, 21, 23, 32, 33, 35, 37, 44, 60, 61]) assert.ok(keys.includes(key), `api ${key} is served`);
    // Every advertised version must be one our codecs can decode and encode.
    for (const k of res.apiKeys) {
      const api = apiMessages[k.apiKey]!;
      assert.ok(k.minVersion >= api.minVersion && k.maxVersion <= api.maxVersion, `${api.name} ${k.minVersion}-${k.maxVersion}`);
    }
  });

  for (const version of [3, 4]) {
    test(`v${version} with an invalid client software name or version → INVALID_REQUEST, connection stays open`, async () => {
      for (const [name, ver] of [
        ['-bad name', '1.0'],
        ['has space', '1.0'],
        ['ok', ''],
        ['ok', '1.0-'],
        ['', '1.0'],
      ] as const) {
        const res = await c.request(K.ApiVersions, version, { clientSoftwareName: name, clientSoftwareVersion: ver });
        assert.equal(res.errorCode, E.INVALID_REQUEST, `name=${JSON.stringify(name)} version=${JSON.stringify(ver)}`);
        assert.deepEqual(res.apiKeys, [], 'Kafka sends no API list with this error');
      }
      const ok = await c.request(K.ApiVersions, version, { clientSoftwareName: 'apache-kafka-java', clientSoftwareVersion: '4.3.1-SNAPSHOT' });
      assert.equal(ok.errorCode, E.NONE);
    });
  }

  test('a null client id in the header is accepted', async () => {
    const res = await c.request(K.ApiVersions, 2, {}, { clientId: null });
    assert.equal(res.errorCode, E.NONE);
  });

  test('version 99 → a v0-format response with UNSUPPORTED_VERSION; the connection stays open (KIP-511)', async () => {
    const res = await c.request(K.ApiVersions, 99, v3Body('raw-client', '1.0.0'), { responseVersion: 0 });
    assert.equal(res.errorCode, E.UNSUPPORTED_VERSION);
    // Kafka lists only ApiVersions itself here; Tributary lists every range (see next test).
    assert.deepEqual(
      res.apiKeys.find((k: Any) => k.apiKey === K.ApiVersions),
      { apiKey: K.ApiVersions, minVersion: 0, maxVersion: 4 },
    );
    assert.equal(c.closed, false);
    const next = await c.request(K.ApiVersions, 3, { clientSoftwareName: 'raw-client', clientSoftwareVersion: '1.0.0' });
    assert.equal(next.errorCode, E.NONE);
  });

  // As Kafka 4.3.1: the fallback lists only ApiVersions' own range, so the client retries at a
  // shared version and learns the rest there (franz-go takes a fuller list as final).
  test('version 99 lists only the ApiVersions range', async () => {
    const res = await c.request(K.ApiVersions, 99, v3Body('raw-client', '1.0.0'), { responseVersion: 0 });
    assert.equal(res.errorCode, E.UNSUPPORTED_VERSION);
    assert.deepEqual(res.apiKeys, [{ apiKey: K.ApiVersions, minVersion: 0, maxVersion: 4 }]);
  });

  test('version 5 (one past the newest) is also answered in v0 format, pipelined with other requests', async () => {
    const [a, b, d] = await Promise.all([
      c.request(K.ApiVersions, 0, {}),
      c.request(K.ApiVersions, 5, v3Body('raw-client', '1.0.0'), { responseVersion: 0 }),
      c.request(K.ApiVersions, 4, { clientSoftwareName: 'raw-client', clientSoftwareVersion: '1' }),
    ]);
    assert.equal(a.errorCode, E.NONE);
    assert.equal(b.errorCode, E.UNSUPPORTED_VERSION);
    assert.equal(d.errorCode, E.NONE);
  });
});
