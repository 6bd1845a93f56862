import { describe, expect, it } from 'vitest';
import { analyzeFile } from '../../src/analysis/analyze-file.js';
import { useProbotHarness, type Harness } from '../helpers/probot.js';
import {
  AFTER,
  afterFindings,
  annotationOf,
  changedFile,
  CHECK_RUN_ID,
  CHECK_RUN_URL,
  checkRun,
  checkRunPath,
  checkRunsOfHead,
  commentOf,
  botThreadsBody,
  configCalls,
  createCheckRunBody,
  expectCommentBody,
  expectSummary,
  finding,
  filesOf,
  githubPatch,
  HEAD_SHA,
  INSTALLATION_ID,
  ISO_TIME,
  lineOf,
  markerOf,
  mockCreateCheckRun,
  mockCreateReview,
  mockFindCheckRun,
  mockListFiles,
  mockBotThreads,
  mockReadConfig,
  mockResolveThread,
  mockReadBlobs,
  mockUpdateCheckRun,
  PY_PATH,
  readBlobsBody,
  REPO_PATH,
  resolveThreadBody,
  reviewThread,
  reviewsOf,
  SECOND_PUSH,
  secondPushFindings,
  SWALLOWED_CANCEL,
  type CheckRunUpdate,
  type ReviewBody,
  openedPayload,
  synchronizePayload,
} from './support.js';

/** Heads of the later pushes (the real synchronize example repeats the opened example's head). */
const SECOND_SHA = '5d0c1e3b7a9f2e4d6c8b0a1f3e5d7c9b1a3f5e7d';
const THIRD_SHA = '8e2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f';



/** The requests of a review, in order, for check run `runId` on `sha`; `resolved`: threads resolved. */
function reviewCalls(sha: string, runId = CHECK_RUN_ID, withReview = true, resolved = 0, configFound = false): string[] {
  return [
    `GET ${checkRunsOfHead(sha)}`,
    `POST ${REPO_PATH}/check-runs`,
    ...configCalls(configFound),
    `GET ${filesOf()}`,
    'POST /graphql',
    'POST /graphql',
    ...(withReview ? [`POST ${reviewsOf()}`] : []),
    ...Array<string>(resolved).fill('POST /graphql'),
    `PATCH ${checkRunPath(runId)}`,
  ];
}

function mockPush(h: Harness, sha: string, runId: number, patch: string, head: string, threads: unknown[], withReview = true, config: string | null = null): void {
  mockFindCheckRun(h.github, sha);
  mockCreateCheckRun(h.github, sha, runId);
  mockReadConfig(h.github, config);
  mockListFiles(h.github, [changedFile(PY_PATH, 'modified', patch)]);
  mockReadBlobs(h.github, [head]);
  mockBotThreads(h.github, threads);
  if (withReview) mockCreateReview(h.github);
}

/** The bot's review threads as GitHub lists them later, from the comments of a posted review. */
function postedThreads(review: ReviewBody, prefix: string, resolved: (line: number) => boolean = () => false) {
  return review.comments.map((c, i) => reviewThread(`${prefix}${i}`, c.body, c.path, { resolved: resolved(c.line) }));
}

