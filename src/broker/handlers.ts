/** The handler registry: API key → handler. ApiVersions advertises exactly these. */
import type { ApiHandler } from './api.ts';
import { produce } from './00-produce.ts';
import { fetch } from './01-fetch.ts';
import { listOffsets } from './02-list-offsets.ts';
import { metadata } from './03-metadata.ts';
import { offsetCommit } from './08-offset-commit.ts';
import { offsetFetch } from './09-offset-fetch.ts';
import { findCoordinator } from './10-find-coordinator.ts';
import { joinGroup } from './11-join-group.ts';
import { heartbeat } from './12-heartbeat.ts';
import { leaveGroup } from './13-leave-group.ts';
import { syncGroup } from './14-sync-group.ts';
import { describeGroups } from './15-describe-groups.ts';
import { listGroups } from './16-list-groups.ts';
import { deleteGroups } from './42-delete-groups.ts';
import { offsetDelete } from './47-offset-delete.ts';
import { consumerGroupHeartbeat } from './68-consumer-group-heartbeat.ts';
import { consumerGroupDescribe } from './69-consumer-group-describe.ts';
import { apiVersions } from './18-api-versions.ts';
import { createTopics } from './19-create-topics.ts';
import { deleteTopics } from './20-delete-topics.ts';
import { deleteRecords } from './21-delete-records.ts';
import { offsetForLeaderEpoch } from './23-offset-for-leader-epoch.ts';
import { txnOffsetCommit } from './28-txn-offset-commit.ts';
import { describeConfigs } from './32-describe-configs.ts';
import { alterConfigs } from './33-alter-configs.ts';
import { incrementalAlterConfigs } from './44-incremental-alter-configs.ts';
import { describeLogDirs } from './35-describe-log-dirs.ts';
import { createPartitions } from './37-create-partitions.ts';
import { describeCluster } from './60-describe-cluster.ts';
import { describeProducers } from './61-describe-producers.ts';
import { initProducerId } from './22-init-producer-id.ts';
import { addPartitionsToTxn } from './24-add-partitions-to-txn.ts';
import { addOffsetsToTxn } from './25-add-offsets-to-txn.ts';
import { endTxn } from './26-end-txn.ts';
import { describeTransactions } from './65-describe-transactions.ts';
import { listTransactions } from './66-list-transactions.ts';

export const HANDLERS: ReadonlyMap<number, ApiHandler> = new Map<number, ApiHandler>([
  [0, produce],
  [1, fetch],
  [2, listOffsets],
  [3, metadata],
  [8, offsetCommit],
  [9, offsetFetch],
  [10, findCoordinator],
  [11, joinGroup],
  [12, heartbeat],
  [13, leaveGroup],
  [14, syncGroup],
  [15, describeGroups],
  [16, listGroups],
  [18, apiVersions],
  [19, createTopics],
  [20, deleteTopics],
  [21, deleteRecords],
  [22, initProducerId],
  [23, offsetForLeaderEpoch],
  [24, addPartitionsToTxn],
  [25, addOffsetsToTxn],
  [26, endTxn],
  [28, txnOffsetCommit],
  [32, describeConfigs],
  [33, alterConfigs],
  [35, describeLogDirs],
  [37, createPartitions],
  [42, deleteGroups],
  [44, incrementalAlterConfigs],
  [47, offsetDelete],
  [60, describeCluster],
  [61, describeProducers],
  [65, describeTransactions],
  [66, listTransactions],
  [68, consumerGroupHeartbeat],
  [69, consumerGroupDescribe],
]);
