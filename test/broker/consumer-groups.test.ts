/**
 * KIP-848 consumer groups through the wire, with raw requests: ConsumerGroupHeartbeat (v1,
 * client-generated member ids as the Java consumer makes them: a random UUID in Kafka's base64
 * form; v0 server-generated ids), server-side assignment by the uniform assignor, the
 * revoke-before-reassign handshake, a lost response (previous epoch), FENCED_MEMBER_EPOCH /
 * UNKNOWN_MEMBER_ID / UNSUPPORTED_ASSIGNOR / INVALID_REQUEST / GROUP_ID_NOT_FOUND, static members
 * (UNRELEASED_INSTANCE_ID, temporary leave -2), leaving with epoch -1, ConsumerGroupDescribe,
 * OffsetCommit v9 with member epochs (STALE_MEMBER_EPOCH; v8 UNSUPPORTED_VERSION), OffsetFetch v9,
 * DeleteGroups, a classic group id with members, ListGroups v5 types and states, and (in-process
 * only, with a 400 ms session) the session timeout.
 *
 * Validated against Apache Kafka 4.3.1 (BOOTSTRAP_SERVERS, started with
 * `--config group.initial.rebalance.delay.ms=0`); the session test was checked there once with
 * group.consumer.session.timeout.ms=10000. Kafka computes a new target assignment a moment after
 * the heartbeat that changed the group (the group is Assigning meanwhile), so the tests heartbeat
 * until it comes; Tributary computes it at once. Real-client KIP-848 tests:
 * compat/tests/java-kip848.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  createTopic,
  E,
  eventually,
  startTarget,
  uniqueTopic,
  type Any,
  tributaryOnly,
  type RawClient,
  type Target,
} from './helpers.ts';

const K = { OffsetCommit: 8, OffsetFetch: 9, FindCoordinator: 10, JoinGroup: 11, LeaveGroup: 13, ListGroups: 16, DeleteGroups: 42, ConsumerGroupHeartbeat: 68, ConsumerGroupDescribe: 69 } as const;
const ERR = {
  ...E,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  FENCED_MEMBER_EPOCH: 110,
  UNRELEASED_INSTANCE_ID: 111,
  UNSUPPORTED_ASSIGNOR: 112,
  STALE_MEMBER_EPOCH: 113,
} as const;

/** Coordinator errors a client retries (loading, not available, not coordinator). */
const RETRIABLE = new Set([14, 15, 16]);

