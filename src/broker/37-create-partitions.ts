/**
 * CreatePartitions (key 37): grows topics to a new partition count. Manual assignments, when
 * given, must name only this broker, one replica per new partition.
 */
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { CreatePartitionsRequest } from '../protocol/messages/create-partitions-request.generated.ts';
import { CreatePartitionsResponse } from '../protocol/messages/create-partitions-response.generated.ts';
import { defineApi } from './api.ts';
import { RepeatedNames } from './request-duplicates.ts';

export const createPartitions = defineApi({
  request: CreatePartitionsRequest,
  response: CreatePartitionsResponse,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, { broker }) {
    const res = CreatePartitionsResponse.default();
    const repeated = new RepeatedNames(req.topics.map((t) => t.name));
    for (const t of req.topics) {
      if (repeated.isRepeated(t.name)) {
        if (repeated.firstTime(t.name)) {
          res.results.push({ name: t.name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Duplicate topic in request: ${t.name}` });
        }
        continue;
      }
      const result = { name: t.name, errorCode: ErrorCode.NONE as number, errorMessage: null as string | null };
      res.results.push(result);
      const current = broker.topics.get(t.name);
      if (t.assignments && current) {
        const added = t.count - current.partitions;
        const bad =
          t.assignments.length !== added ||
          t.assignments.some((a) => a.brokerIds.length !== 1 || a.brokerIds[0] !== broker.nodeId);
        if (bad) {
          result.errorCode = ErrorCode.INVALID_REPLICA_ASSIGNMENT;
          result.errorMessage = `Assignments must give broker ${broker.nodeId} for each of the ${added} new partitions.`;
          continue;
        }
      }
      const grown = await broker.topics.addPartitions(t.name, t.count, req.validateOnly);
      if (grown instanceof KafkaError) {
        result.errorCode = grown.code;
        result.errorMessage = grown.message;
      }
    }
    return res;
  },
});
