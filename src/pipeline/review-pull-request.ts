import type { Analyzer } from '../analysis/analyzer.js';
import type { FileAnalysis, FileInput } from '../analysis/analyze-file.js';
import { diffTexts, isCommentable, parsePatch, type FileDiff } from '../diff/patch.js';
import { fingerprintAll, type FingerprintedFinding } from '../findings/fingerprint.js';
import {
  renderCheckOutput,
  type FileNote,
  renderComment,
  renderFailureOutput,
  renderNoPythonOutput,
  renderReviewBody,
} from '../findings/render.js';
import { DEFAULT_MAX_COMMENTS, selectComments, type CommentOn } from '../findings/select.js';
import { RULES } from '../rules/registry.js';
import type { Rule, Severity, Suggestion } from '../rules/types.js';
import type { Annotation, ChangedFile, CheckRunHandle, Conclusion, InlineComment, PullRequestRef, ReviewGateway } from './ports.js';

export type FailOn = Exclude<Severity, 'off'> | 'never';

export interface ReviewSettings {
  commentOn: CommentOn;
  maxComments: number;
  failOn: FailOn;
}

export const DEFAULT_SETTINGS: ReviewSettings = { commentOn: 'added', maxComments: DEFAULT_MAX_COMMENTS, failOn: 'error' };

export interface ReviewRequest {
  pr: PullRequestRef;
  /** A re-run asked for on GitHub gets a fresh check run; a pull_request event reuses the head's. */
  rerun: boolean;
}

export interface ReviewDeps {
  gateway: ReviewGateway;
  analyzer: Analyzer;
  settings?: ReviewSettings;
}

export interface ReviewOutcome {
  /** 'already-reviewed': a pull_request event for a head this app has a completed check run on. */
  conclusion: Conclusion | 'already-reviewed';
  findings: FingerprintedFinding[];
  commentsPosted: number;
}

const PYTHON_FILE = /\.pyi?$/;
const RULES_BY_ID: ReadonlyMap<string, Rule> = new Map(RULES.map((rule) => [rule.meta.id, rule]));
const RANK: Record<Exclude<Severity, 'off'>, number> = { info: 1, warning: 2, error: 3 };

/**
 * The review of one pull request head: numbered stages of design.md. The check run is always
 * completed, whatever fails in between, so branch protection never waits on a dead run.
 */
export async function reviewPullRequest(request: ReviewRequest, deps: ReviewDeps): Promise<ReviewOutcome> {
  const { gateway } = deps;
  const settings = deps.settings ?? DEFAULT_SETTINGS;
  const check = await startCheckRun(request, gateway);
  if (!check) return { conclusion: 'already-reviewed', findings: [], commentsPosted: 0 };
  try {
    return await review(request.pr, check, { ...deps, settings });
  } catch (error) {
    await gateway.completeCheckRun(check, {
      conclusion: 'neutral',
      output: renderFailureOutput((error as Error).message),
      annotations: [],
    });
    throw error;
  }
}

/**
 * A redelivered or repeated pull_request event for a head already reviewed changes nothing (the
 * same code gives the same findings, and a completed check run cannot be cleared of its
 * annotations); a run left in progress by a process that died is taken over. Re-runs asked for
 * on GitHub always get a fresh check run.
 */
async function startCheckRun(request: ReviewRequest, gateway: ReviewGateway): Promise<CheckRunHandle | null> {
  if (!request.rerun) {
    const existing = await gateway.findCheckRun(request.pr.headSha);
    if (existing?.status === 'completed') return null;
    if (existing) return existing;
  }
  return gateway.createCheckRun(request.pr.headSha);
}

async function review(pr: PullRequestRef, check: CheckRunHandle, deps: Required<ReviewDeps>): Promise<ReviewOutcome> {
  const { gateway, analyzer, settings } = deps;

  // 2. diff: the Python files the PR changed, and what each added.
  const changed = (await gateway.listChangedFiles()).filter(
    (file) => PYTHON_FILE.test(file.path) && file.status !== 'removed',
  );
  if (changed.length === 0) {
    await gateway.completeCheckRun(check, { conclusion: 'success', output: renderNoPythonOutput(), annotations: [] });
    return { conclusion: 'success', findings: [], commentsPosted: 0 };
  }

  // 3. source: head texts in batches; base texts only where GitHub sent no patch.
  const heads = await gateway.readFiles(pr.headSha, changed.map((file) => file.path));
  const diffs = await diffsOf(changed, heads, pr, gateway);

  // 4-5. scope and rules, off the event loop.
  const notes: FileNote[] = [];
  const inputs: FileInput[] = [];
  for (const file of changed) {
    const source = heads.get(file.path);
    if (source == null) {
      notes.push({ path: file.path, text: `could not be read at ${pr.headSha.slice(0, 7)} (not text?); not analysed.` });
      continue;
    }
    inputs.push({ path: file.path, source, addedLines: diffs.get(file.path)!.addedLines });
  }
  const analyses = await analyzer.analyze(inputs);
  notes.push(...analysisNotes(analyses));

  // 6. findings: fingerprints, and which become review comments.
  const findings = fingerprintAll(analyses.flatMap((analysis) => analysis.findings));
  const options = { commentOn: settings.commentOn, maxComments: settings.maxComments };
  const candidates = selectComments(findings, diffs, { ...options, alreadyPosted: new Set() });
  // The bot's earlier comments matter only when some finding could become a comment.
  const commentable = candidates.comments.length + candidates.overflow.length > 0;
  const posted = commentable ? await gateway.postedFingerprints() : new Set<string>();
  const selection = selectComments(findings, diffs, { ...options, alreadyPosted: posted });

  // 7. publish: one review, then the completed check run with every finding as an annotation.
  if (selection.comments.length > 0) {
    const comments = selection.comments.map((finding) => inlineComment(finding, diffs.get(finding.path)!));
    await gateway.createReview(pr.headSha, renderReviewBody(comments.length, findings.length, check.htmlUrl), comments);
  }
  const conclusion = conclude(findings, settings.failOn);
  await gateway.completeCheckRun(check, {
    conclusion,
    output: renderCheckOutput({
      findings,
      rulesById: RULES_BY_ID,
      filesAnalysed: inputs.length,
      touchedScopes: analyses.reduce((n, a) => n + a.touched.length, 0),
      newComments: selection.comments.length,
      alreadyCommented: selection.alreadyCommented.length,
      overflow: selection.overflow,
      notes,
    }),
    annotations: findings.map(annotationOf),
  });
  return { conclusion, findings, commentsPosted: selection.comments.length };
}

