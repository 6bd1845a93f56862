import type { ProbotOctokit } from 'probot';
import { readFingerprints } from '../findings/fingerprint.js';
import { CONFIG_PATH } from '../config/schema.js';
import type {
  ChangedFile,
  CheckRunHandle,
  CheckRunResult,
  ConfigSource,
  ExistingCheckRun,
  InlineComment,
  ReviewGateway,
  ReviewThread,
} from '../pipeline/ports.js';
import {
  ANNOTATIONS_PER_REQUEST,
  CHECK_NAME,
  FILES_PER_GRAPHQL_QUERY,
  MAX_PULL_REQUEST_FILES,
  MAX_REVIEW_THREADS,
  PER_PAGE,
  THREADS_PER_PAGE,
} from './limits.js';

export type Octokit = InstanceType<typeof ProbotOctokit>;

export interface PullRequestLocation {
  owner: string;
  repo: string;
  number: number;
}

interface BlobResult {
  text: string | null;
  isBinary: boolean | null;
  isTruncated: boolean;
}

/** The pipeline's view of GitHub, over one installation's Octokit. */
export function reviewGateway(octokit: Octokit, pr: PullRequestLocation, appId?: number): ReviewGateway {
  const { owner, repo } = pr;
  return {
    async findCheckRun(headSha) {
      const { data } = await octokit.rest.checks.listForRef({
        owner,
        repo,
        ref: headSha,
        check_name: CHECK_NAME,
        filter: 'latest',
        ...(appId ? { app_id: appId } : {}),
      });
      const run = data.check_runs[0];
      return run ? ({ id: run.id, htmlUrl: run.html_url ?? undefined, status: run.status } satisfies ExistingCheckRun) : null;
    },

    async createCheckRun(headSha) {
      const { data } = await octokit.rest.checks.create({
        owner,
        repo,
        name: CHECK_NAME,
        head_sha: headSha,
        status: 'in_progress',
        started_at: new Date().toISOString(),
        output: { title: 'Reviewing the touched functions', summary: 'asyncguard is reviewing this push.' },
      });
      return { id: data.id, htmlUrl: data.html_url ?? undefined };
    },

    async listChangedFiles() {
      const files: ChangedFile[] = [];
      for await (const { data } of octokit.paginate.iterator(octokit.rest.pulls.listFiles, {
        owner,
        repo,
        pull_number: pr.number,
        per_page: PER_PAGE,
      })) {
        for (const file of data) {
          files.push({
            path: file.filename,
            previousPath: file.previous_filename,
            status: file.status,
            patch: file.patch,
          });
        }
        if (files.length >= MAX_PULL_REQUEST_FILES) break;
      }
      return files;
    },

    async readFiles(ref, paths) {
      const texts = new Map<string, string | null>();
      for (let start = 0; start < paths.length; start += FILES_PER_GRAPHQL_QUERY) {
        const batch = paths.slice(start, start + FILES_PER_GRAPHQL_QUERY);
        const blobs = await readBlobs(octokit, owner, repo, ref, batch);
        for (const [index, path] of batch.entries()) {
          const blob = blobs[index];
          if (!blob || blob.isBinary) texts.set(path, null);
          else if (blob.isTruncated || blob.text === null) texts.set(path, await readRaw(octokit, owner, repo, ref, path));
          else texts.set(path, blob.text);
        }
      }
      return texts;
    },

    async readConfig(): Promise<ConfigSource> {
      try {
        // Probot's config plugin: the default branch, then the owner's `.github` repository.
        const { config, files } = await octokit.config.get({ owner, repo, path: CONFIG_PATH });
        const found = files.find((file) => file.config !== null);
        if (!found) return { status: 'absent' };
        return { status: 'found', location: `${found.owner}/${found.repo}:${found.path}`, config };
      } catch (error) {
        // Unparseable YAML, a directory in the file's place: the plugin throws; the check run says so.
        const status = (error as { status?: number }).status;
        if (status !== undefined && status !== 404) throw error;
        const reason = ((error as Error).message ?? String(error)).replace(/^\[@probot\/octokit-plugin-config\]\s*/, '');
        return { status: 'unreadable', location: `${owner}/${repo}:${CONFIG_PATH}`, reason };
      }
    },

    async botThreads() {
      const threads: ReviewThread[] = [];
      let cursor: string | null = null;
      do {
        const page: ThreadsPage = await octokit.graphql<ThreadsPage>(THREADS_QUERY, { owner, name: repo, number: pr.number, cursor });
        const connection = page.repository?.pullRequest?.reviewThreads;
        if (!connection) break;
        for (const thread of connection.nodes ?? []) {
          const first = thread?.comments.nodes?.[0];
          // Only the bot's own threads count: anyone can paste a marker into a comment.
          if (!thread || !first || first.author?.__typename !== 'Bot') continue;
          const fingerprints = readFingerprints(first.body);
          if (fingerprints.length === 0) continue;
          threads.push({ id: thread.id, path: thread.path, isResolved: thread.isResolved, fingerprints });
        }
        cursor = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null;
      } while (cursor && threads.length < MAX_REVIEW_THREADS);
      return threads;
    },

    async resolveThread(threadId) {
      try {
        await octokit.graphql(RESOLVE_MUTATION, { threadId });
        return 'resolved';
      } catch (error) {
        if (isForbidden(error)) return 'forbidden';
        throw error;
      }
    },

    async createReview(commitId, body, comments) {
      await octokit.rest.pulls.createReview({
        owner,
        repo,
        pull_number: pr.number,
        commit_id: commitId,
        event: 'COMMENT',
        body,
        comments: comments.map(toReviewComment),
      });
    },

    async completeCheckRun(check: CheckRunHandle, result: CheckRunResult) {
      const batches: CheckRunResult['annotations'][] = [];
      for (let i = 0; i < result.annotations.length; i += ANNOTATIONS_PER_REQUEST) {
        batches.push(result.annotations.slice(i, i + ANNOTATIONS_PER_REQUEST));
      }
      const last = batches.pop() ?? [];
      for (const annotations of batches) {
        await octokit.rest.checks.update({ owner, repo, check_run_id: check.id, output: { ...result.output, annotations } });
      }
      await octokit.rest.checks.update({
        owner,
        repo,
        check_run_id: check.id,
        status: 'completed',
        conclusion: result.conclusion,
        completed_at: new Date().toISOString(),
        output: last.length ? { ...result.output, annotations: last } : result.output,
      });
    },
  };
}

