/**
 * Metadata with auto.create.topics.enable=false (broker option autoCreateTopics: false): no
 * request version creates topics, whatever it asks. Needs broker options, so it always runs an
 * in-process Tributary. (Kafka: `start-kafka.sh --port 19094 --config auto.create.topics.enable=false`
 * answers the same way: UNKNOWN_TOPIC_OR_PARTITION at every version.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createTopic,
  E,
  externalBootstrap,
  K,
  metadata,
  startTarget,
  uniqueTopic,
  ZERO_UUID,
  type Any,
  type RawClient,
  type Target,
} from './helpers.ts';

const skip = externalBootstrap() ? 'needs an in-process broker with autoCreateTopics: false' : undefined;

describe('Metadata with auto-creation off', { skip }, () => {
  let target: Target;
  let c: RawClient;

  before(async () => {
    target = await startTarget({ autoCreateTopics: false });
    c = await target.connect();
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  test('an unknown topic → UNKNOWN_TOPIC_OR_PARTITION at v0-v12, even with AllowAutoTopicCreation=true', async () => {
    const name = uniqueTopic('noauto');
    const v0 = await c.request(K.Metadata, 0, { topics: [{ topicId: ZERO_UUID, name }] });
    assert.equal(v0.topics[0].errorCode, E.UNKNOWN_TOPIC_OR_PARTITION);
    for (const version of [1, 3, 4, 9, 12]) {
      const res = await metadata(c, [name], version, true);
      assert.equal(res.topics.length, 1);
      assert.equal(res.topics[0].errorCode, E.UNKNOWN_TOPIC_OR_PARTITION, `v${version}`);
      assert.equal(res.topics[0].name, name);
    }
    const all = await metadata(c, null);
    assert.ok(!all.topics.some((t: Any) => t.name === name), 'nothing was created');
  });

  test('an invalid name is still INVALID_TOPIC_EXCEPTION', async () => {
    const res = await metadata(c, ['bad name!'], 12, true);
    assert.equal(res.topics[0].errorCode, E.INVALID_TOPIC_EXCEPTION);
  });

  test('explicitly created topics are described', async () => {
    const name = uniqueTopic('noauto-created');
    const { topicId } = await createTopic(c, name, 2);
    const res = await metadata(c, [name], 12, false);
    assert.equal(res.topics[0].errorCode, E.NONE);
    assert.equal(res.topics[0].topicId, topicId);
    assert.equal(res.topics[0].partitions.length, 2);
  });
});
