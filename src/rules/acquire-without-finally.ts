import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { ASYNCIO_CONDITION, ASYNCIO_LOCK, ASYNCIO_SEMAPHORE, inTestFunction, methodCall, NESTED_SCOPES, typeOf, unparenthesize, walkBelow } from './util.js';

const ASYNCIO_PRIMITIVES = new Set([ASYNCIO_LOCK, ASYNCIO_SEMAPHORE, ASYNCIO_CONDITION]);
/** Clauses whose statement is the try / if around them. */
const CLAUSES = new Set(['except_clause', 'except_group_clause', 'else_clause', 'elif_clause', 'finally_clause']);

const textOf = (node: SyntaxNode) => node.text.replace(/\s+/g, '');

/** The asyncio primitive `await X.acquire()` / `await asyncio.wait_for(X.acquire(), t)` acquires. */
function acquired(ctx: RuleContext, awaited: SyntaxNode): SyntaxNode | null {
  let call = unparenthesize(awaited);
  if (call.type !== 'call') return null;
  if (ctx.resolveCallee(call) === 'asyncio.wait_for') {
    const first = call.childForFieldName('arguments')?.namedChildren.find((c) => c.type !== 'comment');
    if (!first || first.type === 'keyword_argument') return null;
    call = unparenthesize(first);
    if (call.type !== 'call') return null;
  }
  const method = methodCall(call);
  if (method?.method !== 'acquire' || call.childForFieldName('arguments')?.namedChildCount) return null;
  const type = typeOf(ctx, method.receiver);
  return type && ASYNCIO_PRIMITIVES.has(type) ? method.receiver : null;
}

/** True when `root` (outside nested functions) calls `<lock>.release()`. */
function releases(root: SyntaxNode, lock: string): boolean {
  let found = false;
  walkBelow(root, (node) => {
    if (found || NESTED_SCOPES.has(node.type)) return false;
    if (node.type === 'call') {
      const method = methodCall(node);
      if (method?.method === 'release' && textOf(method.receiver) === lock) found = true;
    }
    return !found;
  });
  return found;
}

/** Whether `lock.release()` is called anywhere in `root` after `after` (in source order). */
function releasesAfter(root: SyntaxNode, lock: string, after: SyntaxNode): boolean {
  return root.descendantsOfType('call').some((call) => {
    const method = methodCall(call);
    return method?.method === 'release' && textOf(method.receiver) === lock && call.startIndex > after.endIndex;
  });
}

/**
 * The `try` releases the lock in its `finally`, or in a catch-all (`except BaseException:` / bare
 * `except:`) that re-raises: the lock is released on every failure, cancellation included, and
 * kept on success by design (dask's ConnectionPool, whose slot belongs to the connection it opened).
 */
function releasesInFinally(tryStatement: SyntaxNode, lock: string): boolean {
  const clause = tryStatement.namedChildren.find((c) => c.type === 'finally_clause');
  if (clause !== undefined && releases(clause, lock)) return true;
  return tryStatement.namedChildren.some((handler) => {
    if (handler.type !== 'except_clause') return false;
    const caught = handler.namedChildren.find((c) => c.type !== 'block' && c.type !== 'comment');
    const catchAll = !caught || /^(builtins\.)?BaseException\b/.test(caught.text);
    return catchAll && releases(handler, lock) && handler.descendantsOfType('raise_statement').length > 0;
  });
}

/** A statement that can neither raise in practice nor be cancelled: no call, no await. */
function inert(statement: SyntaxNode): boolean {
  if (statement.type !== 'expression_statement' && statement.type !== 'pass_statement') return false;
  return statement.descendantsOfType(['call', 'await', 'subscript']).length === 0;
}

/**
 * True when the code after the acquire runs inside `try: ... finally: <lock>.release()`: the
 * acquire sits in the try's body, or the next statement to run (skipping inert ones, leaving
 * blocks that end, entering the body of `if await lock.acquire():`) is such a try.
 */
function protectedByFinally(awaitNode: SyntaxNode, fn: SyntaxNode, lock: string): boolean {
  // The acquire inside a try whose finally releases.
  let child: SyntaxNode = awaitNode;
  for (let node = awaitNode.parent; node && node.id !== fn.id; child = node, node = node.parent) {
    if (node.type === 'try_statement' && node.childForFieldName('body')?.id === child.id && releasesInFinally(node, lock)) return true;
    if (NESTED_SCOPES.has(node.type)) return false;
  }
  // The statement the await is part of.
  let statement: SyntaxNode = awaitNode;
  while (statement.parent && statement.parent.type !== 'block' && statement.parent.id !== fn.id) statement = statement.parent;
  if (statement.parent?.type !== 'block') return false;
  // `if await lock.acquire():` runs its body next.
  const condition = statement.type === 'if_statement' ? statement.childForFieldName('condition') : null;
  if (condition && awaitNode.startIndex >= condition.startIndex && awaitNode.endIndex <= condition.endIndex) {
    const first = statement.childForFieldName('consequence')?.namedChildren.find((c) => c.type !== 'comment');
    return first?.type === 'try_statement' && releasesInFinally(first, lock);
  }
  for (let current: SyntaxNode | null = statement; current; ) {
    let next = current.nextNamedSibling;
    while (next && (next.type === 'comment' || inert(next))) next = next.nextNamedSibling;
    if (next) return next.type === 'try_statement' && releasesInFinally(next, lock);
    // The block ends: carry on after the statement that owns it, unless that is a loop or the function.
    const block: SyntaxNode | null = current.parent;
    let owner: SyntaxNode | null = block?.parent ?? null;
    if (owner && CLAUSES.has(owner.type)) owner = owner.parent;
    if (!owner || owner.id === fn.id || owner.type === 'for_statement' || owner.type === 'while_statement') return false;
    if (owner.parent?.type !== 'block') return false;
    current = owner;
  }
  return false;
}

