/**
 * Config value validators that answer in Apache Kafka's words (ConfigDef parsing and its
 * Range, ValidString and ValidList validators), because admin clients show these messages to
 * users verbatim: "Invalid value foo for configuration retention.ms: Not a number of type LONG".
 * A validator returns null for a valid value, or `{ shown, reason }`: the value as Kafka
 * prints it (parsed, e.g. "2.0" for a double) and why it is refused.
 */

export interface Invalid {
  shown: string;
  reason: string;
}
export type Validator = (value: string) => Invalid | null;

/** Kafka's ConfigException text for a refused value. */
export function invalidValueMessage(name: string, bad: Invalid): string {
  return `Invalid value ${bad.shown} for configuration ${name}: ${bad.reason}`;
}

const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** Java's Long/Integer.parseInt of a trimmed string, or null. */
function parseInteger(v: string, min: bigint, max: bigint): bigint | null {
  const t = v.trim();
  if (!/^[+-]?\d+$/.test(t)) return null;
  const n = BigInt(t);
  return n < min || n > max ? null : n;
}

function range(type: 'INT' | 'LONG', min?: bigint, max?: bigint): Validator {
  return (v) => {
    const n = type === 'INT' ? parseInteger(v, INT_MIN, INT_MAX) : parseInteger(v, LONG_MIN, LONG_MAX);
    if (n === null) return { shown: v, reason: `Not a number of type ${type}` };
    return checkRange(n, String(n), min, max);
  };
}

function checkRange<T extends bigint | number>(n: T, shown: string, min?: T, max?: T): Invalid | null {
  if (min !== undefined && max !== undefined) {
    if (n < min) return { shown, reason: `Value must be no less than ${min}` };
    if (n > max) return { shown, reason: `Value must be no more than ${max}` };
    return null;
  }
  if (min !== undefined && n < min) return { shown, reason: `Value must be at least ${min}` };
  return null;
}

/** INT, optionally at least `min` (and, with `max`, between the two). */
export const int = (min?: number, max?: number): Validator =>
  range('INT', min === undefined ? undefined : BigInt(min), max === undefined ? undefined : BigInt(max));

/** LONG, optionally at least `min`. */
export const long = (min?: number): Validator => range('LONG', min === undefined ? undefined : BigInt(min));

/** Java's Double.toString for the values configs use. */
function javaDouble(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e7) return `${n}.0`;
  return String(n);
}

/** DOUBLE, optionally between `min` and `max`. */
export function double(min?: number, max?: number): Validator {
  return (v) => {
    const t = v.trim();
    const n = t === '' ? NaN : Number(t);
    if (Number.isNaN(n) && !/^[+-]?NaN$/.test(t)) return { shown: v, reason: 'Not a number of type DOUBLE' };
    return checkRange(n, javaDouble(n), min, max);
  };
}

export function boolean(v: string): Invalid | null {
  const t = v.trim().toLowerCase();
  return t === 'true' || t === 'false' ? null : { shown: v, reason: 'Expected value to be either true or false' };
}

/** STRING from a fixed set (case-sensitive, as Kafka's ValidString). */
export function oneOf(...allowed: string[]): Validator {
  return (v) => (allowed.includes(v.trim()) ? null : { shown: v.trim(), reason: `String must be one of: ${allowed.join(', ')}` });
}

/** Kafka's LIST parsing: comma-separated, trimmed items; "" is the empty list. */
export function listItems(v: string): string[] {
  const t = v.trim();
  return t === '' ? [] : t.split(/\s*,\s*/);
}

/** LIST whose items come from a fixed set (ValidList.in); the empty list is allowed. */
export function listOf(...allowed: string[]): Validator {
  return (v) => {
    const bad = listItems(v).find((item) => !allowed.includes(item));
    return bad === undefined ? null : { shown: bad, reason: `String must be one of: ${allowed.join(', ')}` };
  };
}

/** compression.gzip.level: 1-9 or -1 (zlib's default). */
export function gzipLevel(v: string): Invalid | null {
  const bad = int()(v);
  if (bad) return bad;
  const n = Number(v.trim());
  return n === -1 || (n >= 1 && n <= 9) ? null : { shown: String(n), reason: 'Value must be between 1 and 9 or equal to -1' };
}

/** (leader|follower).replication.throttled.replicas: '*' or partition:broker pairs. */
export function throttledReplicas(name: string): Validator {
  return (v) => {
    const items = listItems(v);
    if (items.length === 1 && items[0] === '*') return null;
    if (items.every((i) => /^\d+:\d+$/.test(i))) return null;
    return {
      shown: `[${items.join(', ')}]`,
      reason: `${name} must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...`,
    };
  };
}
