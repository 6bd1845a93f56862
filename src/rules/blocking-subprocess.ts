import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { calleeText } from './util.js';

const RUNS = new Set([
  'subprocess.run',
  'subprocess.call',
  'subprocess.check_call',
  'subprocess.check_output',
  'subprocess.getoutput',
  'subprocess.getstatusoutput',
  'os.system',
  'os.popen',
]);

// os.exec* is left out on purpose: it replaces the process, it does not block it.
const SPAWNS = new Set([
  'subprocess.Popen',
  ...['spawnl', 'spawnle', 'spawnlp', 'spawnlpe', 'spawnv', 'spawnve', 'spawnvp', 'spawnvpe', 'posix_spawn', 'posix_spawnp'].map(
    (name) => `os.${name}`,
  ),
]);

const WAITS = new Set(['os.wait', 'os.waitpid', 'os.wait3', 'os.wait4', 'os.waitid']);

/** A wait whose options include `os.WNOHANG` (however it is imported): it never blocks. */
function nonBlockingWait(ctx: RuleContext, call: SyntaxNode): boolean {
  const args = call.childForFieldName('arguments');
  return (args?.descendantsOfType(['identifier', 'attribute']) ?? []).some((name) => ctx.resolveName(name) === 'os.WNOHANG');
}

export const blockingSubprocess: Rule = {
  meta: {
    id: 'AG105',
    slug: 'blocking-subprocess',
    aliases: ['ASYNC220', 'ASYNC221', 'ASYNC222', 'S7487', 'S7489'],
    family: 'blocking',
    severity: 'error',
    title: 'Blocking subprocess call in async code',
    fix: 'Use `await asyncio.create_subprocess_exec(...)` and `await proc.communicate()` (or `proc.wait()`).',
    messages: {
      run: '`{callee}()` runs a child process and blocks the event loop until it exits',
      spawn: '`{callee}()` starts a child process whose pipes and wait() block the event loop',
      wait: '`{callee}()` blocks the event loop until a child process exits',
    },
    docs: {
      what: 'Flags the synchronous process APIs in async code: `subprocess.run/call/check_call/check_output/getoutput/getstatusoutput/Popen`, `os.system`, `os.popen`, `os.spawn*` / `os.posix_spawn*`, and `os.wait/waitpid/wait3/wait4/waitid` (not with `os.WNOHANG` among the options: that reaps what has exited and returns at once). `os.exec*` is not flagged: it replaces the process rather than blocking it.',
      why: 'These calls wait for the child process (or, for `Popen`, leave pipes whose reads and `wait()` block) on the event loop thread. A build step, a `git` call or a shell command that takes seconds freezes every other task for those seconds, and a child that hangs hangs the whole service.',
      example: [
        'import subprocess',
        '',
        '',
        'async def current_commit(repo):',
        "    out = subprocess.check_output(['git', '-C', repo, 'rev-parse', 'HEAD'])",
        '    return out.decode().strip()',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'async def current_commit(repo):',
        '    proc = await asyncio.create_subprocess_exec(',
        "        'git', '-C', repo, 'rev-parse', 'HEAD', stdout=asyncio.subprocess.PIPE)",
        '    out, _ = await proc.communicate()',
        '    return out.decode().strip()',
      ].join('\n'),
    },
    cites: [{ guide: 'S0', section: "Step 5 — Don't block the event loop" }],
  },
  create(ctx) {
    return {
      call(node) {
        if (!ctx.inAsyncCode()) return;
        const resolved = ctx.resolveCallee(node);
        if (!resolved) return;
        // `os.waitpid(-1, os.WNOHANG)` reaps what has exited and returns at once: a poll, not a wait.
        if (WAITS.has(resolved) && nonBlockingWait(ctx, node)) return;
        const messageId = RUNS.has(resolved) ? 'run' : SPAWNS.has(resolved) ? 'spawn' : WAITS.has(resolved) ? 'wait' : null;
        if (messageId) ctx.report({ node, messageId, data: { callee: calleeText(node) } });
      },
    };
  },
};
