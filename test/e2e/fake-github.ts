/**
 * A small stateful fake of the GitHub API (REST under /api/v3, GraphQL at /api/graphql, the way
 * GitHub Enterprise Server lays them out), for the end-to-end test of the real server.
 *
 * It implements exactly the endpoints asyncguard uses, validates them the way GitHub does where a
 * mistake would break a real pull request (a review comment outside the diff fails the whole
 * review with 422; more than 50 annotations per request; a check run completed without a
 * conclusion; an app JWT that does not verify against the app's public key), keeps what it is
 * sent (check runs, reviews, review comments) so later requests see it, and records every
 * request. Anything else is answered 404 and recorded as unhandled: a test asserts there is none.
 */
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// ---------------------------------------------------------------------------------------------
// Repository state

/** A commit: path -> file text. */
export type CommitTree = Record<string, string>;

/** One entry of `GET /pulls/:n/files`, as GitHub returns it. */
export interface PullFile {
  filename: string;
  status: 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged';
  previous_filename?: string;
  /** Hunks only, starting at the first `@@`; absent for large or binary files. */
  patch?: string;
}

export interface FakePullRequest {
  number: number;
  state: 'open' | 'closed';
  baseRef: string;
  headRef: string;
  baseSha: string;
  headSha: string;
  files: PullFile[];
}

export interface FakeGitHubOptions {
  owner: string;
  repo: string;
  appId: number;
  appSlug: string;
  installationId: number;
  /** The app's public key (PEM): installation tokens are only issued for JWTs it verifies. */
  appPublicKey: string;
  commits: Record<string, CommitTree>;
  pulls: FakePullRequest[];
}

// ---------------------------------------------------------------------------------------------
// What the fake records and stores

export interface RecordedRequest {
  seq: number;
  /** ms since the fake started. */
  at: number;
  method: string;
  /** The URL path without the query string. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body, or the raw text when it is not JSON, or undefined when empty. */
  body: unknown;
  status: number;
  /** Why a request was refused (validation), or 'unhandled'. */
  error?: string;
}

export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  end_column?: number;
  annotation_level: 'notice' | 'warning' | 'failure';
  message: string;
  title?: string;
  raw_details?: string;
}

export interface StoredCheckRun {
  id: number;
  name: string;
  head_sha: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  started_at: string | null;
  completed_at: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  /** Every annotation sent, across the create and update requests, in order. */
  annotations: Annotation[];
  app: { id: number; slug: string };
  html_url: string;
  /** The status each request left the run in, oldest first (`in_progress`, ..., `completed`). */
  statusHistory: string[];
}

export interface StoredReviewComment {
  id: number;
  pull_request_review_id: number;
  pull_number: number;
  path: string;
  line: number;
  side: 'LEFT' | 'RIGHT';
  start_line: number | null;
  start_side: 'LEFT' | 'RIGHT' | null;
  body: string;
  commit_id: string;
  user: { login: string; type: 'Bot' | 'User' };
}

export interface StoredReview {
  id: number;
  pull_number: number;
  commit_id: string;
  event: string;
  state: string;
  body: string;
  comments: StoredReviewComment[];
}

/** The right-side geometry of one file's patch, computed by the fake itself (not the app's parser). */
export interface PatchGeometry {
  hunks: { oldStart: number; oldLines: number; newStart: number; newLines: number }[];
  /** RIGHT-side lines that are in the diff (added or context): where a review comment may go. */
  rightLines: Set<number>;
  leftLines: Set<number>;
  /** RIGHT-side lines the patch added. */
  addedLines: number[];
  /** For each RIGHT-side diff line, the index of its hunk (a multi-line comment stays in one). */
  rightHunkOf: Map<number, number>;
  leftHunkOf: Map<number, number>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: unknown[] = [],
  ) {
    super(message);
  }
}

