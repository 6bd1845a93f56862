import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { AIOHTTP_SESSION, ASYNCIO_CONDITION, ASYNCIO_LOCK, ASYNCIO_SEMAPHORE, calleeText, HTTPX_ASYNC_CLIENT, insertBefore, methodCall, TASK_GROUP, typeOf, withItemValues } from './util.js';

type Kind = 'primitive' | 'client' | 'response' | 'file' | 'scope';

/** Calls (resolved) whose result is an async-only context manager. */
const ASYNC_ONLY_CALLS: Record<string, Kind> = {
  'asyncio.Lock': 'primitive',
  'asyncio.Semaphore': 'primitive',
  'asyncio.BoundedSemaphore': 'primitive',
  'asyncio.Condition': 'primitive',
  'asyncio.timeout': 'scope',
  'asyncio.timeout_at': 'scope',
  'asyncio.TaskGroup': 'scope',
  'aiohttp.ClientSession': 'client',
  'aiohttp.client.ClientSession': 'client',
  'httpx.AsyncClient': 'client',
  'aiohttp.request': 'response',
  'aiofiles.open': 'file',
  'aiofiles.tempfile.TemporaryFile': 'file',
  'aiofiles.tempfile.NamedTemporaryFile': 'file',
  'aiofiles.tempfile.SpooledTemporaryFile': 'file',
  'aiofiles.tempfile.TemporaryDirectory': 'file',
};

/** Values of these (inferred) types are async-only context managers. */
const ASYNC_ONLY_TYPES: Record<string, Kind> = {
  [ASYNCIO_LOCK]: 'primitive',
  [ASYNCIO_SEMAPHORE]: 'primitive',
  [ASYNCIO_CONDITION]: 'primitive',
  [AIOHTTP_SESSION]: 'client',
  [HTTPX_ASYNC_CLIENT]: 'client',
  [TASK_GROUP]: 'scope',
};

/** `session.get(url)`: aiohttp's request methods return an async-only response context. */
const AIOHTTP_REQUESTS = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'request', 'ws_connect']);

function asyncOnly(ctx: RuleContext, value: SyntaxNode): Kind | null {
  if (value.type === 'call') {
    const resolved = ctx.resolveCallee(value);
    if (resolved && ASYNC_ONLY_CALLS[resolved]) return ASYNC_ONLY_CALLS[resolved]!;
    const method = methodCall(value);
    if (!method) return null;
    const receiver = typeOf(ctx, method.receiver);
    if (receiver === AIOHTTP_SESSION && AIOHTTP_REQUESTS.has(method.method)) return 'response';
    if (receiver === HTTPX_ASYNC_CLIENT && method.method === 'stream') return 'response';
    return null;
  }
  if (value.type !== 'identifier' && value.type !== 'attribute') return null;
  const type = typeOf(ctx, value);
  return type ? (ASYNC_ONLY_TYPES[type] ?? null) : null;
}

export const syncWithOnAsyncResource: Rule = {
  meta: {
    id: 'AG504',
    slug: 'sync-with-on-async-resource',
    aliases: ['S7515'],
    family: 'resources',
    severity: 'error',
    title: 'Plain `with` on an async context manager',
    fix: 'Use `async with`: these objects only implement `__aenter__` / `__aexit__`.',
    messages: {
      primitive: '`with {expr}:` on an asyncio lock, semaphore or condition raises at once (it has no `__enter__`): the lock is never taken',
      client: '`with {expr}:` on an async HTTP client raises at once: it can only be opened with `async with`',
      response: '`with {expr}:` on an async request raises at once: the response context only supports `async with`, the request is never sent',
      file: '`with {expr}:` on an aiofiles file raises at once: it only supports `async with`, the file is never opened',
      scope: '`with {expr}:` on an async-only context manager raises at once (it has no `__enter__`): the block never runs',
    },
    docs: {
      what: 'Flags, in async code, a plain `with` whose item is an async-only context manager: an asyncio `Lock`, `Semaphore`, `BoundedSemaphore` or `Condition` (built inline, or a name or `self.x` attribute the file shows to hold one), `asyncio.timeout(...)` / `timeout_at(...)` / `TaskGroup()`, `aiohttp.ClientSession(...)`, `httpx.AsyncClient(...)`, `aiohttp.request(...)`, an aiohttp session\'s request methods (`with session.get(url) as response:`), `httpx.AsyncClient.stream(...)`, and `aiofiles.open(...)` / `aiofiles.tempfile.*`. A `with` on a `threading.Lock` or a plain `open()` is not flagged, and neither is a name whose type the file does not show. The same `with` in a sync function is just as wrong, but is left alone: the rule reports async code only.',
      why: 'These objects implement only the asynchronous protocol (`__aenter__` / `__aexit__`): a plain `with` raises at once (`TypeError: ... does not support the context manager protocol`, `AttributeError: __enter__` before Python 3.11, aiohttp\'s `TypeError: Use async with instead`), so the lock is never taken, the request never sent, the file never opened. Such `with` blocks tend to sit on rarely run paths (error handling, shutdown, a retry), where the crash ships unnoticed and surfaces in production.',
      example: [
        'import asyncio',
        '',
        '',
        'class Counter:',
        '    def __init__(self):',
        '        self._lock = asyncio.Lock()',
        '        self.value = 0',
        '',
        '    async def increment(self):',
        '        with self._lock:',
        '            self.value += 1',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'class Counter:',
        '    def __init__(self):',
        '        self._lock = asyncio.Lock()',
        '        self.value = 0',
        '',
        '    async def increment(self):',
        '        async with self._lock:',
        '            self.value += 1',
      ].join('\n'),
    },
    cites: [
      { guide: 'S2', section: 'Async Context Manager' },
      { guide: 'S1', section: 'Async Context Managers' },
      { guide: 'S0', section: 'Step 4 — Cancellation discipline' },
    ],
  },
  create(ctx) {
    return {
      with_statement(node) {
        if (!ctx.inAsyncCode() || node.child(0)?.type === 'async') return;
        const items = withItemValues(node).map((value) => ({ value, kind: asyncOnly(ctx, value) }));
        // `async with` only fits when every item is async; suggested once, on the first finding.
        const keyword = node.child(0);
        let suggestion =
          keyword?.type === 'with' && items.every((i) => i.kind !== null) ? insertBefore(ctx.file, keyword, 'async ') : null;
        for (const { value, kind } of items) {
          if (!kind) continue;
          const expr = value.type === 'call' ? `${calleeText(value)}(...)` : value.text.replace(/\s+/g, '');
          const onKeywordLine = suggestion !== null && value.startPosition.row === keyword!.startPosition.row;
          ctx.report({ node: value, messageId: kind, data: { expr }, ...(onKeywordLine ? { suggestion: suggestion! } : {}) });
          suggestion = null;
        }
      },
    };
  },
};
