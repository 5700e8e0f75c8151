/** DescribeGroups, ListGroups and DeleteGroups for classic groups. */
import { ErrorCode } from '../../common/errors.ts';
import type { DescribedGroup } from '../../protocol/messages/describe-groups-response.generated.ts';
import type { ListedGroup } from '../../protocol/messages/list-groups-response.generated.ts';
import type { DeletableGroupResult } from '../../protocol/messages/delete-groups-response.generated.ts';
import { EMPTY_ASSIGNMENT } from './members.ts';
import type { OffsetStore } from './offsets.ts';
import type { RebalanceEngine } from './rebalance.ts';
import type { GroupRecord } from './records.ts';
import { appendErrorToResponseError, type Result } from './types.ts';

/** Kafka's authorizedOperations default: not requested. */
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

/**
 * Describes groups. An unknown group is described as Kafka does up to DescribeGroups v5: state
 * "Dead", no error. Member metadata and assignments are shown only for a Stable group.
 */
export function describeGroups(e: RebalanceEngine, groupIds: string[]): DescribedGroup[] {
  return groupIds.map((groupId) => {
    const base: DescribedGroup = {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: 'Dead',
      protocolType: '',
      protocolData: '',
      members: [],
      authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    };
    const group = e.groups.get(groupId);
    if (!group) return base;
    const stable = group.is('Stable');
    return {
      ...base,
      groupState: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: stable ? (group.protocolName ?? '') : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? m.metadata(group.protocolName) : EMPTY_ASSIGNMENT,
        memberAssignment: stable ? m.assignment : EMPTY_ASSIGNMENT,
      })),
    };
  });
}

/**
 * Lists groups, filtered by state (ListGroups v4+) and type (v5+); both filters are
 * case-insensitive, as in Kafka 4. Classic groups have type "classic".
 */
export function listGroups(e: RebalanceEngine, statesFilter: string[] = [], typesFilter: string[] = []): ListedGroup[] {
  const states = new Set(statesFilter.map((s) => s.toLowerCase()));
  const types = new Set(typesFilter.map((s) => s.toLowerCase()));
  const out: ListedGroup[] = [];
  for (const g of e.groups.values()) {
    if (g.is('Dead')) continue;
    if (states.size > 0 && !states.has(g.state.toLowerCase())) continue;
    if (types.size > 0 && !types.has('classic')) continue;
    out.push({ groupId: g.groupId, protocolType: g.protocolType ?? '', groupState: g.state, groupType: 'classic' });
  }
  return out;
}

/**
 * Deletes Empty groups with their offsets (offset tombstones, then the group tombstone). A
 * deleted group is Dead at once (joins get COORDINATOR_NOT_AVAILABLE) and removed when the
 * tombstones are durable; if the append fails it is Empty again.
 */
export function deleteGroups(
  e: RebalanceEngine,
  store: OffsetStore,
  apply: (r: GroupRecord) => void,
  groupIds: string[],
): Result<DeletableGroupResult[]> {
  const results: DeletableGroupResult[] = [];
  const records: GroupRecord[] = [];
  const deleted = new Set<string>();
  for (const groupId of groupIds) {
    const group = e.groups.get(groupId);
    let errorCode: ErrorCode = ErrorCode.NONE;
    if (!group || group.is('Dead') || deleted.has(groupId)) errorCode = ErrorCode.GROUP_ID_NOT_FOUND;
    else if (!group.is('Empty')) errorCode = ErrorCode.NON_EMPTY_GROUP;
    else {
      records.push(...store.tombstones(groupId), { type: 'group', groupId, value: null });
      group.transitionTo('Dead');
      deleted.add(groupId);
    }
    results.push({ groupId, errorCode });
  }
  return {
    records,
    complete(err) {
      if (err !== null && err !== ErrorCode.NONE) {
        const mapped = appendErrorToResponseError(err);
        for (const id of deleted) {
          const g = e.groups.get(id);
          if (g?.is('Dead')) g.state = 'Empty';
        }
        return results.map((r) => (deleted.has(r.groupId) ? { ...r, errorCode: mapped } : r));
      }
      for (const r of records) apply(r);
      return results;
    },
  };
}
