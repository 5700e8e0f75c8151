/**
 * Kafka's topic name rules (org.apache.kafka.common.internals.Topic): 1..249 characters of
 * [a-zA-Z0-9._-], not "." or "..". Names that differ only by '.' versus '_' collide in metric
 * names, so Kafka refuses to create one when the other exists.
 */
const LEGAL = /^[a-zA-Z0-9._-]+$/;
export const MAX_TOPIC_NAME_LENGTH = 249;

/** Returns why `name` is not a legal topic name, or null when it is. */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0) return 'Topic name is illegal, it can\'t be empty';
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters, topic name: ${name}`;
  }
  if (!LEGAL.test(name)) {
    return `Topic name ${name} is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  }
  return null;
}

/** The form under which two topic names collide ('.' and '_' are interchangeable). */
export function collisionKey(name: string): string {
  return name.replaceAll('.', '_');
}

/** Internal topics of the platform; clients may read but not create or delete them directly. */
export function isInternalTopic(name: string): boolean {
  return name === '__consumer_offsets' || name === '__transaction_state';
}
