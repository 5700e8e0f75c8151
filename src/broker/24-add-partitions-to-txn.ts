/**
 * AddPartitionsToTxn (key 24), client versions 0-3 only: v4+ batches transactions for
 * broker-to-broker verification (KIP-890), which this single node does not need. Kafka's
 * KafkaApis rules before the coordinator: internal topics are refused as unauthorized
 * (TOPIC_AUTHORIZATION_FAILED), unknown topics or partitions get UNKNOWN_TOPIC_OR_PARTITION,
 * and then the other partitions OPERATION_NOT_ATTEMPTED; otherwise every partition gets the
 * coordinator's answer. PRODUCER_FENCED is INVALID_PRODUCER_EPOCH below v2.
 */
import { ErrorCode } from '../common/errors.ts';
import { isInternalTopic } from '../metadata/topic-names.ts';
import { AddPartitionsToTxnRequest } from '../protocol/messages/add-partitions-to-txn-request.generated.ts';
import {
  AddPartitionsToTxnResponse,
  type AddPartitionsToTxnTopicResult,
} from '../protocol/messages/add-partitions-to-txn-response.generated.ts';
import { defineApi } from './api.ts';
import { fencedForVersion, fromInt64 } from './txn-service.ts';

export const addPartitionsToTxn = defineApi({
  request: AddPartitionsToTxnRequest,
  response: AddPartitionsToTxnResponse,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx) {
    const res = AddPartitionsToTxnResponse.default();
    const { broker } = ctx;
    // Distinct partitions, in request order.
    const partitions: { topic: string; partition: number }[] = [];
    const seen = new Set<string>();
    for (const t of req.v3AndBelowTopics) {
      for (const partition of t.partitions) {
        const key = `${t.name}\u0000${partition}`;
        if (seen.has(key)) continue;
        seen.add(key);
        partitions.push({ topic: t.name, partition });
      }
    }
    const refusals = new Map<(typeof partitions)[number], number>();
    for (const p of partitions) {
      if (isInternalTopic(p.topic)) refusals.set(p, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      else {
        const topic = broker.topics.get(p.topic);
        if (!topic || p.partition < 0 || p.partition >= topic.partitions) refusals.set(p, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      }
    }
    let errorOf: (p: (typeof partitions)[number]) => number;
    if (refusals.size > 0) {
      errorOf = (p) => refusals.get(p) ?? ErrorCode.OPERATION_NOT_ATTEMPTED;
    } else {
      let code: number;
      try {
        await broker.transactions.ready();
        const txns = broker.transactions;
        code = await txns.apply(
          txns.coordinator.addPartitions(req.v3AndBelowTransactionalId, fromInt64(req.v3AndBelowProducerId), req.v3AndBelowProducerEpoch, partitions),
        );
      } catch {
        code = ErrorCode.COORDINATOR_NOT_AVAILABLE;
      }
      const answer = fencedForVersion(code, ctx.apiVersion, 2);
      errorOf = () => answer;
    }
    const byTopic = new Map<string, AddPartitionsToTxnTopicResult>();
    for (const p of partitions) {
      let t = byTopic.get(p.topic);
      if (!t) byTopic.set(p.topic, (t = { name: p.topic, resultsByPartition: [] }));
      t.resultsByPartition.push({ partitionIndex: p.partition, partitionErrorCode: errorOf(p) });
    }
    res.resultsByTopicV3AndBelow = [...byTopic.values()];
    return res;
  },
});
