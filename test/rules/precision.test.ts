// The precision claim, kept honest: bench/precision-judgments.json holds a reviewer's verdict on
// every finding asyncguard reports on the real corpus (bench/compare.mjs lists them with their
// code; the reasons say why each is or is not worth a review comment). This test recomputes the
// findings and fails when a judged finding is no longer reported or a reported one is not judged
// (judge again), when fewer than 50 are judged, or when precision drops below 90%.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus, type CorpusFile } from '../../bench/corpus.mjs';
import { analyzeFile } from '../../src/analysis/analyze-file.js';
import { DEFAULT_SETTINGS, pathFilter } from '../../src/config/settings.js';
import { applyTestPolicy, isRelaxedInTests } from '../../src/findings/policy.js';
import { previewOn } from '../../src/rules/preview.js';
import { RULES } from '../../src/rules/registry.js';

interface Judgment {
  /** `RULE path scope snippet`, as bench/compare.mjs prints it (no line: updates may move code). */
  key: string;
  verdict: 'true-positive' | 'false-positive';
  reason: string;
}

const judgments = JSON.parse(readFileSync(new URL('../../bench/precision-judgments.json', import.meta.url), 'utf8')) as {
  judgments: Judgment[];
};

let files: CorpusFile[] = [];
let missing: string[] = [];

beforeAll(() => {
  ({ files, missing } = loadCorpus());
}, 300_000);

describe('precision on real code (judged sample)', () => {
  it('at least 50 judged findings, at least 90% of them true positives', () => {
    const { judgments: list } = judgments;
    expect(list.length).toBeGreaterThanOrEqual(50);
    expect(new Set(list.map((j) => j.key)).size).toBe(list.length);
    for (const j of list) expect(j.reason.trim().length, j.key).toBeGreaterThan(10);
    const truePositives = list.filter((j) => j.verdict === 'true-positive').length;
    expect(truePositives / list.length).toBeGreaterThanOrEqual(0.9);
  });

  it('the judged findings are exactly the findings on the corpus: none stale, none unjudged', () => {
    expect(missing, 'the corpus packages must be fetchable for this check').toEqual([]);
    const isTest = pathFilter(DEFAULT_SETTINGS).isTest;
    const reported = new Set<string>();
    const seen = new Map<string, number>();
    for (const file of files) {
      // Each project as its team would configure it: python_version from its Requires-Python.
      const settings = { ...DEFAULT_SETTINGS.rules, pythonVersion: file.pythonVersion };
      // Preview rules on too (bench/compare.mjs does the same): the judged sample covers them.
      const analysis = analyzeFile({ path: file.path, source: file.source, addedLines: 'all', settings, severities: previewOn(RULES) });
      for (const f of applyTestPolicy(analysis.findings, isTest)) {
        if (isRelaxedInTests(f, isTest)) continue;
        // The key of bench/compare.mjs: a second finding of the same rule on the same code in the same function gets `#2`.
        const base = `${f.ruleId} ${f.path} ${f.scope} ${f.snippet}`;
        const n = (seen.get(base) ?? 0) + 1;
        seen.set(base, n);
        reported.add(n === 1 ? base : `${base} #${n}`);
      }
    }
    const judged = new Set(judgments.judgments.map((j) => j.key));
    expect([...judged].filter((key) => !reported.has(key)), 'judged but no longer reported: re-run `npm run compare` and judge again').toEqual([]);
    expect([...reported].filter((key) => !judged.has(key)), 'reported but not judged: judge them in bench/precision-judgments.json').toEqual([]);
  }, 300_000);
});
