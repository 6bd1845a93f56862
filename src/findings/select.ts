import { isCommentable, type FileDiff } from '../diff/patch.js';
import type { FingerprintedFinding } from './fingerprint.js';

export type CommentOn = 'added' | 'diff_context' | 'none';

export interface SelectionOptions {
  commentOn: CommentOn;
  maxComments: number;
  /** Fingerprints that already have a bot comment on the PR. */
  alreadyPosted: ReadonlySet<string>;
}

export interface Selection {
  /** Become inline review comments, in file/line order. */
  comments: FingerprintedFinding[];
  /** Would have been comments but the cap was reached: listed in the check run. */
  overflow: FingerprintedFinding[];
  /** Already have a live bot comment: not posted again. */
  alreadyCommented: FingerprintedFinding[];
  /** Outside the commentable lines (unchanged lines of a touched function, files without a patch). */
  annotationOnly: FingerprintedFinding[];
}

/** Decide which findings become review comments. Every comment returned is valid for GitHub. */
export function selectComments(
  findings: readonly FingerprintedFinding[],
  diffs: ReadonlyMap<string, FileDiff>,
  options: SelectionOptions,
): Selection {
  const selection: Selection = { comments: [], overflow: [], alreadyCommented: [], annotationOnly: [] };
  for (const finding of findings) {
    const diff = diffs.get(finding.path);
    if (!diff || !onCommentableLine(finding, diff, options.commentOn)) {
      selection.annotationOnly.push(finding);
    } else if (options.alreadyPosted.has(finding.fingerprint)) {
      selection.alreadyCommented.push(finding);
    } else if (selection.comments.length < options.maxComments) {
      selection.comments.push(finding);
    } else {
      selection.overflow.push(finding);
    }
  }
  return selection;
}

function onCommentableLine(finding: FingerprintedFinding, diff: FileDiff, commentOn: CommentOn): boolean {
  if (commentOn === 'none' || !isCommentable(diff, finding.line)) return false;
  return commentOn === 'diff_context' || diff.addedLines.includes(finding.line);
}
