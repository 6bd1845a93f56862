import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, pathFilter } from '../../src/config/settings.js';
import { applyTestPolicy, isRelaxedInTests, reachesFailOn } from '../../src/findings/policy.js';
import type { Finding } from '../../src/rules/types.js';

const { isTest } = pathFilter(DEFAULT_SETTINGS);

function finding(ruleId: string, path: string, severity: Finding['severity']): Finding {
  return { ruleId, path, severity, line: 3, column: 4, endLine: 3, endColumn: 20, message: 'm', scope: 'f' } as Finding;
}

describe('test policy', () => {
  it('relaxes blocking calls, polling loops and return_exceptions gathers in test code only', () => {
    expect(isRelaxedInTests(finding('AG101', 'tests/test_api.py', 'error'), isTest)).toBe(true);
    expect(isRelaxedInTests(finding('AG305', 'distributed/tests/test_worker.py', 'warning'), isTest)).toBe(true);
    expect(isRelaxedInTests(finding('AG305', 'daphne/testing.py', 'warning'), isTest)).toBe(true);
    expect(isRelaxedInTests(finding('AG305', 'distributed/worker.py', 'warning'), isTest)).toBe(false);
    expect(isRelaxedInTests(finding('AG402', 'tests/test_adversity.py', 'warning'), isTest)).toBe(true);
    expect(isRelaxedInTests(finding('AG402', 'asyncpg/pool.py', 'warning'), isTest)).toBe(false);
    expect(isRelaxedInTests(finding('AG101', 'app/api.py', 'error'), isTest)).toBe(false);
    // The bugs that matter in tests too keep their severity.
    for (const rule of ['AG201', 'AG202', 'AG301']) expect(isRelaxedInTests(finding(rule, 'tests/test_api.py', 'error'), isTest), rule).toBe(false);
  });

  it('drops relaxed findings to info, so they no longer fail the check', () => {
    const findings = [finding('AG305', 'tests/test_poll.py', 'warning'), finding('AG202', 'tests/test_poll.py', 'warning'), finding('AG305', 'app/poll.py', 'warning')];
    const applied = applyTestPolicy(findings, isTest);
    expect(applied.map((f) => f.severity)).toEqual(['info', 'warning', 'warning']);
    expect(reachesFailOn(applied.slice(0, 1), 'warning')).toBe(false);
    expect(reachesFailOn(applied, 'warning')).toBe(true);
  });
});
