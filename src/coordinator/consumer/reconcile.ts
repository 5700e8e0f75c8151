/**
 * Kafka's CurrentAssignmentBuilder: moves a member's current assignment one step toward its
 * target, never assigning a partition that another member still owns (assigned to it or
 * pending its revocation). Pure: returns the updated member fields.
 *
 * States: STABLE (reconciled to its epoch), UNREVOKED_PARTITIONS (must revoke partitions first;
 * it stays at its epoch until a heartbeat's owned partitions no longer contain them),
 * UNRELEASED_PARTITIONS (at the target epoch, waiting for partitions other members still own).
 */
import { fromSets, toSets, type Assignment } from './assignment.ts';
import type { ConsumerMember } from './group.ts';
import { MemberState } from './records.ts';

export interface ReconcileInput {
  member: ConsumerMember;
  targetEpoch: number;
  target: Assignment;
  /** True if the partition is owned by any member (assigned or pending revocation). */
  isOwned: (topicId: string, partition: number) => boolean;
  /** The heartbeat's owned partitions, or null if the request did not carry them. */
  owned: readonly { topicId: string; partitions: readonly number[] }[] | null;
}

export type ReconcileResult = Pick<ConsumerMember, 'memberEpoch' | 'previousMemberEpoch' | 'state' | 'assigned' | 'pendingRevocation'>;

/** Thrown for a member in an unknown state that still reports partitions (FENCED_MEMBER_EPOCH). */
export class FencedByUnknownState extends Error {}

function ownsAny(owned: ReconcileInput['owned'], revoked: Map<string, Set<number>>): boolean {
  if (owned === null) return true;
  for (const tp of owned) {
    const s = revoked.get(tp.topicId);
    if (s && tp.partitions.some((p) => s.has(p))) return true;
  }
  return false;
}

function withEpoch(m: ConsumerMember, epoch: number): { memberEpoch: number; previousMemberEpoch: number } {
  // Kafka's Builder.updateMemberEpoch: the previous epoch is the one before the update.
  return { memberEpoch: epoch, previousMemberEpoch: m.memberEpoch };
}

export function isReconciledTo(m: ConsumerMember, targetEpoch: number): boolean {
  return m.state === MemberState.STABLE && m.memberEpoch === targetEpoch;
}

export function reconcile(input: ReconcileInput): ReconcileResult {
  const m = input.member;
  const same: ReconcileResult = {
    memberEpoch: m.memberEpoch,
    previousMemberEpoch: m.previousMemberEpoch,
    state: m.state,
    assigned: m.assigned,
    pendingRevocation: m.pendingRevocation,
  };
  switch (m.state) {
    case MemberState.STABLE:
      return m.memberEpoch !== input.targetEpoch ? next(input, m.memberEpoch) : same;
    case MemberState.UNREVOKED_PARTITIONS:
      if (ownsAny(input.owned, toSets(m.pendingRevocation))) return same;
      return next(input, m.memberEpoch + 1);
    case MemberState.UNRELEASED_PARTITIONS:
      return next(input, m.memberEpoch);
    default:
      if (input.owned === null || input.owned.some((tp) => tp.partitions.length > 0)) {
        throw new FencedByUnknownState('The consumer group member is in a unknown state. The member must abandon all its partitions and rejoin.');
      }
      return next(input, input.targetEpoch);
  }
}

function next(input: ReconcileInput, memberEpoch: number): ReconcileResult {
  const m = input.member;
  const current = toSets(m.assigned);
  const target = toSets(input.target);
  const topics = new Set([...current.keys(), ...target.keys()]);
  const assigned = new Map<string, Set<number>>();
  const revoke = new Map<string, Set<number>>();
  const pendingAssign = new Map<string, Set<number>>();
  let unreleased = false;
  for (const t of topics) {
    const tgt = target.get(t) ?? new Set<number>();
    const cur = current.get(t) ?? new Set<number>();
    const keep = new Set([...cur].filter((p) => tgt.has(p)));
    const rev = new Set([...cur].filter((p) => !keep.has(p)));
    const add = new Set<number>();
    for (const p of tgt) {
      if (keep.has(p)) continue;
      if (input.isOwned(t, p)) unreleased = true;
      else add.add(p);
    }
    if (keep.size) assigned.set(t, keep);
    if (rev.size) revoke.set(t, rev);
    if (add.size) pendingAssign.set(t, add);
  }
  if (revoke.size > 0 && ownsAny(input.owned, revoke)) {
    return { ...withEpoch(m, memberEpoch), state: MemberState.UNREVOKED_PARTITIONS, assigned: fromSets(assigned), pendingRevocation: fromSets(revoke) };
  }
  for (const [t, ps] of pendingAssign) {
    let s = assigned.get(t);
    if (!s) assigned.set(t, (s = new Set()));
    for (const p of ps) s.add(p);
  }
  return {
    ...withEpoch(m, input.targetEpoch),
    state: unreleased ? MemberState.UNRELEASED_PARTITIONS : MemberState.STABLE,
    assigned: fromSets(assigned),
    pendingRevocation: {},
  };
}
