/**
 * Which `__consumer_offsets` partition owns a group: Kafka's
 * `Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions`, with Java's String.hashCode
 * (over UTF-16 code units, int32 overflow) and Kafka's Utils.abs (Integer.MIN_VALUE → 0).
 */
export const DEFAULT_OFFSETS_TOPIC_PARTITIONS = 50;

/** Java's String.hashCode: s[0]*31^(n-1) + ... + s[n-1], in int32 arithmetic. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's Utils.abs: Math.abs, except Integer.MIN_VALUE maps to 0. */
export function kafkaAbs(n: number): number {
  return n === -2147483648 ? 0 : Math.abs(n);
}

export function partitionFor(groupId: string, numPartitions = DEFAULT_OFFSETS_TOPIC_PARTITIONS): number {
  if (!Number.isInteger(numPartitions) || numPartitions <= 0) throw new RangeError(`numPartitions ${numPartitions}`);
  return kafkaAbs(javaStringHashCode(groupId)) % numPartitions;
}
