/**
 * JoinGroup (Kafka's classicGroupJoin and its helpers): new dynamic members (MEMBER_ID_REQUIRED
 * from v4), new and rejoining static members, existing members in every state, the group size
 * limit, and the initial rebalance delay.
 */
import { ErrorCode } from '../../common/errors.ts';
import type { JoinGroupRequest } from '../../protocol/messages/join-group-request.generated.ts';
import type { JoinGroupResponse } from '../../protocol/messages/join-group-response.generated.ts';
import { ClassicGroup, joinError, joinResponse } from './group.ts';
import { ClassicGroupMember, type Protocol } from './members.ts';
import type { RebalanceEngine } from './rebalance.ts';
import {
  EMPTY_RESULT,
  UNKNOWN_MEMBER_ID,
  appendErrorToResponseError,
  appended,
  type RequestContext,
  type Respond,
  type Result,
} from './types.ts';

export function joinGroup(
  e: RebalanceEngine,
  ctx: RequestContext,
  req: JoinGroupRequest,
  respond: Respond<JoinGroupResponse>,
): Result<void> {
  const isUnknownMember = req.memberId === UNKNOWN_MEMBER_ID;
  let group = e.groups.get(req.groupId);
  const isNewGroup = !group;
  if (!group) {
    // A group is created by a member without id; a member with an id needs an existing group.
    if (!isUnknownMember) {
      respond(joinError(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
      return EMPTY_RESULT;
    }
    group = new ClassicGroup(req.groupId, e.clock);
    e.groups.set(req.groupId, group);
  }
  const protocols: Protocol[] = req.protocols.map((p) => ({ name: p.name, metadata: p.metadata }));
  // JoinGroup v0 has no rebalance timeout: Kafka uses the session timeout.
  const rebalanceTimeoutMs = ctx.apiVersion === 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs;
  const join: Join = { ctx, req, protocols, rebalanceTimeoutMs, respond };

  let result: Result<void>;
  if (!acceptJoiningMember(e, group, req.memberId)) {
    group.remove(req.memberId);
    respond(joinError(ErrorCode.GROUP_MAX_SIZE_REACHED, UNKNOWN_MEMBER_ID));
    result = EMPTY_RESULT;
  } else if (isUnknownMember) {
    result = joinNewMember(e, group, join);
  } else {
    result = joinExistingMember(e, group, join);
  }

  if (isNewGroup && result.records.length === 0) {
    // Make the new group durable (Kafka appends an empty GroupMetadata record). If that fails,
    // Kafka reverts to before the group existed: the group goes, and who waits in it is told.
    const g = group;
    result.complete(null);
    return appended([e.groupRecord(g, new Map())], (err) => {
      if (err === null || err === ErrorCode.NONE) return;
      const error = joinError(appendErrorToResponseError(err), UNKNOWN_MEMBER_ID);
      respond(error);
      if (e.groups.get(g.groupId) !== g || !g.is('Empty') && !g.is('PreparingRebalance')) return;
      for (const m of g.members.values()) g.completeJoin(m, error);
      e.cancelGroupTimers(g.groupId);
      e.groups.delete(g.groupId);
    });
  }
  return result;
}

interface Join {
  ctx: RequestContext;
  req: JoinGroupRequest;
  protocols: Protocol[];
  rebalanceTimeoutMs: number;
  respond: Respond<JoinGroupResponse>;
}

function acceptJoiningMember(e: RebalanceEngine, group: ClassicGroup, memberId: string): boolean {
  switch (group.state) {
    case 'Empty':
    case 'Dead':
      return true;
    case 'PreparingRebalance':
      // Counting members awaiting join (not all members) lets the last rejoiners be kicked out
      // when group.max.size was lowered.
      return (group.members.get(memberId)?.isAwaitingJoin ?? false) || group.numMembersAwaitingJoin < e.config.maxGroupSize;
    case 'CompletingRebalance':
    case 'Stable':
      return group.hasMember(memberId) || group.members.size < e.config.maxGroupSize;
  }
}

function joinNewMember(e: RebalanceEngine, group: ClassicGroup, j: Join): Result<void> {
  if (group.is('Dead')) {
    j.respond(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, UNKNOWN_MEMBER_ID));
    return EMPTY_RESULT;
  }
  if (!group.supportsProtocols(j.req.protocolType, j.protocols)) {
    j.respond(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, UNKNOWN_MEMBER_ID));
    return EMPTY_RESULT;
  }
  const instanceId = j.req.groupInstanceId;
  // Kafka: static members get "<group.instance.id>-<uuid>", dynamic ones "<client.id>-<uuid>".
  const newMemberId = `${instanceId ?? j.ctx.clientId}-${e.newUuid()}`;
  if (instanceId !== null) {
    const existing = group.staticMemberId(instanceId);
    if (existing !== null) return updateStaticMember(e, group, j, existing, newMemberId);
    return addMemberThenRebalanceOrCompleteJoin(e, group, j, newMemberId);
  }
  if (j.ctx.apiVersion >= 4) {
    // The member must come back with its id; until then it is pending (and may expire).
    group.pendingJoinMembers.add(newMemberId);
    e.schedulePendingMemberExpiry(group, newMemberId, j.req.sessionTimeoutMs);
    j.respond(joinError(ErrorCode.MEMBER_ID_REQUIRED, newMemberId));
    return EMPTY_RESULT;
  }
  return addMemberThenRebalanceOrCompleteJoin(e, group, j, newMemberId);
}

