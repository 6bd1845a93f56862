import type { ApplicationFunction } from 'probot';
import { defaultAnalyzer, type Analyzer } from './analysis/analyzer.js';
import { reviewGateway } from './github/review-gateway.js';
import { onIssueComment, onReviewComment } from './handlers/comment-command.js';
import { onPullRequest, PULL_REQUEST_EVENTS } from './handlers/pull-request.js';
import { onCheckRunRerequested, onCheckSuiteRerequested } from './handlers/rerequested.js';
import type { ReviewScheduler } from './handlers/scheduler.js';
import { reviewPullRequest } from './pipeline/review-pull-request.js';
import { ReviewQueue } from './pipeline/review-queue.js';

export interface AsyncguardOptions {
  /** Defaults to worker threads (ASYNCGUARD_WORKERS). */
  analyzer?: Analyzer;
  /** Reviews running at once across pull requests (ASYNCGUARD_CONCURRENCY, default 4). */
  concurrency?: number;
  /** The GitHub App id (APP_ID), to find this app's own check runs. */
  appId?: number;
}

export interface Asyncguard {
  app: ApplicationFunction;
  /** Resolves when every queued review has finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Wires the handlers to the review queue. Nothing here talks to GitHub itself. */
export function createAsyncguard(options: AsyncguardOptions = {}): Asyncguard {
  const analyzer = options.analyzer ?? defaultAnalyzer();
  const appId = options.appId ?? (Number(process.env.APP_ID) || undefined);
  let queue: ReviewQueue | undefined;

  const app: ApplicationFunction = (probot) => {
    const log = probot.log.child({ name: 'asyncguard' });
    queue = new ReviewQueue(options.concurrency ?? (Number(process.env.ASYNCGUARD_CONCURRENCY) || 4), log);
    const jobs = queue;

    const schedule: ReviewScheduler = (context, pr, { rerun }) => {
      const key = `${pr.owner}/${pr.repo}#${pr.number}`;
      const id = `${pr.headSha}:${rerun ? `rerun:${context.id}` : 'push'}`;
      jobs.enqueue({
        key,
        id,
        headSha: pr.headSha,
        push: !rerun,
        run: async (progress) => {
          const gateway = reviewGateway(context.octokit, pr, appId);
          const outcome = await reviewPullRequest({ pr, rerun }, { gateway, analyzer, supersededBy: progress.supersededBy });
          log.info(
            { pr: key, sha: pr.headSha, conclusion: outcome.conclusion, findings: outcome.findings.length, comments: outcome.commentsPosted },
            'review finished',
          );
        },
      });
    };

    probot.on([...PULL_REQUEST_EVENTS], onPullRequest(schedule));
    probot.on('check_run.rerequested', onCheckRunRerequested(schedule));
    probot.on('check_suite.rerequested', onCheckSuiteRerequested(schedule));
    // `/asyncguard ...` commands; edited and deleted comments are not commands.
    probot.on('issue_comment.created', onIssueComment(schedule));
    probot.on('pull_request_review_comment.created', onReviewComment(schedule));
  };

  return {
    app,
    idle: async () => {
      await queue?.idle();
    },
    close: () => analyzer.close(),
  };
}
