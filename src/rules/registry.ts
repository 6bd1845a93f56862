import { asyncioRunInLoop } from './asyncio-run-in-loop.js';
import { asyncioRunInTest } from './asyncio-run-in-test.js';
import { asyncWithoutAwait } from './async-without-await.js';
import { awaitOutsideAsync } from './await-outside-async.js';
import { repeatedAsyncioRun } from './repeated-asyncio-run.js';
import { yieldFromInAsync } from './yield-from-in-async.js';
import { blockingFileIo } from './blocking-file-io.js';
import { blockingFsMetadata } from './blocking-fs-metadata.js';
import { blockingHttp } from './blocking-http.js';
import { blockingInput } from './blocking-input.js';
import { blockingSleep } from './blocking-sleep.js';
import { blockingSubprocess } from './blocking-subprocess.js';
import { blockingThreadPrimitive } from './blocking-thread-primitive.js';
import { busyWait } from './busy-wait.js';
import { configuredBlockingCall } from './configured-blocking-call.js';
import { cpuHeavyCall } from './cpu-heavy-call.js';
import { danglingTask } from './dangling-task.js';
import { firstCompletedWithoutCancel } from './first-completed-without-cancel.js';
import { getEventLoop } from './get-event-loop.js';
import { loopWithoutCheckpoint } from './loop-without-checkpoint.js';
import { missingAwait } from './missing-await.js';
import { pointlessTask } from './pointless-task.js';
import { swallowedCancellation } from './swallowed-cancellation.js';
import { syncDbDriver } from './sync-db-driver.js';
import { taskNeverAwaited } from './task-never-awaited.js';
import { timeoutParameter } from './timeout-parameter.js';
import { timeoutWithoutAwait } from './timeout-without-await.js';
import { transitiveBlocking } from './transitive-blocking.js';
import { acquireWithoutFinally } from './acquire-without-finally.js';
import { executorPerCall } from './executor-per-call.js';
import { sessionPerRequest } from './session-per-request.js';
import { syncWithOnAsyncResource } from './sync-with-on-async-resource.js';
import { unclosedSession } from './unclosed-session.js';
import { sequentialAwaitInLoop } from './sequential-await-in-loop.js';
import { droppedGatherExceptions } from './dropped-gather-exceptions.js';
import { unboundedGather } from './unbounded-gather.js';
import { controlFlowInTaskgroup } from './control-flow-in-taskgroup.js';
import { singleTaskTaskgroup } from './single-task-taskgroup.js';
import type { Rule } from './types.js';

/** Every rule asyncguard ships, in id order. One import per rule file: nothing is discovered at run time. */
export const RULES: readonly Rule[] = [
  blockingSleep,
  blockingHttp,
  blockingFileIo,
  blockingFsMetadata,
  blockingSubprocess,
  blockingInput,
  syncDbDriver,
  blockingThreadPrimitive,
  cpuHeavyCall,
  transitiveBlocking,
  configuredBlockingCall,
  missingAwait,
  danglingTask,
  taskNeverAwaited,
  pointlessTask,
  asyncioRunInLoop,
  repeatedAsyncioRun,
  asyncioRunInTest,
  getEventLoop,
  awaitOutsideAsync,
  asyncWithoutAwait,
  yieldFromInAsync,
  swallowedCancellation,
  timeoutWithoutAwait,
  firstCompletedWithoutCancel,
  timeoutParameter,
  busyWait,
  loopWithoutCheckpoint,
  sequentialAwaitInLoop,
  droppedGatherExceptions,
  unboundedGather,
  controlFlowInTaskgroup,
  singleTaskTaskgroup,
  sessionPerRequest,
  unclosedSession,
  executorPerCall,
  syncWithOnAsyncResource,
  acquireWithoutFinally,
];

const BY_NAME: ReadonlyMap<string, Rule> = (() => {
  const map = new Map<string, Rule>();
  for (const rule of RULES) {
    for (const name of [rule.meta.id, rule.meta.slug, ...rule.meta.aliases]) {
      const key = name.toLowerCase();
      // An alias shared by two rules would be ambiguous; ids and slugs win, first come first served.
      if (!map.has(key)) map.set(key, rule);
    }
  }
  return map;
})();

/** The rule with this id (`AG101`), alias (`ASYNC251`) or slug (`blocking-sleep`), any case. */
export function findRule(idOrAliasOrSlug: string): Rule | undefined {
  return BY_NAME.get(idOrAliasOrSlug.trim().toLowerCase());
}

/** The `n` rules whose id, alias or slug is closest to `query` (edit distance), closest first. */
export function suggestRules(query: string, n = 3): Rule[] {
  const needle = query.trim().toLowerCase();
  const scored = RULES.map((rule, order) => {
    const names = [rule.meta.id, rule.meta.slug, ...rule.meta.aliases].map((name) => name.toLowerCase());
    return { rule, order, distance: Math.min(...names.map((name) => editDistance(needle, name))) };
  });
  return scored
    .sort((a, b) => a.distance - b.distance || a.order - b.order)
    .slice(0, Math.max(0, n))
    .map((entry) => entry.rule);
}

/** Levenshtein distance, two rows. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
