import type { ReviewSettings } from '../config/settings.js';
import { findRule } from '../rules/registry.js';
import type { Finding } from '../rules/types.js';

/**
 * A blocking call in test code is usually deliberate (reading a fixture back, waiting on a
 * thread): such findings drop to info and are not posted as review comments. The bugs that
 * matter in tests too (a missing await, a dangling task, a swallowed cancellation) keep their
 * severity. `isTest` is the configuration's `test_paths` matcher.
 */
export function isBlockingInTests(finding: Pick<Finding, 'path' | 'ruleId'>, isTest: (path: string) => boolean): boolean {
  return isTest(finding.path) && findRule(finding.ruleId)?.meta.family === 'blocking';
}

export function applyTestPolicy<T extends Finding>(findings: readonly T[], isTest: (path: string) => boolean): T[] {
  return findings.map((finding) => (isBlockingInTests(finding, isTest) ? { ...finding, severity: 'info' as const } : finding));
}

/** Whether any finding reaches `failOn` (the check run fails, the CLI exits 1). */
export function reachesFailOn(findings: readonly Pick<Finding, 'severity'>[], failOn: ReviewSettings['failOn']): boolean {
  if (failOn === 'never') return false;
  return findings.some((finding) => RANK[finding.severity] >= RANK[failOn]);
}

const RANK = { info: 1, warning: 2, error: 3 } as const;
