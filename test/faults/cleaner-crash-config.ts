/** Settings shared by cleaner-crash.test.ts and its child process. */
import type { LogConfig } from '../../src/storage/log-config.ts';

export const CRASH_T0 = 1_700_000_000_000;
/**
 * The log is written with 1200-byte segments; the pass that is killed runs with segment.bytes
 * 4000, so each cleaned segment replaces several segments (a group of one would not test the
 * swap's removal of the other replaced segments).
 */
export const WRITE_SEGMENT_BYTES = 1200;
export const CRASH_CONFIG: Partial<LogConfig> = { compact: true, segmentBytes: 4000, retentionMs: -1, deleteRetentionMs: 60_000 };
