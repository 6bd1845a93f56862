// npm run compare: asyncguard against Ruff 0.17.3 on the real corpus (bench/corpus.mjs), for the
// rules that have a Ruff twin, and a deterministic sample of asyncguard's findings to judge by hand.
//
// Writes bench/results/ruff-agreement.json (per twin rule: findings of each tool, and on how many
// lines they agree) and bench/results/precision-sample.md (the sampled findings with their code).
// The judgments of the sample live in bench/precision-judgments.json; a test keeps them current.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PositionEncoding, Workspace } from '@astral-sh/ruff-wasm-nodejs';
import { analyzeFile } from '../dist/analysis/analyze-file.js';
import { pathFilter, DEFAULT_SETTINGS } from '../dist/config/settings.js';
import { applyTestPolicy, isRelaxedInTests } from '../dist/findings/policy.js';
import { previewOn } from '../dist/rules/preview.js';
import { RULES } from '../dist/rules/registry.js';
import { loadCorpus } from './corpus.mjs';

const here = dirname(fileURLToPath(import.meta.url));
/** Findings sampled per rule (default: all of them, the whole population is judged); rules with fewer contribute all theirs. */
const PER_RULE = Number(process.env.SAMPLE_PER_RULE ?? 1000);

/** Keep in step with test/rules/ruff-differential.test.ts. */
const RUFF_IMPLEMENTS = new Set([
  'ASYNC100', 'ASYNC105', 'ASYNC109', 'ASYNC110', 'ASYNC115', 'ASYNC116', 'ASYNC210', 'ASYNC212', 'ASYNC220',
  'ASYNC221', 'ASYNC222', 'ASYNC230', 'ASYNC240', 'ASYNC250', 'ASYNC251', 'RUF006', 'RUF029', 'PLE1142', 'PLE1700', 'F704',
]);

// CORPUS=held-out-3 ... held-out-18: the held-out rounds (bench/corpus.mjs), written to heldout3-* ... heldout18-*.
const SET = process.env.CORPUS ?? 'tuned';
const { roots, files, missing } = loadCorpus({ set: SET });
const isTest = pathFilter(DEFAULT_SETTINGS).isTest;

// ---- asyncguard, as a whole-file check with the App's defaults plus the preview rules (at the
// catalogue's severity: the sample judges them too), and again with every rule on, the
// catalogue's `off` ones included, for the comparison with their Ruff twins.
const PREVIEW_ON = previewOn(RULES);
const ALL_ON = { ...PREVIEW_ON, ...Object.fromEntries(RULES.filter((r) => r.meta.severity === 'off').map((r) => [r.meta.id, 'info'])) };
const ours = [];
const oursAllOn = [];
for (const file of files) {
  // Each project as its team would configure it: python_version from its Requires-Python.
  const settings = { ...DEFAULT_SETTINGS.rules, pythonVersion: file.pythonVersion };
  const analysis = analyzeFile({ path: file.path, source: file.source, addedLines: 'all', settings, severities: PREVIEW_ON });
  for (const finding of applyTestPolicy(analysis.findings, isTest)) ours.push({ ...finding, corpus: file.corpus });
  oursAllOn.push(...analyzeFile({ path: file.path, source: file.source, addedLines: 'all', severities: ALL_ON, settings }).findings);
}

// ---- Ruff with every twin code, on the same files.
const twins = RULES.filter((rule) => rule.meta.aliases.some((a) => RUFF_IMPLEMENTS.has(a)));
const codeToRule = new Map(twins.flatMap((rule) => rule.meta.aliases.filter((a) => RUFF_IMPLEMENTS.has(a)).map((a) => [a, rule.meta.id])));
const ruff = new Workspace({ 'output-prefer-rule-codes': true, lint: { select: [...codeToRule.keys()], preview: true } }, PositionEncoding.Utf16);
const theirs = [];
for (const file of files) {
  for (const d of ruff.check(file.source)) {
    const ruleId = codeToRule.get(d.code);
    if (ruleId) theirs.push({ ruleId, code: d.code, path: file.path, line: d.start_location.row });
  }
}

