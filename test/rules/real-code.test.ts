// Robustness on real async Python: every rule (the ones that ship off included) over the standard
// library's asyncio package and Debian's async libraries (bench/corpus.mjs fetches them; nothing is
// committed). No rule may throw, no file may take long, and touched-scope reviews of the same
// files must report a subset of the whole-file findings.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus, type CorpusFile } from '../../bench/corpus.mjs';
import { analyzeFile } from '../../src/analysis/analyze-file.js';
import { parsePython } from '../../src/python/parser.js';
import { WHOLE_FILE } from '../../src/python/scopes.js';
import { runRules } from '../../src/rules/engine.js';
import { RULES } from '../../src/rules/registry.js';

/** Generous: a file of the corpus takes a few ms; a rule that goes quadratic shows up here. */
const MAX_MS_PER_FILE = 2_000;

let files: CorpusFile[] = [];
let missing: string[] = [];

beforeAll(() => {
  ({ files, missing } = loadCorpus());
}, 300_000);

describe('real async Python', () => {
  it('every rule runs over the corpus without an error or a slow file', () => {
    // The standard library is always there; the Debian packages need the package mirror.
    expect(files.filter((f) => f.corpus === 'stdlib-asyncio').length).toBeGreaterThan(20);
    if (missing.length) console.warn(`corpus: could not fetch ${missing.join(', ')}`);
    const errors: string[] = [];
    const slow: string[] = [];
    let findings = 0;
    let lines = 0;
    for (const file of files) {
      const start = performance.now();
      const found = runRules(parsePython(file.path, file.source), RULES, {
        scopes: WHOLE_FILE,
        severityOf: (rule) => (rule.meta.severity === 'off' ? 'info' : rule.meta.severity),
        onRuleError: (rule, error) => errors.push(`${rule.meta.id} on ${file.path}: ${String((error as Error).stack ?? error)}`),
      });
      const ms = performance.now() - start;
      if (ms > MAX_MS_PER_FILE) slow.push(`${file.path}: ${Math.round(ms)} ms`);
      findings += found.length;
      lines += file.source.split('\n').length;
    }
    console.info(`corpus: ${files.length} files, ${lines} lines, ${findings} findings (every rule on)`);
    expect(errors).toEqual([]);
    expect(slow).toEqual([]);
  }, 300_000);

  it('a review of touched lines reports a subset of the whole-file findings, and never throws', () => {
    const sample = files.filter((_, i) => i % 7 === 0);
    expect(sample.length).toBeGreaterThan(3);
    for (const file of sample) {
      const lines = file.source.split('\n').length;
      // Every fifth line "added": touched scopes all over the file.
      const added = Array.from({ length: lines }, (_, i) => i + 1).filter((line) => line % 5 === 0);
      const whole = analyzeFile({ path: file.path, source: file.source, addedLines: 'all' });
      const touched = analyzeFile({ path: file.path, source: file.source, addedLines: added });
      expect(whole.skipped, file.path).toBeUndefined();
      const key = (f: { ruleId: string; line: number; column: number }) => `${f.ruleId}:${f.line}:${f.column}`;
      const all = new Set(whole.findings.map(key));
      expect(touched.findings.map(key).filter((k) => !all.has(k)), file.path).toEqual([]);
    }
  }, 300_000);
});
