import type { Analyzer } from '../analysis/analyzer.js';
import type { FileAnalysis, FileInput } from '../analysis/analyze-file.js';
import { pathFilter, resolveConfig, type ConfigProblem, type ReviewSettings } from '../config/settings.js';
import { diffTexts, isCommentable, parsePatch, type FileDiff } from '../diff/patch.js';
import { fingerprintAll, type FingerprintedFinding } from '../findings/fingerprint.js';
import { applyTestPolicy, isRelaxedInTests, reachesFailOn } from '../findings/policy.js';
import {
  renderCheckOutput,
  renderComment,
  renderConfigErrorOutput,
  renderFailureOutput,
  renderNoPythonOutput,
  renderReviewBody,
  renderSupersededOutput,
  type FileNote,
} from '../findings/render.js';
import { selectComments } from '../findings/select.js';
import { RULES } from '../rules/registry.js';
import type { Rule, Suggestion } from '../rules/types.js';
import type {
  Annotation,
  ChangedFile,
  CheckRunHandle,
  Conclusion,
  InlineComment,
  PullRequestRef,
  ReviewGateway,
  ReviewThread,
} from './ports.js';

export interface ReviewRequest {
  pr: PullRequestRef;
  /** A re-run asked for on GitHub gets a fresh check run; a pull_request event reuses the head's. */
  rerun: boolean;
}

export interface ReviewDeps {
  gateway: ReviewGateway;
  analyzer: Analyzer;
  /** The head SHA of a newer push to the same pull request, once there is one; else null. */
  supersededBy?: () => string | null;
}

export interface ReviewOutcome {
  /**
   * 'already-reviewed': a pull_request event for a head this app has a completed check run on.
   * 'superseded': a newer push arrived before this review started; nothing was done.
   */
  conclusion: Conclusion | 'already-reviewed' | 'superseded';
  findings: FingerprintedFinding[];
  commentsPosted: number;
}

const PYTHON_FILE = /\.pyi?$/;
const RULES_BY_ID: ReadonlyMap<string, Rule> = new Map(RULES.map((rule) => [rule.meta.id, rule]));

/**
 * The review of one pull request head: numbered stages of design.md. The check run is always
 * completed, whatever fails in between, so branch protection never waits on a dead run.
 */
