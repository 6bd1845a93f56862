import { describe, expect, it } from 'vitest';
import { useProbotHarness } from '../helpers/probot.js';
import {
  AFTER,
  afterFindings,
  annotationOf,
  BASE_SHA,
  BEFORE,
  BLOCKING_SLEEP,
  changedFile,
  CHECK_RUN_URL,
  checkRunPath,
  checkRunsOfHead,
  commentOf,
  botThreadsBody,
  configCalls,
  createCheckRunBody,
  expectCommentBody,
  expectSummary,
  filesOf,
  HEAD_SHA,
  INSTALLATION_ID,
  ISO_TIME,
  mockCreateCheckRun,
  mockCreateReview,
  mockFindCheckRun,
  mockListFiles,
  mockBotThreads,
  mockReadConfig,
  mockReadBlobs,
  mockUpdateCheckRun,
  PY_PATH,
  readBlobsBody,
  REPO_PATH,
  reviewsOf,
  ruleByAlias,
  type CheckRunUpdate,
  type ExpectedFinding,
  type ReviewBody,
  newFilePatch,
  openedPayload,
} from './support.js';

const WORKERS_PATH = 'workers/replication.py';
const SHARDS = 12;

/**
 * A new module of 12 shard-replication coroutines that pace their steps with `time.sleep`: five
 * blocking sleeps each, 60 in all, every one on an added line of a touched function.
 */
function replicationModule(): string {
  const lines = [
    '"""Replicate the shards of the primary store to the read replica."""',
    'import asyncio',
    'import time',
    '',
    'PACE = 0.01',
  ];
  for (let shard = 1; shard <= SHARDS; shard++) {
    lines.push(
      '',
      '',
      `async def replicate_shard_${shard}(source, replica, batch=500):`,
      `    """Copy shard ${shard} from source to replica, pausing between steps."""`,
      `    await replica.begin(${shard})`,
      '    time.sleep(PACE)',
      `    rows = await source.fetch(${shard}, limit=batch)`,
      '    time.sleep(PACE)',
      `    await replica.write(${shard}, rows)`,
      '    time.sleep(PACE)',
      `    await replica.commit(${shard})`,
      '    time.sleep(PACE)',
      `    await source.ack(${shard}, len(rows))`,
      '    time.sleep(PACE)',
      '    return len(rows)',
    );
  }
  return `${lines.join('\n')}\n`;
}



