import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffTexts, isCommentable, parsePatch, parseUnifiedDiff } from '../../src/diff/patch.js';

/** Real `git diff` output for two versions of a file, as GitHub's `patch` field holds it (hunks only). */
function gitPatch(before: string, after: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ag-patch-'));
  writeFileSync(join(dir, 'a.py'), before);
  writeFileSync(join(dir, 'b.py'), after);
  let out = '';
  try {
    execFileSync('git', ['diff', '--no-index', '--no-color', '-U3', 'a.py', 'b.py'], { cwd: dir, encoding: 'utf8' });
  } catch (error) {
    out = (error as { stdout: string }).stdout; // git diff --no-index exits 1 when files differ
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out.slice(out.indexOf('@@'));
}

const lines = (n: number, label = 'x') => Array.from({ length: n }, (_, i) => `${label}${i + 1} = ${i + 1}`).join('\n') + '\n';

describe('parsePatch', () => {
  it('reads added lines and hunk ranges of a multi-hunk patch', () => {
    const before = lines(40);
    const after = before.replace('x3 = 3\n', 'x3 = 3\nnew_a = 1\n').replace('x30 = 30\n', 'x30 = 300\nnew_b = 2\n');
    const diff = parsePatch(gitPatch(before, after));
    // x30 moved down by the insertion at 4: its new value is line 31, new_b line 32.
    expect(diff.addedLines).toEqual([4, 31, 32]);
    expect(diff.hunks).toEqual([
      { start: 1, end: 7 },
      { start: 28, end: 35 },
    ]);
    expect(isCommentable(diff, 4)).toBe(true);
    expect(isCommentable(diff, 7)).toBe(true); // context line inside the hunk
    expect(isCommentable(diff, 8)).toBe(false); // between hunks: GitHub would answer 422
    expect(isCommentable(diff, 32, 31)).toBe(true);
    expect(isCommentable(diff, 31, 4)).toBe(false); // a range may not span two hunks
  });

  it('does not count "\\ No newline at end of file" as a line', () => {
    const patch = gitPatch('a = 1\nb = 2', 'a = 1\nb = 3');
    expect(patch).toContain('\\ No newline at end of file');
    const diff = parsePatch(patch);
    expect(diff.addedLines).toEqual([2]);
    expect(diff.diffLines).toEqual([1, 2]);
  });

  it('has no added lines for a deletions-only patch, but keeps its context commentable', () => {
    const diff = parsePatch(gitPatch(lines(10), lines(10).replace('x5 = 5\n', '')));
    expect(diff.addedLines).toEqual([]);
    expect(diff.hunks).toEqual([{ start: 2, end: 7 }]);
  });

  it('treats a missing or empty patch (binary, too large) as no hunks', () => {
    expect(parsePatch(undefined)).toEqual({ addedLines: [], hunks: [], diffLines: [] });
    expect(parsePatch('')).toEqual({ addedLines: [], hunks: [], diffLines: [] });
  });

  it('reads a whole new file', () => {
    const diff = parsePatch('@@ -0,0 +1,3 @@\n+import asyncio\n+\n+x = 1\n');
    expect(diff.addedLines).toEqual([1, 2, 3]);
    expect(diff.hunks).toEqual([{ start: 1, end: 3 }]);
  });
});

describe('parseUnifiedDiff', () => {
  it('keys files by their new path, follows renames and leaves deletions out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-repo-'));
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
    git('init', '-q');
    git('config', 'user.email', 't@example.com');
    git('config', 'user.name', 'T');
    writeFileSync(join(dir, 'old_name.py'), lines(20));
    writeFileSync(join(dir, 'gone.py'), 'x = 1\n');
    git('add', '.');
    git('commit', '-qm', 'base');
    git('mv', 'old_name.py', 'new_name.py');
    writeFileSync(join(dir, 'new_name.py'), lines(20).replace('x10 = 10\n', 'x10 = 10\nadded = True\n'));
    git('add', 'new_name.py');
    git('rm', '-q', 'gone.py');
    const files = parseUnifiedDiff(git('diff', '--cached', '-M', '--no-color'));
    expect([...files.keys()]).toEqual(['new_name.py']);
    expect(files.get('new_name.py')!.addedLines).toEqual([11]);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('diffTexts', () => {
  it('finds added lines locally when GitHub sent no patch, with no commentable hunks', () => {
    const diff = diffTexts(lines(5), lines(5).replace('x2 = 2\n', 'x2 = 2\ny = 0\n'));
    expect(diff.addedLines).toEqual([3]);
    expect(diff.hunks).toEqual([]);
    expect(isCommentable(diff, 3)).toBe(false);
  });
});
