import { describe, expect, it } from 'vitest';
import { useProbotHarness } from '../helpers/probot.js';
import {
  changedFile,
  checkRunPath,
  configCalls,
  checkRunsOfHead,
  createCheckRunBody,
  filesOf,
  HEAD_SHA,
  INSTALLATION_ID,
  ISO_TIME,
  mockCreateCheckRun,
  mockFindCheckRun,
  mockReadConfig,
  mockUpdateCheckRun,
  REPO_PATH,
  webhookExample,
  type CheckRunUpdate,
  openedPayload,
} from './support.js';

describe('pull requests with nothing to review', () => {
  const h = useProbotHarness();

  it('a draft pull request: no request at all', async () => {
    const payload = webhookExample('pull_request', 'opened');
    // The scenario: the author opened it as a draft (reviewed once marked ready for review).
    payload.pull_request.draft = true;

    await h.deliver('pull_request', payload);

    expect(h.github.requests).toEqual([]);
  });

  it('no Python change (every page of files read): the check run completes success, no blob read, no review', async () => {
    const payload = openedPayload();
    // 101 files: GitHub pages them 100 at a time and links the next page.
    const firstPage = [
      changedFile('web/static/app.js', 'modified', '@@ -1,3 +1,3 @@\n-const API = "/api/v1";\n+const API = "/api/v2";\n export default API;\n '),
      ...Array.from({ length: 99 }, (_, i) => changedFile(`docs/guide/page-${i + 1}.md`, 'modified', `@@ -1 +1 @@\n-# Page ${i + 1}\n+# Guide, page ${i + 1}`)),
    ];
    const nextPage = `/repositories/186853002/pulls/2/files?per_page=100&page=2`;
    h.github.installationToken(INSTALLATION_ID);
    mockFindCheckRun(h.github, HEAD_SHA);
    mockCreateCheckRun(h.github, HEAD_SHA);
    mockReadConfig(h.github);
    h.github.get(filesOf(), {
      body: firstPage,
      headers: {
        link: `<https://api.github.com${nextPage}>; rel="next", <https://api.github.com${nextPage}>; rel="last"`,
      },
    });
    h.github.get(nextPage, {
      body: [changedFile('README.md', 'modified', '@@ -1,2 +1,3 @@\n # Hello-World\n+Now with a v2 API.\n A sample repository.')],
    });
    mockUpdateCheckRun(h.github, HEAD_SHA);

    await h.deliver('pull_request', payload);

    expect(h.github.calls()).toEqual([
      `POST /app/installations/${INSTALLATION_ID}/access_tokens`,
      `GET ${checkRunsOfHead(HEAD_SHA)}`,
      `POST ${REPO_PATH}/check-runs`,
      ...configCalls(),
      `GET ${filesOf()}`,
      `GET ${nextPage}`,
      `PATCH ${checkRunPath()}`,
    ]);
    expect(h.github.bodies('POST', `${REPO_PATH}/check-runs`)).toEqual([createCheckRunBody(HEAD_SHA)]);
    expect(h.github.bodies('PATCH', checkRunPath()) as CheckRunUpdate[]).toEqual([
      {
        status: 'completed',
        conclusion: 'success',
        completed_at: ISO_TIME,
        output: {
          title: 'No Python changes',
          summary: 'This push changes no Python files, so there is nothing for asyncguard to review.',
        },
      },
    ]);
  });
});
