/**
 * SyncGroup (Kafka's classicGroupSync): followers park until the leader's assignment is stored;
 * the leader's SyncGroup writes the group (GroupMetadataValue with every member's assignment)
 * and, once durable, answers everyone and makes the group Stable.
 */
import { ErrorCode } from '../../common/errors.ts';
import type { SyncGroupRequest } from '../../protocol/messages/sync-group-request.generated.ts';
import type { SyncGroupResponse } from '../../protocol/messages/sync-group-response.generated.ts';
import { type ClassicGroup, syncError, syncResponse } from './group.ts';
import { EMPTY_ASSIGNMENT } from './members.ts';
import type { RebalanceEngine } from './rebalance.ts';
import { EMPTY_RESULT, appendErrorToResponseError, appended, type Respond, type Result } from './types.ts';

export function syncGroup(e: RebalanceEngine, req: SyncGroupRequest, respond: Respond<SyncGroupResponse>): Result<void> {
  const group = e.groups.get(req.groupId);
  if (!group) {
    respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    return EMPTY_RESULT;
  }
  const error = validateSync(group, req);
  if (error !== ErrorCode.NONE) {
    respond(syncError(error));
    return EMPTY_RESULT;
  }
  const memberId = req.memberId;
  switch (group.state) {
    case 'PreparingRebalance':
      respond(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      return EMPTY_RESULT;
    case 'CompletingRebalance': {
      group.member(memberId).awaitingSync = respond;
      e.removePendingSyncMember(group, memberId);
      if (!group.isLeader(memberId)) return EMPTY_RESULT;
      // Every member gets the leader's assignment for it, or an empty one.
      const given = new Map(req.assignments.map((a) => [a.memberId, a.assignment]));
      const assignment = new Map<string, Buffer>();
      for (const id of group.members.keys()) assignment.set(id, given.get(id) ?? EMPTY_ASSIGNMENT);
      const generationId = req.generationId;
      return appended([e.groupRecord(group, assignment)], (err) => {
        // Someone may have joined meanwhile: act only if this generation is still completing.
        if (!group.is('CompletingRebalance') || group.generationId !== generationId) return;
        if (err !== null && err !== ErrorCode.NONE) {
          e.resetAndPropagateAssignmentWithError(group, appendErrorToResponseError(err));
          const r = e.maybePrepareRebalanceOrCompleteJoin(group);
          r.complete(null);
          return;
        }
        e.setAndPropagateAssignment(group, assignment);
        group.transitionTo('Stable');
      });
    }
    case 'Stable': {
      e.removePendingSyncMember(group, memberId);
      respond(
        syncResponse({
          protocolType: group.protocolType,
          protocolName: group.protocolName,
          assignment: group.member(memberId).assignment,
        }),
      );
      return EMPTY_RESULT;
    }
    default:
      // Empty: validateMember already failed (no members); Dead: answered above.
      respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      return EMPTY_RESULT;
  }
}

function validateSync(group: ClassicGroup, req: SyncGroupRequest): ErrorCode {
  if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  const memberError = group.validateMember(req.memberId, req.groupInstanceId);
  if (memberError !== ErrorCode.NONE) return memberError;
  if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
  // SyncGroup v5+ names the protocol type and name; either must match when both sides have one.
  if (inconsistent(req.protocolType, group.protocolType) || inconsistent(req.protocolName, group.protocolName)) {
    return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
  }
  return ErrorCode.NONE;
}

function inconsistent(requested: string | null, current: string | null): boolean {
  return requested !== null && current !== null && requested !== current;
}
