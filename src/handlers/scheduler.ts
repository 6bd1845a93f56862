import type { Context } from 'probot';
import type { PullRequestRef } from '../pipeline/ports.js';

/** Queues the review of one pull request head; returns at once (the webhook is answered first). */
export type ReviewScheduler = (context: Context, pr: PullRequestRef, options: { rerun: boolean }) => void;
