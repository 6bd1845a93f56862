import parseDiff from 'parse-diff';
import { structuredPatch } from 'diff';

/** A RIGHT-side (new file) line range of one hunk, 1-based inclusive. */
export interface HunkRange {
  start: number;
  end: number;
}

/** What a pull request changed in one file, on the new side. */
export interface FileDiff {
  /** 1-based new-file lines the change added, ascending. */
  addedLines: number[];
  /**
   * Hunks GitHub shows for this file: a review comment must sit on a line inside one of them, or
   * GitHub rejects the whole review with 422. Empty when GitHub sent no patch (diffed locally).
   */
  hunks: HunkRange[];
  /** Lines of the hunks (added or context) that a review comment may be placed on. */
  diffLines: number[];
}

const EMPTY: FileDiff = { addedLines: [], hunks: [], diffLines: [] };

/** A GitHub `patch` (hunks only, no file headers) or a single-file unified diff. */
export function parsePatch(patch: string | undefined | null): FileDiff {
  if (!patch) return EMPTY;
  const text = patch.startsWith('@@') ? `--- a/file\n+++ b/file\n${patch}` : patch;
  const file = parseDiff(text)[0];
  return file ? fromChunks(file.chunks) : EMPTY;
}

/** Every file of a multi-file unified diff (`git diff`), keyed by its new path. Deleted files are left out. */
export function parseUnifiedDiff(diffText: string): Map<string, FileDiff> {
  const files = new Map<string, FileDiff>();
  for (const file of parseDiff(diffText)) {
    if (file.deleted || !file.to || file.to === '/dev/null') continue;
    files.set(file.to, fromChunks(file.chunks));
  }
  return files;
}

/**
 * For a file whose patch GitHub omitted (too large): diff base and head locally to learn the
 * added lines. GitHub shows no hunks for such a file, so none of its lines can carry a review
 * comment; findings there become check-run annotations only.
 */
export function diffTexts(base: string, head: string): FileDiff {
  const patch = structuredPatch('a', 'b', base, head, '', '', { context: 0 });
  const added: number[] = [];
  for (const hunk of patch.hunks) {
    let line = hunk.newStart;
    for (const change of hunk.lines) {
      if (change.startsWith('+')) added.push(line++);
      else if (change.startsWith(' ')) line++;
    }
  }
  return { addedLines: added, hunks: [], diffLines: [] };
}

function fromChunks(chunks: parseDiff.Chunk[]): FileDiff {
  const added: number[] = [];
  const diffLines: number[] = [];
  const hunks: HunkRange[] = [];
  for (const chunk of chunks) {
    let last = chunk.newStart - 1;
    for (const change of chunk.changes) {
      // "\ No newline at end of file" is not a line; parse-diff reports it as a change.
      if (change.content.startsWith('\\')) continue;
      if (change.type === 'add') {
        added.push(change.ln);
        diffLines.push(change.ln);
        last = change.ln;
      } else if (change.type === 'normal') {
        diffLines.push(change.ln2);
        last = change.ln2;
      }
    }
    if (chunk.newLines > 0 || last >= chunk.newStart) {
      hunks.push({ start: chunk.newStart, end: Math.max(last, chunk.newStart + chunk.newLines - 1) });
    }
  }
  return { addedLines: added, hunks, diffLines };
}

/** True when a review comment may be placed on `line` (and `startLine`..`line`) of the RIGHT side. */
export function isCommentable(diff: FileDiff, line: number, startLine = line): boolean {
  return diff.hunks.some((hunk) => hunk.start <= startLine && line <= hunk.end) && diff.diffLines.includes(line);
}
