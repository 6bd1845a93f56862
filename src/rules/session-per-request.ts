import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { calleeIn, calleeText, NESTED_SCOPES, parenthesized, walkBelow, withStatementOf } from './util.js';

/** Async HTTP clients that own a connection pool. */
export const ASYNC_CLIENT_CLASSES = new Set(['aiohttp.ClientSession', 'aiohttp.client.ClientSession', 'httpx.AsyncClient']);

const LOOPS = new Set(['for_statement', 'while_statement']);
const COMPREHENSIONS = new Set(['list_comprehension', 'set_comprehension', 'dictionary_comprehension', 'generator_expression']);
const CLOSERS = new Set(['close', 'aclose']);

/**
 * A loop that is not a loop over requests: it sleeps (polling, back-off), leaves on the first
 * success (`return`, its own `break`: retries, mirrors), or holds a long-lived connection per
 * iteration (`ws_connect`, a `while` loop streaming with `async for`: reconnect loops).
 */
function retriesOrReconnects(ctx: RuleContext, loop: SyntaxNode, body: SyntaxNode): boolean {
  let found = false;
  walkBelow(body, (node) => {
    if (found || NESTED_SCOPES.has(node.type)) return false;
    if (node.type === 'call' && ctx.resolveCallee(node) === 'asyncio.sleep') found = true;
    // `return` anywhere leaves the loop; `break` only when it belongs to this loop.
    else if (node.type === 'return_statement') found = true;
    else if (node.type === 'break_statement' && innermostLoop(node, loop) === loop.id) found = true;
    // A websocket or a streamed response per iteration: one session per long-lived connection.
    else if (loop.type === 'while_statement' && node.type === 'for_statement' && node.child(0)?.type === 'async') found = true;
    else if (node.type === 'call' && node.childForFieldName('function')?.childForFieldName('attribute')?.text === 'ws_connect') found = true;
    return !found;
  });
  return found;
}

function innermostLoop(node: SyntaxNode, stop: SyntaxNode): number | null {
  for (let current = node.parent; current; current = current.parent) {
    if (LOOPS.has(current.type)) return current.id;
    if (current.id === stop.id) return null;
  }
  return null;
}

/** How the constructed client is used, when that makes it a client for one iteration only. */
function throwawayUse(call: SyntaxNode): { kind: 'with' | 'argument' | 'local'; assignment?: SyntaxNode } | null {
  let node = call;
  node = parenthesized(node);
  const parent = node.parent;
  if (!parent) return null;
  // `async with aiohttp.ClientSession() as s:` (a plain `with` is AG504's).
  const statement = withStatementOf(call);
  if (statement) return statement.child(0)?.type === 'async' ? { kind: 'with' } : null;
  // `await fetch(aiohttp.ClientSession(), url)`: a fresh client for one awaited call.
  if (parent.type === 'argument_list' || (parent.type === 'keyword_argument' && parent.parent?.type === 'argument_list')) {
    const list = parent.type === 'argument_list' ? parent : parent.parent!;
    const outer = list.parent;
    return outer?.type === 'call' && outer.parent?.type === 'await' ? { kind: 'argument' } : null;
  }
  if (parent.type === 'assignment' && parent.childForFieldName('right')?.id === node.id) {
    return parent.childForFieldName('left')?.type === 'identifier' ? { kind: 'local', assignment: parent } : null;
  }
  return null;
}

/**
 * `s = ClientSession()` in a loop body is per iteration when the function closes it (a close
 * method, `async with s`) and otherwise only calls methods of `s` or lends it to awaited calls;
 * stored, returned or appended, the client outlives the iteration (a pool of clients, one per
 * host) and is not flagged. Never closed, it is AG502's (unclosed-session) finding, not a second one.
 */
function localStaysInIteration(assignment: SyntaxNode, fn: SyntaxNode): boolean {
  const name = assignment.childForFieldName('left')!.text;
  const target = assignment.childForFieldName('left')!;
  let staysIn = true;
  let closed = false;
  walkBelow(fn, (node) => {
    if (!staysIn) return false;
    if (node.type !== 'identifier' || node.text !== name || node.id === target.id) return true;
    const parent = node.parent!;
    if (parent.type === 'attribute' && parent.childForFieldName('attribute')?.id === node.id) return true;
    if (parent.type === 'keyword_argument' && parent.childForFieldName('name')?.id === node.id) return true;
    if (parent.type === 'attribute') {
      // `s.get(...)`, `s.close()`
      if (CLOSERS.has(parent.childForFieldName('attribute')?.text ?? '')) closed = true;
      return true;
    }
    if (withStatementOf(node)) {
      closed = true; // `async with s:`
      return true;
    }
    if (parent.type === 'comparison_operator') return true; // `if s is not None:`
    if (parent.type === 'argument_list' && parent.parent?.parent?.type === 'await') return true;
    if (parent.type === 'keyword_argument' && parent.parent?.parent?.parent?.type === 'await') return true;
    staysIn = false;
    return false;
  });
  return staysIn && closed;
}

