import { describe, expect, it } from 'vitest';
import { parsePatch } from '../../src/diff/patch.js';
import { fingerprintAll, fingerprintMarker, readFingerprints, readMarkerRule } from '../../src/findings/fingerprint.js';
import { selectComments } from '../../src/findings/select.js';
import type { Finding } from '../../src/rules/types.js';

function finding(line: number, overrides: Partial<Finding> = {}): Finding {
  return {
    ruleId: 'AG101',
    slug: 'blocking-sleep',
    aliases: ['ASYNC251'],
    severity: 'error',
    title: 'Blocking sleep in async code',
    message: '`time.sleep(1)` blocks the event loop',
    path: 'svc.py',
    line,
    column: 5,
    endLine: line,
    endColumn: 18,
    scope: 'handler',
    snippet: 'time.sleep(1)',
    ...overrides,
  };
}

// Hunk: new lines 10-16, of which 13 and 14 were added.
const PATCH = '@@ -10,5 +10,7 @@ async def handler():\n a\n b\n c\n+d\n+e\n f\n g\n';
const diffs = new Map([['svc.py', parsePatch(PATCH)]]);

describe('fingerprints', () => {
  it('do not depend on the line, only on rule, file, scope and code', () => {
    const [a] = fingerprintAll([finding(13)]);
    const [b] = fingerprintAll([finding(40)]);
    expect(a!.fingerprint).toBe(b!.fingerprint);
    expect(a!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    const [other] = fingerprintAll([finding(13, { scope: 'other' })]);
    expect(other!.fingerprint).not.toBe(a!.fingerprint);
  });

  it('keep two identical findings in one function apart', () => {
    const [first, second] = fingerprintAll([finding(13), finding(14)]);
    expect(first!.fingerprint).not.toBe(second!.fingerprint);
  });

  it('round-trip through the hidden marker', () => {
    const [a] = fingerprintAll([finding(13)]);
    const body = `text\n${fingerprintMarker(a!.fingerprint, 'AG101')}`;
    expect(readFingerprints(body)).toEqual([a!.fingerprint]);
    expect(readMarkerRule(body)).toBe('AG101');
    expect(readFingerprints('<!-- asyncguard:fp=nothex -->')).toEqual([]);
    // Markers posted before the rule was added to them still count as posted.
    expect(readFingerprints('<!-- asyncguard:fp=0123456789abcdef -->')).toEqual(['0123456789abcdef']);
    expect(readMarkerRule('<!-- asyncguard:fp=0123456789abcdef -->')).toBeNull();
  });
});

describe('selectComments', () => {
  const options = { commentOn: 'added' as const, maxComments: 25, alreadyPosted: new Set<string>() };

  it('comments only on added lines inside the hunks; the rest are annotations', () => {
    const all = fingerprintAll([finding(13), finding(11, { snippet: 'a' }), finding(30, { snippet: 'b' })]);
    const selection = selectComments(all, diffs, options);
    expect(selection.comments.map((f) => f.line)).toEqual([13]);
    expect(selection.annotationOnly.map((f) => f.line)).toEqual([11, 30]);
  });

  it('allows context lines with diff_context and nothing with none', () => {
    const all = fingerprintAll([finding(13), finding(11, { snippet: 'a' }), finding(30, { snippet: 'b' })]);
    expect(selectComments(all, diffs, { ...options, commentOn: 'diff_context' }).comments.map((f) => f.line)).toEqual([13, 11]);
    expect(selectComments(all, diffs, { ...options, commentOn: 'none' }).comments).toEqual([]);
  });

  it('never posts a fingerprint that is already on the PR', () => {
    const all = fingerprintAll([finding(13), finding(14, { snippet: 'time.sleep(2)' })]);
    const selection = selectComments(all, diffs, { ...options, alreadyPosted: new Set([all[0]!.fingerprint]) });
    expect(selection.comments.map((f) => f.line)).toEqual([14]);
    expect(selection.alreadyCommented.map((f) => f.line)).toEqual([13]);
  });

  it('caps the comments and keeps the overflow for the check run', () => {
    const all = fingerprintAll([finding(13), finding(14, { snippet: 'x' })]);
    const selection = selectComments(all, diffs, { ...options, maxComments: 1 });
    expect(selection.comments.map((f) => f.line)).toEqual([13]);
    expect(selection.overflow.map((f) => f.line)).toEqual([14]);
  });

  it('puts findings of files without hunks (no patch) in annotations only', () => {
    const all = fingerprintAll([finding(13, { path: 'big.py' })]);
    expect(selectComments(all, new Map([['big.py', parsePatch(undefined)]]), options).annotationOnly).toHaveLength(1);
  });
});
