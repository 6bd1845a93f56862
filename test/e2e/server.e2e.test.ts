/**
 * End to end: the real server, started exactly as `npm start` starts it, against a fake GitHub
 * (test/e2e/fake-github.ts) that holds a repository with a real pull request: CPython's
 * staggered.py before and after a change that adds three asyncio mistakes, diffed by real git.
 * The webhook is a real payload from @octokit/webhooks-examples, signed like GitHub signs it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKILL_GUIDES } from '../../src/rules/skills.js';
import { FakeGitHub, gitBlobSha, gitPatch, type PullFile, type RecordedRequest } from './fake-github.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

// ------------------------------------------------------------------------------------------
// The repository and pull request the fake serves.

const OWNER = 'Codertocat';
const REPO = 'netkit';
const PR_NUMBER = 42;
const APP_ID = 1;
const INSTALLATION_ID = 1;
const WEBHOOK_SECRET = `e2e-${randomUUID()}`;
const PY_PATH = 'src/netkit/staggered.py';

const BASE_FILE = join(FIXTURES, 'staggered.base.py');
const HEAD_FILE = join(FIXTURES, 'staggered.head.py');
const baseText = readFileSync(BASE_FILE, 'utf8');
const headText = readFileSync(HEAD_FILE, 'utf8');
const headLines = headText.split('\n');

/**
 * More than a page (100) of news fragments ahead of the Python file, so the app only finds it by
 * following the Link header to page 2.
 */
const FRAGMENTS = Array.from({ length: 104 }, (_, i) => ({
  path: `changes/${String(1000 + i)}.misc.md`,
  text: `Vendored staggered_race: housekeeping note ${i + 1}.\n`,
}));

/** The repository's settings file, on its default branch. */
const CONFIG = 'rules:\n  swallowed-cancellation: on\n';

const BASE_SHA = gitBlobSha(`commit base\n${baseText}`);
const HEAD_SHA = gitBlobSha(`commit head\n${headText}${FRAGMENTS.map((f) => f.text).join('')}`);

/** 1-based line of the only line of the head file that contains `needle`. */
function lineOf(needle: string): number {
  const lines = headLines.flatMap((line, i) => (line.includes(needle) ? [i + 1] : []));
  if (lines.length !== 1) throw new Error(`fixture: ${JSON.stringify(needle)} is on lines [${lines.join(', ')}], expected exactly one`);
  return lines[0]!;
}

/** The three mistakes the pull request adds, and the rule each must be reported under. */
const EXPECTED = [
  { rule: 'AG101', what: 'time.sleep in async code', line: lineOf('time.sleep(0.05)') },
  { rule: 'AG202', what: 'dropped create_task', line: lineOf('asyncio.create_task(run_one_coro(this_failed))') },
  { rule: 'AG301', what: 'CancelledError handler that returns', line: lineOf('# Cancelled by the caller') - 1 }, // (the docstring also shows an `except asyncio.CancelledError:`)
];

/**
 * CPython's own `except BaseException` in run_one_coro, a function the pull request touched and
 * whose handler the PR changed. It ends the coroutine (the task stops either way), which asyncguard
 * deliberately does not report: no annotation, no comment. (Annotations of older findings on
 * unchanged lines of touched functions are asserted in test/app with after.py.)
 */
const CATCH_ALL = lineOf('except BaseException as e:');

// ------------------------------------------------------------------------------------------
// Helpers

