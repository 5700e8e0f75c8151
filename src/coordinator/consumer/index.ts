/** The KIP-848 consumer-group coordinator (see README.md). */
export { ConsumerGroupCoordinator, ApiError, errorResponse, type ConsumerCoordinatorOptions } from './coordinator.ts';
export {
  describeConsumerGroups,
  validateOffsetCommit,
  validateOffsetFetch,
  subscribedTopics,
  listConsumerGroups,
  deleteConsumerGroup,
} from './admin.ts';
export { uniformAssignor, rangeAssignor, DEFAULT_ASSIGNORS, type Assignor, type AssignorInput, type AssignorMember } from './assignors.ts';
export { decodeRecord, encodeRecord, isConsumerGroupKeyVersion, MemberState, type ConsumerGroupRecord } from './records.ts';
export { GROUP_STATES, type ConsumerGroupStateName } from './group.ts';
export * from './types.ts';
export type { Assignment } from './assignment.ts';