export const sessionPerRequest: Rule = {
  meta: {
    id: 'AG501',
    slug: 'session-per-request',
    aliases: [],
    family: 'resources',
    severity: 'warning',
    title: 'HTTP client session created per loop iteration',
    fix: 'Create one `aiohttp.ClientSession` / `httpx.AsyncClient` before the loop (or once per application) and reuse it for every request.',
    messages: {
      with: '`{callee}()` is opened on every iteration of the loop: each one builds a new connection pool and repeats the TCP and TLS handshakes',
      argument: '`{callee}()` is created for every awaited call in the loop: each one builds a new connection pool and repeats the TCP and TLS handshakes',
      local: '`{name}` = `{callee}()` is created on every iteration of the loop: each one builds a new connection pool and repeats the TCP and TLS handshakes',
    },
    docs: {
      what: 'Flags an `aiohttp.ClientSession(...)` or `httpx.AsyncClient(...)` created in the body of a `for` / `async for` / `while` loop or a comprehension in async code and used for that iteration only: entered with `async with`, kept in a local that the function closes (`close()` / `aclose()`) and otherwise only calls methods on, or handed to an awaited call. A client created in a loop and never closed is reported once, by AG502 (unclosed-session). Not flagged: a client stored, returned or collected (one client per host is a pool, not a mistake); a retry, polling or reconnect loop (the body awaits `asyncio.sleep`, `return`s or `break`s out, or a `while` loop serves a websocket or a stream per iteration); a client created in a helper that the loop calls (only the loop form is flagged, to stay precise).',
      why: 'A client session owns a connection pool. Creating one per iteration throws the pool away every time: every request pays a new DNS lookup, TCP connect and TLS handshake (tens to hundreds of milliseconds each) instead of reusing a kept-alive connection, keep-alive and HTTP/2 multiplexing never help, and closed sockets pile up in TIME_WAIT under load. The loop gets many times slower than with one shared session, and the server sees a connection storm.',
      example: [
        'import aiohttp',
        '',
        '',
        'async def fetch_pages(url):',
        '    items = []',
        '    while url:',
        '        async with aiohttp.ClientSession() as session:',
        '            async with session.get(url) as response:',
        '                page = await response.json()',
        '        items.extend(page["items"])',
        '        url = page.get("next")',
        '    return items',
      ].join('\n'),
      useInstead: [
        'import aiohttp',
        '',
        '',
        'async def fetch_pages(url):',
        '    items = []',
        '    async with aiohttp.ClientSession() as session:',
        '        while url:',
        '            async with session.get(url) as response:',
        '                page = await response.json()',
        '            items.extend(page["items"])',
        '            url = page.get("next")',
        '    return items',
      ].join('\n'),
    },
    cites: [{ guide: 'S1', section: 'Optimization: Reuse Connections' }],
  },
  create(ctx) {
    /** The loops around `call` in its function whose every iteration evaluates it. */
    function perIterationLoops(call: SyntaxNode): { loop: SyntaxNode; body: SyntaxNode }[] {
      const out: { loop: SyntaxNode; body: SyntaxNode }[] = [];
      const fn = ctx.scope().node;
      let child = call;
      for (let node = call.parent; node && node.id !== fn.id; child = node, node = node.parent) {
        if (LOOPS.has(node.type) && node.childForFieldName('body')?.id === child.id) out.push({ loop: node, body: child });
        if (COMPREHENSIONS.has(node.type)) {
          // The first `for ... in <iterable>` is evaluated once; everything else per element.
          const first = node.namedChildren.find((c) => c.type === 'for_in_clause');
          if (first?.id !== child.id) out.push({ loop: node, body: node });
        }
      }
      return out;
    }

    return {
      call(node) {
        if (!ctx.inAsyncCode()) return;
        const callee = calleeIn(ctx, node, ASYNC_CLIENT_CLASSES);
        if (!callee) return;
        const use = throwawayUse(node);
        if (!use) return;
        const loops = perIterationLoops(node).filter(({ loop, body }) => COMPREHENSIONS.has(loop.type) || !retriesOrReconnects(ctx, loop, body));
        if (loops.length === 0) return;
        if (use.assignment) {
          if (!localStaysInIteration(use.assignment, ctx.scope().node)) return;
          const name = use.assignment.childForFieldName('left')!.text;
          ctx.report({ node, messageId: 'local', data: { name, callee: calleeText(node) } });
          return;
        }
        ctx.report({ node, messageId: use.kind, data: { callee: calleeText(node) } });
      },
    };
  },
};
