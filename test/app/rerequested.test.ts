import { describe, expect, it } from 'vitest';
import { useProbotHarness } from '../helpers/probot.js';
import {
  AFTER,
  afterFindings,
  annotationOf,
  changedFile,
  CHECK_RUN_URL,
  checkRunPath,
  commentOf,
  botThreadsBody,
  configCalls,
  createCheckRunBody,
  expectCommentBody,
  filesOf,
  githubPatch,
  HEAD_SHA,
  ISO_TIME,
  mockCreateCheckRun,
  mockCreateReview,
  mockListFiles,
  mockBotThreads,
  mockReadConfig,
  mockReadBlobs,
  mockUpdateCheckRun,
  PY_PATH,
  readBlobsBody,
  REPO_PATH,
  reviewsOf,
  webhookExample,
  type CheckRunUpdate,
  type ReviewBody,
} from './support.js';

describe('check_suite.rerequested', () => {
  const h = useProbotHarness();

  it('a fork pull request (empty pull_requests): finds the open PR by head SHA and reviews it with a NEW check run', async () => {
    const payload = webhookExample('check_suite', 'rerequested');
    const installationId = payload.installation.id as number;
    expect(payload.check_suite.head_sha).toBe(HEAD_SHA);
    // The example was recorded on a branch of the same repository, so it lists PR #2; for a
    // pull request from a fork GitHub sends an empty list, which is the case under test.
    payload.check_suite.pull_requests = [];

    // The open pull requests, in GitHub's pulls.list shape: ours (the real example PR) and one
    // whose head is another commit.
    const ours = webhookExample('pull_request', 'opened').pull_request;
    const other = { ...structuredClone(ours), number: 1, id: 279147436, head: { ...ours.head, sha: '0d1ab8c62f1c5b0a7e3e4f7d9c2b5a8e6f4d3c21', ref: 'docs' } };
    h.github.installationToken(installationId);
    h.github.get(`${REPO_PATH}/pulls?state=open&per_page=100`, { body: [other, ours] });
    mockCreateCheckRun(h.github, HEAD_SHA);
    mockReadConfig(h.github);
    mockListFiles(h.github, [changedFile(PY_PATH, 'modified', githubPatch('after.patch'))]);
    mockReadBlobs(h.github, [AFTER]);
    mockBotThreads(h.github, []);
    mockCreateReview(h.github);
    mockUpdateCheckRun(h.github, HEAD_SHA);

    await h.deliver('check_suite', payload);

    // No check-runs lookup: a re-run always gets a fresh check run.
    expect(h.github.calls()).toEqual([
      `POST /app/installations/${installationId}/access_tokens`,
      `GET ${REPO_PATH}/pulls?state=open&per_page=100`,
      `POST ${REPO_PATH}/check-runs`,
      ...configCalls(),
      `GET ${filesOf(2)}`,
      'POST /graphql',
      'POST /graphql',
      `POST ${reviewsOf(2)}`,
      `PATCH ${checkRunPath()}`,
    ]);
    expect(h.github.bodies('POST', `${REPO_PATH}/check-runs`)).toEqual([createCheckRunBody(HEAD_SHA)]);
    expect(h.github.bodies('POST', '/graphql')).toEqual([readBlobsBody(HEAD_SHA, [PY_PATH]), botThreadsBody()]);
    const expected = afterFindings();
    const commented = expected.filter((f) => f.added);
    const reviews = h.github.bodies('POST', reviewsOf(2)) as ReviewBody[];
    expect(reviews).toEqual([
      {
        commit_id: HEAD_SHA,
        event: 'COMMENT',
        body: `asyncguard found 6 asyncio problems in the functions this push touched; 3 are commented inline. 3 more are listed in the check run. ([check run](${CHECK_RUN_URL}))`,
        comments: commented.map(commentOf),
      },
    ]);
    reviews[0]!.comments.forEach((comment, i) => expectCommentBody(comment.body, commented[i]!));
    expect(h.github.bodies('PATCH', checkRunPath()) as CheckRunUpdate[]).toEqual([
      {
        status: 'completed',
        conclusion: 'failure',
        completed_at: ISO_TIME,
        output: { title: '6 asyncio problems in 6 touched scopes', summary: expect.any(String), annotations: expected.map(annotationOf) },
      },
    ]);
  });
});
