import type { Binding } from '../python/imports.js';
import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import {
  AIOHTTP_SESSION,
  ASYNCIO_CONDITION,
  ASYNCIO_EVENT,
  ASYNCIO_LOCK,
  ASYNCIO_QUEUE,
  ASYNCIO_SEMAPHORE,
  calleeIn,
  calleeText,
  EVENT_LOOP,
  HTTPX_ASYNC_CLIENT,
  identifierCounts,
  insertBefore,
  isGenerator,
  methodCall,
  preservesCoroutine,
  statementCall,
  typeOf,
  unparenthesize,
} from './util.js';

/** asyncio APIs returning a coroutine (or, for gather, a future) that does nothing useful unawaited. */
const ASYNCIO_AWAITABLES = new Set([
  'asyncio.sleep',
  'asyncio.wait_for',
  'asyncio.wait',
  'asyncio.to_thread',
  'asyncio.open_connection',
  'asyncio.open_unix_connection',
  'asyncio.start_server',
  'asyncio.start_unix_server',
  'asyncio.create_subprocess_exec',
  'asyncio.create_subprocess_shell',
]);

/** asyncio APIs returning a future: the work runs anyway, but nobody waits for it or sees its outcome. */
const ASYNCIO_FUTURES = new Set(['asyncio.gather']);

const HTTP_CLIENT_METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'request'];

/**
 * Coroutine methods of the async types light inference knows (`get_nowait`, `put_nowait`,
 * `task_done`, `release`, `set`, `notify`, `stream`... are plain methods and not listed).
 */
const COROUTINE_METHODS: Record<string, ReadonlySet<string>> = {
  [ASYNCIO_QUEUE]: new Set(['get', 'put', 'join']),
  [ASYNCIO_LOCK]: new Set(['acquire']),
  [ASYNCIO_SEMAPHORE]: new Set(['acquire']),
  [ASYNCIO_CONDITION]: new Set(['acquire', 'wait', 'wait_for']),
  [ASYNCIO_EVENT]: new Set(['wait']),
  [EVENT_LOOP]: new Set([
    'sock_recv',
    'sock_recv_into',
    'sock_sendall',
    'sock_connect',
    'sock_accept',
    'getaddrinfo',
    'getnameinfo',
    'create_connection',
    'create_server',
    'create_datagram_endpoint',
    'create_unix_connection',
    'create_unix_server',
    'sock_sendto',
    'sock_recvfrom',
    'sock_sendfile',
    'sendfile',
    'start_tls',
    'connect_read_pipe',
    'connect_write_pipe',
    'subprocess_exec',
    'subprocess_shell',
    'shutdown_asyncgens',
    'shutdown_default_executor',
  ]),
  [AIOHTTP_SESSION]: new Set([...HTTP_CLIENT_METHODS, 'ws_connect', 'close']),
  [HTTPX_ASYNC_CLIENT]: new Set([...HTTP_CLIENT_METHODS, 'send', 'aclose']),
};

/** Methods of the known types returning a future (the work is scheduled without being awaited). */
const FUTURE_METHODS: Record<string, ReadonlySet<string>> = {
  [EVENT_LOOP]: new Set(['run_in_executor']),
};

/** `function`/`method`/`asyncio`/`typed` calls return a coroutine, `future` a future. */
type Callee = 'function' | 'method' | 'asyncio' | 'typed' | 'future';

/** Answers "is this def a generator?" once per def. */
type GeneratorCheck = (definition: SyntaxNode) => boolean;

/** True when every binding is an undecorated (or method-decorated) `async def` that does not yield. */
function allCoroutineFunctions(bindings: readonly Binding[], generator: GeneratorCheck): boolean {
  return (
    bindings.length > 0 &&
    bindings.every(
      (b) => b.kind === 'def' && b.async === true && preservesCoroutine(b.decorators) && b.definition !== undefined && !generator(b.definition),
    )
  );
}

