import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { calleeIn, calleeText, dottedName, inTestFunction, methodCall, PROCESS_POOL, THREAD_POOL, typeOf, unparenthesize, withItemValues } from './util.js';

const EXECUTORS = new Set([
  'concurrent.futures.ThreadPoolExecutor',
  'concurrent.futures.ProcessPoolExecutor',
  'concurrent.futures.thread.ThreadPoolExecutor',
  'concurrent.futures.process.ProcessPoolExecutor',
]);

/**
 * An executor bound in the function being visited (`pool = ThreadPoolExecutor()` here), not one
 * kept at module level or on `self`: a long-lived pool shut down once, at exit, is not per call.
 */
function localExecutor(ctx: RuleContext, expression: SyntaxNode): boolean {
  const node = unparenthesize(expression);
  if (node.type !== 'identifier') return false;
  const found = ctx.lookup(node.text);
  if (!found || found.scope.node.id !== ctx.scope().node.id) return false;
  const type = typeOf(ctx, node);
  return type === THREAD_POOL || type === PROCESS_POOL;
}

/** `shutdown()`, `shutdown(True)`, `shutdown(wait=True, cancel_futures=True)`: waits; null when unsure. */
function waits(call: SyntaxNode): boolean | null {
  const args = call.childForFieldName('arguments')?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
  let wait: SyntaxNode | null = null;
  for (const [i, arg] of args.entries()) {
    if (arg.type === 'keyword_argument') {
      if (arg.childForFieldName('name')?.text === 'wait') wait = arg.childForFieldName('value');
    } else if (i === 0) wait = arg;
    else return null;
  }
  if (!wait) return true;
  if (wait.type === 'true') return true;
  return wait.type === 'false' ? false : null;
}

export const executorPerCall: Rule = {
  meta: {
    id: 'AG503',
    slug: 'executor-per-call',
    aliases: [],
    family: 'resources',
    severity: 'warning',
    title: 'Executor created and shut down per call in async code',
    fix: 'Create the executor once (module level or at application start-up) and pass it to `loop.run_in_executor(pool, ...)`; for threads, `asyncio.to_thread(...)` or `run_in_executor(None, ...)` reuse the loop\'s default pool.',
    messages: {
      with: '`with {callee}(...)` starts a new pool on every call, and leaving the block calls `shutdown(wait=True)`, which blocks the event loop until every job has finished',
      withLocal: '`with {name}:` shuts the executor down on exit with `shutdown(wait=True)`, which blocks the event loop until every job has finished',
      shutdown: '`{callee}()` waits for every job of the pool (`wait=True` is the default): it blocks the event loop until they have all finished',
    },
    docs: {
      what: 'Flags, in async code, a `with ThreadPoolExecutor(...)` / `with ProcessPoolExecutor(...)` block (resolved through the `concurrent.futures` imports), a `with pool:` on an executor created in the same function, and `pool.shutdown()` / `pool.shutdown(wait=True)` on an executor created in the same function. Not flagged: `shutdown(wait=False)`, an executor kept at module level or on `self` and reused (shutting such a pool down once at exit is not per call), `loop.run_in_executor(None, ...)` and `asyncio.to_thread(...)`, any of this in a sync function, and `test*` functions, where a test makes a pool of its own on purpose (to hand to the code under test, or to break it).',
      why: 'A pool per call pays the start-up every time: new threads, or for a `ProcessPoolExecutor` new worker processes (with the `spawn` / `forkserver` start methods, fresh interpreters that re-import the application: hundreds of milliseconds each), so the offloading costs more than it saves. Worse, leaving the `with` block calls `shutdown(wait=True)`, a plain blocking call: when the block is left early (an exception, a timeout, the task being cancelled) while jobs are still running, the event loop thread sits in `shutdown` until they finish, and every other task of the service freezes meanwhile.',
      example: [
        'import asyncio',
        'from concurrent.futures import ProcessPoolExecutor',
        '',
        '',
        'async def render_report(data):',
        '    loop = asyncio.get_running_loop()',
        '    with ProcessPoolExecutor() as pool:',
        '        return await loop.run_in_executor(pool, build_pdf, data)',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        'from concurrent.futures import ProcessPoolExecutor',
        '',
        'POOL = ProcessPoolExecutor()',
        '',
        '',
        'async def render_report(data):',
        '    loop = asyncio.get_running_loop()',
        '    return await loop.run_in_executor(POOL, build_pdf, data)',
      ].join('\n'),
    },
    cites: [
      { guide: 'S1', section: 'Pattern 4: Run Blocking Code with run_in_executor()' },
      { guide: 'S0', section: "Step 5 — Don't block the event loop" },
    ],
  },
  create(ctx) {
    // A test that needs a pool of its own (to hand to the code under test, or to break it) makes
    // one per test on purpose; the cost per call does not matter there.
    return {
      with_statement(node) {
        if (!ctx.inAsyncCode() || inTestFunction(ctx) || node.child(0)?.type === 'async') return;
        for (const value of withItemValues(node)) {
          if (value.type === 'call' && calleeIn(ctx, value, EXECUTORS)) {
            ctx.report({ node: value, messageId: 'with', data: { callee: calleeText(value) } });
          } else if (localExecutor(ctx, value)) {
            ctx.report({ node: value, messageId: 'withLocal', data: { name: value.text } });
          }
        }
      },
      call(node) {
        if (!ctx.inAsyncCode() || inTestFunction(ctx)) return;
        const method = methodCall(node);
        if (method?.method !== 'shutdown' || !localExecutor(ctx, method.receiver)) return;
        if (waits(node) !== true) return;
        ctx.report({ node, messageId: 'shutdown', data: { callee: `${dottedName(method.receiver) ?? method.receiver.text}.shutdown` } });
      },
    };
  },
};
