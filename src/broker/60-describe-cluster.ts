/** DescribeCluster (key 60): this broker as the whole cluster, and its controller. */
import { ErrorCode } from '../common/errors.ts';
import { DescribeClusterRequest } from '../protocol/messages/describe-cluster-request.generated.ts';
import { DescribeClusterResponse } from '../protocol/messages/describe-cluster-response.generated.ts';
import { defineApi } from './api.ts';
import { CLUSTER_ALL_OPERATIONS, NOT_REQUESTED } from './authorized-operations.ts';

/** DescribeCluster EndpointType: 1 = brokers, 2 = controllers (KIP-919). */
const ENDPOINT_BROKERS = 1;

export const describeCluster = defineApi({
  request: DescribeClusterRequest,
  response: DescribeClusterResponse,
  minVersion: 0,
  maxVersion: 1,
  handle(req, { broker }) {
    const res = DescribeClusterResponse.default();
    res.endpointType = req.endpointType;
    if (req.endpointType !== ENDPOINT_BROKERS) {
      // As a Kafka broker does: controller endpoints are asked of controllers.
      res.errorCode = req.endpointType === 2 ? ErrorCode.MISMATCHED_ENDPOINT_TYPE : ErrorCode.UNSUPPORTED_ENDPOINT_TYPE;
      res.errorMessage = `The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type ${req.endpointType === 2 ? 'CONTROLLER' : req.endpointType}`;
      return res;
    }
    res.clusterId = broker.clusterId;
    res.controllerId = broker.nodeId;
    res.brokers = [{ brokerId: broker.nodeId, host: broker.advertised.host, port: broker.advertised.port, rack: null }];
    res.clusterAuthorizedOperations = req.includeClusterAuthorizedOperations ? CLUSTER_ALL_OPERATIONS : NOT_REQUESTED;
    return res;
  },
});