async function diffsOf(
  changed: readonly ChangedFile[],
  heads: ReadonlyMap<string, string | null>,
  pr: PullRequestRef,
  gateway: ReviewGateway,
): Promise<Map<string, FileDiff>> {
  const diffs = new Map<string, FileDiff>();
  const unpatched = changed.filter((file) => file.patch === undefined && file.status !== 'added');
  const bases = unpatched.length
    ? await gateway.readFiles(pr.baseSha, unpatched.map((file) => file.previousPath ?? file.path))
    : new Map<string, string | null>();
  for (const file of changed) {
    if (file.patch !== undefined) {
      diffs.set(file.path, parsePatch(file.patch));
    } else {
      const base = file.status === 'added' ? '' : (bases.get(file.previousPath ?? file.path) ?? '');
      diffs.set(file.path, diffTexts(base, heads.get(file.path) ?? ''));
    }
  }
  return diffs;
}

function analysisNotes(analyses: readonly FileAnalysis[]): FileNote[] {
  const notes: FileNote[] = [];
  for (const analysis of analyses) {
    if (analysis.skipped) notes.push({ path: analysis.path, text: `${analysis.skipped}.` });
    else if (analysis.syntaxErrorLines.length > 0) {
      const lines = analysis.syntaxErrorLines.slice(0, 5).join(', ');
      notes.push({ path: analysis.path, text: `has syntax errors (line ${lines}); the parts that parse were analysed.` });
    }
  }
  return notes;
}

function inlineComment(finding: FingerprintedFinding, diff: FileDiff): InlineComment {
  const rule = RULES_BY_ID.get(finding.ruleId)!;
  const suggestion = suggestionThatFits(finding, diff);
  const body = renderComment(finding, rule, suggestion !== undefined);
  if (suggestion && suggestion.endLine > suggestion.line) {
    return { path: finding.path, startLine: suggestion.line, line: suggestion.endLine, body };
  }
  return { path: finding.path, line: finding.line, body };
}

/**
 * A suggestion replaces exactly the lines its comment covers, so it is offered only when it
 * starts on the finding's line and every line it replaces is in one hunk of the diff.
 */
function suggestionThatFits(finding: FingerprintedFinding, diff: FileDiff): Suggestion | undefined {
  const suggestion = finding.suggestion;
  if (!suggestion || suggestion.line !== finding.line) return undefined;
  if (!isCommentable(diff, suggestion.endLine, suggestion.line)) return undefined;
  for (let line = suggestion.line; line <= suggestion.endLine; line++) {
    if (!diff.diffLines.includes(line)) return undefined;
  }
  return suggestion;
}

function annotationOf(finding: FingerprintedFinding): Annotation {
  const level = finding.severity === 'error' ? 'failure' : finding.severity === 'warning' ? 'warning' : 'notice';
  const rule = RULES_BY_ID.get(finding.ruleId)!;
  const annotation: Annotation = {
    path: finding.path,
    start_line: finding.line,
    end_line: finding.endLine,
    annotation_level: level,
    title: `${finding.ruleId} ${finding.slug}: ${finding.title}`,
    message: `${finding.message}\nFix: ${rule.meta.fix}`,
  };
  // GitHub accepts columns only on single-line annotations.
  if (finding.line === finding.endLine) {
    annotation.start_column = finding.column;
    annotation.end_column = finding.endColumn;
  }
  return annotation;
}

function conclude(findings: readonly FingerprintedFinding[], failOn: FailOn): Conclusion {
  if (failOn === 'never') return 'success';
  return findings.some((finding) => RANK[finding.severity] >= RANK[failOn]) ? 'failure' : 'success';
}
