import { describe, expect, it } from 'vitest';
import { fingerprintAll } from '../../src/findings/fingerprint.js';
import { inlineCode, renderCheckOutput, renderConfigErrorOutput } from '../../src/findings/render.js';
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
      overflow,
      notes: [{ path: 'pkg/@evil`.py', text: 'has syntax errors (line 3) <script>' }],
      conversation: { new: 1, open: 0, fixed: 3, resolveRefused: 2, resolveFailed: 1 },
      suppressed: 3,
      inTests: 0,
      excludedFiles: 1,
    });
    expect(summary).toContain('Since the last review: **1 new, 0 still open, 3 fixed**.');
    expect(summary).toContain('1 fixed thread could not be resolved: GitHub answered with an error; the next review tries again.');
    expect(summary).toContain('2 fixed threads could not be resolved: GitHub refused');
    expect(summary).toContain('Suppressed by `# noqa` / `# asyncguard: ignore` comments: 3.');
    expect(summary).toContain("Left out by the configuration's `paths` / `exclude`: 1 changed Python file.");
    expect(summary).toContain('- ``src/we`ird.py:3`` AG101 \\`time.sleep\\(\\)\\` blocks \\<img src=x\\> @\u200borg/team');
    expect(summary).toContain('> ``pkg/@evil`.py``: has syntax errors \\(line 3\\) \\<script\\>');
    expect(summary).not.toMatch(/(?<!\\)<(img|script)|@org/);
  });
});

describe('renderConfigErrorOutput', () => {
  it('names each key, the value found and what was expected, in a table no value can break', () => {
    const output = renderConfigErrorOutput('acme/api:.github/asyncguard.yml', [
      { key: 'comment_on', value: '"every|where"', expected: 'one of added, diff_context, none' },
      { key: 'rules.<img src=x>', value: '"@org/team"', expected: 'a rule id, alias, slug or family' },
      { key: '', expected: 'a readable YAML mapping (invalid YAML)' },
    ]);
    expect(output.title).toBe('Invalid configuration: 3 problems');
    expect(output.summary).toContain('| `comment_on` | `"every\\|where"` | one of added, diff\\_context, none |');
    expect(output.summary).toContain('| `rules.<img src=x>` | `"@org/team"` |');
    expect(output.summary).toContain('| (the file) | (missing) | a readable YAML mapping \\(invalid YAML\\) |');
    expect(output.summary).toContain('(`acme/api:.github/asyncguard.yml`)');
  });
});