function joinExistingMember(e: RebalanceEngine, group: ClassicGroup, j: Join): Result<void> {
  const memberId = j.req.memberId;
  if (group.is('Dead')) {
    j.respond(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, memberId));
    return EMPTY_RESULT;
  }
  if (!group.supportsProtocols(j.req.protocolType, j.protocols)) {
    j.respond(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, memberId));
    return EMPTY_RESULT;
  }
  if (group.isPendingMember(memberId)) {
    if (j.req.groupInstanceId !== null) {
      // Kafka throws IllegalStateException here (a pending member is never static).
      j.respond(joinError(ErrorCode.UNKNOWN_SERVER_ERROR, memberId));
      return EMPTY_RESULT;
    }
    return addMemberThenRebalanceOrCompleteJoin(e, group, j, memberId);
  }
  const error = group.validateMember(memberId, j.req.groupInstanceId);
  if (error !== ErrorCode.NONE) {
    j.respond(joinError(error, memberId));
    return EMPTY_RESULT;
  }
  const member = group.member(memberId);
  switch (group.state) {
    case 'PreparingRebalance':
      return updateMemberThenRebalanceOrCompleteJoin(e, group, member, j);
    case 'CompletingRebalance':
      if (member.matches(j.protocols)) {
        // Same metadata (it probably missed the JoinGroup response): answer the current generation.
        j.respond(currentGenerationResponse(group, memberId, group.isLeader(memberId)));
        return EMPTY_RESULT;
      }
      return updateMemberThenRebalanceOrCompleteJoin(e, group, member, j);
    case 'Stable':
      // The leader rejoining forces a rebalance (e.g. topic metadata changed); so do new metadata.
      if (group.isLeader(memberId) || !member.matches(j.protocols)) {
        return updateMemberThenRebalanceOrCompleteJoin(e, group, member, j);
      }
      j.respond(currentGenerationResponse(group, memberId, false));
      return EMPTY_RESULT;
    default:
      // Empty (or Dead): the member must reset its generation and rejoin.
      j.respond(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
      return EMPTY_RESULT;
  }
}

function currentGenerationResponse(group: ClassicGroup, memberId: string, withMembers: boolean): JoinGroupResponse {
  return joinResponse({
    members: withMembers ? group.currentMembersForLeader() : [],
    memberId,
    generationId: group.generationId,
    protocolName: group.protocolName,
    protocolType: group.protocolType,
    leader: group.leaderId ?? '',
  });
}