/** What makes `call` a coroutine call, or null when it is not known to be one. */
function coroutineCallee(ctx: RuleContext, call: SyntaxNode, generator: GeneratorCheck): Callee | null {
  const callee = call.childForFieldName('function');
  if (callee?.type === 'identifier') {
    const found = ctx.lookup(callee.text);
    if (found && allCoroutineFunctions(found.bindings, generator)) return 'function';
  }
  const method = methodCall(call);
  if (method && method.receiver.type === 'identifier' && (method.receiver.text === 'self' || method.receiver.text === 'cls')) {
    if (isMethodOfAsyncDef(ctx, method.receiver.text, method.method, generator)) return 'method';
  }
  if (calleeIn(ctx, call, ASYNCIO_AWAITABLES)) return 'asyncio';
  if (calleeIn(ctx, call, ASYNCIO_FUTURES)) return 'future';
  if (method) {
    const type = typeOf(ctx, method.receiver);
    if (type && COROUTINE_METHODS[type]?.has(method.method)) return 'typed';
    if (type && FUTURE_METHODS[type]?.has(method.method)) return 'future';
  }
  return null;
}

/** `self.m()` inside a method of class C, where C's body defines `m` only as an `async def`. */
function isMethodOfAsyncDef(ctx: RuleContext, receiver: string, name: string, generator: GeneratorCheck): boolean {
  const chain = ctx.scopeChain();
  const method = chain[chain.length - 1];
  const owner = chain[chain.length - 2];
  if (!method || !owner || (method.kind !== 'def' && method.kind !== 'async-def') || owner.kind !== 'class') return false;
  const self = ctx.lookup(receiver);
  if (!self || self.scope.node.id !== method.node.id || !self.bindings.every((b) => b.kind === 'param')) return false;
  const members = ctx.imports.bindingsIn(owner.node).get(name);
  return members !== undefined && allCoroutineFunctions(members, generator);
}

