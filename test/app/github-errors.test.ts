import { describe, expect, it } from 'vitest';
import { useProbotHarness } from '../helpers/probot.js';
import {
  checkRunPath,
  configCalls,
  checkRunsOfHead,
  filesOf,
  HEAD_SHA,
  INSTALLATION_ID,
  ISO_TIME,
  mockCreateCheckRun,
  mockFindCheckRun,
  mockReadConfig,
  mockUpdateCheckRun,
  REPO_PATH,
  type CheckRunUpdate,
  openedPayload,
} from './support.js';

describe('GitHub failing mid-review', () => {
  const h = useProbotHarness();

  it('pulls.listFiles answers 500: the check run is still completed, neutral, saying the review could not finish', async () => {
    const payload = openedPayload();
    h.github.installationToken(INSTALLATION_ID);
    mockFindCheckRun(h.github, HEAD_SHA);
    mockCreateCheckRun(h.github, HEAD_SHA);
    mockReadConfig(h.github);
    h.github.get(filesOf(), { status: 500, body: { message: 'Server Error' } });
    mockUpdateCheckRun(h.github, HEAD_SHA);

    await h.deliver('pull_request', payload);

    expect(h.github.calls()).toEqual([
      `POST /app/installations/${INSTALLATION_ID}/access_tokens`,
      `GET ${checkRunsOfHead(HEAD_SHA)}`,
      `POST ${REPO_PATH}/check-runs`,
      ...configCalls(),
      `GET ${filesOf()}`,
      `PATCH ${checkRunPath()}`,
    ]);
    expect(h.github.bodies('PATCH', checkRunPath()) as CheckRunUpdate[]).toEqual([
      {
        status: 'completed',
        conclusion: 'neutral',
        completed_at: ISO_TIME,
        output: {
          title: 'asyncguard could not finish this review',
          summary: 'The review stopped before it completed: Server Error\n\nRe-run the check to try again.',
        },
      },
    ]);
    // The failure is logged once, by the review queue, with GitHub's error.
    const errors = h.takeErrors();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ msg: 'review failed', key: 'Codertocat/Hello-World#2', err: { message: 'Server Error' } });
  });
});