describe('pull_request.opened', () => {
  const h = useProbotHarness();

  it('creates the check run, posts ONE review on added lines only, and completes failure with every touched finding annotated', async () => {
    const expected = afterFindings();
    const commented = expected.filter((f) => f.added);
    h.github.installationToken(INSTALLATION_ID);
    mockPush(h, HEAD_SHA, CHECK_RUN_ID, githubPatch('after.patch'), AFTER, []);
    mockUpdateCheckRun(h.github, HEAD_SHA);

    await h.deliver('pull_request', openedPayload());

    expect(h.github.calls()).toEqual([`POST /app/installations/${INSTALLATION_ID}/access_tokens`, ...reviewCalls(HEAD_SHA)]);
    expect(h.github.bodies('POST', `${REPO_PATH}/check-runs`)).toEqual([createCheckRunBody(HEAD_SHA)]);
    expect(h.github.bodies('POST', '/graphql')).toEqual([readBlobsBody(HEAD_SHA, [PY_PATH]), botThreadsBody()]);

    const reviews = h.github.bodies('POST', reviewsOf()) as ReviewBody[];
    expect(reviews).toEqual([
      {
        commit_id: HEAD_SHA,
        event: 'COMMENT',
        body: `asyncguard found 6 asyncio problems in the functions this push touched; 3 are commented inline. 3 more are listed in the check run. ([check run](${CHECK_RUN_URL}))`,
        comments: commented.map(commentOf),
      },
    ]);
    const review = reviews[0]!;
    review.comments.forEach((comment, i) => expectCommentBody(comment.body, commented[i]!));
    expect(new Set(review.comments.map((c) => markerOf(c.body))).size).toBe(3);
    // The mechanical fix of the blocking sleep is offered as a suggestion on exactly its line.
    expect(review.comments[0]!.body).toContain('\n```suggestion\n            await asyncio.sleep(0.5 * 2 ** attempt)\n```\n');

    const updates = h.github.bodies('PATCH', checkRunPath()) as CheckRunUpdate[];
    expect(updates).toEqual([
      {
        status: 'completed',
        conclusion: 'failure',
        completed_at: ISO_TIME,
        output: {
          title: '6 asyncio problems in 6 touched scopes',
          summary: expect.any(String),
          annotations: expected.map(annotationOf),
        },
      },
    ]);
    const { output } = updates[0]!;
    // The unchanged lines of touched functions are annotated; the untouched function never is,
    // though its blocking sleep is a finding when the whole file is checked.
    const untouched = lineOf(AFTER, 'time.sleep(0.05)');
    expect(analyzeFile({ path: PY_PATH, source: AFTER, addedLines: 'all' }).findings.map((f) => f.line)).toContain(untouched);
    expect(output.annotations!.map((a) => a.start_line)).not.toContain(untouched);
    expectSummary(output.summary, { files: 1, scopes: 6, findings: expected, newComments: 3, conversation: [6, 0, 0] });
    expect(output.summary).not.toContain('comment limit reached');
  });

  it('a repository that turns a preview rule on gets its findings: swallowed-cancellation comments on wait_closed', async () => {
    h.github.installationToken(INSTALLATION_ID);
    mockPush(h, HEAD_SHA, CHECK_RUN_ID, githubPatch('after.patch'), AFTER, [], true, 'rules:\n  swallowed-cancellation: on\n');
    mockUpdateCheckRun(h.github, HEAD_SHA);

    await h.deliver('pull_request', openedPayload());

    expect(h.github.calls()).toEqual([`POST /app/installations/${INSTALLATION_ID}/access_tokens`, ...reviewCalls(HEAD_SHA, CHECK_RUN_ID, true, 0, true)]);
    // The defaults' findings plus the whole handler of wait_closed: `except asyncio.CancelledError:` and its `pass`.
    const swallowed = finding(AFTER, PY_PATH, SWALLOWED_CANCEL, 'except asyncio.CancelledError:', 2, true);
    const expected = [...afterFindings(), swallowed].sort((a, b) => a.line - b.line);
    const commented = expected.filter((f) => f.added);
    const [review] = h.github.bodies('POST', reviewsOf()) as ReviewBody[];
    expect(review!.comments).toEqual(commented.map(commentOf));
    review!.comments.forEach((comment, i) => expectCommentBody(comment.body, commented[i]!));
    const [update] = h.github.bodies('PATCH', checkRunPath()) as CheckRunUpdate[];
    expect(update!.output.title).toBe('7 asyncio problems in 6 touched scopes');
    expect(update!.output.annotations).toEqual(expected.map(annotationOf));
  });
});

