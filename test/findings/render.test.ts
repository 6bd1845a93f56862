import { describe, expect, it } from 'vitest';
import { fingerprintAll } from '../../src/findings/fingerprint.js';
import { inlineCode, renderCheckOutput } from '../../src/findings/render.js';
import { findRule, RULES } from '../../src/rules/registry.js';
import type { Finding } from '../../src/rules/types.js';

const rulesById = new Map(RULES.map((rule) => [rule.meta.id, rule]));

function sleepFinding(path: string): Finding {
  const rule = findRule('AG101')!;
  return {
    ruleId: 'AG101',
    slug: 'blocking-sleep',
    aliases: rule.meta.aliases,
    severity: 'error',
    title: rule.meta.title,
    message: '`time.sleep()` blocks <img src=x> @org/team',
    path,
    line: 3,
    column: 5,
    endLine: 3,
    endColumn: 18,
    scope: 'f',
    snippet: 'time.sleep(1)',
  };
}

describe('inlineCode', () => {
  it('keeps text with backticks inside one code span', () => {
    expect(inlineCode('a.py')).toBe('`a.py`');
    expect(inlineCode('we`ird.py')).toBe('``we`ird.py``');
    expect(inlineCode('`edge`')).toBe('`` `edge` ``');
  });
});

describe('renderCheckOutput', () => {
  it('renders file notes and the overflow list without letting paths or messages inject markdown', () => {
    const overflow = fingerprintAll([sleepFinding('src/we`ird.py')]);
    const { summary } = renderCheckOutput({
      findings: overflow,
      rulesById,
      filesAnalysed: 2,
      touchedScopes: 1,
      newComments: 0,
      alreadyCommented: 0,
      overflow,
      notes: [{ path: 'pkg/@evil`.py', text: 'has syntax errors (line 3) <script>' }],
    });
    expect(summary).toContain('- ``src/we`ird.py:3`` AG101 \\`time.sleep\\(\\)\\` blocks \\<img src=x\\> @\u200borg/team');
    expect(summary).toContain('> ``pkg/@evil`.py``: has syntax errors \\(line 3\\) \\<script\\>');
    expect(summary).not.toMatch(/(?<!\\)<(img|script)|@org/);
  });
});
