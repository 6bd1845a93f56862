import type { Context } from 'probot';
import { CHECK_NAME } from '../github/limits.js';
import { openPullRequestsFor } from '../github/pull-requests.js';
import type { ReviewScheduler } from './scheduler.js';

/** "Re-run" on the check run: review its pull request(s) again, with a fresh check run. */
export function onCheckRunRerequested(schedule: ReviewScheduler) {
  return async (context: Context<'check_run.rerequested'>): Promise<void> => {
    const { check_run: run, repository } = context.payload;
    if (run.name !== CHECK_NAME) {
      context.log.info({ name: run.name }, 'not our check run; ignored');
      return;
    }
    const prs = await openPullRequestsFor(context.octokit, repository.owner.login, repository.name, run.head_sha, run.pull_requests);
    if (prs.length === 0) context.log.info({ sha: run.head_sha }, 'no open pull request has this head; nothing to re-run');
    for (const pr of prs) schedule(context, pr, { rerun: true });
  };
}

/** "Re-run all checks" on the suite. */
export function onCheckSuiteRerequested(schedule: ReviewScheduler) {
  return async (context: Context<'check_suite.rerequested'>): Promise<void> => {
    const { check_suite: suite, repository } = context.payload;
    const prs = await openPullRequestsFor(context.octokit, repository.owner.login, repository.name, suite.head_sha, suite.pull_requests);
    if (prs.length === 0) context.log.info({ sha: suite.head_sha }, 'no open pull request has this head; nothing to re-run');
    for (const pr of prs) schedule(context, pr, { rerun: true });
  };
}
