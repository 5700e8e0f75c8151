/**
 * Partition leader epochs. A single broker has led every partition since it was created, so
 * the epoch is 0 everywhere; cluster mode will take it from the partition's metadata. Requests
 * carrying a client's view of the epoch (KIP-320) are checked against it in one place.
 */
import { ErrorCode } from '../common/errors.ts';

export const LEADER_EPOCH = 0;

/**
 * The error for a request that names `currentLeaderEpoch` (-1 = not given): FENCED_LEADER_EPOCH
 * if the client's epoch is older than ours, UNKNOWN_LEADER_EPOCH if it is newer, else null.
 */
export function leaderEpochError(currentLeaderEpoch: number): ErrorCode | null {
  if (currentLeaderEpoch < 0 || currentLeaderEpoch === LEADER_EPOCH) return null;
  return currentLeaderEpoch < LEADER_EPOCH ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH;
}
