/**
 * Records which Kafka API keys and versions each client actually sent, so a run can report
 * what a real client negotiated (`TRIBUTARY_PRINT_APIS=1` prints the table to stderr when the
 * process exits). Clients feed it: see kafkajs.ts (debug log lines) and platformatic.ts
 * (diagnostics_channel).
 */
const usage = new Map<string, Map<number, Set<number>>>();

export const API_NAMES: Record<number, string> = {
  0: 'Produce', 1: 'Fetch', 2: 'ListOffsets', 3: 'Metadata', 8: 'OffsetCommit', 9: 'OffsetFetch',
  10: 'FindCoordinator', 11: 'JoinGroup', 12: 'Heartbeat', 13: 'LeaveGroup', 14: 'SyncGroup',
  15: 'DescribeGroups', 16: 'ListGroups', 17: 'SaslHandshake', 18: 'ApiVersions', 19: 'CreateTopics',
  20: 'DeleteTopics', 21: 'DeleteRecords', 22: 'InitProducerId', 23: 'OffsetForLeaderEpoch',
  24: 'AddPartitionsToTxn', 25: 'AddOffsetsToTxn', 26: 'EndTxn', 28: 'TxnOffsetCommit',
  29: 'DescribeAcls', 30: 'CreateAcls', 31: 'DeleteAcls', 32: 'DescribeConfigs', 33: 'AlterConfigs',
  35: 'DescribeLogDirs', 36: 'SaslAuthenticate', 37: 'CreatePartitions', 42: 'DeleteGroups',
  44: 'IncrementalAlterConfigs', 47: 'OffsetDelete', 60: 'DescribeCluster', 68: 'ConsumerGroupHeartbeat',
  75: 'DescribeTopicPartitions',
};

export function recordApiUse(client: string, apiKey: number, apiVersion: number): void {
  let byKey = usage.get(client);
  if (!byKey) usage.set(client, (byKey = new Map()));
  let versions = byKey.get(apiKey);
  if (!versions) byKey.set(apiKey, (versions = new Set()));
  versions.add(apiVersion);
}

/** client → "Name(key) v1,v2" lines, sorted by key. */
export function apiUsageReport(): string {
  const out: string[] = [];
  for (const [client, byKey] of usage) {
    out.push(`${client}:`);
    for (const key of [...byKey.keys()].sort((a, b) => a - b)) {
      const versions = [...byKey.get(key)!].sort((a, b) => a - b).join(',');
      out.push(`  ${(API_NAMES[key] ?? `api${key}`).padEnd(24)} key ${String(key).padStart(2)}  v${versions}`);
    }
  }
  return out.join('\n');
}

export function apiUsageEnabled(): boolean {
  return process.env.TRIBUTARY_PRINT_APIS === '1';
}

let hooked = false;
export function printApiUsageOnExit(): void {
  if (hooked || !apiUsageEnabled()) return;
  hooked = true;
  process.on('exit', () => {
    if (usage.size) process.stderr.write(`\n--- Kafka APIs used (${process.argv[1] ?? ''}) ---\n${apiUsageReport()}\n`);
  });
}
