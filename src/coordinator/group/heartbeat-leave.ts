/** Heartbeat and LeaveGroup (Kafka's classicGroupHeartbeat and classicGroupLeave). */
import { ErrorCode } from '../../common/errors.ts';
import type { HeartbeatRequest } from '../../protocol/messages/heartbeat-request.generated.ts';
import type { HeartbeatResponse } from '../../protocol/messages/heartbeat-response.generated.ts';
import type { LeaveGroupRequest, MemberIdentity } from '../../protocol/messages/leave-group-request.generated.ts';
import type { LeaveGroupResponse, MemberResponse } from '../../protocol/messages/leave-group-response.generated.ts';
import type { RebalanceEngine } from './rebalance.ts';
import { UNKNOWN_MEMBER_ID, immediate, type Result } from './types.ts';

function heartbeatResponse(errorCode: ErrorCode): HeartbeatResponse {
  return { throttleTimeMs: 0, errorCode };
}

export function heartbeat(e: RebalanceEngine, req: HeartbeatRequest): Result<HeartbeatResponse> {
  const group = e.groups.get(req.groupId);
  if (!group) return immediate(heartbeatResponse(ErrorCode.UNKNOWN_MEMBER_ID));
  if (group.is('Dead')) return immediate(heartbeatResponse(ErrorCode.COORDINATOR_NOT_AVAILABLE));
  const memberError = group.validateMember(req.memberId, req.groupInstanceId);
  if (memberError !== ErrorCode.NONE) return immediate(heartbeatResponse(memberError));
  if (req.generationId !== group.generationId) return immediate(heartbeatResponse(ErrorCode.ILLEGAL_GENERATION));
  switch (group.state) {
    case 'PreparingRebalance':
      e.rescheduleHeartbeat(group, group.member(req.memberId));
      return immediate(heartbeatResponse(ErrorCode.REBALANCE_IN_PROGRESS));
    case 'CompletingRebalance':
    case 'Stable':
      // Heartbeats may start right after the JoinGroup response (CompletingRebalance).
      e.rescheduleHeartbeat(group, group.member(req.memberId));
      return immediate(heartbeatResponse(ErrorCode.NONE));
    default:
      return immediate(heartbeatResponse(ErrorCode.UNKNOWN_MEMBER_ID));
  }
}

/**
 * LeaveGroup. `apiVersion` 0-2 leave with `memberId` and get one top-level error; 3+ leave a
 * batch (`members`, by member id or — administratively — by group.instance.id alone) and get
 * per-member errors.
 */
export function leaveGroup(e: RebalanceEngine, req: LeaveGroupRequest, apiVersion: number): Result<LeaveGroupResponse> {
  const identities: MemberIdentity[] =
    apiVersion <= 2 ? [{ memberId: req.memberId, groupInstanceId: null, reason: null }] : req.members;
  const response = (errorCode: ErrorCode, members: MemberResponse[]): LeaveGroupResponse => {
    if (apiVersion <= 2 && errorCode === ErrorCode.NONE) errorCode = (members[0]?.errorCode ?? ErrorCode.NONE) as ErrorCode;
    return { throttleTimeMs: 0, errorCode, members: apiVersion <= 2 ? [] : members };
  };
  const group = e.groups.get(req.groupId);
  if (!group) return immediate(response(ErrorCode.UNKNOWN_MEMBER_ID, []));
  if (group.is('Dead')) return immediate(response(ErrorCode.COORDINATOR_NOT_AVAILABLE, []));

  let result: Result<void> | null = null;
  const out: MemberResponse[] = [];
  for (const m of identities) {
    const answer = (errorCode: ErrorCode) => out.push({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode });
    if (m.memberId === UNKNOWN_MEMBER_ID) {
      // Administrative removal by group.instance.id.
      const staticId = m.groupInstanceId === null ? null : group.staticMemberId(m.groupInstanceId);
      if (staticId === null) {
        answer(ErrorCode.UNKNOWN_MEMBER_ID);
      } else {
        e.removeCurrentMember(group, staticId);
        answer(ErrorCode.NONE);
      }
    } else if (group.isPendingMember(m.memberId)) {
      group.remove(m.memberId);
      e.cancelHeartbeat(group, m.memberId);
      answer(ErrorCode.NONE);
    } else {
      const error = group.validateMember(m.memberId, m.groupInstanceId);
      if (error === ErrorCode.NONE) e.removeCurrentMember(group, m.memberId);
      answer(error);
    }
  }
  if (out.some((r) => r.errorCode === ErrorCode.NONE)) {
    if (group.is('Stable') || group.is('CompletingRebalance')) result = e.maybePrepareRebalanceOrCompleteJoin(group);
    else if (group.is('PreparingRebalance')) result = e.maybeCompleteJoinPhase(group);
  }
  const res = response(ErrorCode.NONE, out);
  const inner = result;
  if (!inner) return immediate(res);
  return { records: inner.records, complete: (err) => (inner.complete(err), res) };
}
