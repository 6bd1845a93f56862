import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { rulePages } from '../../src/docs/rule-pages.js';
import { renderRuleDoc } from '../../src/findings/render.js';
import { severityLabel } from '../../src/rules/preview.js';
import { RULES } from '../../src/rules/registry.js';

const DOCS = fileURLToPath(new URL('../../docs/rules/', import.meta.url));

describe('docs/rules', () => {
  const pages = rulePages();

  it('has exactly one page per rule plus the index', () => {
    expect(existsSync(DOCS)).toBe(true);
    expect(readdirSync(DOCS).sort()).toEqual([...pages.keys()].sort());
    expect(pages.size).toBe(RULES.length + 1);
  });

  it.each([...pages.keys()])('%s is up to date (run `npm run docs`)', (name) => {
    expect(readFileSync(`${DOCS}${name}`, 'utf8')).toBe(pages.get(name));
  });

  it('is the same document as `asyncguard explain` prints, in markdown', () => {
    for (const rule of RULES) {
      const text = renderRuleDoc(rule, 'text');
      const page = pages.get(`${rule.meta.slug}.md`)!;
      for (const part of [rule.meta.docs.what, rule.meta.docs.why, rule.meta.docs.example.trim(), rule.meta.docs.useInstead.trim()]) {
        expect(page).toContain(part);
        expect(text).toContain(part.split('\n')[0]);
      }
    }
  });
});

describe('README', () => {
  it('lists every rule with its slug, aliases, severity and title, in id order', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const rows = readme.split('\n').filter((line) => /^\| AG\d{3} \|/.test(line));
    expect(rows.map((row) => row.split(' | ').slice(0, 5).join(' | '))).toEqual(
      RULES.map((rule) => `| ${rule.meta.id} | [${rule.meta.slug}](docs/rules/${rule.meta.slug}.md) | ${rule.meta.aliases.join(', ') || '-'} | ${severityLabel(rule)} | ${rule.meta.title}`),
    );
  });
});