export const missingAwait: Rule = {
  meta: {
    id: 'AG201',
    slug: 'missing-await',
    aliases: [],
    family: 'coroutines',
    severity: 'error',
    title: 'Coroutine called without await',
    fix: 'Put `await` before the call (or hand the coroutine to `asyncio.create_task` / a TaskGroup and keep the task).',
    messages: {
      statement: '`{callee}()` returns a coroutine that is never awaited: the call does nothing',
      statementFuture:
        '`{callee}()` returns a future that is never awaited: the work runs unsupervised, this function does not wait for it, and its result and exceptions are lost',
      condition: '`{callee}()` returns {kind}, which is always true: the test never checks the result',
      unused: '`{name}` holds the coroutine `{callee}()` returns and is never used: the call does nothing',
      unusedFuture:
        '`{name}` holds the future `{callee}()` returns and is never used: nobody waits for the work, and its result and exceptions are lost',
    },
    docs: {
      what: 'Flags a statement, an `if` / `while` test, or an assignment to a local that the function never reads, whose value is a call to a coroutine function made without `await`: an `async def` of the same file called by name, `self.method()` / `cls.method()` where the class defines `method` as `async def`, an asyncio coroutine API (`asyncio.sleep`, `wait_for`, `wait`, `to_thread`, `open_connection`, `create_subprocess_exec/shell`), or a coroutine method of a value whose type the file shows (built by its constructor, annotated, `async with ... as`, or a `self.x` attribute assigned one): `get` / `put` / `join` of an `asyncio.Queue`, `acquire` of an asyncio `Lock` / `Semaphore` / `Condition`, `wait` of an `asyncio.Event` or `Condition`, the `sock_*` / `getaddrinfo` / `create_connection` / `create_server` methods of an event loop, and the request methods and `close` / `aclose` of an `aiohttp.ClientSession` / `httpx.AsyncClient`. `asyncio.gather(...)` and `loop.run_in_executor(...)` left unawaited are flagged too: they return futures, so the work runs, but nobody waits for it. Plain methods (`get_nowait`, `put_nowait`, `task_done`, `release`, `set`) and values of unknown type are not flagged. In a sync function only a same-file `async def` called by name is flagged. mypy (`unused-coroutine`) and pyright (`reportUnusedCoroutine`) report the same mistake when the code is type-checked.',
      why: 'Calling a coroutine function only creates a coroutine object; nothing in its body runs until it is awaited. The statement silently does nothing (the sleep does not sleep, the item is not put on the queue, the lock is not taken, the request is not sent), Python prints "coroutine ... was never awaited" at garbage collection, far from the bug, and in a test the coroutine object is truthy, so the condition is always true. An unawaited future is the opposite failure: the work does run, concurrently, while the function carries on as if it had finished, and its exception is never seen.',
      example: [
        'import asyncio',
        '',
        '',
        'async def flush(buffer):',
        '    await asyncio.sleep(0)',
        '    buffer.clear()',
        '',
        '',
        'async def close(buffer):',
        '    flush(buffer)',
        '    asyncio.sleep(0.1)',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'async def flush(buffer):',
        '    await asyncio.sleep(0)',
        '    buffer.clear()',
        '',
        '',
        'async def close(buffer):',
        '    await flush(buffer)',
        '    await asyncio.sleep(0.1)',
      ].join('\n'),
    },
    cites: [
      { guide: 'S1', section: 'Core Principles' },
      { guide: 'S1', section: 'Pitfall 2: Missing await' },
      { guide: 'S1', section: 'Troubleshooting Quick Guide' },
    ],
  },
  create(ctx) {
    const generators = new Map<number, boolean>();
    const generator: GeneratorCheck = (definition) => {
      let known = generators.get(definition.id);
      if (known === undefined) {
        known = isGenerator(definition);
        generators.set(definition.id, known);
      }
      return known;
    };

    const counts = new Map<number, Map<string, number>>();
    const usesIn = (fn: SyntaxNode) => {
      let found = counts.get(fn.id);
      if (!found) {
        found = identifierCounts(fn);
        counts.set(fn.id, found);
      }
      return found;
    };

    function check(call: SyntaxNode, where: 'statement' | 'condition' | { name: string }): void {
      const kind = ctx.scope().kind;
      if (kind === 'class' || kind === 'lambda') return;
      const callee = coroutineCallee(ctx, call, generator);
      if (!callee) return;
      const inAsync = ctx.inAsyncCode();
      // In sync code only the plainest case: a coroutine function of this very file, by name.
      if (!inAsync && callee !== 'function') return;
      const future = callee === 'future';
      const data: Record<string, string> = { callee: calleeText(call), kind: future ? 'a future' : 'a coroutine' };
      let messageId: string;
      if (where === 'condition') messageId = 'condition';
      else if (where === 'statement') messageId = future ? 'statementFuture' : 'statement';
      else {
        messageId = future ? 'unusedFuture' : 'unused';
        data.name = where.name;
      }
      const suggestion = inAsync ? insertBefore(ctx.file, call, 'await ') : null;
      ctx.report({ node: call, messageId, data, ...(suggestion ? { suggestion } : {}) });
    }

    function checkCondition(statement: SyntaxNode): void {
      let test = statement.childForFieldName('condition');
      while (test) {
        test = unparenthesize(test);
        if (test.type !== 'not_operator') break;
        test = test.childForFieldName('argument');
      }
      if (test?.type === 'call') check(test, 'condition');
    }

    return {
      expression_statement(node) {
        const call = statementCall(node);
        if (call) check(call, 'statement');
      },
      if_statement: checkCondition,
      elif_clause: checkCondition,
      while_statement: checkCondition,
      assignment(node) {
        // `coro = fetch()` in a function that never reads `coro` again (nor a closure, a `global`...).
        const scope = ctx.scope();
        if (scope.kind !== 'def' && scope.kind !== 'async-def') return;
        if (node.parent?.type !== 'expression_statement') return;
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        if (left?.type !== 'identifier' || right?.type !== 'call') return;
        if ((usesIn(scope.node).get(left.text) ?? 0) > 1) return;
        check(right, { name: left.text });
      },
    };
  },
};
