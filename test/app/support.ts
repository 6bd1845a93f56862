/**
 * Shared material of the app tests: real webhook payloads, the Python fixtures of a pull request,
 * the GitHub answers the review reads, and the exact bodies it must send.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect } from 'vitest';
import { ruleDocsUrl } from '../../src/findings/render.js';
import { SKILL_GUIDES } from '../../src/rules/skills.js';
import { RULES } from '../../src/rules/registry.js';
import type { Rule } from '../../src/rules/types.js';
import type { GitHubMock } from '../helpers/probot.js';

interface WebhookDefinition {
  name: string;
  actions: string[];
  examples: Record<string, unknown>[];
}

// The package's main is a JSON index of {name, actions, examples}: required, not imported, so the
// same line works under vitest and plain Node.
const definitions = createRequire(import.meta.url)('@octokit/webhooks-examples') as WebhookDefinition[];

/**
 * A deep copy of a real example payload of `name` whose action is `action`. Deliveries to a
 * GitHub App always carry `installation` (Probot authenticates with it), so examples without one
 * (those recorded from repository webhooks) are skipped.
 */
export function webhookExample(name: string, action: string): any {
  const definition = definitions.find((d) => d.name === name);
  const example = definition?.examples.find((e) => e.action === action && e.installation !== undefined);
  if (!example) throw new Error(`@octokit/webhooks-examples has no ${name}.${action} example with an installation`);
  return structuredClone(example);
}

// What the real pull_request examples hold (Codertocat/Hello-World#2, installation 1).
export const OWNER = 'Codertocat';
export const REPO = 'Hello-World';
export const PR_NUMBER = 2;
export const INSTALLATION_ID = 1;
export const HEAD_SHA = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821';
export const BASE_SHA = 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e';
export const REPO_PATH = `/repos/${OWNER}/${REPO}`;
export const CHECK_RUN_ID = 4;
export const CHECK_RUN_URL = `https://github.com/${OWNER}/${REPO}/runs/${CHECK_RUN_ID}`;

/** Where the fixture module lives in the pull request. */
export const PY_PATH = 'aioservice/streams.py';

export function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/pr/${name}`, import.meta.url), 'utf8');
}

/** GitHub's `patch` field is git's diff from the first hunk on, without the final newline. */
export function githubPatch(name: string): string {
  return fixture(name).replace(/\n$/, '');
}

export const BEFORE = fixture('before.py');
export const AFTER = fixture('after.py');
export const SECOND_PUSH = fixture('second-push.py');

/** 1-based line of the only line of `text` containing `needle`. */
export function lineOf(text: string, needle: string): number {
  const lines = text.split('\n');
  const hits = lines.flatMap((line, i) => (line.includes(needle) ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`${JSON.stringify(needle)} is on ${hits.length} lines, not 1`);
  return hits[0]!;
}

// ---------------------------------------------------------------------------------------------
// Rules, by the anchor codes of peer tools (stable whatever ids the registry assigns).

export function ruleByAlias(alias: string): Rule {
  const rule = RULES.find((r) => r.meta.aliases.includes(alias));
  if (!rule) throw new Error(`no rule has the alias ${alias}`);
  return rule;
}

export const BLOCKING_SLEEP = 'ASYNC251';
export const BLOCKING_HTTP = 'ASYNC210';
export const BLOCKING_OPEN = 'ASYNC230';
export const DANGLING_TASK = 'RUF006';
export const SWALLOWED_CANCEL = 'ASYNC103';

/** A finding the review must report, located by the text of its first line. */
export interface ExpectedFinding {
  alias: string;
  path: string;
  line: number;
  endLine: number;
  /** 1-based, end exclusive; given for single-line findings (GitHub takes columns only there). */
  column?: number;
  endColumn?: number;
  /** On a line the pull request added: a review comment as well as an annotation. */
  added: boolean;
}

/**
 * `flagged`: the flagged node's text on its first line (all of it for a single-line node);
 * `lines`: how many lines the node spans.
 */
export function finding(text: string, path: string, alias: string, flagged: string, lines: number, added: boolean): ExpectedFinding {
  const line = lineOf(text, flagged);
  if (lines > 1) return { alias, path, line, endLine: line + lines - 1, added };
  const column = text.split('\n')[line - 1]!.indexOf(flagged) + 1;
  return { alias, path, line, endLine: line, column, endColumn: column + flagged.length, added };
}

/**
 * after.py: four mistakes the PR adds, three older ones on unchanged lines of functions it
 * touched (annotations only), and open_unix_connection's `time.sleep(0.05)`, untouched: never
 * reported.
 */
export function afterFindings(path = PY_PATH): ExpectedFinding[] {
  const f = (alias: string, first: string, lines: number, added: boolean) => finding(AFTER, path, alias, first, lines, added);
  return [
    f(BLOCKING_SLEEP, 'time.sleep(0.5 * 2 ** attempt)', 1, true),
    f(DANGLING_TASK, 'asyncio.create_task(server.serve_forever())', 1, true),
    f(BLOCKING_SLEEP, 'time.sleep(0)', 1, false),
    // `wait_closed` swallows its CancelledError too, but swallowed-cancellation is in preview (off
    // by default); reviewWithPreviewRule() turns it on through the repository's configuration.
    f(BLOCKING_OPEN, 'open(token_file)', 1, false),
    f(BLOCKING_HTTP, "requests.post(f'{registry_url}/services'", 3, false),
    f(BLOCKING_HTTP, "requests.get(f'{registry_url}/services/{name}'", 2, true),
  ];
}

// ---------------------------------------------------------------------------------------------
// What GitHub answers.

export function changedFile(filename: string, status: string, patch?: string): Record<string, unknown> {
  return {
    sha: '3f7c2b1e9d0a8f6e5d4c3b2a1908f7e6d5c4b3a2',
    filename,
    status,
    additions: patch ? patch.split('\n').filter((l) => l.startsWith('+')).length : 0,
    deletions: patch ? patch.split('\n').filter((l) => l.startsWith('-')).length : 0,
    changes: 0,
    blob_url: `https://github.com/${OWNER}/${REPO}/blob/${HEAD_SHA}/${filename}`,
    raw_url: `https://github.com/${OWNER}/${REPO}/raw/${HEAD_SHA}/${filename}`,
    contents_url: `https://api.github.com${REPO_PATH}/contents/${filename}?ref=${HEAD_SHA}`,
    ...(patch === undefined ? {} : { patch }),
  };
}