const agreement = twins.map((rule) => {
  const id = rule.meta.id;
  const a = new Set(oursAllOn.filter((f) => f.ruleId === id).map((f) => `${f.path}:${f.line}`));
  const b = new Set(theirs.filter((f) => f.ruleId === id).map((f) => `${f.path}:${f.line}`));
  const both = [...a].filter((k) => b.has(k)).length;
  return {
    rule: `${id} ${rule.meta.slug}`,
    ruffCodes: rule.meta.aliases.filter((x) => RUFF_IMPLEMENTS.has(x)),
    asyncguard: a.size,
    ruff: b.size,
    both,
    onlyAsyncguard: [...a].filter((k) => !b.has(k)).slice(0, 20),
    onlyRuff: [...b].filter((k) => !a.has(k)).slice(0, 20),
  };
});

// ---- The precision sample: findings a review would post (test-code blocking calls excluded),
// up to PER_RULE per rule, in an order fixed by a hash of the finding (not by file order).
const posted = ours.filter((f) => !isRelaxedInTests(f, isTest));
// Line numbers are left out of the key: a package update that only moves code keeps its judgment.
const keyOf = (f) => `${f.ruleId} ${f.path} ${f.scope} ${f.snippet}`;
const order = (f) => createHash('sha256').update(keyOf(f)).digest('hex');
// Two findings of one rule in one function on the same code get `#2`, `#3`... (as fingerprints do).
const seen = new Map();
for (const f of posted) {
  const base = keyOf(f);
  const n = (seen.get(base) ?? 0) + 1;
  seen.set(base, n);
  f.key = n === 1 ? base : `${base} #${n}`;
}
const sample = [];
for (const rule of RULES) {
  const mine = posted.filter((f) => f.ruleId === rule.meta.id).sort((x, y) => order(x).localeCompare(order(y)) || x.line - y.line);
  sample.push(...mine.slice(0, PER_RULE));
}
const sourceOf = new Map(files.map((f) => [f.path, f.source.split('\n')]));
const md = [
  `# Precision sample (${sample.length} findings of ${posted.length} on ${files.length} files)`,
  '',
  'Each finding with its code; the verdicts are in bench/precision-judgments.json, keyed by `key`.',
  '',
];
for (const f of sample) {
  const lines = sourceOf.get(f.path);
  const from = Math.max(0, f.line - 8);
  const to = Math.min(lines.length, f.endLine + 4);
  md.push(`## ${f.ruleId} ${f.path}:${f.line}`, '', `key: \`${f.key}\``, '', `${f.message}`, '', '```python');
  for (let i = from; i < to; i++) md.push(`${String(i + 1).padStart(5)}${i + 1 === f.line ? '>' : ' '} ${lines[i]}`);
  md.push('```', '');
}

mkdirSync(join(here, 'results'), { recursive: true });
const summary = {
  date: new Date().toISOString().slice(0, 10),
  corpus: { files: files.length, roots: roots.length, missing },
  findings: { asyncguard: ours.length, posted: posted.length, postedByDefault: posted.filter((f) => !(f.ruleId in PREVIEW_ON)).length, byRule: Object.fromEntries(RULES.map((r) => [r.meta.id, posted.filter((f) => f.ruleId === r.meta.id).length])) },
  agreement,
};
const prefix = SET === 'tuned' ? '' : `heldout${SET.slice('held-out-'.length)}-`;
writeFileSync(join(here, 'results', `${prefix}ruff-agreement.json`), `${JSON.stringify(summary, null, 2)}\n`);
writeFileSync(join(here, 'results', `${prefix}precision-sample.md`), md.join('\n'));
console.log(JSON.stringify({ ...summary, agreement: agreement.map(({ onlyAsyncguard, onlyRuff, ...rest }) => rest) }, null, 2));
console.log(`sample: ${sample.length} findings -> bench/results/${prefix}precision-sample.md`);
