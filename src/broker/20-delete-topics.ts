/**
 * DeleteTopics (key 20): by name (v0-5) or by name or topic id (v6). Deleting removes the
 * topic from the metadata first, then its logs (see topics.ts for crash safety).
 */
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { DeleteTopicsRequest } from '../protocol/messages/delete-topics-request.generated.ts';
import { DeleteTopicsResponse } from '../protocol/messages/delete-topics-response.generated.ts';
import { ZERO_UUID } from '../protocol/primitives/index.ts';
import { defineApi } from './api.ts';
import { RepeatedNames } from './request-duplicates.ts';

type Result = ReturnType<typeof DeleteTopicsResponse.default>['responses'][number];

export const deleteTopics = defineApi({
  request: DeleteTopicsRequest,
  response: DeleteTopicsResponse,
  minVersion: 1,
  maxVersion: 6,
  async handle(req, { broker, apiVersion }) {
    const res = DeleteTopicsResponse.default();
    const wanted =
      apiVersion >= 6 ? req.topics : req.topicNames.map((name) => ({ name: name as string | null, topicId: ZERO_UUID }));
    // Names and ids share one key space here: `n:` for names, `i:` for topic ids.
    const key = (w: { name: string | null; topicId: string }) => (w.name !== null ? `n:${w.name}` : `i:${w.topicId}`);
    const repeated = new RepeatedNames(wanted.map(key));
    for (const w of wanted) {
      if (repeated.isRepeated(key(w))) {
        if (repeated.firstTime(key(w))) {
          res.responses.push({ ...w, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic in the request.' });
        }
        continue;
      }
      const result: Result = { name: w.name, topicId: w.topicId, errorCode: ErrorCode.NONE, errorMessage: null };
      res.responses.push(result);
      if (w.name !== null && w.topicId !== ZERO_UUID) {
        result.errorCode = ErrorCode.INVALID_REQUEST;
        result.errorMessage = 'Give a topic name or a topic id, not both.';
        continue;
      }
      let name = w.name;
      if (name === null) {
        const byId = broker.topics.getById(w.topicId);
        if (!byId) {
          result.errorCode = ErrorCode.UNKNOWN_TOPIC_ID;
          result.errorMessage = `Topic id ${w.topicId} does not exist.`;
          continue;
        }
        name = byId.name;
      }
      const deleted = await broker.topics.delete(name);
      if (deleted instanceof KafkaError) {
        result.errorCode = deleted.code;
        result.errorMessage = deleted.message;
      } else {
        result.name = deleted.name;
        result.topicId = deleted.id;
      }
    }
    return res;
  },
});
