// Differential test against the peer: Ruff 0.17.3 (@astral-sh/ruff-wasm-nodejs) run on the same
// sources as asyncguard, for every rule that has a Ruff twin (an ASYNC/RUF/PLE/F alias).
//
// On our own fixtures, a line where exactly one of the two tools reports a twin finding must say
// why with an inline `# ruff-differs: <reason>` comment, and a line carrying that comment must
// really differ: every disagreement is either fixed or explained, and no explanation goes stale.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PositionEncoding, Workspace } from '@astral-sh/ruff-wasm-nodejs';
import { describe, expect, it } from 'vitest';
import { parsePython } from '../../src/python/parser.js';
import { WHOLE_FILE } from '../../src/python/scopes.js';
import { runRules } from '../../src/rules/engine.js';
import { RULES } from '../../src/rules/registry.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/**
 * The asyncio-related codes Ruff 0.17.3 implements. Ruff accepts other flake8-async codes in
 * `select` (ASYNC103, ASYNC112, ASYNC121, ASYNC124, ASYNC300, ASYNC913...) and reports nothing for
 * them (probed with code each one describes), so those aliases have no twin to compare with.
 */
const RUFF_IMPLEMENTS = new Set([
  'ASYNC100', 'ASYNC105', 'ASYNC109', 'ASYNC110', 'ASYNC115', 'ASYNC116', 'ASYNC210', 'ASYNC212', 'ASYNC220',
  'ASYNC221', 'ASYNC222', 'ASYNC230', 'ASYNC240', 'ASYNC250', 'ASYNC251', 'RUF006', 'RUF029', 'PLE1142', 'PLE1700', 'F704',
]);
const TWIN_RULES = RULES.filter((rule) => rule.meta.aliases.some((alias) => RUFF_IMPLEMENTS.has(alias)));
const TWIN_CODES = new Set(TWIN_RULES.flatMap((rule) => rule.meta.aliases.filter((alias) => RUFF_IMPLEMENTS.has(alias))));
const TWIN_IDS = new Set(TWIN_RULES.map((rule) => rule.meta.id));

interface RuffDiagnostic {
  code: string | null;
  start_location: { row: number; column: number };
}

const ruff = new Workspace({ 'output-prefer-rule-codes': true, lint: { select: [...TWIN_CODES], preview: true } }, PositionEncoding.Utf16);

/** Lines Ruff reports a twin code on. */
function ruffLines(source: string): Set<number> {
  const diagnostics = ruff.check(source) as RuffDiagnostic[];
  return new Set(diagnostics.filter((d) => d.code !== null && TWIN_CODES.has(d.code)).map((d) => d.start_location.row));
}

/** Lines a twin rule of ours reports on, every rule at least at its default severity (off rules on too). */
function ourLines(path: string, source: string): Set<number> {
  const findings = runRules(parsePython(path, source), TWIN_RULES, {
    scopes: WHOLE_FILE,
    severityOf: (rule) => (rule.meta.severity === 'off' ? 'info' : rule.meta.severity),
    onRuleError: (rule, error) => {
      throw new Error(`${rule.meta.id} threw on ${path}: ${String(error)}`);
    },
  });
  return new Set(findings.filter((f) => TWIN_IDS.has(f.ruleId)).map((f) => f.line));
}

function explainedLines(source: string): Set<number> {
  const lines = new Set<number>();
  source.split('\n').forEach((text, i) => {
    if (/#\s*ruff-differs:\s*\S/.test(text)) lines.add(i + 1);
  });
  return lines;
}

const fixtures = readdirSync(FIXTURES).filter((name) => name.endsWith('.py')).sort();

describe('differential against Ruff 0.17.3 on our fixtures', () => {
  it('covers the twin rules', () => {
    expect(TWIN_RULES.length).toBeGreaterThan(0);
    // The twins known when this test was written; the registry may only add to them.
    for (const code of ['ASYNC251', 'ASYNC210', 'ASYNC212', 'ASYNC230', 'ASYNC220', 'RUF006']) {
      expect(TWIN_CODES.has(code), code).toBe(true);
    }
  });

  it.each(fixtures)('%s: every disagreement is explained with `# ruff-differs:`, and every explanation is a disagreement', (name) => {
    const source = readFileSync(`${FIXTURES}${name}`, 'utf8');
    const theirs = ruffLines(source);
    const ours = ourLines(name, source);
    const differing = [...new Set([...theirs, ...ours])]
      .filter((line) => theirs.has(line) !== ours.has(line))
      .sort((a, b) => a - b)
      .map((line) => `${line}: ${theirs.has(line) ? 'only Ruff' : 'only asyncguard'}`);
    const explained = [...explainedLines(source)]
      .sort((a, b) => a - b)
      .map((line) => `${line}: ${theirs.has(line) === ours.has(line) ? 'both agree (stale note)' : theirs.has(line) ? 'only Ruff' : 'only asyncguard'}`);
    expect(differing).toEqual(explained);
  });
});
