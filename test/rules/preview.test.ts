import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/settings.js';
import { defaultSeverity, PREVIEW, PREVIEW_ROUNDS } from '../../src/rules/preview.js';
import { RULES } from '../../src/rules/registry.js';

interface Verdicts {
  judgments: { key: string; verdict: 'true-positive' | 'false-positive' }[];
}

/** Upper end of the 95% Wilson score interval for k successes out of n. */
function wilsonUpper(k: number, n: number): number {
  const z = 1.96;
  const p = k / n;
  const centre = p + (z * z) / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return (centre + spread) / (1 + (z * z) / n);
}

describe('rules in preview', () => {
  it('are exactly the rules the held-out rounds show below the bar, with the numbers they measured', () => {
    const measured = new Map<string, { truePositives: number; judged: number }>();
    for (let round = PREVIEW_ROUNDS.first; round <= PREVIEW_ROUNDS.last; round++) {
      const verdicts = JSON.parse(readFileSync(new URL(`../../bench/precision-heldout-${round}.json`, import.meta.url), 'utf8')) as Verdicts;
      for (const { key, verdict } of verdicts.judgments) {
        const id = key.split(' ')[0]!;
        const entry = measured.get(id) ?? { truePositives: 0, judged: 0 };
        entry.judged += 1;
        if (verdict === 'true-positive') entry.truePositives += 1;
        measured.set(id, entry);
      }
    }
    const below = [...measured].filter(([, m]) => m.judged >= 10 && wilsonUpper(m.truePositives, m.judged) < 0.9);
    expect(Object.fromEntries(below.sort(([a], [b]) => a.localeCompare(b)))).toEqual(PREVIEW);
    // The ones that stay on are on for a reason: enough evidence above the bar, or too little to overrule the catalogue.
    expect(below.length).toBeLessThan(RULES.length);
  });

  it('ship off, and `on` turns them on at the catalogue severity', () => {
    for (const id of Object.keys(PREVIEW)) {
      const rule = RULES.find((r) => r.meta.id === id)!;
      expect(defaultSeverity(rule)).toBe('off');
      expect(rule.meta.severity).not.toBe('off');
      const on = resolveConfig({ rules: { [id]: 'on' } });
      expect(on.ok && on.settings.severities[id]).toBe(rule.meta.severity);
    }
    const dangling = RULES.find((r) => r.meta.id === 'AG202')!;
    expect(defaultSeverity(dangling)).toBe('error');
  });
});