const execFileAsync = promisify(execFile);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Newest modification time under a directory (the sources), to tell a stale dist/. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string, details: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${details()}`);
}

/** Live processes of a process group (Linux /proc): `[pid, command line]`. */
function processGroup(pgid: number): [number, string][] {
  const members: [number, string][] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid pgrp ...: comm may hold spaces, so count from the last ')'.
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(group) !== pgid || state === 'Z') continue;
      members.push([Number(entry), readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim()]);
    } catch {
      // The process ended while being read.
    }
  }
  return members;
}

function signature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** A real `pull_request.opened` delivery, pointed at the fake's repository and pull request. */
function openedPayload(): Record<string, unknown> {
  const require = createRequire(import.meta.url);
  const definitions = require('@octokit/webhooks-examples') as { name: string; examples: Record<string, any>[] }[];
  const example = definitions
    .find((d) => d.name === 'pull_request')!
    .examples.find((e) => e.action === 'opened' && e.installation && !e.pull_request.draft);
  if (!example) throw new Error('@octokit/webhooks-examples has no pull_request.opened example with an installation');
  const payload = structuredClone(example);
  payload.number = PR_NUMBER;
  payload.installation.id = INSTALLATION_ID;
  const pr = payload.pull_request;
  pr.number = PR_NUMBER;
  pr.head.sha = HEAD_SHA;
  pr.base.sha = BASE_SHA;
  for (const repository of [payload.repository, pr.head.repo, pr.base.repo]) {
    repository.name = REPO;
    repository.full_name = `${OWNER}/${REPO}`;
    repository.owner.login = OWNER;
  }
  return payload;
}

// ------------------------------------------------------------------------------------------

describe('the real server (npm start) against a fake GitHub', () => {
  let fake: FakeGitHub;
  let child: ChildProcess | undefined;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let port = 0;
  let output = '';
  const body = JSON.stringify(openedPayload());
  const deliveryId = randomUUID();

  const logs = () => `--- server output (last 6000 chars) ---\n${output.slice(-6000)}`;
  const details = () => `--- requests the fake received ---\n${fake.describeRequests()}\n${logs()}`;

  async function deliver(payload: string, id: string, secret = WEBHOOK_SECRET) {
    const started = Date.now();
    const response = await fetch(`http://127.0.0.1:${port}/api/github/webhooks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'GitHub-Hookshot/e2e',
        'x-github-event': 'pull_request',
        'x-github-delivery': id,
        'x-github-hook-id': '1',
        'x-github-hook-installation-target-type': 'integration',
        'x-github-hook-installation-target-id': String(APP_ID),
        'x-hub-signature-256': signature(payload, secret),
      },
      body: payload,
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, text: await response.text(), ms: Date.now() - started };
  }

  /** Requests that change something on GitHub (an installation token or a GraphQL read does not). */
  const writes = (requests: readonly RecordedRequest[]) =>
    requests.filter((r) => r.method !== 'GET' && r.path !== '/api/graphql' && !r.path.endsWith('/access_tokens'));

  beforeAll(async () => {
    const dist = join(ROOT, 'dist');
    const built = ['server.js', 'app.js', 'analysis/worker.js'].every((file) => existsSync(join(dist, file)));
    if (!built || statSync(join(dist, 'server.js')).mtimeMs < newestMtime(join(ROOT, 'src'))) {
      await execFileAsync('npm', ['run', 'build'], { cwd: ROOT, timeout: 120_000 }).catch((error: { stdout?: string; stderr?: string }) => {
        // tsc prints its errors on stdout.
        throw new Error(`npm run build failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
      });
    }

    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });

    const files: PullFile[] = [
      ...FRAGMENTS.map((f) => ({ filename: f.path, status: 'added' as const, patch: `@@ -0,0 +1 @@\n+${f.text.trimEnd()}` })),
      { filename: PY_PATH, status: 'modified', patch: gitPatch(BASE_FILE, HEAD_FILE) },
    ];
    fake = new FakeGitHub({
      owner: OWNER,
      repo: REPO,
      appId: APP_ID,
      appSlug: 'asyncguard',
      installationId: INSTALLATION_ID,
      appPublicKey: publicKey,
      commits: {
        // The team turns on swallowed-cancellation, which ships in preview (off by default).
        [BASE_SHA]: { [PY_PATH]: baseText, '.github/asyncguard.yml': CONFIG },
        [HEAD_SHA]: { [PY_PATH]: headText, ...Object.fromEntries(FRAGMENTS.map((f) => [f.path, f.text])) },
      },
      pulls: [{ number: PR_NUMBER, state: 'open', baseRef: 'main', headRef: 'staggered-backoff', baseSha: BASE_SHA, headSha: HEAD_SHA, files }],
    });
    await fake.start();

    port = await freePort();
    // Only what a deployment sets; nothing of the test runner's environment that would change Probot.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
    Object.assign(env, {
      APP_ID: String(APP_ID),
      PRIVATE_KEY: privateKey,
      WEBHOOK_SECRET,
      PORT: String(port),
      HOST: '127.0.0.1',
      GHE_HOST: fake.host,
      GHE_PROTOCOL: 'http',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
    });
    // `npm start`, as the README says. Its own process group, so nothing can outlive the test.
    child = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const running = child;
    running.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    running.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    exited = new Promise((resolve) => running.once('exit', (code, signal) => resolve({ code, signal })));
    let gone = false;
    void exited.then(() => (gone = true));

    await waitFor(
      async () => {
        if (gone) throw new Error(`the server exited before answering /ping\n${logs()}`);
        try {
          const response = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(1_000) });
          return response.status === 200 && (await response.text()) === 'PONG';
        } catch {
          return false;
        }
      },
      30_000,
      'GET /ping',
      logs,
    );
    expect(fake.requests, `the server called GitHub while starting\n${details()}`).toEqual([]);
  }, 150_000);

  afterAll(async () => {
    // Normally the last test has stopped it; this is the safety net when an earlier step failed.
    if (child?.pid !== undefined && processGroup(child.pid).length > 0) {
      process.kill(-child.pid, 'SIGKILL');
      await Promise.race([exited, sleep(5_000)]);
    }
    await fake?.stop();
  });

  it('reviews a pull_request.opened delivery: one check run, one review on added lines only', async () => {
    const answer = await deliver(body, deliveryId);
    expect(answer.status, `${answer.text}\n${details()}`).toBeGreaterThanOrEqual(200);
    expect(answer.status, `${answer.text}\n${details()}`).toBeLessThan(300);
    expect(answer.ms, 'the webhook must be answered before the review runs').toBeLessThan(3_000);

    await waitFor(() => fake.checkRuns.some((run) => run.status === 'completed'), 20_000, 'the check run to complete', details);
    // The completed check run is the last write of a review; give a stray write a moment to show.
    await sleep(500);

    expect(fake.unhandled, `requests the fake does not implement\n${details()}`).toEqual([]);
    expect(fake.failed, `requests the fake refused\n${details()}`).toEqual([]);

    // One check run: created in progress on the head commit, completed as a failure.
    expect(fake.checkRuns, details()).toHaveLength(1);
    const run = fake.checkRuns[0]!;
    const create = fake.requests.find((r) => r.method === 'POST' && r.path.endsWith('/check-runs'))!;
    expect(create.body, details()).toMatchObject({ name: 'asyncguard', head_sha: HEAD_SHA, status: 'in_progress' });
    expect(run.statusHistory[0]).toBe('in_progress');
    expect(run).toMatchObject({ name: 'asyncguard', head_sha: HEAD_SHA, status: 'completed', conclusion: 'failure' });
    expect(run.output.title, details()).toMatch(/asyncio problem/);

    // Every mistake is annotated on its line, as an error.
    for (const { rule, what, line } of EXPECTED) {
      const annotation = run.annotations.find((a) => a.path === PY_PATH && a.start_line === line && a.title?.startsWith(`${rule} `));
      expect(annotation, `no ${rule} annotation (${what}) on line ${line}; annotations: ${JSON.stringify(run.annotations, null, 1)}\n${logs()}`).toBeDefined();
      expect(annotation!.annotation_level).toBe('failure');
      expect(run.output.summary).toContain(rule);
    }

    // Exactly one review, event COMMENT, on the head commit, each comment on a line the PR added.
    expect(fake.reviews, details()).toHaveLength(1);
    const review = fake.reviews[0]!;
    expect(review).toMatchObject({ event: 'COMMENT', commit_id: HEAD_SHA });
    const added = fake.geometry.get(PR_NUMBER)!.get(PY_PATH)!.addedLines;
    const guideNames = Object.values(SKILL_GUIDES).map((guide) => guide.name);
    const fingerprints = new Set<string>();
    for (const comment of review.comments) {
      expect(comment.path).toBe(PY_PATH);
      expect(comment.side).toBe('RIGHT');
      expect(added, `comment on line ${comment.line}, which the PR did not add:\n${comment.body}`).toContain(comment.line);
      if (comment.start_line !== null) expect(added).toContain(comment.start_line);
      expect(comment.body).toMatch(/\[AG\d{3} [a-z0-9-]+\]\(/);
      expect(comment.body, 'the comment cites a skill guide section').toMatch(/📖 /);
      expect(guideNames.some((name) => comment.body.includes(`${name}: `)), comment.body).toBe(true);
      const marker = /<!-- asyncguard:fp=([0-9a-f]{16}) rule=AG\d{3} -->/.exec(comment.body);
      expect(marker, comment.body).not.toBeNull();
      fingerprints.add(marker![1]!);
    }
    expect(fingerprints.size, 'one fingerprint per comment').toBe(review.comments.length);
    for (const { rule, what, line } of EXPECTED) {
      const comment = review.comments.find((c) => c.line === line && c.body.includes(`[${rule} `));
      expect(comment, `no ${rule} comment (${what}) on line ${line}; comments: ${JSON.stringify(review.comments.map((c) => [c.line, c.body.slice(0, 80)]))}`).toBeDefined();
    }
    expect(review.comments.find((c) => c.line === EXPECTED[0]!.line)!.body).toContain('AG101');
    // Exactly the three mistakes the PR added are annotated; the terminal catch-all is not.
    expect(run.annotations.map((a) => [a.start_line, a.title?.split(' ')[0]]).sort(), details()).toEqual(
      EXPECTED.map(({ rule, line }) => [line, rule]).sort(),
    );
    expect(run.annotations.map((a) => a.start_line)).not.toContain(CATCH_ALL);

    // The order GitHub sees: the run is in progress before the work and completed after the review.
    const seq = (predicate: (r: RecordedRequest) => boolean) => fake.requests.findIndex(predicate);
    const created = seq((r) => r.method === 'POST' && r.path.endsWith('/check-runs'));
    const listed = seq((r) => r.method === 'GET' && r.path.endsWith(`/pulls/${PR_NUMBER}/files`));
    const reviewed = seq((r) => r.method === 'POST' && r.path.endsWith(`/pulls/${PR_NUMBER}/reviews`));
    const completed = fake.requests.findLastIndex((r) => r.method === 'PATCH' && (r.body as { status?: string }).status === 'completed');
    expect([created, listed, reviewed, completed].every((i) => i >= 0), details()).toBe(true);
    expect(created).toBeLessThan(listed);
    expect(listed).toBeLessThan(reviewed);
    expect(reviewed).toBeLessThan(completed);

    // Files were paged with per_page=100 and the Link header followed to page 2.
    const pages = fake.requests.filter((r) => r.path.endsWith(`/pulls/${PR_NUMBER}/files`));
    expect(pages.map((r) => [r.query.per_page, r.query.page ?? '1']), details()).toEqual([
      ['100', '1'],
      ['100', '2'],
    ]);
    // The head text came in one GraphQL query, for the Python file only; a second query read
    // the bot's review threads (none yet).
    const graphql = fake.requests.filter((r) => r.path === '/api/graphql');
    expect(graphql.map((r) => /reviewThreads|object\(expression/.exec((r.body as { query: string }).query)?.[0]), details()).toEqual([
      'object(expression',
      'reviewThreads',
    ]);
    // The configuration was read from the default branch (so the owner's .github repository was not needed).
    expect(fake.requests.filter((r) => r.path.includes('/contents/.github')).map((r) => [r.path, r.status, r.query.ref])).toEqual([
      ['/api/v3/repos/Codertocat/netkit/contents/.github%2Fasyncguard.yml', 200, undefined],
    ]);
    const variables = (graphql[0]!.body as { variables: Record<string, string> }).variables;
    expect(Object.entries(variables).filter(([key]) => /^e\d+$/.test(key))).toEqual([['e0', `${HEAD_SHA}:${PY_PATH}`]]);
  }, 40_000);

  it('does nothing twice when the same delivery is redelivered', async () => {
    const before = fake.requests.length;
    const answer = await deliver(body, deliveryId);
    expect(answer.status, `${answer.text}\n${details()}`).toBeGreaterThanOrEqual(200);
    expect(answer.status).toBeLessThan(300);

    // The app looks for its check run on the head commit, finds it completed, and stops there.
    await waitFor(
      () => fake.requests.slice(before).some((r) => r.method === 'GET' && r.path.endsWith(`/commits/${HEAD_SHA}/check-runs`)),
      10_000,
      'the redelivery to look up the check run',
      details,
    );
    await sleep(2_500);
    const after = fake.requests.slice(before);
    expect(writes(after), `writes after a redelivery\n${fake.describeRequests(before)}\n${logs()}`).toEqual([]);
    expect(fake.checkRuns).toHaveLength(1);
    expect(fake.reviews).toHaveLength(1);
    expect(fake.unhandled, details()).toEqual([]);
    expect(fake.failed, details()).toEqual([]);
    const lookup = after.find((r) => r.path.endsWith('/check-runs'))!;
    expect(lookup.query, 'the lookup is for this app\'s own check run').toMatchObject({ check_name: 'asyncguard', app_id: String(APP_ID) });
  }, 20_000);

  it('refuses a delivery with a bad signature, and calls GitHub for nothing', async () => {
    const before = fake.requests.length;
    const answer = await deliver(body, randomUUID(), `${WEBHOOK_SECRET}-wrong`);
    expect(answer.status, answer.text).toBeGreaterThanOrEqual(400);
    expect(answer.status, answer.text).toBeLessThan(500);
    await sleep(1_500);
    expect(fake.requests.slice(before), `requests after a forged delivery\n${fake.describeRequests(before)}\n${logs()}`).toEqual([]);
  }, 15_000);

  it('stops on SIGTERM and exits', async () => {
    // `npm start` runs `sh -c "node dist/server.js"`: npm hands a SIGTERM to the shell, which dies
    // of it and leaves node running. So the signal goes to the server process itself, as
    // `docker stop` sends it to the container's `node dist/server.js`; npm then exits with the
    // server's exit code.
    const group = processGroup(child!.pid!);
    const server = group.find(([, command]) => /^node .*dist\/server\.js$/.test(command));
    expect(server, `no node dist/server.js in the npm start process group: ${JSON.stringify(group)}`).toBeDefined();
    process.kill(server![0], 'SIGTERM');
    const result = await Promise.race([exited, sleep(10_000).then(() => null)]);
    expect(result, `npm start did not exit within 10 s of SIGTERM to the server\n${logs()}`).not.toBeNull();
    expect(result, logs()).toEqual({ code: 0, signal: null });
    expect(processGroup(child!.pid!), 'processes left behind').toEqual([]);
    // Nothing of the process group is left serving the port.
    const stillServing = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(1_000) }).then(
      () => true,
      () => false,
    );
    expect(stillServing, `something still answers on port ${port}\n${logs()}`).toBe(false);
  }, 15_000);
});
