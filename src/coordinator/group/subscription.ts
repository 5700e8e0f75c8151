/**
 * Lenient reading of the consumer protocol's subscription (JoinGroup protocol metadata of
 * protocol type "consumer"): as Kafka's computeSubscribedTopics, only the version-0 prefix is
 * read — int16 version, then the topics array — so any version parses, including clients that
 * label a subscription v1 but omit OwnedPartitions (@platformatic/kafka).
 */
import { Reader } from '../../protocol/primitives/reader.ts';

/** The subscribed topics, or null if the bytes are not a consumer subscription. */
export function parseSubscribedTopics(metadata: Buffer): string[] | null {
  try {
    const r = new Reader(metadata);
    const version = r.readInt16();
    if (version < 0) return null;
    const n = r.readArrayLength();
    const topics: string[] = [];
    for (let i = 0; i < n; i++) topics.push(r.readString());
    return topics;
  } catch {
    return null;
  }
}
