import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parsePython } from '../../src/python/parser.js';
import { WHOLE_FILE } from '../../src/python/scopes.js';
import { runRules } from '../../src/rules/engine.js';
import { findRule, RULES, suggestRules } from '../../src/rules/registry.js';
import { SKILL_GUIDES } from '../../src/rules/skills.js';
import { DEFAULT_RULE_SETTINGS, type Finding, type Rule } from '../../src/rules/types.js';

const SEEDS = fileURLToPath(new URL('../../../shared/seeds/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const RULE_FILES = fileURLToPath(new URL('../../src/rules/', import.meta.url));
/** Files of src/rules that are not rules. */
const NOT_RULES = new Set(['engine.ts', 'preview.ts', 'registry.ts', 'skills.ts', 'types.ts', 'util.ts']);

const FAMILY_OF_HUNDREDS: Record<string, string> = { 1: 'blocking', 2: 'coroutines', 3: 'cancellation', 4: 'concurrency', 5: 'resources' };

/** Every rule at its default severity, and `rule` itself on (at `info`) even when it ships `off`. */
function analyse(rule: Rule, source: string): Finding[] {
  return runRules(parsePython(`${rule.meta.slug}-doc.py`, source), RULES, {
    scopes: WHOLE_FILE,
    severityOf: (r) => (r === rule && r.meta.severity === 'off' ? 'info' : r.meta.severity),
    settings: { ...DEFAULT_RULE_SETTINGS, ...rule.meta.docs.settings },
    onRuleError: (r, error) => {
      throw new Error(`${r.meta.id}: ${String(error)}`);
    },
  });
}

const ids = RULES.map((r) => r.meta.id);

describe('rule registry', () => {
  it('ids, slugs and aliases are unique, well-formed and in id order', () => {
    const slugs = RULES.map((r) => r.meta.slug);
    const aliases = RULES.flatMap((r) => r.meta.aliases);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(slugs).size).toBe(slugs.length);
    expect(new Set(aliases).size).toBe(aliases.length);
    expect([...ids].sort()).toEqual(ids);
    for (const rule of RULES) {
      expect(rule.meta.id).toMatch(/^AG[1-5]\d\d$/);
      expect(rule.meta.slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(rule.meta.family, rule.meta.id).toBe(FAMILY_OF_HUNDREDS[rule.meta.id[2]!]);
      for (const alias of rule.meta.aliases) expect(alias).toMatch(/^(ASYNC|RUF|S|PLE|F)\d+$/);
    }
  });

  it('registers every rule file of src/rules, each named after its slug', () => {
    const files = readdirSync(RULE_FILES).filter((name) => name.endsWith('.ts') && !NOT_RULES.has(name));
    expect(files.sort()).toEqual(RULES.map((r) => `${r.meta.slug}.ts`).sort());
  });

  it('findRule finds a rule by id, alias or slug, in any case', () => {
    expect(findRule('AG101')?.meta.slug).toBe('blocking-sleep');
    expect(findRule('ag101')?.meta.slug).toBe('blocking-sleep');
    expect(findRule('ASYNC251')?.meta.id).toBe('AG101');
    expect(findRule('async251')?.meta.id).toBe('AG101');
    expect(findRule('s7488')?.meta.id).toBe('AG101');
    expect(findRule('Blocking-Sleep')?.meta.id).toBe('AG101');
    expect(findRule(' RUF006 ')?.meta.slug).toBe('dangling-task');
    expect(findRule('ASYNC103')?.meta.slug).toBe('swallowed-cancellation');
    expect(findRule('AG1')).toBeUndefined();
    expect(findRule('')).toBeUndefined();
  });

  it('suggestRules offers the closest rules for a misspelt name', () => {
    expect(suggestRules('blocking-slep')[0]?.meta.slug).toBe('blocking-sleep');
    expect(suggestRules('blocking-slep')).toHaveLength(3);
    expect(suggestRules('swallowed-cancelation', 1).map((r) => r.meta.id)).toEqual(['AG301']);
    expect(suggestRules('ASYNC25')[0]?.meta.id).toBe('AG101');
    expect(suggestRules('dangling', 2)[0]?.meta.id).toBe('AG202');
  });
});

describe.each(RULES.map((rule) => [`${rule.meta.id} ${rule.meta.slug}`, rule] as const))('%s', (_, rule) => {
  const { meta } = rule;

  it('has a title, a fix, messages and full docs', () => {
    expect(meta.title.trim()).not.toBe('');
    expect(meta.fix.trim()).not.toBe('');
    expect(Object.keys(meta.messages).length).toBeGreaterThan(0);
    for (const part of [meta.docs.what, meta.docs.why, meta.docs.example, meta.docs.useInstead]) expect(part.trim()).not.toBe('');
    expect(['error', 'warning', 'info', 'off']).toContain(meta.severity);
  });

  it('cites skill sections whose headings appear verbatim in the guides', () => {
    expect(meta.cites.length).toBeGreaterThan(0);
    for (const { guide, section } of meta.cites) {
      const text = readFileSync(`${SEEDS}${SKILL_GUIDES[guide].file}`, 'utf8');
      expect(text.includes(section), `${guide} has no section "${section}"`).toBe(true);
    }
  });

  it('has a fixture', () => {
    expect(existsSync(`${FIXTURES}${meta.slug}.py`)).toBe(true);
  });

  it('docs example is valid Python that fires the rule; useInstead is valid Python no rule fires on', () => {
    for (const code of [meta.docs.example, meta.docs.useInstead]) {
      expect(parsePython('doc.py', code).errorRows, code).toEqual([]);
    }
    expect(analyse(rule, meta.docs.example).filter((f) => f.ruleId === meta.id).length).toBeGreaterThan(0);
    expect(analyse(rule, meta.docs.useInstead)).toEqual([]);
  });
});