export function checkRun(id: number, headSha: string, status: 'in_progress' | 'completed', conclusion: string | null = null) {
  return {
    id,
    head_sha: headSha,
    node_id: `CR_kwDO${id}`,
    external_id: '',
    url: `https://api.github.com${REPO_PATH}/check-runs/${id}`,
    html_url: `https://github.com/${OWNER}/${REPO}/runs/${id}`,
    details_url: `https://github.com/${OWNER}/${REPO}/runs/${id}`,
    status,
    conclusion,
    started_at: '2024-05-01T10:00:00Z',
    completed_at: status === 'completed' ? '2024-05-01T10:00:05Z' : null,
    output: { title: null, summary: null, text: null, annotations_count: 0, annotations_url: '' },
    name: 'asyncguard',
    check_suite: { id: 118578147 },
    app: { id: 123, slug: 'asyncguard', name: 'asyncguard' },
    pull_requests: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Mocks of the requests a review makes, in the order it makes them.

export const checkRunsOfHead = (sha: string) =>
  `${REPO_PATH}/commits/${sha}/check-runs?check_name=asyncguard&filter=latest&app_id=123`;
export const filesOf = (number = PR_NUMBER) => `${REPO_PATH}/pulls/${number}/files?per_page=100`;
export const reviewsOf = (number = PR_NUMBER) => `${REPO_PATH}/pulls/${number}/reviews`;
export const checkRunPath = (id = CHECK_RUN_ID) => `${REPO_PATH}/check-runs/${id}`;

export function mockFindCheckRun(github: GitHubMock, sha: string, runs: unknown[] = []): void {
  github.get(checkRunsOfHead(sha), { body: { total_count: runs.length, check_runs: runs } });
}

export function mockCreateCheckRun(github: GitHubMock, sha: string, id = CHECK_RUN_ID): void {
  github.post(`${REPO_PATH}/check-runs`, { status: 201, body: checkRun(id, sha, 'in_progress') });
}

export function mockListFiles(github: GitHubMock, files: unknown[], number = PR_NUMBER): void {
  github.get(filesOf(number), { body: files });
}

/** One GraphQL answer with the blobs of `texts` (null: no such path at `ref`). */
export function mockReadBlobs(github: GitHubMock, texts: (string | null)[]): void {
  const repository = Object.fromEntries(
    texts.map((text, i) => [`f${i}`, text === null ? null : { text, isBinary: false, isTruncated: false }]),
  );
  github.post('/graphql', { body: { data: { repository } } });
}

/** `.github/asyncguard.yml` through the contents API, path segment encoded as Octokit sends it. */
export const configPath = (repo = REPO) => `/repos/${OWNER}/${repo}/contents/${encodeURIComponent('.github/asyncguard.yml')}`;

/**
 * The configuration read: the repository's file (raw YAML), or 404 there and 404 in the owner's
 * `.github` repository (Probot's fallback).
 */
export function mockReadConfig(github: GitHubMock, yaml: string | null = null): void {
  if (yaml !== null) {
    github.get(configPath(), { body: yaml, headers: { 'content-type': 'application/vnd.github.raw; charset=utf-8' } });
    return;
  }
  github.get(configPath(), { status: 404, body: { message: 'Not Found' } });
  github.get(configPath('.github'), { status: 404, body: { message: 'Not Found' } });
}

/** The requests of the configuration read. */
export function configCalls(found = false): string[] {
  return found ? [`GET ${configPath()}`] : [`GET ${configPath()}`, `GET ${configPath('.github')}`];
}

/** A review thread as the reviewThreads GraphQL connection returns it. */
export function reviewThread(id: string, body: string, path: string, options: { resolved?: boolean; author?: 'Bot' | 'User' } = {}) {
  return {
    id,
    isResolved: options.resolved ?? false,
    path,
    comments: { nodes: [{ body, author: { __typename: options.author ?? 'Bot' } }] },
  };
}

/** One page of the pull request's review threads. */
export function mockBotThreads(github: GitHubMock, threads: unknown[] = []): void {
  github.post('/graphql', {
    body: { data: { repository: { pullRequest: { reviewThreads: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: threads } } } } },
  });
}

/** The reviewThreads query, first page. */
export function botThreadsBody() {
  return {
    query: expect.stringContaining('reviewThreads(first: 100, after: $cursor)'),
    variables: { owner: OWNER, name: REPO, number: PR_NUMBER, cursor: null },
  };
}

/** resolveReviewThread answered, or refused the way GitHub refuses an installation without permission. */
export function mockResolveThread(github: GitHubMock, threadId: string, refused = false): void {
  github.post('/graphql', {
    body: refused
      ? { data: { resolveReviewThread: null }, errors: [{ type: 'FORBIDDEN', path: ['resolveReviewThread'], message: 'Resource not accessible by integration' }] }
      : { data: { resolveReviewThread: { thread: { id: threadId, isResolved: true } } } },
  });
}

export function resolveThreadBody(threadId: string) {
  return { query: expect.stringContaining('resolveReviewThread(input: { threadId: $threadId })'), variables: { threadId } };
}

export function mockCreateReview(github: GitHubMock, number = PR_NUMBER): void {
  github.post(reviewsOf(number), { body: { id: 80, state: 'COMMENTED', commit_id: HEAD_SHA } });
}

export function mockUpdateCheckRun(github: GitHubMock, sha: string, times = 1, id = CHECK_RUN_ID): void {
  for (let i = 0; i < times; i++) github.patch(checkRunPath(id), { body: checkRun(id, sha, i === times - 1 ? 'completed' : 'in_progress') });
}

// ---------------------------------------------------------------------------------------------
// The bodies the app must send.

export function createCheckRunBody(sha: string) {
  return {
    name: 'asyncguard',
    head_sha: sha,
    status: 'in_progress',
    started_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
    output: { title: 'Reviewing the touched functions', summary: 'asyncguard is reviewing this push.' },
  };
}

/** The aliased blob query of src/github/review-gateway.ts, paths travelling as variables. */
export function readBlobsBody(ref: string, paths: string[]) {
  const declarations = ['$owner: String!', '$name: String!', ...paths.map((_, i) => `$e${i}: String!`)];
  const fields = paths.map((_, i) => `f${i}: object(expression: $e${i}) { ... on Blob { text isBinary isTruncated } }`);
  return {
    query: `query(${declarations.join(', ')}) { repository(owner: $owner, name: $name) { ${fields.join(' ')} } }`,
    variables: { owner: OWNER, name: REPO, ...Object.fromEntries(paths.map((path, i) => [`e${i}`, `${ref}:${path}`])) },
  };
}

const LEVEL = { error: 'failure', warning: 'warning', info: 'notice' } as const;

/** The annotation of an expected finding (columns only on single-line ones, as GitHub requires). */
export function annotationOf(f: ExpectedFinding) {
  const rule = ruleByAlias(f.alias);
  const severity = rule.meta.severity as keyof typeof LEVEL;
  return {
    path: f.path,
    start_line: f.line,
    end_line: f.endLine,
    ...(f.line === f.endLine ? { start_column: f.column, end_column: f.endColumn } : {}),
    annotation_level: LEVEL[severity],
    title: `${rule.meta.id} ${rule.meta.slug}: ${rule.meta.title}`,
    message: expect.stringContaining(`\nFix: ${rule.meta.fix}`),
  };
}

/** The inline comment of an expected finding: RIGHT side, its first line. */
export function commentOf(f: ExpectedFinding) {
  return { path: f.path, line: f.line, side: 'RIGHT', body: expect.any(String) };
}

/** What every comment body carries: rule id, fix, skill citation(s) and the fingerprint marker. */
export function expectCommentBody(body: string, f: ExpectedFinding): void {
  const rule = ruleByAlias(f.alias);
  expect(body).toContain(`${rule.meta.id} ${rule.meta.slug}`);
  expect(body).toContain(`**Fix:** ${rule.meta.fix}`);
  expect(rule.meta.cites.length).toBeGreaterThan(0);
  for (const { guide, section } of rule.meta.cites) expect(body).toContain(`${SKILL_GUIDES[guide].name}: ${section}`);
  expect(body).toMatch(/<!-- asyncguard:fp=[0-9a-f]{16} rule=AG\d{3} -->/);
}

export function markerOf(body: string): string {
  const match = /<!-- asyncguard:fp=([0-9a-f]{16}) rule=AG\d{3} -->/.exec(body);
  if (!match) throw new Error('no fingerprint marker');
  return match[1]!;
}

export interface ReviewBody {
  commit_id: string;
  event: string;
  body: string;
  comments: { path: string; line: number; side: string; body: string; start_line?: number; start_side?: string }[];
}

export interface CheckRunUpdate {
  status?: string;
  conclusion?: string;
  completed_at?: string;
  output: { title: string; summary: string; annotations?: Record<string, unknown>[] };
}

export function sortByLine<T extends { line?: number; start_line?: number }>(items: T[]): T[] {
  return [...items].sort((a, b) => (a.line ?? a.start_line ?? 0) - (b.line ?? b.start_line ?? 0));
}

/**
 * second-push.py against the base: the back-off `time.sleep` is gone, heartbeat's
 * `requests.put` is new, and every other finding moved five lines down.
 */
export function secondPushFindings(path = PY_PATH): ExpectedFinding[] {
  const f = (alias: string, first: string, lines: number, added: boolean) => finding(SECOND_PUSH, path, alias, first, lines, added);
  return [
    f(DANGLING_TASK, 'asyncio.create_task(server.serve_forever())', 1, true),
    f(BLOCKING_SLEEP, 'time.sleep(0)', 1, false),
    f(BLOCKING_OPEN, 'open(token_file)', 1, false),
    f(BLOCKING_HTTP, "requests.post(f'{registry_url}/services'", 3, false),
    f(BLOCKING_HTTP, "requests.get(f'{registry_url}/services/{name}'", 2, true),
    f(BLOCKING_HTTP, "requests.put(f'{registry_url}/leases/{lease}'", 2, true),
  ];
}

export const ISO_TIME = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

/** The check-run summary's fixed parts: what was analysed, the per-rule table, the comment counts. */
export function expectSummary(
  summary: string,
  expected: { files: number; scopes: number; findings: ExpectedFinding[]; newComments: number; conversation: [number, number, number] },
): void {
  const files = `${expected.files} changed Python file${expected.files === 1 ? '' : 's'}`;
  const scopes = `${expected.scopes} ${expected.scopes === 1 ? 'touched function or statement' : 'touched functions and statements'}`;
  expect(summary.split('\n')[0]).toBe(`asyncguard analysed ${files} and ${scopes}.`);
  const counts = new Map<string, number>();
  for (const f of expected.findings) counts.set(f.alias, (counts.get(f.alias) ?? 0) + 1);
  const rows = summary.split('\n').filter((line) => line.startsWith('| [') );
  expect(rows).toHaveLength(counts.size);
  for (const [alias, count] of counts) {
    const rule = ruleByAlias(alias);
    expect(rows).toContain(`| [${rule.meta.id} ${rule.meta.slug}](${ruleDocsUrl(rule)}) | ${rule.meta.severity} | ${count} |`);
    for (const { guide, section } of rule.meta.cites) expect(summary).toContain(`${SKILL_GUIDES[guide].name}: ${section}`);
  }
  expect(summary).toContain(`\nInline comments posted by this run: ${expected.newComments}.\n`);
  const [fresh, open, fixed] = expected.conversation;
  expect(summary).toContain(`\nSince the last review: **${fresh} new, ${open} still open, ${fixed} fixed**.`);
  expect(summary).toContain('\nSkill sections behind these findings: ');
}

// ---------------------------------------------------------------------------------------------
// Payloads and patches shared by the scenarios.

/** The real pull_request.opened example, not a draft (drafts are not reviewed). */
export function openedPayload(): any {
  const payload = webhookExample('pull_request', 'opened');
  payload.pull_request.draft = false;
  return payload;
}

/** A push to the pull request: the real synchronize example, moved to a new head commit. */
export function synchronizePayload(before: string, after: string): any {
  const payload = webhookExample('pull_request', 'synchronize');
  payload.pull_request.draft = false;
  payload.before = before;
  payload.after = after;
  payload.pull_request.head.sha = after;
  return payload;
}

/** What git shows for a new file: one hunk adding every line. */
export function newFilePatch(text: string): string {
  const lines = text.replace(/\n$/, '').split('\n');
  return [`@@ -0,0 +1,${lines.length} @@`, ...lines.map((line) => `+${line}`)].join('\n');
}
