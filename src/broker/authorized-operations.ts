/**
 * Authorized-operations bit sets (KIP-430) returned by Metadata and DescribeCluster when asked.
 * Without ACLs every principal may do everything. Bit n is set for AclOperation code n:
 * READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9,
 * DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12.
 */
const bits = (...ops: number[]) => ops.reduce((acc, op) => acc | (1 << op), 0);

/** The "not requested" value, Integer.MIN_VALUE. */
export const NOT_REQUESTED = -2147483648;
export const TOPIC_ALL_OPERATIONS = bits(3, 4, 5, 6, 7, 8, 10, 11);
export const CLUSTER_ALL_OPERATIONS = bits(5, 7, 8, 9, 10, 11, 12);
