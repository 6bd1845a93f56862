import type { Context } from 'probot';
import { pullRequestRef } from '../github/pull-requests.js';
import type { ReviewScheduler } from './scheduler.js';

export const PULL_REQUEST_EVENTS = [
  'pull_request.opened',
  'pull_request.synchronize',
  'pull_request.reopened',
  'pull_request.ready_for_review',
] as const;

/** Guards, then a queued review of the pull request's head. */
export function onPullRequest(schedule: ReviewScheduler) {
  return async (context: Context<(typeof PULL_REQUEST_EVENTS)[number]>): Promise<void> => {
    const { pull_request: pr, repository } = context.payload;
    if (pr.state !== 'open') {
      context.log.info({ pr: pr.number }, 'pull request is not open; nothing to review');
      return;
    }
    if (pr.draft) {
      context.log.info({ pr: pr.number }, 'draft pull request; reviewed when marked ready');
      return;
    }
    schedule(context, pullRequestRef(repository.owner.login, repository.name, pr), { rerun: false });
  };
}