describe('review limits', () => {
  const h = useProbotHarness();

  it('60 findings: annotations go in batches of 50 + 10, comments stop at 25, the summary lists the 35 others', async () => {
    const source = replicationModule();
    const sleeps = source
      .split('\n')
      .flatMap((line, i) => (line === '    time.sleep(PACE)' ? [i + 1] : []));
    expect(sleeps).toHaveLength(60);
    const expected: ExpectedFinding[] = sleeps.map((line) => ({
      alias: BLOCKING_SLEEP,
      path: WORKERS_PATH,
      line,
      endLine: line,
      column: 5,
      endColumn: 5 + 'time.sleep(PACE)'.length,
      added: true,
    }));

    h.github.installationToken(INSTALLATION_ID);
    mockFindCheckRun(h.github, HEAD_SHA);
    mockCreateCheckRun(h.github, HEAD_SHA);
    mockReadConfig(h.github);
    mockListFiles(h.github, [changedFile(WORKERS_PATH, 'added', newFilePatch(source))]);
    mockReadBlobs(h.github, [source]);
    mockBotThreads(h.github, []);
    mockCreateReview(h.github);
    mockUpdateCheckRun(h.github, HEAD_SHA, 2);

    await h.deliver('pull_request', openedPayload());

    expect(h.github.calls()).toEqual([
      `POST /app/installations/${INSTALLATION_ID}/access_tokens`,
      `GET ${checkRunsOfHead(HEAD_SHA)}`,
      `POST ${REPO_PATH}/check-runs`,
      ...configCalls(),
      `GET ${filesOf()}`,
      'POST /graphql',
      'POST /graphql',
      `POST ${reviewsOf()}`,
      `PATCH ${checkRunPath()}`,
      `PATCH ${checkRunPath()}`,
    ]);
    expect(h.github.bodies('POST', `${REPO_PATH}/check-runs`)).toEqual([createCheckRunBody(HEAD_SHA)]);
    // A new file: only its head is read.
    expect(h.github.bodies('POST', '/graphql')).toEqual([readBlobsBody(HEAD_SHA, [WORKERS_PATH]), botThreadsBody()]);

    const reviews = h.github.bodies('POST', reviewsOf()) as ReviewBody[];
    expect(reviews).toEqual([
      {
        commit_id: HEAD_SHA,
        event: 'COMMENT',
        body: `asyncguard found 60 asyncio problems in the functions this push touched; 25 are commented inline. 35 more are listed in the check run. ([check run](${CHECK_RUN_URL}))`,
        comments: expected.slice(0, 25).map(commentOf),
      },
    ]);
    reviews[0]!.comments.forEach((comment, i) => expectCommentBody(comment.body, expected[i]!));

    const updates = h.github.bodies('PATCH', checkRunPath()) as CheckRunUpdate[];
    // 12 functions and 4 module-level statements (docstring, two imports, PACE): all added.
    const output = { title: '60 asyncio problems in 16 touched scopes', summary: expect.any(String) };
    expect(updates).toEqual([
      // Every request but the last only adds annotations: the run stays in progress.
      { output: { ...output, annotations: expected.slice(0, 50).map(annotationOf) } },
      {
        status: 'completed',
        conclusion: 'failure',
        completed_at: ISO_TIME,
        output: { ...output, annotations: expected.slice(50).map(annotationOf) },
      },
    ]);
    const summary = updates[1]!.output.summary;
    expect(updates[0]!.output.summary).toBe(summary);
    expectSummary(summary, { files: 1, scopes: 16, findings: expected, newComments: 25, conversation: [60, 0, 0] });
    expect(summary).toContain('\nNot commented inline (comment limit reached), see the annotations:\n');
    const rule = ruleByAlias(BLOCKING_SLEEP);
    const listed = summary.split('\n').filter((line) => line.startsWith('- `'));
    expect(listed).toHaveLength(35);
    listed.forEach((line, i) => expect(line.startsWith(`- \`${WORKERS_PATH}:${expected[25 + i]!.line}\` ${rule.meta.id} `)).toBe(true));
  });

  it('a file whose patch GitHub omitted: base and head are read, the findings are annotations only', async () => {
    const expected = afterFindings();
    h.github.installationToken(INSTALLATION_ID);
    mockFindCheckRun(h.github, HEAD_SHA);
    mockCreateCheckRun(h.github, HEAD_SHA);
    // GitHub leaves `patch` out for large files: the diff is computed from the two texts.
    mockReadConfig(h.github);
    mockListFiles(h.github, [changedFile(PY_PATH, 'modified')]);
    mockReadBlobs(h.github, [AFTER]);
    mockReadBlobs(h.github, [BEFORE]);
    // No finding can become a comment; the threads are still read, to resolve the fixed ones.
    mockBotThreads(h.github, []);
    mockUpdateCheckRun(h.github, HEAD_SHA);

    await h.deliver('pull_request', openedPayload());

    expect(h.github.calls()).toEqual([
      `POST /app/installations/${INSTALLATION_ID}/access_tokens`,
      `GET ${checkRunsOfHead(HEAD_SHA)}`,
      `POST ${REPO_PATH}/check-runs`,
      ...configCalls(),
      `GET ${filesOf()}`,
      'POST /graphql',
      'POST /graphql',
      'POST /graphql',
      `PATCH ${checkRunPath()}`,
    ]);
    expect(h.github.bodies('POST', '/graphql')).toEqual([
      readBlobsBody(HEAD_SHA, [PY_PATH]),
      readBlobsBody(BASE_SHA, [PY_PATH]),
      botThreadsBody(),
    ]);
    const updates = h.github.bodies('PATCH', checkRunPath()) as CheckRunUpdate[];
    expect(updates).toEqual([
      {
        status: 'completed',
        conclusion: 'failure',
        completed_at: ISO_TIME,
        output: { title: '6 asyncio problems in 6 touched scopes', summary: expect.any(String), annotations: expected.map(annotationOf) },
      },
    ]);
    expectSummary(updates[0]!.output.summary, { files: 1, scopes: 6, findings: expected, newComments: 0, conversation: [6, 0, 0] });
  });
});
