/**
 * Child process of cleaner-crash.test.ts: opens the partition log in argv[2], runs a forced
 * cleaner pass and kills itself with SIGKILL when the pass reaches the swap step argv[3] (the
 * n-th time, argv[4], default 1). Exits 0 if the step was never reached.
 */
import { ManualClock } from '../../src/common/clock.ts';
import { silentLogger } from '../../src/common/logger.ts';
import { logConfig } from '../../src/storage/log-config.ts';
import { PartitionLog } from '../../src/storage/partition-log.ts';
import { SyncScheduler } from '../../src/storage/sync-scheduler.ts';
import { CRASH_CONFIG, CRASH_T0 } from './cleaner-crash-config.ts';

const [dir, step, nth = '1'] = process.argv.slice(2);
let seen = 0;
const log = await PartitionLog.open({
  dir: dir!,
  topic: 't',
  partition: 0,
  config: logConfig(CRASH_CONFIG),
  clock: new ManualClock(CRASH_T0),
  syncer: new SyncScheduler(),
  logger: silentLogger,
});
await log.clean({
  force: true,
  hook: (s) => {
    if (s === step && ++seen === Number(nth)) process.kill(process.pid, 'SIGKILL');
  },
});
await log.close();
