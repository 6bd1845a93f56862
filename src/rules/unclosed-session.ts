import type { SyntaxNode } from '../python/parser.js';
import { ASYNC_CLIENT_CLASSES } from './session-per-request.js';
import type { Rule, RuleContext } from './types.js';
import { calleeIn, calleeText, methodCall, parenthesized, walkBelow, withStatementOf } from './util.js';

/** Methods that close (or hand over the closing of) a client. */
const CLOSERS = new Set(['close', 'aclose', '__aexit__', 'detach']);

/**
 * What the function does with the local `name`: `closed` (a close method, `async with name`),
 * `handedOn` (passed, stored, returned, captured: someone else may close it) or `unclosed` (only
 * its methods are called).
 */
function fate(fn: SyntaxNode, name: string, target: SyntaxNode): 'closed' | 'handedOn' | 'unclosed' {
  let result: 'closed' | 'handedOn' | 'unclosed' = 'unclosed';
  walkBelow(fn, (node) => {
    if (result !== 'unclosed') return false;
    if (node.type !== 'identifier' || node.text !== name || node.id === target.id) return true;
    const parent = node.parent!;
    // `x.name` and `f(name=...)` are other names.
    if (parent.type === 'attribute' && parent.childForFieldName('attribute')?.id === node.id) return true;
    if (parent.type === 'keyword_argument' && parent.childForFieldName('name')?.id === node.id) return true;
    // Another `name = ClientSession()` of the same function: checked on its own.
    if (parent.type === 'assignment' && parent.childForFieldName('left')?.id === node.id) return true;
    if (insideNestedScope(node, fn)) {
      result = 'handedOn';
      return false;
    }
    if (parent.type === 'attribute') {
      if (CLOSERS.has(parent.childForFieldName('attribute')?.text ?? '')) result = 'closed';
      return true;
    }
    // `if session is not None:` neither closes nor hands it on.
    if (parent.type === 'comparison_operator') return true;
    const statement = withStatementOf(node);
    if (statement) {
      // `async with session:` closes it; a plain `with` is AG504's.
      result = statement.child(0)?.type === 'async' ? 'closed' : 'handedOn';
      return false;
    }
    result = 'handedOn';
    return false;
  });
  return result;
}

function insideNestedScope(node: SyntaxNode, fn: SyntaxNode): boolean {
  for (let current = node.parent; current && current.id !== fn.id; current = current.parent) {
    if (current.type === 'function_definition' || current.type === 'lambda' || current.type === 'class_definition') return true;
  }
  return false;
}

/** `ClientSession().get(url)`: the receiver of a method call, a client no one can close. */
function throwawayReceiver(call: SyntaxNode): SyntaxNode | null {
  let node = call;
  node = parenthesized(node);
  const attribute = node.parent;
  if (attribute?.type !== 'attribute' || attribute.childForFieldName('object')?.id !== node.id) return null;
  const outer = attribute.parent;
  if (outer?.type !== 'call' || outer.childForFieldName('function')?.id !== attribute.id) return null;
  const method = methodCall(outer)?.method;
  return method && !CLOSERS.has(method) && method !== '__aenter__' ? outer : null;
}

/** True when every binding of `name` in the function is an assignment of an async client. */
function onlyClientAssignments(ctx: RuleContext, name: string): boolean {
  const found = ctx.lookup(name);
  if (!found || found.scope.node.id !== ctx.scope().node.id) return false;
  return found.bindings.every((b) => (b.kind === 'assign' || b.kind === 'annotation') && b.value?.type === 'call' && calleeIn(ctx, b.value, ASYNC_CLIENT_CLASSES) !== null);
}

export const unclosedSession: Rule = {
  meta: {
    id: 'AG502',
    slug: 'unclosed-session',
    aliases: [],
    family: 'resources',
    severity: 'warning',
    title: 'HTTP client session never closed',
    fix: 'Open the client with `async with aiohttp.ClientSession() as session:` (or `async with httpx.AsyncClient() as client:`), or close it in a `finally:` with `await session.close()` / `await client.aclose()`.',
    messages: {
      local: '`{name}` = `{callee}()` is never closed: its connections and sockets stay open after the function returns ("Unclosed client session")',
      throwaway: '`{callee}()` is created for one call and never closed: its connections and sockets stay open ("Unclosed client session")',
    },
    docs: {
      what: 'Flags an `aiohttp.ClientSession(...)` or `httpx.AsyncClient(...)` created in async code outside `async with` and kept in a local variable that the function never closes: no `await session.close()` / `await client.aclose()` (anywhere in the function, a `finally:` included), no `async with session:`, and the session is not handed on (passed to a call such as `AsyncExitStack.enter_async_context`, stored on `self` or in a container, returned, yielded, captured by a nested function). Also flags a client created only to call one method on it (`await aiohttp.ClientSession().get(url)`). Data flow stays within one function: a client kept on `self` or at module level is not flagged, its owner closes it elsewhere.',
      why: 'A client session owns a connection pool, sockets and (aiohttp) a connector with its own DNS cache. Left to the garbage collector, the sockets stay open until it runs, aiohttp logs "Unclosed client session" / "Unclosed connector", and in a request handler every call leaks another pool: file descriptors run out ("Too many open files") and the server refuses connections. A `close()` on the happy path only still leaks whenever the request fails or the task is cancelled in between.',
      example: [
        'import aiohttp',
        '',
        '',
        'async def fetch_user(user_id):',
        '    session = aiohttp.ClientSession()',
        '    async with session.get(f"https://api.example.com/users/{user_id}") as response:',
        '        return await response.json()',
      ].join('\n'),
      useInstead: [
        'import aiohttp',
        '',
        '',
        'async def fetch_user(user_id):',
        '    async with aiohttp.ClientSession() as session:',
        '        async with session.get(f"https://api.example.com/users/{user_id}") as response:',
        '            return await response.json()',
      ].join('\n'),
    },
    cites: [
      { guide: 'S1', section: 'Real-World Example: API Client' },
      { guide: 'S0', section: 'Step 4 — Cancellation discipline' },
    ],
  },
  create(ctx) {
    function checkAssignment(node: SyntaxNode): void {
      if (!ctx.inAsyncCode()) return;
      const left = node.childForFieldName('left');
      const right = node.childForFieldName('right');
      if (left?.type !== 'identifier' || right?.type !== 'call') return;
      if (!calleeIn(ctx, right, ASYNC_CLIENT_CLASSES)) return;
      if (!onlyClientAssignments(ctx, left.text)) return;
      if (fate(ctx.scope().node, left.text, left) !== 'unclosed') return;
      ctx.report({ node: right, messageId: 'local', data: { name: left.text, callee: calleeText(right) } });
    }

    return {
      assignment: checkAssignment,
      call(node) {
        if (!ctx.inAsyncCode() || !calleeIn(ctx, node, ASYNC_CLIENT_CLASSES)) return;
        if (throwawayReceiver(node)) ctx.report({ node, messageId: 'throwaway', data: { callee: calleeText(node) } });
      },
    };
  },
};