interface ThreadsPage {
  repository: {
    pullRequest: {
      reviewThreads: {
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
        nodes:
          | ({
              id: string;
              isResolved: boolean;
              path: string;
              comments: { nodes: ({ body: string; author: { __typename: string } | null } | null)[] | null };
            } | null)[]
          | null;
      };
    } | null;
  } | null;
}

const THREADS_QUERY = `query($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: ${THREADS_PER_PAGE}, after: $cursor) {
        pageInfo { hasNextPage endCursor }
        nodes { id isResolved path comments(first: 1) { nodes { body author { __typename } } } }
      }
    }
  }
}`;

const RESOLVE_MUTATION = `mutation($threadId: ID!) {
  resolveReviewThread(input: { threadId: $threadId }) { thread { id isResolved } }
}`;

/** GitHub refuses the mutation to an installation without the permission it needs. */
function isForbidden(error: unknown): boolean {
  const { status, errors, message } = error as { status?: number; errors?: { type?: string }[]; message?: string };
  if (status === 403) return true;
  if (errors?.some((e) => e.type === 'FORBIDDEN')) return true;
  return /Resource not accessible by integration/i.test(message ?? '');
}

function toReviewComment(comment: InlineComment) {
  return comment.startLine !== undefined && comment.startLine !== comment.line
    ? { path: comment.path, body: comment.body, side: 'RIGHT' as const, line: comment.line, start_line: comment.startLine, start_side: 'RIGHT' as const }
    : { path: comment.path, body: comment.body, side: 'RIGHT' as const, line: comment.line };
}

/** One GraphQL query for a batch of files, instead of one REST request each. */
async function readBlobs(octokit: Octokit, owner: string, repo: string, ref: string, paths: readonly string[]) {
  const variables: Record<string, string> = { owner, name: repo };
  const declarations = ['$owner: String!', '$name: String!'];
  const fields: string[] = [];
  paths.forEach((path, i) => {
    // Paths travel as variables, never spliced into the query text.
    variables[`e${i}`] = `${ref}:${path}`;
    declarations.push(`$e${i}: String!`);
    fields.push(`f${i}: object(expression: $e${i}) { ... on Blob { text isBinary isTruncated } }`);
  });
  const query = `query(${declarations.join(', ')}) { repository(owner: $owner, name: $name) { ${fields.join(' ')} } }`;
  const result = await octokit.graphql<{ repository: Record<string, BlobResult | null> | null }>(query, variables);
  return paths.map((_, i) => result.repository?.[`f${i}`] ?? null);
}

/** Blobs GraphQL truncates are read whole through the REST contents API's raw media type. */
async function readRaw(octokit: Octokit, owner: string, repo: string, ref: string, path: string): Promise<string | null> {
  try {
    const { data } = await octokit.rest.repos.getContent({ owner, repo, path, ref, mediaType: { format: 'raw' } });
    return typeof data === 'string' ? data : null;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return null;
    throw error;
  }
}
