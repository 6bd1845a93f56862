/**
 * The review over the life of a pull request: the team's configuration (valid, invalid, absent),
 * suppression comments, and two pushes in quick succession.
 */
import { describe, expect, it } from 'vitest';
import { useProbotHarness } from '../helpers/probot.js';
import {
  botThreadsBody,
  changedFile,
  checkRunPath,
  checkRunsOfHead,
  configCalls,
  configPath,
  filesOf,
  HEAD_SHA,
  INSTALLATION_ID,
  ISO_TIME,
  mockBotThreads,
  mockCreateCheckRun,
  mockCreateReview,
  mockFindCheckRun,
  mockListFiles,
  mockReadBlobs,
  mockReadConfig,
  mockUpdateCheckRun,
  newFilePatch,
  openedPayload,
  readBlobsBody,
  REPO_PATH,
  reviewsOf,
  synchronizePayload,
  type CheckRunUpdate,
  type ReviewBody,
} from './support.js';

/** A new service module: a blocking sleep and a blocking HTTP call in one handler. */
const API_PATH = 'svc/api.py';
const API = [
  'import asyncio',
  'import time',
  '',
  'import requests',
  '',
  '',
  'async def refresh(registry, name):',
  '    time.sleep(0.2)',
  "    return requests.get(f'{registry}/services/{name}', timeout=5).json()",
  '',
].join('\n');
const LEGACY_PATH = 'legacy/poller.py';
const LEGACY = ['import time', '', '', 'async def poll():', '    time.sleep(1)', ''].join('\n');

