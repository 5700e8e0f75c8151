/**
 * DescribeCluster (key 60), v0 and v1: this broker as the whole cluster, the same cluster id
 * and controller as Metadata, authorized operations when asked, endpoint types (v1).
 * Expectations checked against Apache Kafka 4.3.1 (BOOTSTRAP_SERVERS=127.0.0.1:19092).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { E, K, metadata, startTarget, type RawClient, type Target } from './helpers.ts';

const MIN_INT32 = -2147483648;
const CLUSTER_ALL_OPERATIONS = 8096;
const MISMATCHED_ENDPOINT_TYPE = 114;
const UNSUPPORTED_ENDPOINT_TYPE = 115;

describe('DescribeCluster', () => {
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

  for (const version of [0, 1]) {
    test(`v${version}: the cluster id, controller and broker match Metadata`, async () => {
      const md = await metadata(c, []);
      const res = await c.request(K.DescribeCluster, version, { includeClusterAuthorizedOperations: false, endpointType: 1 });
      assert.equal(res.errorCode, E.NONE);
      assert.equal(res.errorMessage, null);
      assert.equal(res.clusterId, md.clusterId);
      assert.equal(res.controllerId, md.controllerId);
      assert.deepEqual(
        res.brokers,
        md.brokers.map((b: { nodeId: number; host: string; port: number; rack: string | null }) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
      );
      assert.equal(res.brokers[0].host, target.host);
      assert.equal(res.brokers[0].port, target.port);
      assert.equal(res.endpointType, 1);
      assert.equal(res.clusterAuthorizedOperations, MIN_INT32, 'not asked');
    });

    test(`v${version}: authorized operations when asked`, async () => {
      const res = await c.request(K.DescribeCluster, version, { includeClusterAuthorizedOperations: true, endpointType: 1 });
      assert.equal(res.clusterAuthorizedOperations, CLUSTER_ALL_OPERATIONS);
    });
  }

  // Kafka 4.3.1 on a broker listener: endpointType 2 (controllers) → MISMATCHED_ENDPOINT_TYPE,
  // an unknown type (3) → UNSUPPORTED_ENDPOINT_TYPE.
  test('v1: endpoint type 2 (controllers) → MISMATCHED_ENDPOINT_TYPE, as Kafka', async () => {
    const res = await c.request(K.DescribeCluster, 1, { includeClusterAuthorizedOperations: false, endpointType: 2 });
    assert.equal(res.errorCode, MISMATCHED_ENDPOINT_TYPE);
    assert.deepEqual(res.brokers, []);
  });

  test('v1: an unknown endpoint type → UNSUPPORTED_ENDPOINT_TYPE', async () => {
    const res = await c.request(K.DescribeCluster, 1, { includeClusterAuthorizedOperations: false, endpointType: 3 });
    assert.equal(res.errorCode, UNSUPPORTED_ENDPOINT_TYPE);
    assert.deepEqual(res.brokers, []);
  });
});