describe('pull_request.synchronize', () => {
  const h = useProbotHarness();

  /** Push 1: the opened pull request is reviewed; returns the review it posted. */
  async function firstPush(): Promise<ReviewBody> {
    h.github.installationToken(INSTALLATION_ID);
    mockPush(h, HEAD_SHA, CHECK_RUN_ID, githubPatch('after.patch'), AFTER, []);
    mockUpdateCheckRun(h.github, HEAD_SHA);
    await h.deliver('pull_request', openedPayload());
    const [review] = h.github.bodies('POST', reviewsOf()) as ReviewBody[];
    expect(review!.comments).toHaveLength(3);
    h.github.requests.length = 0;
    return review!;
  }

  const backOffLine = () => lineOf(AFTER, 'time.sleep(0.5 * 2 ** attempt)');

  it('a push that fixes one finding and adds another: one thread resolved, one new comment, nothing posted twice; only Bot threads count', async () => {
    const first = await firstPush();
    const byLine = (line: number) => first.comments.find((c) => c.line === line)!;
    const quoted = byLine(lineOf(AFTER, "requests.get(f'{registry_url}/services/{name}'"));
    const threads = [
      ...postedThreads({ ...first, comments: first.comments.filter((c) => c !== quoted) }, 'PRRT_bot'),
      // A person quoting the bot's comment (marker and all) in a thread of their own, the bot's
      // original deleted: anyone can paste a marker, so it must not stop the bot from commenting.
      reviewThread('PRRT_user', `> ${quoted.body.split('\n').join('\n> ')}\n\nWhy is this blocking?`, PY_PATH, { author: 'User' }),
    ];
    mockPush(h, SECOND_SHA, 5, githubPatch('second-push.patch'), SECOND_PUSH, threads);
    // The back-off time.sleep is gone in this push: its thread (the first of the review) is resolved.
    mockResolveThread(h.github, 'PRRT_bot0');
    mockUpdateCheckRun(h.github, SECOND_SHA, 1, 5);

    await h.deliver('pull_request', synchronizePayload(HEAD_SHA, SECOND_SHA));

    expect(first.comments[0]!.line).toBe(backOffLine());
    const expected = secondPushFindings();
    const fresh = expected.filter((f) => f.added && /requests\.(get|put)/.test(SECOND_PUSH.split('\n')[f.line - 1]!));
    expect(h.github.calls()).toEqual(reviewCalls(SECOND_SHA, 5, true, 1));
    expect(h.github.bodies('POST', `${REPO_PATH}/check-runs`)).toEqual([createCheckRunBody(SECOND_SHA)]);
    expect(h.github.bodies('POST', '/graphql')).toEqual([readBlobsBody(SECOND_SHA, [PY_PATH]), botThreadsBody(), resolveThreadBody('PRRT_bot0')]);
    const reviews = h.github.bodies('POST', reviewsOf()) as ReviewBody[];
    expect(reviews).toEqual([
      {
        commit_id: SECOND_SHA,
        event: 'COMMENT',
        body: `asyncguard found 6 asyncio problems in the functions this push touched; 2 are commented inline. 4 more are listed in the check run. ([check run](https://github.com/Codertocat/Hello-World/runs/5))`,
        comments: fresh.map(commentOf),
      },
    ]);
    reviews[0]!.comments.forEach((comment, i) => expectCommentBody(comment.body, fresh[i]!));
    // The re-posted requests.get comment carries the same fingerprint as the first push's.
    expect(markerOf(reviews[0]!.comments[0]!.body)).toBe(markerOf(quoted.body));

    const updates = h.github.bodies('PATCH', checkRunPath(5)) as CheckRunUpdate[];
    expect(updates).toEqual([
      {
        status: 'completed',
        conclusion: 'failure',
        completed_at: ISO_TIME,
        output: { title: expect.stringMatching(/^6 asyncio problems in \d+ touched scopes$/), summary: expect.any(String), annotations: expected.map(annotationOf) },
      },
    ]);
    // create_task still has its thread (swallowed-cancellation is in preview: off); the back-off sleep is fixed.
    expectSummary(updates[0]!.output.summary, { files: 1, scopes: 9, findings: expected, newComments: 2, conversation: [5, 1, 1] });
  });

  it('sends NO review request when every commentable finding already has a bot thread, and leaves resolved threads alone', async () => {
    const first = await firstPush();
    // Push 2: the new heartbeat finding is commented, the back-off thread resolved.
    mockPush(h, SECOND_SHA, 5, githubPatch('second-push.patch'), SECOND_PUSH, postedThreads(first, 'PRRT_a'));
    mockResolveThread(h.github, 'PRRT_a0');
    mockUpdateCheckRun(h.github, SECOND_SHA, 1, 5);
    await h.deliver('pull_request', synchronizePayload(HEAD_SHA, SECOND_SHA));
    const [second] = h.github.bodies('POST', reviewsOf()) as ReviewBody[];
    expect(second!.comments.map((c) => c.line)).toEqual([lineOf(SECOND_PUSH, "requests.put(f'{registry_url}/leases/{lease}'")]);
    h.github.requests.length = 0;

    // Push 3 changes no Python: the same findings, all commented by now.
    mockFindCheckRun(h.github, THIRD_SHA);
    mockCreateCheckRun(h.github, THIRD_SHA, 6);
    mockReadConfig(h.github);
    mockListFiles(h.github, [
      changedFile(PY_PATH, 'modified', githubPatch('second-push.patch')),
      changedFile('README.md', 'modified', '@@ -1,3 +1,4 @@\n # aioservice\n \n+Stream helpers and a registry client.\n A small service client.'),
    ]);
    mockReadBlobs(h.github, [SECOND_PUSH]);
    mockBotThreads(h.github, [...postedThreads(first, 'PRRT_a', (line) => line === backOffLine()), ...postedThreads(second!, 'PRRT_b')]);
    mockUpdateCheckRun(h.github, THIRD_SHA, 1, 6);

    await h.deliver('pull_request', synchronizePayload(SECOND_SHA, THIRD_SHA));

    expect(h.github.calls()).toEqual(reviewCalls(THIRD_SHA, 6, false));
    const updates = h.github.bodies('PATCH', checkRunPath(6)) as CheckRunUpdate[];
    expect(updates).toEqual([
      {
        status: 'completed',
        conclusion: 'failure',
        completed_at: ISO_TIME,
        output: { title: expect.stringMatching(/^6 asyncio problems in \d+ touched scopes$/), summary: expect.any(String), annotations: secondPushFindings().map(annotationOf) },
      },
    ]);
    expectSummary(updates[0]!.output.summary, { files: 1, scopes: 9, findings: secondPushFindings(), newComments: 0, conversation: [3, 3, 0] });
  });

  it('a fixed thread GitHub refuses to resolve (no contents: write) is counted, and the review completes as usual', async () => {
    const first = await firstPush();
    mockPush(h, SECOND_SHA, 5, githubPatch('second-push.patch'), SECOND_PUSH, postedThreads(first, 'PRRT_a'));
    mockResolveThread(h.github, 'PRRT_a0', true);
    mockUpdateCheckRun(h.github, SECOND_SHA, 1, 5);

    await h.deliver('pull_request', synchronizePayload(HEAD_SHA, SECOND_SHA));

    expect(h.github.calls()).toEqual(reviewCalls(SECOND_SHA, 5, true, 1));
    const [update] = h.github.bodies('PATCH', checkRunPath(5)) as CheckRunUpdate[];
    expect(update!.conclusion).toBe('failure');
    expect(update!.output.summary).toContain('\nSince the last review: **4 new, 2 still open, 1 fixed**.');
    expect(update!.output.summary).toContain(
      '1 fixed thread could not be resolved: GitHub refused (the app needs the "contents: write" permission to resolve review threads).',
    );
  });

  it('a fixed thread GitHub fails to resolve (502) stays open for the next push; the review completes as usual', async () => {
    const first = await firstPush();
    mockPush(h, SECOND_SHA, 5, githubPatch('second-push.patch'), SECOND_PUSH, postedThreads(first, 'PRRT_a'));
    h.github.post('/graphql', { status: 502, body: { message: 'Bad Gateway' } });
    mockUpdateCheckRun(h.github, SECOND_SHA, 1, 5);

    await h.deliver('pull_request', synchronizePayload(HEAD_SHA, SECOND_SHA));

    expect(h.github.calls()).toEqual(reviewCalls(SECOND_SHA, 5, true, 1));
    const [update] = h.github.bodies('PATCH', checkRunPath(5)) as CheckRunUpdate[];
    expect(update!.conclusion).toBe('failure');
    expect(update!.output.summary).toContain('1 fixed thread could not be resolved: GitHub answered with an error; the next review tries again.');
  });
});