describe('.github/asyncguard.yml', () => {
  const h = useProbotHarness();

  it('a valid file: rules switched off and re-levelled, paths excluded, no comments, fail_on warning', async () => {
    const yaml = [
      'rules:',
      '  blocking-http: off',
      '  AG101: warning',
      'exclude:',
      '  - "legacy/**"',
      'comment_on: none',
      'fail_on: warning',
      '',
    ].join('\n');
    h.github.installationToken(INSTALLATION_ID);
    mockFindCheckRun(h.github, HEAD_SHA);
    mockCreateCheckRun(h.github, HEAD_SHA);
    mockReadConfig(h.github, yaml);
    mockListFiles(h.github, [changedFile(API_PATH, 'added', newFilePatch(API)), changedFile(LEGACY_PATH, 'added', newFilePatch(LEGACY))]);
    mockReadBlobs(h.github, [API]);
    mockBotThreads(h.github, []);
    mockUpdateCheckRun(h.github, HEAD_SHA);

    await h.deliver('pull_request', openedPayload());

    expect(h.github.calls()).toEqual([
      `POST /app/installations/${INSTALLATION_ID}/access_tokens`,
      `GET ${checkRunsOfHead(HEAD_SHA)}`,
      `POST ${REPO_PATH}/check-runs`,
      ...configCalls(true),
      `GET ${filesOf()}`,
      'POST /graphql',
      'POST /graphql',
      `PATCH ${checkRunPath()}`,
    ]);
    // Read from the default branch: no ref, so a pull request cannot change its own rules.
    expect(h.github.requests.find((r) => r.path.startsWith(configPath()))!.path).toBe(configPath());
    // The excluded file is not even read.
    expect(h.github.bodies('POST', '/graphql')).toEqual([readBlobsBody(HEAD_SHA, [API_PATH]), botThreadsBody()]);
    const [update] = h.github.bodies('PATCH', checkRunPath()) as CheckRunUpdate[];
    expect(update).toEqual({
      status: 'completed',
      // AG101 at warning reaches fail_on: warning.
      conclusion: 'failure',
      completed_at: ISO_TIME,
      output: {
        title: '1 asyncio problem in 4 touched scopes',
        summary: expect.any(String),
        annotations: [
          expect.objectContaining({ path: API_PATH, start_line: 8, annotation_level: 'warning', title: expect.stringMatching(/^AG101 /) }),
        ],
      },
    });
    expect(update!.output.summary).toContain("Left out by the configuration's `paths` / `exclude`: 1 changed Python file.");
    expect(update!.output.summary).toContain('| warning | 1 |');
  });

  it('an invalid file: a completed check run names each key, the value found and what was expected; nothing is reviewed', async () => {
    const yaml = [
      'rules:',
      '  AG101: loud',
      'paths: src/**',
      'comment_on: everywhere',
      'max_comments: 500',
      'python_version: 3.10',
      'fail_on: [error]',
      'comment_one: added',
      '',
    ].join('\n');
    h.github.installationToken(INSTALLATION_ID);
    mockFindCheckRun(h.github, HEAD_SHA);
    mockCreateCheckRun(h.github, HEAD_SHA);
    mockReadConfig(h.github, yaml);
    mockUpdateCheckRun(h.github, HEAD_SHA);

    await h.deliver('pull_request', openedPayload());

    expect(h.github.calls()).toEqual([
      `POST /app/installations/${INSTALLATION_ID}/access_tokens`,
      `GET ${checkRunsOfHead(HEAD_SHA)}`,
      `POST ${REPO_PATH}/check-runs`,
      ...configCalls(true),
      `PATCH ${checkRunPath()}`,
    ]);
    const [update] = h.github.bodies('PATCH', checkRunPath()) as CheckRunUpdate[];
    expect(update).toMatchObject({ status: 'completed', conclusion: 'neutral', output: { title: 'Invalid configuration: 7 problems' } });
    const rows = update!.output.summary.split('\n').filter((line) => line.startsWith('| `'));
    expect(rows).toEqual([
      '| `rules.AG101` | `"loud"` | one of off, on, info, warning, error |',
      '| `paths` | `"src/**"` | a list of glob patterns such as "src/\\*\\*/\\*.py" |',
      '| `comment_on` | `"everywhere"` | one of added, diff\\_context, none |',
      '| `max_comments` | `500` | a whole number from 0 to 100 |',
      '| `fail_on` | `["error"]` | one of error, warning, info, never |',
      // YAML reads 3.10 as the number 3.1: the message says why it must be quoted.
      '| `python_version` | `3.1` | a quoted version such as "3.11" \\(unquoted, YAML reads 3.10 as the number 3.1\\) |',
      '| `comment_one` | (missing) | no such key; the keys are rules, paths, exclude, test\\_paths, comment\\_on, max\\_comments, fail\\_on, python\\_version, blocking\\_calls |',
    ]);
    expect(update!.output.summary).toContain('(`Codertocat/Hello-World:.github/asyncguard.yml`)');
    expect(update!.output.summary).toContain('Fix the file on the default branch, then re-run this check.');
  });

  it('an unknown rule gets the closest names; unparseable YAML says so', async () => {
    h.github.installationToken(INSTALLATION_ID);
    mockFindCheckRun(h.github, HEAD_SHA);
    mockCreateCheckRun(h.github, HEAD_SHA);
    mockReadConfig(h.github, 'rules:\n  blocking-slep: off\n');
    mockUpdateCheckRun(h.github, HEAD_SHA);
    await h.deliver('pull_request', openedPayload());
    const [unknown] = h.github.bodies('PATCH', checkRunPath()) as CheckRunUpdate[];
    expect(unknown!.conclusion).toBe('neutral');
    expect(unknown!.output.summary).toContain(
      '| `rules.blocking-slep` | `"blocking-slep"` | a rule id, alias, slug or family \\(blocking, coroutines, cancellation, concurrency, resources\\); closest: AG101 \\(blocking-sleep\\)',
    );
    h.github.requests.length = 0;

    mockFindCheckRun(h.github, 'f'.repeat(40));
    mockCreateCheckRun(h.github, 'f'.repeat(40));
    mockReadConfig(h.github, 'rules: [unclosed\n  - {');
    mockUpdateCheckRun(h.github, 'f'.repeat(40));
    const push = synchronizePayload(HEAD_SHA, 'f'.repeat(40));
    await h.deliver('pull_request', push);
    const [broken] = h.github.bodies('PATCH', checkRunPath()) as CheckRunUpdate[];
    expect(broken).toMatchObject({ conclusion: 'neutral', output: { title: 'Invalid configuration: 1 problem' } });
    expect(broken!.output.summary).toMatch(/\| \(the file\) \| \(missing\) \| a readable YAML mapping \\\(Configuration could not be parsed from .* \\\(invalid YAML\\\)\\\) \|/);
  });
});

