/**
 * What the review pipeline needs from GitHub, in its own terms (no Octokit types). src/github
 * implements it over the REST and GraphQL APIs; tests may implement it with fakes.
 */
import type { CheckOutput } from '../findings/render.js';

export interface PullRequestRef {
  owner: string;
  repo: string;
  number: number;
  headSha: string;
  baseSha: string;
}

export interface ChangedFile {
  path: string;
  /** The path at the base commit, for renamed files. */
  previousPath?: string;
  status: 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged';
  /** Absent when GitHub omits it (large or binary files). */
  patch?: string;
}

export interface InlineComment {
  path: string;
  /** RIGHT-side line; `startLine` .. `line` for a multi-line comment inside one hunk. */
  line: number;
  startLine?: number;
  body: string;
}

export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  end_column?: number;
  annotation_level: 'failure' | 'warning' | 'notice';
  title: string;
  message: string;
}

export type Conclusion = 'success' | 'failure' | 'neutral' | 'cancelled';

/** The configuration file as found: parsed YAML (validated later), absent, or unparseable. */
export type ConfigSource =
  | { status: 'absent' }
  | { status: 'found'; location: string; config: unknown }
  | { status: 'unreadable'; location: string; reason: string };

/** A review thread the bot started: its first comment carries the findings' fingerprints. */
export interface ReviewThread {
  id: string;
  path: string;
  isResolved: boolean;
  fingerprints: string[];
}

export interface CheckRunHandle {
  id: number;
  htmlUrl?: string;
}

export interface ExistingCheckRun extends CheckRunHandle {
  status: 'queued' | 'in_progress' | 'completed' | string;
}

export interface CheckRunResult {
  conclusion: Conclusion;
  output: CheckOutput;
  annotations: Annotation[];
}

/** GitHub as seen by the review of one pull request. */
export interface ReviewGateway {
  /** This app's latest `asyncguard` check run on the commit, if any. */
  findCheckRun(headSha: string): Promise<ExistingCheckRun | null>;
  /** Creates the `asyncguard` check run, in progress. */
  createCheckRun(headSha: string): Promise<CheckRunHandle>;
  listChangedFiles(): Promise<ChangedFile[]>;
  /** Full texts at `ref`; null for a path that does not exist there or is not text. */
  readFiles(ref: string, paths: readonly string[]): Promise<Map<string, string | null>>;
  /**
   * The repository's `.github/asyncguard.yml` from its default branch (or the owner's `.github`
   * repository), so a pull request cannot change its own rules.
   */
  readConfig(): Promise<ConfigSource>;
  /** The review threads the bot started on this pull request, resolved or not. */
  botThreads(): Promise<ReviewThread[]>;
  /** Marks a thread resolved; 'forbidden' when the installation may not (no contents: write). */
  resolveThread(threadId: string): Promise<'resolved' | 'forbidden'>;
  createReview(commitId: string, body: string, comments: readonly InlineComment[]): Promise<void>;
  completeCheckRun(check: CheckRunHandle, result: CheckRunResult): Promise<void>;
}
