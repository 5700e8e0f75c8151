/**
 * The produce-path rules that need to look inside a batch, applied only to topics that ask
 * for them so the default path (compression.type=producer, cleanup.policy=delete) never
 * decodes a record:
 * - cleanup.policy containing compact: every record needs a key (Kafka's LogValidator.validateKey);
 * - compression.type other than producer: a batch in another codec is recompressed with the
 *   topic's codec before it is appended (Kafka's LogValidator rebuilds it the same way).
 *   compression.gzip.level, compression.lz4.level and compression.zstd.level are ignored:
 *   each codec uses its library's default level.
 */
import { ErrorCode, type ErrorCode as Code } from '../common/errors.ts';
import { BatchRecordsError, recordsWithoutKey, recompressBatch } from '../protocol/batch-rewrite.ts';
import { Compression, validateRecordSet, type BatchSummary } from '../protocol/record-batch.ts';
import type { TopicSettings } from './broker-config.ts';

const TOPIC_CODECS: Readonly<Record<string, number>> = {
  uncompressed: Compression.NONE,
  gzip: Compression.GZIP,
  snappy: Compression.SNAPPY,
  lz4: Compression.LZ4,
  zstd: Compression.ZSTD,
};

/** Whether produces to a topic with these settings go through `applyTopicRules`. */
export function needsTopicRules(settings: TopicSettings): boolean {
  return settings.log.compact || settings.compressionType !== 'producer';
}

export interface TopicRuleFailure {
  code: Code;
  message: string;
  recordErrors: { batchIndex: number; batchIndexErrorMessage: string | null }[];
}

/**
 * Checks and rewrites the one batch of a produce (already header-validated); returns the
 * record set to append and its batch summary, or why it is refused.
 */
export function applyTopicRules(
  records: Buffer,
  batch: BatchSummary,
  settings: TopicSettings,
  topicPartition: string,
): { records: Buffer; batches: BatchSummary[] } | TopicRuleFailure {
  try {
    if (settings.log.compact) {
      const keyless = recordsWithoutKey(records);
      if (keyless.length > 0) return keylessFailure(keyless, topicPartition);
    }
    const codec = TOPIC_CODECS[settings.compressionType];
    if (codec === undefined || codec === batch.compression) return { records, batches: [batch] };
    const rewritten = recompressBatch(records, codec);
    const validated = validateRecordSet(rewritten);
    if ('code' in validated) throw new Error(`recompressed batch is invalid: ${validated.message}`); // a bug
    const size = validated.batches[0]!.size;
    if (size > settings.maxMessageBytes) {
      return {
        code: ErrorCode.MESSAGE_TOO_LARGE,
        message: `Message batch size is ${size} bytes in append to partition ${topicPartition} which exceeds the maximum configured size of ${settings.maxMessageBytes}.`,
        recordErrors: [],
      };
    }
    return { records: rewritten, batches: validated.batches };
  } catch (err) {
    if (!(err instanceof BatchRecordsError)) throw err;
    return { code: ErrorCode.CORRUPT_MESSAGE, message: `cannot read the records of the batch: ${err.message}`, recordErrors: [] };
  }
}

/** Kafka's RecordValidationException for null keys: one record error each, three in the message. */
function keylessFailure(indexes: number[], topicPartition: string): TopicRuleFailure {
  const message = `Compacted topic cannot accept message without key in topic partition ${topicPartition}`;
  const shown = indexes.slice(0, 3).map((i) => `RecordError(batchIndex=${i}, message='${message}')`);
  return {
    code: ErrorCode.INVALID_RECORD,
    message:
      `One or more records have been rejected due to ${indexes.length} record errors in total, ` +
      `and only showing the first three errors at most: [${shown.join(', ')}]`,
    recordErrors: indexes.map((batchIndex) => ({ batchIndex, batchIndexErrorMessage: message })),
  };
}