describe('suppression comments', () => {
  const h = useProbotHarness();

  it('every form silences its finding: counted in the summary, neither commented nor annotated', async () => {
    const suppressed = [
      'import asyncio',
      'import subprocess',
      'import time',
      '',
      'import requests',
      '',
      '',
      'async def refresh(registry, cmd):',
      '    time.sleep(0.1)  # noqa',
      '    time.sleep(0.2)  # noqa: ASYNC251',
      '    time.sleep(0.3)  # noqa: AG101',
      "    requests.get(registry)  # asyncguard: ignore[blocking-http]",
      '    subprocess.run(  # asyncguard: ignore[AG105]',
      '        cmd,',
      '    )',
      '    time.sleep(0.4)  # noqa: E501',
      '',
    ].join('\n');
    const ignored = ['# asyncguard: ignore-file', 'import time', '', '', 'async def poll():', '    time.sleep(1)', ''].join('\n');
    h.github.installationToken(INSTALLATION_ID);
    mockFindCheckRun(h.github, HEAD_SHA);
    mockCreateCheckRun(h.github, HEAD_SHA);
    mockReadConfig(h.github);
    mockListFiles(h.github, [changedFile(API_PATH, 'added', newFilePatch(suppressed)), changedFile(LEGACY_PATH, 'added', newFilePatch(ignored))]);
    mockReadBlobs(h.github, [suppressed, ignored]);
    mockBotThreads(h.github, []);
    mockCreateReview(h.github);
    mockUpdateCheckRun(h.github, HEAD_SHA);

    await h.deliver('pull_request', openedPayload());

    // Only `# noqa: E501` (another tool's code) leaves its finding.
    const [review] = h.github.bodies('POST', reviewsOf()) as ReviewBody[];
    expect(review!.comments.map((c) => [c.path, c.line])).toEqual([[API_PATH, 16]]);
    const [update] = h.github.bodies('PATCH', checkRunPath()) as CheckRunUpdate[];
    expect(update!.output.annotations!.map((a) => [a.path, a.start_line])).toEqual([[API_PATH, 16]]);
    expect(update!.output.summary).toContain('Suppressed by `# noqa` / `# asyncguard: ignore` comments: 6.');
  });
});

describe('two pushes in quick succession', () => {
  const h = useProbotHarness();

  it('the older review completes as superseded and posts nothing; the newer one reviews', async () => {
    const OLD = 'a'.repeat(40);
    const NEW = 'b'.repeat(40);
    h.github.installationToken(INSTALLATION_ID);
    // The first push's review gets as far as its check run, then sees the newer push.
    mockFindCheckRun(h.github, OLD);
    mockCreateCheckRun(h.github, OLD, 7);
    mockUpdateCheckRun(h.github, OLD, 1, 7);
    // The second push is reviewed in full.
    mockFindCheckRun(h.github, NEW);
    mockCreateCheckRun(h.github, NEW, 8);
    mockReadConfig(h.github);
    mockListFiles(h.github, [changedFile(API_PATH, 'added', newFilePatch(API))]);
    mockReadBlobs(h.github, [API]);
    mockBotThreads(h.github, []);
    mockCreateReview(h.github);
    mockUpdateCheckRun(h.github, NEW, 1, 8);

    // Both deliveries arrive before the first review has finished (webhooks are answered first).
    await h.probot.receive({ id: 'push-1', name: 'pull_request', payload: synchronizePayload(HEAD_SHA, OLD) } as never);
    await h.probot.receive({ id: 'push-2', name: 'pull_request', payload: synchronizePayload(OLD, NEW) } as never);
    await h.asyncguard.idle();

    expect(h.github.calls()).toEqual([
      `POST /app/installations/${INSTALLATION_ID}/access_tokens`,
      `GET ${checkRunsOfHead(OLD)}`,
      `POST ${REPO_PATH}/check-runs`,
      `PATCH ${checkRunPath(7)}`,
      `GET ${checkRunsOfHead(NEW)}`,
      `POST ${REPO_PATH}/check-runs`,
      ...configCalls(),
      `GET ${filesOf()}`,
      'POST /graphql',
      'POST /graphql',
      `POST ${reviewsOf()}`,
      `PATCH ${checkRunPath(8)}`,
    ]);
    expect(h.github.bodies('PATCH', checkRunPath(7))).toEqual([
      {
        status: 'completed',
        conclusion: 'cancelled',
        completed_at: ISO_TIME,
        output: {
          title: 'Superseded by a newer push',
          summary: `A newer commit (\`${NEW.slice(0, 7)}\`) was pushed while this review ran; its check run has the review. Nothing was posted for this commit.`,
        },
      },
    ]);
    const reviews = h.github.bodies('POST', reviewsOf()) as ReviewBody[];
    expect(reviews.map((r) => r.commit_id)).toEqual([NEW]);
  });
});