/** Repeats a group request while it answers a retriable coordinator error (Kafka loads __consumer_offsets lazily). */
async function retrying<T>(send: () => Promise<T>, codes: (res: T) => number[]): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await send();
    if (!codes(res).some((code) => RETRIABLE.has(code)) || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A member id as the Java consumer generates it (Uuid.randomUuid().toString()). */
const newMemberId = (): string => randomBytes(16).toString('base64url');

type Owned = { topicId: string; partitions: number[] }[];

/** Partitions of one topic in a heartbeat or describe assignment, sorted. */
function partitionsOf(assignment: { topicPartitions: { topicId: string; partitions: number[] }[] } | null | undefined, topicId: string): number[] {
  if (!assignment) return [];
  return assignment.topicPartitions.filter((t) => t.topicId === topicId).flatMap((t) => t.partitions).sort((a, b) => a - b);
}

/** One KIP-848 member driven by hand: tracks its id, epoch and the partitions it owns. */
class Member {
  memberId = newMemberId();
  epoch = 0;
  /** Latest assignment received (the client applies it: owned = assigned). */
  owned: number[] = [];
  last: Any;

  readonly c: RawClient;
  readonly group: string;
  readonly topic: string;
  readonly topicId: string;

  constructor(c: RawClient, group: string, topic: string, topicId: string) {
    this.c = c;
    this.group = group;
    this.topic = topic;
    this.topicId = topicId;
  }

  ownedTopicPartitions(parts = this.owned): Owned {
    return parts.length ? [{ topicId: this.topicId, partitions: parts }] : [];
  }

  async send(fields: Record<string, unknown>): Promise<Any> {
    return this.c.request(K.ConsumerGroupHeartbeat, 1, {
      groupId: this.group,
      memberId: this.memberId,
      memberEpoch: this.epoch,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: -1,
      subscribedTopicNames: null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: null,
      ...fields,
    });
  }

  /** Applies a successful response: new epoch, and the assignment if one came. */
  apply(res: Any): Any {
    this.last = res;
    if (res.errorCode === ERR.NONE) {
      this.epoch = res.memberEpoch;
      if (res.assignment) this.owned = partitionsOf(res.assignment, this.topicId);
    }
    return res;
  }

  async join(extra: Record<string, unknown> = {}): Promise<Any> {
    const res = await retrying(
      () => this.send({ memberEpoch: 0, rebalanceTimeoutMs: 30_000, subscribedTopicNames: [this.topic], topicPartitions: [], ...extra }),
      (r: Any) => [r.errorCode],
    );
    return this.apply(res);
  }

  /** A heartbeat reporting what it owns now (or `owned: null`: nothing changed). */
  async heartbeat(owned: number[] | null = this.owned): Promise<Any> {
    return this.apply(await this.send({ topicPartitions: owned === null ? null : this.ownedTopicPartitions(owned) }));
  }

  async leave(): Promise<Any> {
    return this.apply(await this.send({ memberEpoch: -1 }));
  }
}

async function describeGroups(c: RawClient, groupIds: string[]): Promise<Any[]> {
  const res = await retrying(
    () => c.request(K.ConsumerGroupDescribe, 0, { groupIds, includeAuthorizedOperations: false }),
    (r: Any) => r.groups.map((g: Any) => g.errorCode),
  );
  return res.groups;
}

function commitV9(group: string, topic: string, memberId: string, epoch: number, offsets: [number, number][]): Any {
  return {
    groupId: group,
    generationIdOrMemberEpoch: epoch,
    memberId,
    groupInstanceId: null,
    retentionTimeMs: -1n,
    topics: [
      {
        name: topic,
        partitions: offsets.map(([partitionIndex, offset]) => ({
          partitionIndex,
          committedOffset: BigInt(offset),
          committedLeaderEpoch: -1,
          commitTimestamp: -1n,
          committedMetadata: '',
        })),
      },
    ],
  };
}

const commitCodes = (res: Any): number[] => res.topics.flatMap((t: Any) => t.partitions.map((p: Any) => p.errorCode));

describe('KIP-848 consumer groups over the wire', () => {
  let target: Target;
  let c: RawClient;
  const topic = uniqueTopic('cg');
  let topicId: string;

  before(async () => {
    target = await startTarget({ config: { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '4' } });
    c = await target.connect();
    ({ topicId } = await createTopic(c, topic, 4));
    await eventually(async () => {
      const r = await c.request(K.FindCoordinator, 3, { key: 'warm-up', keyType: 0, coordinatorKeys: [] });
      return r.errorCode === E.NONE;
    }, 'the group coordinator is ready', 30_000);
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  test('a member joins with epoch 0 and gets an epoch and every partition of its topic', async () => {
    const group = uniqueTopic('cg-join');
    const m = new Member(c, group, topic, topicId);
    const res = await m.join();
    assert.equal(res.errorCode, ERR.NONE, res.errorMessage);
    assert.equal(res.memberId, m.memberId, 'v1: the client-generated member id is kept');
    assert.ok(res.memberEpoch >= 1, `epoch ${res.memberEpoch}`);
    assert.ok(res.heartbeatIntervalMs > 0);
    // Kafka may answer the first join before the assignment is computed: heartbeat until it comes
    await eventually(async () => {
      if (m.owned.length === 4) return true;
      await m.heartbeat();
      assert.equal(m.last.errorCode, ERR.NONE, m.last.errorMessage);
      return m.owned.length === 4;
    }, 'the member is assigned all 4 partitions');
    assert.deepEqual(m.owned, [0, 1, 2, 3]);

    const [d] = await describeGroups(c, [group]);
    assert.equal(d.errorCode, ERR.NONE);
    assert.equal(d.groupState, 'Stable');
    assert.equal(d.assignorName, 'uniform');
    assert.equal(d.groupEpoch, m.epoch);
    assert.equal(d.assignmentEpoch, m.epoch);
    assert.equal(d.members.length, 1);
    const dm = d.members[0];
    assert.equal(dm.memberId, m.memberId);
    assert.equal(dm.memberEpoch, m.epoch);
    assert.equal(dm.clientId, 'raw-client');
    assert.deepEqual(dm.subscribedTopicNames, [topic]);
    assert.deepEqual(dm.assignment.topicPartitions.map((t: Any) => [t.topicId, t.topicName, [...t.partitions].sort()]), [[topicId, topic, [0, 1, 2, 3]]]);
    assert.deepEqual(partitionsOf(dm.targetAssignment, topicId), [0, 1, 2, 3]);

    const left = await m.leave();
    assert.equal(left.errorCode, ERR.NONE);
    assert.equal(left.memberId, m.memberId);
    assert.equal(left.memberEpoch, -1);
  });

  test('v1 needs a client-generated member id: an empty one is INVALID_REQUEST', async () => {
    const m = new Member(c, uniqueTopic('cg-noid'), topic, topicId);
    m.memberId = '';
    const res = await m.join();
    assert.equal(res.errorCode, ERR.INVALID_REQUEST);
  });

  test('a second member: partitions move only after the first acknowledges their revocation', async () => {
    const group = uniqueTopic('cg-two');
    const a = new Member(c, group, topic, topicId);
    await a.join();
    await eventually(async () => (await a.heartbeat()) && a.owned.length === 4, 'a owns all 4');
    const epochA = a.epoch;

    const b = new Member(c, group, topic, topicId);
    const joined = await b.join();
    assert.equal(joined.errorCode, ERR.NONE, joined.errorMessage);
    assert.ok(b.epoch >= epochA, `b epoch ${b.epoch} >= a epoch ${epochA}`);
    // Kafka 4.3 may compute the new target assignment a moment later (b first gets the old
    // assignment epoch, the group is Assigning); either way b gets nothing that a still owns
    await eventually(async () => {
      await b.heartbeat();
      assert.equal(b.last.errorCode, ERR.NONE);
      assert.deepEqual(b.owned, [], 'b is given nothing while a has not revoked');
      return b.epoch > epochA;
    }, 'b reaches the new group epoch');
    for (let i = 0; i < 2; i++) {
      await b.heartbeat();
      assert.deepEqual(b.owned, [], 'b is given nothing while a has not revoked');
    }

    // a learns what it must give up: its assignment shrinks, its epoch stays until it acknowledges
    const revoke = await a.send({ topicPartitions: a.ownedTopicPartitions() });
    assert.equal(revoke.errorCode, ERR.NONE);
    assert.equal(revoke.memberEpoch, epochA, 'epoch unchanged while revoking');
    const kept = partitionsOf(revoke.assignment, topicId);
    assert.equal(kept.length, 2, `a keeps 2: ${kept}`);
    // still owned by a (not acknowledged): b waits
    await b.heartbeat();
    assert.deepEqual(b.owned, []);
    // a heartbeat without owned partitions (null) is not an acknowledgement
    const noAck = await a.send({ topicPartitions: null });
    assert.equal(noAck.errorCode, ERR.NONE);
    assert.equal(noAck.memberEpoch, epochA);
    await b.heartbeat();
    assert.deepEqual(b.owned, []);

    // a acknowledges: it now owns only `kept`, and moves to the new epoch
    a.owned = kept;
    const ack = await a.heartbeat();
    assert.equal(ack.errorCode, ERR.NONE);
    assert.equal(ack.memberEpoch, b.epoch, 'a reaches the group epoch');
    // b gets the released partitions
    await eventually(async () => (await b.heartbeat()) && b.owned.length === 2, 'b is assigned 2 partitions');
    assert.deepEqual([...a.owned, ...b.owned].sort(), [0, 1, 2, 3], 'disjoint and complete');

    const [d] = await describeGroups(c, [group]);
    assert.equal(d.groupState, 'Stable');
    assert.deepEqual(
      d.members.map((m: Any) => [m.memberId, m.memberEpoch, partitionsOf(m.assignment, topicId)]).sort(),
      [[a.memberId, a.epoch, a.owned], [b.memberId, b.epoch, b.owned]].sort(),
    );

    // b leaves: a is given everything back with a new epoch
    const left = await b.leave();
    assert.equal(left.memberEpoch, -1);
    await eventually(async () => (await a.heartbeat()) && a.owned.length === 4, 'a owns all 4 again');
    assert.ok(a.epoch > b.epoch);
    await a.leave();
    const [empty] = await describeGroups(c, [group]);
    assert.equal(empty.errorCode, ERR.NONE);
    assert.equal(empty.groupState, 'Empty');
    assert.deepEqual(empty.members, []);
  });

  test('a group still reconciling is described as Reconciling', async () => {
    const group = uniqueTopic('cg-reconciling');
    const a = new Member(c, group, topic, topicId);
    await a.join();
    await eventually(async () => (await a.heartbeat()) && a.owned.length === 4, 'a owns all 4');
    const b = new Member(c, group, topic, topicId);
    await b.join();
    const d = await eventually(async () => {
      await b.heartbeat(); // Kafka computes the target assignment on a later heartbeat
      const [x] = await describeGroups(c, [group]);
      return x.groupState === 'Reconciling' ? x : undefined;
    }, 'Reconciling');
    assert.equal(d.members.length, 2);
    const da = d.members.find((m: Any) => m.memberId === a.memberId);
    assert.equal(partitionsOf(da.assignment, topicId).length, 4, 'a still owns 4');
    assert.equal(partitionsOf(da.targetAssignment, topicId).length, 2, 'a is to keep 2');
    await a.leave();
    await b.leave();
  });

  test('FENCED_MEMBER_EPOCH for a wrong epoch, UNKNOWN_MEMBER_ID for an unknown member', async () => {
    const group = uniqueTopic('cg-fenced');
    const m = new Member(c, group, topic, topicId);
    await m.join();
    assert.equal(m.last.errorCode, ERR.NONE);
    const ahead = await m.send({ memberEpoch: m.epoch + 1 });
    assert.equal(ahead.errorCode, ERR.FENCED_MEMBER_EPOCH);
    const farAhead = await m.send({ memberEpoch: m.epoch + 5 });
    assert.equal(farAhead.errorCode, ERR.FENCED_MEMBER_EPOCH);
    const stranger = await m.send({ memberId: newMemberId(), memberEpoch: m.epoch });
    assert.equal(stranger.errorCode, ERR.UNKNOWN_MEMBER_ID);
    // the real member is still there
    const ok = await m.heartbeat();
    assert.equal(ok.errorCode, ERR.NONE);
    await m.leave();
    const gone = await m.send({ memberEpoch: 1 });
    assert.equal(gone.errorCode, ERR.UNKNOWN_MEMBER_ID, 'a member that left is unknown');
  });

  test('UNSUPPORTED_ASSIGNOR for an unknown server assignor; range and uniform are known', async () => {
    const group = uniqueTopic('cg-assignor');
    const bad = new Member(c, group, topic, topicId);
    const res = await bad.join({ serverAssignor: 'no-such-assignor' });
    assert.equal(res.errorCode, ERR.UNSUPPORTED_ASSIGNOR);
    const range = new Member(c, group, topic, topicId);
    const ok = await range.join({ serverAssignor: 'range' });
    assert.equal(ok.errorCode, ERR.NONE, ok.errorMessage);
    const [d] = await describeGroups(c, [group]);
    assert.equal(d.assignorName, 'range');
    await range.leave();
  });

  test('ConsumerGroupDescribe of an unknown group: GROUP_ID_NOT_FOUND', async () => {
    const unknown = uniqueTopic('cg-nobody');
    const [d] = await describeGroups(c, [unknown]);
    assert.equal(d.groupId, unknown);
    assert.equal(d.errorCode, ERR.GROUP_ID_NOT_FOUND);
  });

  test('OffsetCommit v9 with the member epoch; a stale epoch is STALE_MEMBER_EPOCH, an unknown member UNKNOWN_MEMBER_ID', async () => {
    const group = uniqueTopic('cg-commit');
    const m = new Member(c, group, topic, topicId);
    await m.join();
    await eventually(async () => (await m.heartbeat()) && m.owned.length === 4, 'owns all 4');
    const ok = await retrying(() => c.request(K.OffsetCommit, 9, commitV9(group, topic, m.memberId, m.epoch, [[0, 7], [1, 3]])), commitCodes);
    assert.deepEqual(commitCodes(ok), [ERR.NONE, ERR.NONE]);
    const stale = await c.request(K.OffsetCommit, 9, commitV9(group, topic, m.memberId, m.epoch - 1, [[0, 8]]));
    assert.deepEqual(commitCodes(stale), [ERR.STALE_MEMBER_EPOCH]);
    const ahead = await c.request(K.OffsetCommit, 9, commitV9(group, topic, m.memberId, m.epoch + 1, [[0, 8]]));
    assert.deepEqual(commitCodes(ahead), [ERR.STALE_MEMBER_EPOCH]);
    const stranger = await c.request(K.OffsetCommit, 9, commitV9(group, topic, newMemberId(), m.epoch, [[0, 8]]));
    assert.deepEqual(commitCodes(stranger), [ERR.UNKNOWN_MEMBER_ID]);

    const fetched = await c.request(K.OffsetFetch, 8, {
      groupId: '',
      topics: [],
      groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: [0, 1, 2] }] }],
      requireStable: false,
    });
    assert.equal(fetched.groups[0].errorCode, ERR.NONE);
    assert.deepEqual(
      fetched.groups[0].topics[0].partitions.map((p: Any) => [p.partitionIndex, Number(p.committedOffset)]),
      [[0, 7], [1, 3], [2, -1]],
    );
    await m.leave();
  });

  test('ConsumerGroupHeartbeat for a classic group id with active members: GROUP_ID_NOT_FOUND', async () => {
    const group = uniqueTopic('cg-classic');
    // a classic member with a protocol type other than "consumer" (Kafka would otherwise try an
    // online upgrade of the group, which Tributary does not do)
    const join = (memberId: string) =>
      c.request(K.JoinGroup, 7, {
        groupId: group,
        sessionTimeoutMs: 30_000,
        rebalanceTimeoutMs: 30_000,
        memberId,
        groupInstanceId: null,
        protocolType: 'raw-test',
        protocols: [{ name: 'p', metadata: Buffer.from('m') }],
        reason: null,
      });
    const first = await retrying(() => join(''), (r: Any) => [r.errorCode]);
    const joined = await join(first.memberId);
    assert.equal(joined.errorCode, ERR.NONE);

    const m = new Member(c, group, topic, topicId);
    const res = await m.join();
    // Kafka 4.3: "Cannot upgrade classic group G to consumer group because the group does not
    // use the consumer embedded protocol."; Tributary: "Group G is not a consumer group."
    assert.equal(res.errorCode, ERR.GROUP_ID_NOT_FOUND, res.errorMessage);
    const [d] = await describeGroups(c, [group]);
    assert.equal(d.errorCode, ERR.GROUP_ID_NOT_FOUND);
    await c.request(K.LeaveGroup, 5, { groupId: group, memberId: '', members: [{ memberId: first.memberId, groupInstanceId: null, reason: null }] });
  });

  test('ListGroups v5 lists a consumer group with type "consumer" and its state; types filter', async () => {
    const group = uniqueTopic('cg-list');
    const m = new Member(c, group, topic, topicId);
    await m.join();
    await eventually(async () => (await m.heartbeat()) && m.owned.length === 4, 'owns all 4');
    const list = (typesFilter: string[], statesFilter: string[] = []) =>
      retrying(() => c.request(K.ListGroups, 5, { statesFilter, typesFilter }), (r: Any) => [r.errorCode]);
    const all = await list([]);
    assert.equal(all.errorCode, ERR.NONE);
    const g = all.groups.find((x: Any) => x.groupId === group);
    assert.deepEqual(g && [g.protocolType, g.groupState, g.groupType], ['consumer', 'Stable', 'consumer']);
    const consumers = await list(['consumer']);
    assert.ok(consumers.groups.some((x: Any) => x.groupId === group));
    assert.ok(consumers.groups.every((x: Any) => x.groupType === 'consumer'));
    const classic = await list(['classic']);
    assert.ok(!classic.groups.some((x: Any) => x.groupId === group));
    const stable = await list([], ['Stable']);
    assert.ok(stable.groups.some((x: Any) => x.groupId === group));
    const empty = await list([], ['Empty']);
    assert.ok(!empty.groups.some((x: Any) => x.groupId === group));
    const anyCase = await list(['CONSUMER'], ['stable']);
    assert.ok(anyCase.groups.some((x: Any) => x.groupId === group), 'filters ignore case');
    await m.leave();
    const after = await list(['consumer'], ['Empty']);
    assert.ok(after.groups.some((x: Any) => x.groupId === group), 'Empty after its only member left');
  });
  test('a heartbeat at the previous epoch (a lost response) is accepted only with owned partitions within the assignment', async () => {
    const group = uniqueTopic('cg-lost');
    const a = new Member(c, group, topic, topicId);
    await a.join();
    await eventually(async () => (await a.heartbeat()) && a.owned.length === 4, 'a owns all 4');
    const b = new Member(c, group, topic, topicId);
    await b.join();
    const epochA = a.epoch;
    await eventually(async () => (await b.heartbeat()) && b.epoch > epochA, 'b reaches the new group epoch');
    const revoke = await a.heartbeat();
    const kept = partitionsOf(revoke.assignment, topicId);
    assert.equal(kept.length, 2);
    a.owned = kept;
    const ack = await a.heartbeat();
    assert.ok(ack.memberEpoch > epochA);
    // the client missed that answer and heartbeats again at its previous epoch
    const subset = await a.send({ memberEpoch: epochA, topicPartitions: a.ownedTopicPartitions(kept) });
    assert.equal(subset.errorCode, ERR.NONE, subset.errorMessage);
    assert.equal(subset.memberEpoch, ack.memberEpoch);
    const noOwned = await a.send({ memberEpoch: epochA, topicPartitions: null });
    assert.equal(noOwned.errorCode, ERR.FENCED_MEMBER_EPOCH);
    const tooMany = await a.send({ memberEpoch: epochA, topicPartitions: a.ownedTopicPartitions([0, 1, 2, 3]) });
    assert.equal(tooMany.errorCode, ERR.FENCED_MEMBER_EPOCH);
    const current = await a.heartbeat();
    assert.equal(current.errorCode, ERR.NONE);
    await a.leave();
    await b.leave();
  });

  test('invalid heartbeats: INVALID_REQUEST with Kafka\'s messages; an unknown group at epoch > 0 is GROUP_ID_NOT_FOUND', async () => {
    const m = new Member(c, uniqueTopic('cg-invalid'), topic, topicId);
    const cases: [string, Record<string, unknown>, string][] = [
      ['empty group id', { groupId: '', memberEpoch: 0, rebalanceTimeoutMs: 30_000, subscribedTopicNames: [topic], topicPartitions: [] }, "GroupId can't be empty."],
      ['no rebalance timeout', { memberEpoch: 0, subscribedTopicNames: [topic], topicPartitions: [] }, 'RebalanceTimeoutMs must be provided in first request.'],
      ['no subscription', { memberEpoch: 0, rebalanceTimeoutMs: 30_000, topicPartitions: [] },
        'Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.'],
      ['epoch -2 without an instance id', { memberEpoch: -2 }, "InstanceId can't be null."],
    ];
    for (const [what, fields, message] of cases) {
      const res = await retrying(() => m.send(fields), (r: Any) => [r.errorCode]);
      assert.deepEqual([res.errorCode, res.errorMessage], [ERR.INVALID_REQUEST, message], what);
    }
    const unknown = await retrying(() => m.send({ memberEpoch: 1 }), (r: Any) => [r.errorCode]);
    assert.equal(unknown.errorCode, ERR.GROUP_ID_NOT_FOUND);
  });

  test('v0: a join with an empty member id gets a server-generated one', async () => {
    const group = uniqueTopic('cg-v0');
    const res = await retrying(
      () =>
        c.request(K.ConsumerGroupHeartbeat, 0, {
          groupId: group,
          memberId: '',
          memberEpoch: 0,
          instanceId: null,
          rackId: null,
          rebalanceTimeoutMs: 30_000,
          subscribedTopicNames: [topic],
          serverAssignor: null,
          topicPartitions: [],
        }),
      (r: Any) => [r.errorCode],
    );
    assert.equal(res.errorCode, ERR.NONE, res.errorMessage);
    assert.equal(typeof res.memberId, 'string');
    assert.equal(Buffer.from(res.memberId, 'base64url').length, 16, `a UUID in base64: ${res.memberId}`);
    const m = new Member(c, group, topic, topicId);
    m.memberId = res.memberId;
    m.epoch = res.memberEpoch;
    assert.equal((await m.leave()).errorCode, ERR.NONE);
  });

  test('static members: UNRELEASED_INSTANCE_ID while held; a temporary leave (-2) keeps the assignment for a new member id', async () => {
    const group = uniqueTopic('cg-static');
    const s1 = new Member(c, group, topic, topicId);
    await s1.join({ instanceId: 'inst-1' });
    assert.equal(s1.last.errorCode, ERR.NONE);
    await eventually(async () => (await s1.heartbeat()) && s1.owned.length === 4, 'owns all 4');
    const epoch = s1.epoch;
    const other = new Member(c, group, topic, topicId);
    const held = await other.join({ instanceId: 'inst-1' });
    assert.equal(held.errorCode, ERR.UNRELEASED_INSTANCE_ID);

    const away = await s1.send({ memberEpoch: -2, instanceId: 'inst-1' });
    assert.deepEqual([away.errorCode, away.memberEpoch], [ERR.NONE, -2]);
    const s2 = new Member(c, group, topic, topicId);
    const back = await s2.join({ instanceId: 'inst-1' });
    assert.equal(back.errorCode, ERR.NONE, back.errorMessage);
    assert.equal(back.memberEpoch, epoch, 'no rebalance: same epoch');
    assert.deepEqual(s2.owned, [0, 1, 2, 3], 'the assignment is taken over');
    const old = await s1.send({ memberEpoch: epoch });
    assert.equal(old.errorCode, ERR.UNKNOWN_MEMBER_ID);
    const unknownInstance = await other.send({ memberEpoch: -1, instanceId: 'inst-x' });
    assert.equal(unknownInstance.errorCode, ERR.UNKNOWN_MEMBER_ID);
    const left = await s2.send({ memberEpoch: -1, instanceId: 'inst-1' });
    assert.deepEqual([left.errorCode, left.memberEpoch], [ERR.NONE, -1]);
  });

  test('offsets of a consumer group: OffsetCommit below v9 and admin commits to a group with members fail; OffsetFetch v9; DeleteGroups', async () => {
    const group = uniqueTopic('cg-offsets');
    const m = new Member(c, group, topic, topicId);
    await m.join();
    await eventually(async () => (await m.heartbeat()) && m.owned.length === 4, 'owns all 4');
    const v8 = await retrying(() => c.request(K.OffsetCommit, 8, commitV9(group, topic, m.memberId, m.epoch, [[0, 4]])), commitCodes);
    assert.deepEqual(commitCodes(v8), [ERR.UNSUPPORTED_VERSION]);
    const admin = await c.request(K.OffsetCommit, 9, commitV9(group, topic, '', -1, [[0, 4]]));
    assert.deepEqual(commitCodes(admin), [ERR.UNKNOWN_MEMBER_ID], 'only an Empty group takes admin commits');
    assert.deepEqual(commitCodes(await c.request(K.OffsetCommit, 9, commitV9(group, topic, m.memberId, m.epoch, [[2, 9]]))), [ERR.NONE]);

    const fetch = (memberId: string | null, memberEpoch: number) =>
      c.request(K.OffsetFetch, 9, {
        groupId: '',
        topics: [],
        groups: [{ groupId: group, memberId, memberEpoch, topics: [{ name: topic, partitionIndexes: [2] }] }],
        requireStable: false,
      });
    for (const [memberId, memberEpoch] of [[m.memberId, m.epoch], [null, -1]] as const) {
      const f = await fetch(memberId, memberEpoch);
      assert.equal(f.groups[0].errorCode, ERR.NONE, `${memberId} ${memberEpoch}`);
      assert.equal(Number(f.groups[0].topics[0].partitions[0].committedOffset), 9);
    }
    // DescribeGroups (the classic API) describes a consumer group as Dead, as Kafka 4.3.1 does.
    const classicView = await c.request(15, 5, { groups: [group], includeAuthorizedOperations: false });
    assert.deepEqual(
      classicView.groups.map((g: Any) => [g.errorCode, g.groupState, g.protocolType, g.members.length]),
      [[ERR.NONE, 'Dead', '', 0]],
    );
    // As Kafka 4.3.1: a member's fetch is checked like its commits.
    assert.equal((await fetch(m.memberId, m.epoch - 1)).groups[0].errorCode, ERR.STALE_MEMBER_EPOCH);
    assert.equal((await fetch(newMemberId(), m.epoch)).groups[0].errorCode, ERR.UNKNOWN_MEMBER_ID);
    assert.equal((await fetch('', -1)).groups[0].errorCode, ERR.UNKNOWN_MEMBER_ID);

    const nonEmpty = await c.request(K.DeleteGroups, 2, { groupsNames: [group] });
    assert.equal(nonEmpty.results[0].errorCode, ERR.NON_EMPTY_GROUP);
    await m.leave();
    const deleted = await c.request(K.DeleteGroups, 2, { groupsNames: [group] });
    assert.equal(deleted.results[0].errorCode, ERR.NONE);
    const [d] = await describeGroups(c, [group]);
    assert.equal(d.errorCode, ERR.GROUP_ID_NOT_FOUND);
    const f = await fetch(null, -1);
    assert.equal(Number(f.groups[0].topics[0].partitions[0].committedOffset), -1, 'offsets deleted with the group');
  });

  test('LeaveGroup v5 removes a consumer-group member (AdminClient removeMembersFromConsumerGroup), as Kafka', async () => {
    const group = uniqueTopic('cg-leave-api');
    const m = new Member(c, group, topic, topicId);
    await m.join();
    await eventually(async () => (await m.heartbeat()) && m.owned.length === 4, 'owns all 4');
    const res = await c.request(K.LeaveGroup, 5, { groupId: group, memberId: '', members: [{ memberId: m.memberId, groupInstanceId: null, reason: 'removed by admin' }] });
    assert.equal(res.errorCode, ERR.NONE);
    assert.deepEqual(res.members.map((x: Any) => [x.memberId, x.errorCode]), [[m.memberId, ERR.NONE]]);
    const [d] = await describeGroups(c, [group]);
    assert.equal(d.groupState, 'Empty');
    assert.deepEqual(d.members, []);
    const unknown = await c.request(K.LeaveGroup, 5, { groupId: group, memberId: '', members: [{ memberId: newMemberId(), groupInstanceId: null, reason: null }] });
    assert.equal(unknown.members[0].errorCode, ERR.UNKNOWN_MEMBER_ID);
  });

  test('a member that stops heartbeating is fenced after the session timeout and its partitions move', tributaryOnly, async () => {
    const short = await startTarget({ config: { 'group.consumer.session.timeout.ms': '400', 'group.consumer.heartbeat.interval.ms': '100' } });
    const sc = await short.connect();
    try {
      const t = uniqueTopic('cg-session');
      const { topicId: id } = await createTopic(sc, t, 4);
      const group = uniqueTopic('cg-session');
      const a = new Member(sc, group, t, id);
      const b = new Member(sc, group, t, id);
      await a.join();
      assert.equal(a.last.heartbeatIntervalMs, 100);
      await b.join();
      await eventually(async () => {
        await a.heartbeat();
        await b.heartbeat();
        return a.owned.length === 2 && b.owned.length === 2;
      }, 'two members own 2 each');
      // a goes silent; b keeps heartbeating
      await eventually(async () => (await b.heartbeat()) && b.owned.length === 4, 'b owns all 4 after a expired', 5000);
      const gone = await a.heartbeat();
      assert.equal(gone.errorCode, ERR.UNKNOWN_MEMBER_ID);
      const [d] = await describeGroups(sc, [group]);
      assert.deepEqual(d.members.map((x: Any) => x.memberId), [b.memberId]);
    } finally {
      await sc.close();
      await short.close();
    }
  });
  test('classic JoinGroup and Heartbeat against a consumer group id: INCONSISTENT_GROUP_PROTOCOL, UNKNOWN_MEMBER_ID', async () => {
    const group = uniqueTopic('cg-vs-classic');
    const m = new Member(c, group, topic, topicId);
    await m.join();
    assert.equal(m.last.errorCode, ERR.NONE);
    const join = await c.request(K.JoinGroup, 7, {
      groupId: group,
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 30_000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'raw-test',
      protocols: [{ name: 'p', metadata: Buffer.from('m') }],
      reason: null,
    });
    assert.equal(join.errorCode, 23, 'INCONSISTENT_GROUP_PROTOCOL');
    const hb = await c.request(12, 4, { groupId: group, generationId: 1, memberId: 'someone', groupInstanceId: null });
    assert.equal(hb.errorCode, ERR.UNKNOWN_MEMBER_ID);
    const ok = await m.heartbeat();
    assert.equal(ok.errorCode, ERR.NONE, 'the consumer group is untouched');
    await m.leave();
  });
});
