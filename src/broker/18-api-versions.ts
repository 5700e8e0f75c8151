/**
 * ApiVersions (key 18): the APIs and version ranges this broker serves — exactly the
 * registered handlers, so we never advertise what is not implemented. A request at a version
 * we do not serve is answered in the dispatcher (KIP-511). v3+ clients send their software
 * name and version, which Kafka validates and which we keep on the connection for logs.
 */
import { ErrorCode } from '../common/errors.ts';
import { ApiVersionsRequest } from '../protocol/messages/api-versions-request.generated.ts';
import { ApiVersionsResponse } from '../protocol/messages/api-versions-response.generated.ts';
import { defineApi } from './api.ts';
import { advertisedApis } from './dispatcher.ts';
import { HANDLERS } from './handlers.ts';

/** Kafka's pattern for client software names and versions (KIP-511). */
const SOFTWARE_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

export const apiVersions = defineApi({
  request: ApiVersionsRequest,
  response: ApiVersionsResponse,
  minVersion: 0,
  maxVersion: 4,
  handle(req, ctx) {
    const res = ApiVersionsResponse.default();
    if (ctx.apiVersion >= 3) {
      if (!SOFTWARE_PATTERN.test(req.clientSoftwareName) || !SOFTWARE_PATTERN.test(req.clientSoftwareVersion)) {
        res.errorCode = ErrorCode.INVALID_REQUEST; // with an empty API list, as Kafka answers
        return res;
      }
      ctx.connection.attributes.set('clientSoftware', `${req.clientSoftwareName}/${req.clientSoftwareVersion}`);
    }
    res.apiKeys = advertisedApis(HANDLERS);
    return res;
  },
});
