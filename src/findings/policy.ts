import type { ReviewSettings } from '../config/settings.js';
import { findRule } from '../rules/registry.js';
import type { Finding } from '../rules/types.js';

/**
 * Rules outside the blocking family whose findings are deliberate in tests too: polling for a
 * condition, and gathering with `return_exceptions=True` where the test expects failures or checks
 * the outcome another way (asyncpg's connection-loss test, async-lru's leak test).
 */
const RELAXED_IN_TESTS = new Set(['AG305', 'AG402']);

/**
 * A blocking call in test code is usually deliberate (reading a fixture back, waiting on a
 * thread), and so is a test polling until the system under test reaches a state
 * (`while not server.ready: await asyncio.sleep(0.01)`), or one gathering work it expects to fail
 * (`gather(*workers, return_exceptions=True)` after cutting the connection): such findings drop to
 * info and are not posted as review comments. The bugs that matter in tests too (a missing await,
 * a dangling task, a swallowed cancellation) keep their severity. `isTest` is the configuration's `test_paths` matcher.
 */
export function isRelaxedInTests(finding: Pick<Finding, 'path' | 'ruleId'>, isTest: (path: string) => boolean): boolean {
  if (!isTest(finding.path)) return false;
  return RELAXED_IN_TESTS.has(finding.ruleId) || findRule(finding.ruleId)?.meta.family === 'blocking';
}

export function applyTestPolicy<T extends Finding>(findings: readonly T[], isTest: (path: string) => boolean): T[] {
  return findings.map((finding) => (isRelaxedInTests(finding, isTest) ? { ...finding, severity: 'info' as const } : finding));
}

/** Whether any finding reaches `failOn` (the check run fails, the CLI exits 1). */
export function reachesFailOn(findings: readonly Pick<Finding, 'severity'>[], failOn: ReviewSettings['failOn']): boolean {
  if (failOn === 'never') return false;
  return findings.some((finding) => RANK[finding.severity] >= RANK[failOn]);
}

const RANK = { info: 1, warning: 2, error: 3 } as const;
