import { renderRuleDoc, renderRuleIndex } from '../findings/render.js';
import { RULES } from '../rules/registry.js';

/** docs/rules: one page per rule and an index, generated from the rules' metadata. */
export function rulePages(): Map<string, string> {
  const pages = new Map<string, string>();
  pages.set('README.md', renderRuleIndex(RULES));
  for (const rule of RULES) pages.set(`${rule.meta.slug}.md`, renderRuleDoc(rule, 'markdown'));
  return pages;
}
