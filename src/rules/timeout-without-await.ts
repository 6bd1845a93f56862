import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { asAlias, identifiersNamed, runByTestRunner, suspends } from './util.js';

/** Context managers that cancel the task when a deadline passes (asyncio, and the async-timeout package). */
const TIMEOUTS: Record<string, string> = {
  'asyncio.timeout': 'asyncio.timeout',
  'asyncio.timeout_at': 'asyncio.timeout_at',
  'asyncio.timeouts.timeout': 'asyncio.timeout',
  'asyncio.timeouts.timeout_at': 'asyncio.timeout_at',
  'async_timeout.timeout': 'async_timeout.timeout',
  'async_timeout.timeout_at': 'async_timeout.timeout_at',
};



/** The timeout an `async with` item opens (`asyncio.timeout`, ...), through the imports; else null. */
function timeoutOf(ctx: RuleContext, item: SyntaxNode): string | null {
  let value = item.childForFieldName('value');
  if (value?.type === 'as_pattern') value = value.namedChild(0);
  if (value?.type !== 'call') return null;
  const resolved = ctx.resolveCallee(value);
  return resolved ? (TIMEOUTS[resolved] ?? null) : null;
}

/**
 * The block is about the timeout itself, not work it bounds (async-timeout's own tests, where it is
 * silent): it uses the object the item binds (`as cm`, then `cm.deadline`, `cm.shift(1)`,
 * `cm.expired()`), or all it does is raise (to show how an exception passes through the timeout).
 */
function examinesTimeout(item: SyntaxNode, body: SyntaxNode): boolean {
  const statements = body.namedChildren.filter((c) => c.type !== 'comment');
  if (statements.length > 0 && statements.every((s) => s.type === 'raise_statement')) return true;
  const alias = asAlias(item.namedChild(0));
  return alias !== null && identifiersNamed(body, alias).length > 0;
}

export const timeoutWithoutAwait: Rule = {
  meta: {
    id: 'AG302',
    slug: 'timeout-without-await',
    aliases: ['ASYNC100', 'S7490'],
    family: 'cancellation',
    severity: 'warning',
    title: 'Timeout around code that never awaits',
    fix: 'Put the `await` that may take long inside the `async with` block, or drop the timeout: it can only interrupt the task at an `await`.',
    messages: {
      noAwait: '`async with {timeout}(...)` encloses no `await`: the deadline can never interrupt this block',
    },
    docs: {
      what: "Flags `async with asyncio.timeout(...)` and `asyncio.timeout_at(...)` (also the async-timeout package's `async_timeout.timeout` / `timeout_at`, imported however) whose block contains no `await`, `async for` or `async with`. Another async context manager entered after the timeout in the same statement (`async with asyncio.timeout(5), asyncio.TaskGroup() as tg:`) awaits on entry and exit and counts; another timeout does not. Code in nested `def`s, lambdas and classes does not count either way. A block that `yield`s (an async generator or `@asynccontextmanager` handing control to its consumer) is not flagged. trio and anyio cancel scopes are out of scope. Nor is a test that examines the timeout itself (async-timeout\'s own tests): a test function whose block uses the object the timeout binds (`as cm`, then `cm.deadline`, `cm.shift(1)`) or only raises (to show how an exception passes through).",
      why: "A timeout cannot preempt running code: when the deadline passes, asyncio cancels the task, and the CancelledError is delivered at the task's next `await`. A block with no `await` runs to completion however long it takes, so the timeout never fires; the code looks bounded and is not. Usually the slow call was left out of the block, or it is a blocking call that needs `asyncio.to_thread` before a timeout can bound it.",
      example: [
        'import asyncio',
        '',
        '',
        'async def fetch_profile(client, user_id):',
        '    async with asyncio.timeout(5):',
        '        request = client.build_request("GET", f"/users/{user_id}")',
        '    response = await client.send(request)',
        '    return response.json()',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'async def fetch_profile(client, user_id):',
        '    request = client.build_request("GET", f"/users/{user_id}")',
        '    async with asyncio.timeout(5):',
        '        response = await client.send(request)',
        '    return response.json()',
      ].join('\n'),
    },
    cites: [
      { guide: 'S0', section: 'Step 2 — Pick the concurrency primitive' },
      { guide: 'S2', section: 'Pattern 4: Timeout' },
    ],
  },
  create(ctx) {
    return {
      with_statement(node) {
        if (!ctx.inAsyncCode() || node.child(0)?.type !== 'async') return;
        const clause = node.namedChildren.find((c) => c.type === 'with_clause');
        const items = clause?.namedChildren.filter((c) => c.type === 'with_item') ?? [];
        // Items after the first are entered inside it: an async context manager among them awaits on
        // entry and exit, another timeout does not. So the innermost item decides.
        const last = items[items.length - 1];
        const timeout = last ? timeoutOf(ctx, last) : null;
        if (!timeout) return;
        const body = node.childForFieldName('body');
        if (!body || suspends(body)) return;
        if (examinesTimeout(last!, body) && runByTestRunner(ctx, ctx.scope().node)) return;
        ctx.report({ node: clause ?? node, messageId: 'noAwait', data: { timeout } });
      },
    };
  },
};