const CHECK_STATUSES = new Set(['queued', 'in_progress', 'completed']);
const CHECK_CONCLUSIONS = new Set(['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'stale', 'timed_out']);
const REVIEW_EVENTS = new Set(['APPROVE', 'REQUEST_CHANGES', 'COMMENT']);
/** GitHub's limits on check-run output (docs: "Create a check run"). */
const ANNOTATIONS_PER_REQUEST = 50;
const CHECK_OUTPUT_MAX_CHARS = 65_535;
const CHECK_TITLE_MAX_CHARS = 255;

export class FakeGitHub {
  readonly requests: RecordedRequest[] = [];
  readonly checkRuns: StoredCheckRun[] = [];
  readonly reviews: StoredReview[] = [];
  readonly reviewComments: StoredReviewComment[] = [];
  /** Review threads marked resolved (by id `PRRT_<first comment id>`). */
  readonly resolvedThreads = new Set<string>();
  /** Per pull request number and file path: the geometry of its patch. */
  readonly geometry = new Map<number, Map<string, PatchGeometry>>();

  readonly #options: FakeGitHubOptions;
  readonly #publicKey: KeyObject;
  readonly #tokens = new Map<string, { appId: number; expiresAt: number }>();
  readonly #server: Server;
  #started = Date.now();
  #nextId = 1000;
  #port = 0;

  constructor(options: FakeGitHubOptions) {
    this.#options = options;
    this.#publicKey = createPublicKey(options.appPublicKey);
    for (const pull of options.pulls) {
      const files = new Map<string, PatchGeometry>();
      for (const file of pull.files) if (file.patch !== undefined) files.set(file.filename, patchGeometry(file.patch));
      this.geometry.set(pull.number, files);
    }
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: String(error) }));
      });
    });
  }

  /** `127.0.0.1:<port>`: what GHE_HOST is set to. */
  get host(): string {
    return `127.0.0.1:${this.#port}`;
  }

  get baseUrl(): string {
    return `http://${this.host}`;
  }

  get unhandled(): RecordedRequest[] {
    return this.requests.filter((r) => r.error === 'unhandled');
  }

  /** Requests the fake refused (validation, auth) or did not know; a file that is not there is no refusal. */
  get failed(): RecordedRequest[] {
    return this.requests.filter((r) => r.status >= 400 && !(r.status === 404 && r.method === 'GET' && r.path.includes('/contents/')));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => resolve());
    });
    this.#port = (this.#server.address() as AddressInfo).port;
    this.#started = Date.now();
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** One line per request, for assertion messages. */
  describeRequests(from = 0): string {
    return this.requests
      .slice(from)
      .map((r) => `#${r.seq} +${r.at}ms ${r.method} ${r.path}${Object.keys(r.query).length ? `?${new URLSearchParams(r.query)}` : ''} -> ${r.status}${r.error ? ` (${r.error})` : ''}`)
      .join('\n');
  }

  // -------------------------------------------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const raw = await readBody(req);
    let body: unknown = undefined;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const record: RecordedRequest = {
      seq: this.requests.length + 1,
      at: Date.now() - this.#started,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
      status: 0,
    };
    this.requests.push(record);

    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      res.writeHead(status, { 'content-type': typeof payload === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8', ...headers });
      res.end(text);
    };

    try {
      const answer = this.#route(record, req, url);
      if (!answer) {
        record.error = 'unhandled';
        send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest (fake: unhandled request)' });
        return;
      }
      send(answer.status, answer.body, answer.headers);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      record.error = error.message;
      send(error.status, { message: error.message, errors: error.errors, documentation_url: 'https://docs.github.com/rest' });
    }
  }

  #route(record: RecordedRequest, req: IncomingMessage, url: URL): Answer | null {
    const { method, path } = record;
    const { owner, repo } = this.#options;
    let m: RegExpMatchArray | null;

    if (method === 'POST' && (m = path.match(/^\/api\/v3\/app\/installations\/(\d+)\/access_tokens$/))) {
      return this.#createToken(req, Number(m[1]));
    }

    if (method === 'POST' && path === '/api/graphql') {
      this.#authorize(req);
      return this.#graphql(record.body);
    }

    m = path.match(/^\/api\/v3\/repos\/([^/]+)\/([^/]+)(\/.*)?$/);
    // The owner's `.github` repository (Probot's configuration fallback) does not exist here.
    if (m && method === 'GET' && m[1]!.toLowerCase() === owner.toLowerCase() && m[2] === '.github' && m[3]?.startsWith('/contents/')) {
      this.#authorize(req);
      return NOT_FOUND;
    }
    if (!m || m[1]!.toLowerCase() !== owner.toLowerCase() || m[2]!.toLowerCase() !== repo.toLowerCase()) return null;
    const rest = m[3] ?? '';
    const query = url.searchParams;

    if (method === 'GET' && (m = rest.match(/^\/commits\/([^/]+)\/check-runs$/))) {
      this.#authorize(req);
      return this.#listCheckRuns(decodeURIComponent(m[1]!), query);
    }
    if (method === 'POST' && rest === '/check-runs') {
      const appId = this.#authorize(req);
      return this.#createCheckRun(record.body, appId);
    }
    if (method === 'PATCH' && (m = rest.match(/^\/check-runs\/(\d+)$/))) {
      this.#authorize(req);
      return this.#updateCheckRun(Number(m[1]), record.body);
    }
    if (method === 'GET' && (m = rest.match(/^\/pulls\/(\d+)\/files$/))) {
      this.#authorize(req);
      const pull = this.#pull(Number(m[1]));
      return paginate(url, this.baseUrl, pull.files.map((file) => this.#pullFileJson(pull, file)));
    }
    if (method === 'GET' && (m = rest.match(/^\/pulls\/(\d+)\/comments$/))) {
      this.#authorize(req);
      const number = Number(m[1]);
      this.#pull(number);
      return paginate(url, this.baseUrl, this.reviewComments.filter((c) => c.pull_number === number).map((c) => this.#commentJson(c)));
    }
    if (method === 'POST' && (m = rest.match(/^\/pulls\/(\d+)\/reviews$/))) {
      this.#authorize(req);
      return this.#createReview(Number(m[1]), record.body);
    }
    if (method === 'GET' && rest === '/pulls') {
      this.#authorize(req);
      const state = query.get('state') ?? 'open';
      const pulls = this.#options.pulls.filter((p) => state === 'all' || p.state === state);
      return paginate(url, this.baseUrl, pulls.map((p) => this.#pullJson(p)));
    }
    if (method === 'GET' && (m = rest.match(/^\/contents\/(.+)$/))) {
      this.#authorize(req);
      return this.#contents(decodeURIComponent(m[1]!), query.get('ref'), String(req.headers.accept ?? ''));
    }
    return null;
  }

  // ---------------------------------------------------------------------------- auth

  #createToken(req: IncomingMessage, installationId: number): Answer {
    const match = /^bearer (.+)$/i.exec(String(req.headers.authorization ?? ''));
    if (!match) throw new HttpError(401, 'A JSON web token could not be decoded');
    const claims = verifyJwt(match[1]!, this.#publicKey);
    if (!claims) throw new HttpError(401, "'Issuer' claim ('iss') must be an Integer (fake: JWT did not verify with the app's public key)");
    const appId = Number(claims.iss);
    if (appId !== this.#options.appId) throw new HttpError(401, `fake: JWT issued for app ${String(claims.iss)}`);
    if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) throw new HttpError(401, "'Expiration time' claim ('exp') is too far in the future or expired");
    if (installationId !== this.#options.installationId) throw new HttpError(404, 'Not Found');
    const token = `ghs_${randomBytes(18).toString('hex')}`;
    const expiresAt = Date.now() + 3_600_000;
    this.#tokens.set(token, { appId, expiresAt });
    return {
      status: 201,
      body: {
        token,
        expires_at: new Date(expiresAt).toISOString(),
        permissions: { checks: 'write', contents: 'read', issues: 'write', metadata: 'read', pull_requests: 'write' },
        repository_selection: 'all',
      },
    };
  }

  /** An installation token this fake issued; returns its app id. */
  #authorize(req: IncomingMessage): number {
    const match = /^(?:token|bearer) (.+)$/i.exec(String(req.headers.authorization ?? ''));
    const token = match ? this.#tokens.get(match[1]!) : undefined;
    if (!token || token.expiresAt < Date.now()) throw new HttpError(401, 'Bad credentials');
    return token.appId;
  }

  // ---------------------------------------------------------------------------- check runs

  #listCheckRuns(ref: string, query: URLSearchParams): Answer {
    if (!this.#options.commits[ref]) throw new HttpError(422, `No commit found for SHA: ${ref}`);
    let runs = this.checkRuns.filter((run) => run.head_sha === ref);
    const name = query.get('check_name');
    if (name !== null) runs = runs.filter((run) => run.name === name);
    const appId = query.get('app_id');
    if (appId !== null) runs = runs.filter((run) => run.app.id === Number(appId));
    runs = [...runs].sort((a, b) => b.id - a.id);
    if ((query.get('filter') ?? 'latest') === 'latest') {
      const seen = new Set<string>();
      runs = runs.filter((run) => !seen.has(run.name) && Boolean(seen.add(run.name)));
    }
    return { status: 200, body: { total_count: runs.length, check_runs: runs.map((run) => this.#checkRunJson(run)) } };
  }

  #createCheckRun(body: unknown, appId: number): Answer {
    const input = asObject(body);
    if (typeof input.name !== 'string' || input.name === '') throw new HttpError(422, 'Invalid request: "name" wasn\'t supplied.');
    if (typeof input.head_sha !== 'string') throw new HttpError(422, 'Invalid request: "head_sha" wasn\'t supplied.');
    if (!this.#options.commits[input.head_sha]) throw new HttpError(422, `No commit found for SHA: ${input.head_sha}`);
    const run: StoredCheckRun = {
      id: this.#nextId++,
      name: input.name,
      head_sha: input.head_sha,
      status: 'queued',
      conclusion: null,
      started_at: new Date().toISOString(),
      completed_at: null,
      output: { title: null, summary: null, text: null },
      annotations: [],
      app: { id: appId, slug: this.#options.appSlug },
      html_url: '',
      statusHistory: [],
    };
    run.html_url = `https://github.com/${this.#options.owner}/${this.#options.repo}/runs/${run.id}`;
    this.#applyCheckRun(run, input);
    this.checkRuns.push(run);
    return { status: 201, body: this.#checkRunJson(run) };
  }

  #updateCheckRun(id: number, body: unknown): Answer {
    const run = this.checkRuns.find((r) => r.id === id);
    if (!run) throw new HttpError(404, 'Not Found');
    this.#applyCheckRun(run, asObject(body));
    return { status: 200, body: this.#checkRunJson(run) };
  }

  /** Validates everything first, then applies: a refused request changes nothing (like GitHub). */
  #applyCheckRun(run: StoredCheckRun, input: Record<string, unknown>): void {
    let status = run.status;
    let conclusion = run.conclusion;
    if (input.status !== undefined) {
      if (typeof input.status !== 'string' || !CHECK_STATUSES.has(input.status)) throw new HttpError(422, `Invalid request: status ${String(input.status)}`);
      status = input.status as StoredCheckRun['status'];
    }
    if (input.conclusion !== undefined) {
      if (typeof input.conclusion !== 'string' || !CHECK_CONCLUSIONS.has(input.conclusion)) throw new HttpError(422, `Invalid request: conclusion ${String(input.conclusion)}`);
      // GitHub: providing a conclusion automatically sets the status to completed.
      conclusion = input.conclusion;
      status = 'completed';
    }
    if (status === 'completed' && !conclusion) throw new HttpError(422, 'Invalid request: "conclusion" is required when "status" is "completed".');
    let annotations: Annotation[] = [];
    let output = run.output;
    if (input.output !== undefined) {
      const out = asObject(input.output);
      if (typeof out.title !== 'string' || typeof out.summary !== 'string') throw new HttpError(422, 'Invalid request: output needs "title" and "summary".');
      if (out.title.length > CHECK_TITLE_MAX_CHARS) throw new HttpError(422, 'Invalid request: output.title is too long');
      if (out.summary.length > CHECK_OUTPUT_MAX_CHARS) throw new HttpError(422, 'Invalid request: output.summary is too long (maximum is 65535 characters)');
      if (typeof out.text === 'string' && out.text.length > CHECK_OUTPUT_MAX_CHARS) throw new HttpError(422, 'Invalid request: output.text is too long');
      if (out.annotations !== undefined) {
        if (!Array.isArray(out.annotations)) throw new HttpError(422, 'Invalid request: output.annotations is not an array');
        // GitHub silently drops what is beyond 50; the fake refuses it so the loss cannot go unseen.
        if (out.annotations.length > ANNOTATIONS_PER_REQUEST) throw new HttpError(422, `fake: ${out.annotations.length} annotations in one request (GitHub keeps 50)`);
        annotations = out.annotations.map((a, i) => validAnnotation(a, i, this.#options.commits[run.head_sha]!));
      }
      output = { title: out.title, summary: out.summary, text: typeof out.text === 'string' ? out.text : null };
    }
    run.status = status;
    run.conclusion = conclusion;
    run.output = output;
    run.annotations.push(...annotations);
    if (typeof input.started_at === 'string') run.started_at = input.started_at;
    if (status === 'completed') run.completed_at = typeof input.completed_at === 'string' ? input.completed_at : new Date().toISOString();
    run.statusHistory.push(status);
  }

  #checkRunJson(run: StoredCheckRun) {
    return {
      id: run.id,
      name: run.name,
      head_sha: run.head_sha,
      status: run.status,
      conclusion: run.conclusion,
      started_at: run.started_at,
      completed_at: run.completed_at,
      html_url: run.html_url,
      details_url: run.html_url,
      url: `${this.baseUrl}/api/v3/repos/${this.#options.owner}/${this.#options.repo}/check-runs/${run.id}`,
      output: { ...run.output, annotations_count: run.annotations.length },
      app: { id: run.app.id, slug: run.app.slug, name: run.app.slug },
      pull_requests: this.#options.pulls
        .filter((p) => p.headSha === run.head_sha)
        .map((p) => ({ number: p.number, head: { sha: p.headSha, ref: p.headRef }, base: { sha: p.baseSha, ref: p.baseRef } })),
    };
  }

  // ---------------------------------------------------------------------------- pulls

  #pull(number: number): FakePullRequest {
    const pull = this.#options.pulls.find((p) => p.number === number);
    if (!pull) throw new HttpError(404, 'Not Found');
    return pull;
  }

  #pullJson(pull: FakePullRequest) {
    return {
      number: pull.number,
      state: pull.state,
      head: { sha: pull.headSha, ref: pull.headRef },
      base: { sha: pull.baseSha, ref: pull.baseRef },
    };
  }

  #pullFileJson(pull: FakePullRequest, file: PullFile) {
    const geometry = this.geometry.get(pull.number)?.get(file.filename);
    const text = this.#options.commits[pull.headSha]?.[file.filename] ?? '';
    const additions = geometry?.addedLines.length ?? 0;
    const deletions = file.patch ? file.patch.split('\n').filter((l) => l.startsWith('-')).length : 0;
    return {
      sha: gitBlobSha(text),
      filename: file.filename,
      status: file.status,
      additions,
      deletions,
      changes: additions + deletions,
      blob_url: `https://github.com/${this.#options.owner}/${this.#options.repo}/blob/${pull.headSha}/${file.filename}`,
      raw_url: `https://github.com/${this.#options.owner}/${this.#options.repo}/raw/${pull.headSha}/${file.filename}`,
      contents_url: `${this.baseUrl}/api/v3/repos/${this.#options.owner}/${this.#options.repo}/contents/${file.filename}?ref=${pull.headSha}`,
      ...(file.previous_filename ? { previous_filename: file.previous_filename } : {}),
      ...(file.patch !== undefined ? { patch: file.patch } : {}),
    };
  }

  #createReview(number: number, body: unknown): Answer {
    const pull = this.#pull(number);
    const input = asObject(body);
    const commitId = input.commit_id ?? pull.headSha;
    if (commitId !== pull.headSha && commitId !== pull.baseSha) throw new HttpError(422, 'Unprocessable Entity', ['commit_id is not part of the pull request']);
    const event = input.event;
    if (event !== undefined && (typeof event !== 'string' || !REVIEW_EVENTS.has(event))) throw new HttpError(422, 'Unprocessable Entity', [`event ${String(event)}`]);
    const comments = input.comments === undefined ? [] : input.comments;
    if (!Array.isArray(comments)) throw new HttpError(422, 'Unprocessable Entity', ['comments is not an array']);
    const reviewBody = typeof input.body === 'string' ? input.body : '';
    if ((event === 'COMMENT' || event === 'REQUEST_CHANGES') && reviewBody === '' && comments.length === 0) {
      throw new HttpError(422, 'Unprocessable Entity', ['Review body is required']);
    }
    const reviewId = this.#nextId++;
    // Every comment is checked before anything is stored: one bad comment fails the whole review.
    const stored = comments.map((c, i) => this.#validComment(pull, c, i, reviewId, String(commitId)));
    const review: StoredReview = {
      id: reviewId,
      pull_number: number,
      commit_id: String(commitId),
      event: typeof event === 'string' ? event : 'PENDING',
      state: event === 'APPROVE' ? 'APPROVED' : event === 'REQUEST_CHANGES' ? 'CHANGES_REQUESTED' : event === 'COMMENT' ? 'COMMENTED' : 'PENDING',
      body: reviewBody,
      comments: stored,
    };
    this.reviews.push(review);
    this.reviewComments.push(...stored);
    return {
      status: 200,
      body: {
        id: review.id,
        user: this.#botUser(),
        body: review.body,
        state: review.state,
        commit_id: review.commit_id,
        submitted_at: new Date().toISOString(),
        html_url: `https://github.com/${this.#options.owner}/${this.#options.repo}/pull/${number}#pullrequestreview-${review.id}`,
      },
    };
  }

  #validComment(pull: FakePullRequest, value: unknown, index: number, reviewId: number, commitId: string): StoredReviewComment {
    const c = asObject(value);
    const fail = (why: string): never => {
      throw new HttpError(422, 'Unprocessable Entity', [`comments[${index}]: ${why}`, 'Pull request review thread line must be part of the diff']);
    };
    if (typeof c.path !== 'string') return fail('path is required');
    if (typeof c.body !== 'string' || c.body === '') return fail('body is required');
    const geometry = this.geometry.get(pull.number)?.get(c.path);
    if (!geometry) return fail(`path ${c.path} is not a file of the pull request with a diff`);
    if (c.position !== undefined) return fail('position is deprecated; the app must use line and side');
    if (typeof c.line !== 'number' || !Number.isInteger(c.line)) return fail('line is required');
    const side = c.side ?? 'RIGHT';
    if (side !== 'RIGHT' && side !== 'LEFT') return fail(`side ${String(side)}`);
    const lines = side === 'RIGHT' ? geometry.rightLines : geometry.leftLines;
    const hunkOf = side === 'RIGHT' ? geometry.rightHunkOf : geometry.leftHunkOf;
    if (!lines.has(c.line)) return fail(`line ${c.line} (${side}) is not in the diff of ${c.path}`);
    let startLine: number | null = null;
    let startSide: 'LEFT' | 'RIGHT' | null = null;
    if (c.start_line !== undefined) {
      if (typeof c.start_line !== 'number' || !Number.isInteger(c.start_line)) return fail('start_line is not an integer');
      startSide = (c.start_side ?? side) as 'LEFT' | 'RIGHT';
      if (startSide !== side) return fail('start_side differs from side');
      if (c.start_line >= c.line) return fail('start_line must precede line');
      if (!lines.has(c.start_line)) return fail(`start_line ${c.start_line} is not in the diff`);
      if (hunkOf.get(c.start_line) !== hunkOf.get(c.line)) return fail('start_line and line are in different hunks');
      startLine = c.start_line;
    }
    return {
      id: this.#nextId++,
      pull_request_review_id: reviewId,
      pull_number: pull.number,
      path: c.path,
      line: c.line,
      side,
      start_line: startLine,
      start_side: startSide,
      body: c.body,
      commit_id: commitId,
      user: this.#botUser(),
    };
  }

  #commentJson(c: StoredReviewComment) {
    return {
      id: c.id,
      pull_request_review_id: c.pull_request_review_id,
      path: c.path,
      line: c.line,
      original_line: c.line,
      side: c.side,
      start_line: c.start_line,
      original_start_line: c.start_line,
      start_side: c.start_side,
      commit_id: c.commit_id,
      original_commit_id: c.commit_id,
      body: c.body,
      user: c.user,
      html_url: `https://github.com/${this.#options.owner}/${this.#options.repo}/pull/${c.pull_number}#discussion_r${c.id}`,
    };
  }

  #botUser() {
    return { login: `${this.#options.appSlug}[bot]`, id: 9_000_000 + this.#options.appId, type: 'Bot' as const };
  }

  // ---------------------------------------------------------------------------- contents

  #graphql(body: unknown): Answer {
    const { query, variables } = asObject(body) as { query?: unknown; variables?: Record<string, unknown> };
    if (typeof query !== 'string') throw new HttpError(400, 'Problems parsing JSON');
    const vars = variables ?? {};
    if (/^\s*mutation\b[\s\S]*resolveReviewThread\(input: \{ threadId: \$threadId \}\)/.test(query)) return this.#resolveThread(vars.threadId);
    if (/pullRequest\(number: \$number\)\s*\{\s*reviewThreads\(first: (\d+), after: \$cursor\)/.test(query)) return this.#reviewThreads(vars);
    const repository = /repository\(owner: \$(\w+), name: \$(\w+)\)/.exec(query);
    const aliases = [...query.matchAll(/(\w+): object\(expression: \$(\w+)\)\s*\{\s*\.\.\. on Blob \{([^}]*)\}\s*\}/g)];
    if (!repository || aliases.length === 0) throw new HttpError(400, `fake: unsupported GraphQL query: ${query.slice(0, 200)}`);
    const owner = vars[repository[1]!];
    const name = vars[repository[2]!];
    if (String(owner).toLowerCase() !== this.#options.owner.toLowerCase() || String(name).toLowerCase() !== this.#options.repo.toLowerCase()) {
      return { status: 200, body: { data: { repository: null }, errors: [{ type: 'NOT_FOUND', path: ['repository'], message: `Could not resolve to a Repository with the name '${String(owner)}/${String(name)}'.` }] } };
    }
    const result: Record<string, unknown> = {};
    for (const [, alias, variable, fieldList] of aliases) {
      const expression = vars[variable!];
      if (typeof expression !== 'string') throw new HttpError(400, `fake: variable $${variable} is not a string`);
      const colon = expression.indexOf(':');
      const text = this.#options.commits[expression.slice(0, colon)]?.[expression.slice(colon + 1)];
      if (text === undefined) {
        result[alias!] = null;
        continue;
      }
      const blob: Record<string, unknown> = { text, isBinary: false, isTruncated: false, byteSize: Buffer.byteLength(text) };
      const fields = fieldList!.trim().split(/\s+/);
      result[alias!] = Object.fromEntries(fields.map((field) => [field, blob[field] ?? null]));
    }
    return { status: 200, body: { data: { repository: result } } };
  }

  /** Every top-level review comment opens a thread; all of them fit one page here. */
  #reviewThreads(vars: Record<string, unknown>): Answer {
    if (String(vars.owner).toLowerCase() !== this.#options.owner.toLowerCase() || String(vars.name).toLowerCase() !== this.#options.repo.toLowerCase()) {
      return { status: 200, body: { data: { repository: null }, errors: [{ type: 'NOT_FOUND', path: ['repository'], message: 'Could not resolve to a Repository' }] } };
    }
    if (vars.cursor !== null) throw new HttpError(400, 'fake: only the first page of review threads exists');
    const pull = this.#pull(Number(vars.number));
    const nodes = this.reviewComments
      .filter((c) => c.pull_number === pull.number)
      .map((c) => ({
        id: `PRRT_${c.id}`,
        isResolved: this.resolvedThreads.has(`PRRT_${c.id}`),
        path: c.path,
        comments: { nodes: [{ body: c.body, author: { __typename: c.user.type } }] },
      }));
    return { status: 200, body: { data: { repository: { pullRequest: { reviewThreads: { pageInfo: { hasNextPage: false, endCursor: null }, nodes } } } } } };
  }

  #resolveThread(threadId: unknown): Answer {
    const known = this.reviewComments.some((c) => `PRRT_${c.id}` === threadId);
    if (!known) {
      return { status: 200, body: { data: { resolveReviewThread: null }, errors: [{ type: 'NOT_FOUND', path: ['resolveReviewThread'], message: `Could not resolve to a node with the global id of '${String(threadId)}'` }] } };
    }
    this.resolvedThreads.add(String(threadId));
    return { status: 200, body: { data: { resolveReviewThread: { thread: { id: threadId, isResolved: true } } } } };
  }

  #contents(path: string, ref: string | null, accept: string): Answer {
    const pull = this.#options.pulls[0];
    const sha = ref ?? pull?.baseSha ?? '';
    const text = this.#options.commits[sha]?.[path];
    // A file that is not there is an ordinary answer (the configuration file usually is not).
    if (text === undefined) return NOT_FOUND;
    if (/application\/vnd\.github(\.v3)?\.raw/.test(accept)) return { status: 200, body: text };
    return {
      status: 200,
      body: { type: 'file', encoding: 'base64', path, name: path.split('/').pop(), size: Buffer.byteLength(text), sha: gitBlobSha(text), content: Buffer.from(text).toString('base64') },
    };
  }
}

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const NOT_FOUND: Answer = { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/repos/contents#get-repository-content' } };

// ---------------------------------------------------------------------------------------------
// Helpers

/** GitHub's page-based pagination: `per_page` (default 30, at most 100), `page`, and a Link header. */
function paginate(url: URL, baseUrl: string, items: unknown[]): Answer {
  const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? 30) || 30));
  const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (n: number, rel: string) => {
    const target = new URL(url.pathname + url.search, baseUrl);
    target.searchParams.set('per_page', String(perPage));
    target.searchParams.set('page', String(n));
    return `<${target.href}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(page - 1, 'prev'), link(1, 'first'));
  if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
  return {
    status: 200,
    body: items.slice((page - 1) * perPage, page * perPage),
    headers: links.length ? { link: links.join(', ') } : {},
  };
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'Problems parsing JSON');
  return value as Record<string, unknown>;
}

function validAnnotation(value: unknown, index: number, tree: CommitTree): Annotation {
  const a = asObject(value);
  const fail = (why: string): never => {
    throw new HttpError(422, `Invalid request: output.annotations[${index}]: ${why}`);
  };
  if (typeof a.path !== 'string' || tree[a.path] === undefined) return fail(`path ${String(a.path)} is not in the commit`);
  if (typeof a.start_line !== 'number' || typeof a.end_line !== 'number') return fail('start_line and end_line are required');
  if (a.start_line < 1 || a.end_line < a.start_line) return fail('bad line range');
  const lineCount = tree[a.path]!.split('\n').length;
  if (a.end_line > lineCount) return fail(`end_line ${a.end_line} is past the end of ${a.path}`);
  if ((a.start_column !== undefined || a.end_column !== undefined) && a.start_line !== a.end_line) {
    return fail('start_column and end_column are only allowed when start_line equals end_line');
  }
  if (a.annotation_level !== 'notice' && a.annotation_level !== 'warning' && a.annotation_level !== 'failure') return fail('annotation_level');
  if (typeof a.message !== 'string' || a.message === '') return fail('message is required');
  return a as unknown as Annotation;
}

/** RS256 JWT check against the app's public key; returns the claims, or null. */
function verifyJwt(jwt: string, key: KeyObject): Record<string, unknown> | null {
  const [header, payload, signature] = jwt.split('.');
  if (!header || !payload || !signature) return null;
  try {
    const alg = (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: string }).alg;
    if (alg !== 'RS256') return null;
    const ok = verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url'));
    return ok ? (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The id git gives a blob: how the fake names file versions and commits. */
export function gitBlobSha(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/**
 * The `patch` GitHub sends for a modified file: real `git diff` output, from its first `@@`
 * (GitHub leaves out the file headers), without the final newline.
 */
export function gitPatch(oldFile: string, newFile: string): string {
  const result = spawnSync('git', ['diff', '--no-index', '--no-color', '--no-ext-diff', '-U3', '--', oldFile, newFile], {
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  });
  // `git diff --no-index` exits 1 when the files differ.
  if (result.status !== 1 || result.error) {
    throw new Error(`git diff --no-index ${oldFile} ${newFile} exited ${String(result.status)}: ${result.stderr}${result.error ? String(result.error) : ''}`);
  }
  const start = result.stdout.indexOf('\n@@') + 1;
  if (start === 0) throw new Error(`git diff printed no hunk for ${newFile}`);
  return result.stdout.slice(start).replace(/\n$/, '');
}

/** The diff geometry of a patch, parsed here independently of the app's own diff code. */
export function patchGeometry(patch: string): PatchGeometry {
  const geometry: PatchGeometry = {
    hunks: [],
    rightLines: new Set(),
    leftLines: new Set(),
    addedLines: [],
    rightHunkOf: new Map(),
    leftHunkOf: new Map(),
  };
  let oldLine = 0;
  let newLine = 0;
  let hunk = -1;
  for (const line of patch.split('\n')) {
    const header = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (header) {
      const [oldStart, oldLines, newStart, newLines] = [header[1], header[2] ?? '1', header[3], header[4] ?? '1'].map(Number) as [number, number, number, number];
      geometry.hunks.push({ oldStart, oldLines, newStart, newLines });
      hunk = geometry.hunks.length - 1;
      oldLine = oldStart;
      newLine = newStart;
      continue;
    }
    if (hunk < 0 || line.startsWith('\\')) continue;
    if (line.startsWith('+')) {
      geometry.rightLines.add(newLine);
      geometry.rightHunkOf.set(newLine, hunk);
      geometry.addedLines.push(newLine++);
    } else if (line.startsWith('-')) {
      geometry.leftLines.add(oldLine);
      geometry.leftHunkOf.set(oldLine++, hunk);
    } else {
      geometry.rightLines.add(newLine);
      geometry.rightHunkOf.set(newLine++, hunk);
      geometry.leftLines.add(oldLine);
      geometry.leftHunkOf.set(oldLine++, hunk);
    }
  }
  return geometry;
}
