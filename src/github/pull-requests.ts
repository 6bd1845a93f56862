import type { PullRequestRef } from '../pipeline/ports.js';
import { PER_PAGE } from './limits.js';
import type { Octokit } from './review-gateway.js';

/** The minimal pull request shape found in webhook payloads and REST lists. */
export interface PullRequestLike {
  number: number;
  head: { sha: string };
  base: { sha: string };
}

export function pullRequestRef(owner: string, repo: string, pr: PullRequestLike): PullRequestRef {
  return { owner, repo, number: pr.number, headSha: pr.head.sha, baseSha: pr.base.sha };
}

/**
 * The open pull requests whose head is `sha`. Check-suite and check-run payloads list them only
 * for branches of the same repository: for a fork's pull request the list is empty, so the open
 * pull requests are searched instead.
 */
export async function openPullRequestsFor(
  octokit: Octokit,
  owner: string,
  repo: string,
  sha: string,
  fromPayload: readonly PullRequestLike[],
): Promise<PullRequestRef[]> {
  if (fromPayload.length > 0) return fromPayload.map((pr) => pullRequestRef(owner, repo, pr));
  const open = await octokit.paginate(octokit.rest.pulls.list, { owner, repo, state: 'open', per_page: PER_PAGE });
  return open.filter((pr) => pr.head.sha === sha).map((pr) => pullRequestRef(owner, repo, pr));
}
