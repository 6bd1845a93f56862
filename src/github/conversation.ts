import type { CommandPort } from '../commands/respond.js';
import { pullRequestRef } from './pull-requests.js';
import type { Octokit } from './review-gateway.js';

/** The reaction that acknowledges `/asyncguard recheck`: quieter than a reply; the check run shows the rest. */
export const RECHECK_REACTION = 'eyes';

/** Where a command was written. */
export type CommandComment =
  /** A comment on the pull request's conversation (issue_comment). */
  | { kind: 'conversation'; commentId: number }
  /** A review comment: the top of a thread, or a reply to the thread's top comment `inReplyTo`. */
  | { kind: 'review-thread'; commentId: number; inReplyTo?: number };

export interface PullRequestNumber {
  owner: string;
  repo: string;
  number: number;
}

/**
 * The GitHub side of answering one command: replies go where the command was written
 * (issues.createComment on the conversation, pulls.createReplyForReviewComment in the thread).
 */
export function commandConversation(octokit: Octokit, pr: PullRequestNumber, comment: CommandComment): CommandPort {
  const { owner, repo } = pr;
  return {
    async reply(body) {
      if (comment.kind === 'conversation') {
        await octokit.rest.issues.createComment({ owner, repo, issue_number: pr.number, body });
        return;
      }
      // GitHub threads replies under the top comment: a reply to a reply is refused.
      await octokit.rest.pulls.createReplyForReviewComment({
        owner,
        repo,
        pull_number: pr.number,
        comment_id: comment.inReplyTo ?? comment.commentId,
        body,
      });
    },

    async acknowledge() {
      if (comment.kind === 'conversation') {
        await octokit.rest.reactions.createForIssueComment({ owner, repo, comment_id: comment.commentId, content: RECHECK_REACTION });
        return;
      }
      await octokit.rest.reactions.createForPullRequestReviewComment({ owner, repo, comment_id: comment.commentId, content: RECHECK_REACTION });
    },

    async threadTop() {
      if (comment.kind !== 'review-thread' || comment.inReplyTo === undefined) return null;
      const { data } = await octokit.rest.pulls.getReviewComment({ owner, repo, comment_id: comment.inReplyTo });
      return { body: data.body, authorType: data.user?.type };
    },

    async pullRequest() {
      const { data } = await octokit.rest.pulls.get({ owner, repo, pull_number: pr.number });
      return { ref: pullRequestRef(owner, repo, data), open: data.state === 'open' };
    },
  };
}