describe('redelivered and concurrent pull_request.opened', () => {
  const h = useProbotHarness();

  it('a redelivery after the review completed finds the completed check run and creates or posts nothing', async () => {
    h.github.installationToken(INSTALLATION_ID);
    mockPush(h, HEAD_SHA, CHECK_RUN_ID, githubPatch('after.patch'), AFTER, []);
    mockUpdateCheckRun(h.github, HEAD_SHA);
    const payload = openedPayload();
    await h.deliver('pull_request', payload, 'a1b2c3d4-0000-11ef-8000-000000000001');
    expect(h.github.bodies('POST', reviewsOf())).toHaveLength(1);
    h.github.requests.length = 0;

    mockFindCheckRun(h.github, HEAD_SHA, [checkRun(CHECK_RUN_ID, HEAD_SHA, 'completed', 'failure')]);
    // A redelivery keeps the delivery id.
    await h.deliver('pull_request', payload, 'a1b2c3d4-0000-11ef-8000-000000000001');

    expect(h.github.calls()).toEqual([`GET ${checkRunsOfHead(HEAD_SHA)}`]);
  });

  it('a redelivery while the first review is still queued or running is not reviewed twice', async () => {
    h.github.installationToken(INSTALLATION_ID);
    mockPush(h, HEAD_SHA, CHECK_RUN_ID, githubPatch('after.patch'), AFTER, []);
    mockUpdateCheckRun(h.github, HEAD_SHA);
    const payload = openedPayload();
    const event = { id: 'a1b2c3d4-0000-11ef-8000-000000000002', name: 'pull_request', payload } as Parameters<Harness['probot']['receive']>[0];
    await Promise.all([h.probot.receive(event), h.probot.receive(event)]);
    await h.asyncguard.idle();

    expect(h.github.calls()).toEqual([`POST /app/installations/${INSTALLATION_ID}/access_tokens`, ...reviewCalls(HEAD_SHA)]);
  });
});