export const acquireWithoutFinally: Rule = {
  meta: {
    id: 'AG505',
    slug: 'acquire-without-finally',
    aliases: [],
    family: 'resources',
    severity: 'warning',
    title: 'Lock acquired without try/finally',
    fix: 'Use `async with lock:`; it releases the lock on every way out, exceptions and cancellation included.',
    messages: {
      acquire:
        '`{lock}.acquire()` is released by `{lock}.release()` outside a `finally:`: an exception or a cancellation in between leaves it held for good, and every later `acquire()` waits forever',
      gap: '`{lock}.acquire()` is not followed at once by the `try:` whose `finally:` releases it: an exception or a cancellation in the code in between leaves it held for good, and every later `acquire()` waits forever',
    },
    docs: {
      what: 'Flags `await lock.acquire()` (also through `asyncio.wait_for`) on an asyncio `Lock`, `Semaphore`, `BoundedSemaphore` or `Condition` (built in the file, or annotated as one; a name or `self.x` attribute), when the same function calls `lock.release()` but the code between the two is not protected by `try: ... finally: lock.release()`: the next statement to run after the acquire must be such a `try` (statements without a call or an await may come in between), or the acquire must sit in the body of one. `if await lock.acquire():` followed by such a `try` is fine. Not flagged: `async with lock:`; a function that never calls `lock.release()` after the acquire (an `__aenter__`, a helper that lets go of a lock its caller holds and takes it back, a wrapper API, a release in a done-callback: the ownership is handed on); a lock whose type the file does not show; a `threading` lock (a blocking-call rule covers those); a `try` right after the acquire whose catch-all (`except BaseException:` or bare `except:`) releases and re-raises (the lock is released on every failure and kept on success on purpose, a pool slot owned by the connection it opened); and `test*` functions, where a lock is a gate the test opens later and dies with it.',
      why: 'Between the acquire and a plain `release()` call, any exception (a failed request, a bad payload) or a cancellation (a timeout, a client disconnect, a shutdown) at an `await` skips the release. An asyncio lock has no owner that could be cleaned up: it stays locked for the life of the process, and every task that later waits on it hangs silently, the classic "service stops answering after the first error" deadlock. A semaphore loses a slot for good each time, until none are left.',
      example: [
        'import asyncio',
        '',
        'cache_lock = asyncio.Lock()',
        '',
        '',
        'async def refresh(cache, fetch):',
        '    await cache_lock.acquire()',
        '    cache.update(await fetch())',
        '    cache_lock.release()',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        'cache_lock = asyncio.Lock()',
        '',
        '',
        'async def refresh(cache, fetch):',
        '    async with cache_lock:',
        '        cache.update(await fetch())',
      ].join('\n'),
    },
    cites: [
      { guide: 'S0', section: 'Step 4 — Cancellation discipline' },
      { guide: 'S2', section: 'Async Context Manager' },
    ],
  },
  create(ctx) {
    return {
      await(node) {
        // A test's own lock (a gate it opens later on purpose) dies with the test.
        if (!ctx.inAsyncCode() || inTestFunction(ctx)) return;
        const awaited = node.namedChildren.find((c) => c.type !== 'comment');
        if (!awaited) return;
        const receiver = acquired(ctx, awaited);
        if (!receiver) return;
        const lock = textOf(receiver);
        const fn = ctx.scope().node;
        const body = fn.childForFieldName('body');
        if (!body || !releases(body, lock)) return;
        // Every release comes before the acquire: the function lets go of a lock its caller holds
        // (`async with lock:` around the call) and takes it back for the caller to release
        // (azure's CommunicationTokenCredential): nothing after the acquire is this function's.
        if (!releasesAfter(body, lock, node)) return;
        if (protectedByFinally(node, fn, lock)) return;
        const inFinally = body.descendantsOfType('try_statement').some((t) => releasesInFinally(t, lock));
        ctx.report({ node, messageId: inFinally ? 'gap' : 'acquire', data: { lock } });
      },
    };
  },
};