export async function reviewPullRequest(request: ReviewRequest, deps: ReviewDeps): Promise<ReviewOutcome> {
  const { gateway } = deps;
  if (deps.supersededBy?.()) return { conclusion: 'superseded', findings: [], commentsPosted: 0 };
  const check = await startCheckRun(request, gateway);
  if (!check) return { conclusion: 'already-reviewed', findings: [], commentsPosted: 0 };
  try {
    return await review(request.pr, check, deps);
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

async function review(pr: PullRequestRef, check: CheckRunHandle, deps: ReviewDeps): Promise<ReviewOutcome> {
  const { gateway, analyzer } = deps;
  if (await completedAsSuperseded(check, deps)) return { conclusion: 'cancelled', findings: [], commentsPosted: 0 };

  // 1. configuration, from the default branch. A broken file is reported, never replaced by defaults.
  const configured = await loadSettings(gateway);
  if ('problems' in configured) {
    await gateway.completeCheckRun(check, {
      conclusion: 'neutral',
      output: renderConfigErrorOutput(configured.location, configured.problems),
      annotations: [],
    });
    return { conclusion: 'neutral', findings: [], commentsPosted: 0 };
  }
  const settings = configured.settings;
  const filter = pathFilter(settings);

  // 2. diff: the Python files the PR changed that the configuration reviews, and what each added.
  const python = (await gateway.listChangedFiles()).filter((file) => PYTHON_FILE.test(file.path) && file.status !== 'removed');
  const changed = python.filter((file) => filter.reviewed(file.path));
  const excluded = python.length - changed.length;
  if (changed.length === 0) {
    await gateway.completeCheckRun(check, { conclusion: 'success', output: renderNoPythonOutput(excluded), annotations: [] });
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
    inputs.push({
      path: file.path,
      source,
      addedLines: diffs.get(file.path)!.addedLines,
      severities: settings.severities,
      settings: settings.rules,
    });
  }
  const analyses = await analyzer.analyze(inputs);
  notes.push(...analysisNotes(analyses));

  // 6. findings: test code, fingerprints, the conversation so far, and what becomes a comment.
  const inTests = (finding: FingerprintedFinding) => isRelaxedInTests(finding, filter.isTest);
  const findings = fingerprintAll(applyTestPolicy(analyses.flatMap((analysis) => analysis.findings), filter.isTest));
  const threads = await gateway.botThreads();
  const threaded = new Set(threads.flatMap((thread) => thread.fingerprints));
  const selection = selectComments(
    findings.filter((finding) => !inTests(finding)),
    diffs,
    { commentOn: settings.commentOn, maxComments: settings.maxComments, alreadyPosted: threaded },
  );
  const analysed = new Set(analyses.filter((a) => !a.skipped).map((a) => a.path));
  const unanalysed = new Set(changed.map((f) => f.path).filter((path) => !analysed.has(path)));
  const fixed = fixedThreads(threads, findings, unanalysed);

  // A newer push makes this review moot: say so, and post nothing.
  if (await completedAsSuperseded(check, deps)) return { conclusion: 'cancelled', findings, commentsPosted: 0 };

  // 7. publish: one review, resolve what was fixed, then the completed check run.
  if (selection.comments.length > 0) {
    const comments = selection.comments.map((finding) => inlineComment(finding, diffs.get(finding.path)!));
    await gateway.createReview(pr.headSha, renderReviewBody(comments.length, findings.length, check.htmlUrl), comments);
  }
  const resolution = await resolveAll(gateway, fixed);
  const conclusion = conclude(findings, settings.failOn);
  await gateway.completeCheckRun(check, {
    conclusion,
    output: renderCheckOutput({
      findings,
      rulesById: RULES_BY_ID,
      filesAnalysed: inputs.length,
      touchedScopes: analyses.reduce((n, a) => n + a.touched.length, 0),
      newComments: selection.comments.length,
      overflow: selection.overflow,
      notes,
      conversation: {
        new: findings.filter((f) => !threaded.has(f.fingerprint)).length,
        open: findings.filter((f) => threaded.has(f.fingerprint)).length,
        fixed: fixed.length,
        resolveRefused: resolution.refused,
        resolveFailed: resolution.failed,
      },
      suppressed: analyses.reduce((n, a) => n + a.suppressed, 0),
      inTests: findings.filter(inTests).length,
      excludedFiles: excluded,
    }),
    annotations: findings.map(annotationOf),
  });
  return { conclusion, findings, commentsPosted: selection.comments.length };
}

/** When a newer push has arrived: completes the check run as cancelled, pointing at it. */
async function completedAsSuperseded(check: CheckRunHandle, deps: ReviewDeps): Promise<boolean> {
  const newer = deps.supersededBy?.() ?? null;
  if (!newer) return false;
  await deps.gateway.completeCheckRun(check, { conclusion: 'cancelled', output: renderSupersededOutput(newer), annotations: [] });
  return true;
}

async function loadSettings(
  gateway: ReviewGateway,
): Promise<{ settings: ReviewSettings } | { location: string; problems: ConfigProblem[] }> {
  const source = await gateway.readConfig();
  if (source.status === 'unreadable') {
    return { location: source.location, problems: [{ key: '', expected: `a readable YAML mapping (${source.reason})` }] };
  }
  const resolved = resolveConfig(source.status === 'found' ? source.config : null);
  if (!resolved.ok) return { location: source.status === 'found' ? source.location : '', problems: resolved.problems };
  return { settings: resolved.settings };
}

/**
 * The bot's open threads whose findings are all gone. A thread on a file this run could not
 * analyse stays open: the finding may still be there.
 */
function fixedThreads(threads: readonly ReviewThread[], findings: readonly FingerprintedFinding[], unanalysed: ReadonlySet<string>): ReviewThread[] {
  const present = new Set(findings.map((f) => f.fingerprint));
  return threads.filter(
    (thread) => !thread.isResolved && !unanalysed.has(thread.path) && thread.fingerprints.every((fp) => !present.has(fp)),
  );
}

/**
 * Resolves the fixed threads. Once GitHub refuses (no permission) the rest are only counted; any
 * other error leaves that thread open (the next push tries again) and does not fail the review.
 */
async function resolveAll(gateway: ReviewGateway, threads: readonly ReviewThread[]): Promise<{ refused: number; failed: number }> {
  let failed = 0;
  for (const [index, thread] of threads.entries()) {
    let outcome: 'resolved' | 'forbidden';
    try {
      outcome = await gateway.resolveThread(thread.id);
    } catch {
      failed++;
      continue;
    }
    if (outcome === 'forbidden') return { refused: threads.length - index, failed };
  }
  return { refused: 0, failed };
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

function conclude(findings: readonly FingerprintedFinding[], failOn: ReviewSettings['failOn']): Conclusion {
  return reachesFailOn(findings, failOn) ? 'failure' : 'success';
}