function addMemberThenRebalanceOrCompleteJoin(e: RebalanceEngine, group: ClassicGroup, j: Join, memberId: string): Result<void> {
  const member = new ClassicGroupMember({
    memberId,
    groupInstanceId: j.req.groupInstanceId,
    clientId: j.ctx.clientId,
    clientHost: j.ctx.clientHost,
    rebalanceTimeoutMs: j.rebalanceTimeoutMs,
    sessionTimeoutMs: j.req.sessionTimeoutMs,
    protocolType: j.req.protocolType,
    protocols: j.protocols,
  });
  member.isNew = true;
  // A member joining during the initial delay extends it.
  if (group.is('PreparingRebalance') && group.previousState === 'Empty') group.newMemberAdded = true;
  group.add(member, j.respond);
  // A new member's parked JoinGroup cannot heartbeat: time it out (the client retries if alive).
  e.rescheduleHeartbeat(group, member, e.config.newMemberJoinTimeoutMs);
  return e.maybePrepareRebalanceOrCompleteJoin(group);
}

function updateMemberThenRebalanceOrCompleteJoin(
  e: RebalanceEngine,
  group: ClassicGroup,
  member: ClassicGroupMember,
  j: Join,
): Result<void> {
  group.updateMember(member, j.protocols, j.rebalanceTimeoutMs, j.req.sessionTimeoutMs, j.respond);
  return e.maybePrepareRebalanceOrCompleteJoin(group);
}

/** A known static member rejoined without its member id: it gets a new id, the old one is fenced. */
function updateStaticMember(e: RebalanceEngine, group: ClassicGroup, j: Join, oldMemberId: string, newMemberId: string): Result<void> {
  const instanceId = j.req.groupInstanceId!;
  const currentLeader = group.leaderId;
  const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId);
  e.cancelHeartbeat(group, oldMemberId);
  e.rescheduleHeartbeat(group, member);
  const oldRebalanceTimeoutMs = member.rebalanceTimeoutMs;
  const oldSessionTimeoutMs = member.sessionTimeoutMs;
  const oldProtocols = member.protocols;
  group.updateMember(member, j.protocols, j.rebalanceTimeoutMs, j.req.sessionTimeoutMs, j.respond);

  switch (group.state) {
    case 'Stable': {
      if ((group.protocolName ?? '') !== group.selectProtocol()) return e.maybePrepareRebalanceOrCompleteJoin(group);
      // The selected protocol stays: no rebalance, just persist the new member id.
      const record = e.groupRecord(group, group.groupAssignment());
      return appended([record], (err) => {
        if (err !== null && err !== ErrorCode.NONE) {
          // Revert to the old member id.
          group.updateMember(member, oldProtocols, oldRebalanceTimeoutMs, oldSessionTimeoutMs, null);
          const old = group.replaceStaticMember(instanceId, newMemberId, oldMemberId);
          e.cancelHeartbeat(group, newMemberId);
          e.rescheduleHeartbeat(group, old);
          j.respond(
            joinResponse({
              errorCode: appendErrorToResponseError(err),
              memberId: UNKNOWN_MEMBER_ID,
              generationId: group.generationId,
              protocolName: group.protocolName,
              protocolType: group.protocolType,
              leader: currentLeader ?? '',
            }),
          );
          return;
        }
        if (j.ctx.apiVersion >= 9) {
          // KIP-814: the leader gets the members but skips the assignment.
          const isLeader = group.isLeader(newMemberId);
          group.completeJoin(member, {
            ...currentGenerationResponse(group, newMemberId, isLeader),
            skipAssignment: isLeader,
          });
        } else {
          group.completeJoin(member, { ...currentGenerationResponse(group, newMemberId, false), leader: currentLeader ?? '' });
        }
      });
    }
    case 'CompletingRebalance':
      // The leader may already have the old id in its member list: rebalance.
      return e.prepareRebalance(group);
    case 'PreparingRebalance':
      return e.maybeCompleteJoinPhase(group);
    default:
      throw new Error(`group ${group.groupId}: static member rejoined in state ${group.state}`);
  }
}
