import type { Context } from 'probot';
import { parseCommands } from '../commands/parse.js';
import { respond } from '../commands/respond.js';
import { commandConversation, type CommandComment } from '../github/conversation.js';
import type { ReviewScheduler } from './scheduler.js';

interface CommentLike {
  id: number;
  body: string | null;
  author_association: string;
  user: { type?: string; login?: string } | null;
  performed_via_github_app?: unknown;
  in_reply_to_id?: number;
}

/** `/asyncguard ...` in the conversation of a pull request (issue comments on plain issues are ignored). */
export function onIssueComment(schedule: ReviewScheduler) {
  return async (context: Context<'issue_comment.created'>): Promise<void> => {
    const { issue, comment, repository, sender } = context.payload;
    if (!issue.pull_request) {
      context.log.debug({ issue: issue.number }, 'comment on an issue, not a pull request; ignored');
      return;
    }
    await answer(context, schedule, comment, sender, { owner: repository.owner.login, repo: repository.name, number: issue.number }, {
      kind: 'conversation',
      commentId: comment.id,
    });
  };
}

/** `/asyncguard ...` in a review comment: answered in its thread. */
export function onReviewComment(schedule: ReviewScheduler) {
  return async (context: Context<'pull_request_review_comment.created'>): Promise<void> => {
    const { pull_request: pr, comment, repository, sender } = context.payload;
    await answer(context, schedule, comment, sender, { owner: repository.owner.login, repo: repository.name, number: pr.number }, {
      kind: 'review-thread',
      commentId: comment.id,
      ...(comment.in_reply_to_id ? { inReplyTo: comment.in_reply_to_id } : {}),
    });
  };
}

async function answer(
  context: Context,
  schedule: ReviewScheduler,
  comment: CommentLike,
  sender: { type?: string } | null | undefined,
  pr: { owner: string; repo: string; number: number },
  where: CommandComment,
): Promise<void> {
  // Bots never command asyncguard: that includes asyncguard itself, whose comments quote commands.
  if (comment.user?.type === 'Bot' || sender?.type === 'Bot' || comment.performed_via_github_app) {
    context.log.debug({ comment: comment.id, user: comment.user?.login }, 'comment by a bot; ignored');
    return;
  }
  // One reply per comment: the first command is answered, the others are only logged.
  const commands = parseCommands(comment.body);
  const command = commands[0];
  if (!command) {
    context.log.debug({ comment: comment.id }, 'no /asyncguard command in the comment');
    return;
  }
  const outcome = await respond(
    { command, association: comment.author_association },
    commandConversation(context.octokit, pr, where),
    (ref) => schedule(context, ref, { rerun: true }),
  );
  const ignored = commands.length - 1;
  context.log.info(
    { pr: `${pr.owner}/${pr.repo}#${pr.number}`, comment: comment.id, command: command.kind, outcome, ...(ignored > 0 ? { ignored } : {}) },
    'answered an /asyncguard command',
  );
}
