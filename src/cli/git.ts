import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { UsageError } from './read-source.js';

const exec = promisify(execFile);
/** Diffs and blobs of a real repository can be large. */
const MAX_BUFFER = 256 * 1024 * 1024;

async function git(cwd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await exec('git', args, { cwd, maxBuffer: MAX_BUFFER, encoding: 'utf8' });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new UsageError(`git ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`);
  }
}

/**
 * The diff a pull request from `head` into `base` shows: from their merge base to `head`, or to
 * the working tree when no head is given. Same hunks as GitHub's three-dot comparison.
 */
export async function localDiff(cwd: string, base: string, head?: string): Promise<string> {
  const mergeBase = (await git(cwd, ['merge-base', base, head ?? 'HEAD'])).trim();
  const range = head ? [mergeBase, head] : [mergeBase];
  return git(cwd, ['diff', '--no-color', '--no-ext-diff', '--unified=3', '-M', ...range, '--']);
}

/** A file's bytes at a revision. */
export async function showFile(cwd: string, revision: string, path: string): Promise<Buffer> {
  try {
    const { stdout } = await exec('git', ['show', `${revision}:${path}`], { cwd, maxBuffer: MAX_BUFFER, encoding: 'buffer' });
    return stdout;
  } catch {
    throw new UsageError(`cannot read ${path} at ${revision}`);
  }
}
