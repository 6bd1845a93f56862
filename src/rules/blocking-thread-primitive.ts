import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import {
  definitionsOf,
  enclosing,
  identifierCounts,
  inferWith,
  keywordArgument,
  methodCall,
  positionalArguments,
  PROCESS_POOL,
  SYNC_QUEUE,
  THREAD_POOL,
  THREADING_CONDITION,
  THREADING_EVENT,
  THREADING_LOCK,
  THREADING_SEMAPHORE,
  typeOf,
  unparenthesize,
  withItemValues,
} from './util.js';

const LOCK_KIND: Record<string, string> = {
  [THREADING_LOCK]: 'lock',
  [THREADING_SEMAPHORE]: 'semaphore',
  [THREADING_CONDITION]: 'condition',
};

/** `False`, `0`, `0.0`: a literal that makes a wait non-blocking. */
function isZero(node: SyntaxNode | null | undefined): boolean {
  if (!node) return false;
  const value = unparenthesize(node);
  return value.type === 'false' || ((value.type === 'integer' || value.type === 'float') && Number(value.text) === 0);
}

/** The argument passed as parameter `name` (keyword) or at `position` (0-based), or null. */
function argument(call: SyntaxNode, name: string, position: number): SyntaxNode | null {
  return keywordArgument(call, name) ?? positionalArguments(call)[position] ?? null;
}

/** True when the body of a with statement (not nested defs) awaits. */
function awaitsInside(body: SyntaxNode): boolean {
  const cursor = body.walk();
  for (;;) {
    const type = cursor.nodeType;
    if (type === 'await') return true;
    if ((type === 'with_statement' || type === 'for_statement') && cursor.currentNode.child(0)?.type === 'async') return true;
    if (type !== 'function_definition' && type !== 'lambda' && type !== 'class_definition' && cursor.gotoFirstChild()) continue;
    for (;;) {
      if (cursor.gotoNextSibling()) break;
      if (!cursor.gotoParent()) return false;
    }
  }
}

type Extra = 'thread' | 'bounded-queue' | 'unbounded-queue';

/** `threading.Thread(...)` / `Timer`, and `queue.Queue(maxsize)` vs an unbounded queue. */
function extraOf(ctx: RuleContext, expression: SyntaxNode): Extra | null {
  const classify = (value: SyntaxNode): Extra | null => {
    if (value.type !== 'call') return null;
    const resolved = ctx.resolveCallee(value);
    if (resolved === 'threading.Thread' || resolved === 'threading.Timer') return 'thread';
    if (resolved === 'queue.Queue' || resolved === 'queue.LifoQueue' || resolved === 'queue.PriorityQueue') {
      const size = argument(value, 'maxsize', 0);
      return size && !isZero(size) && !(size.type === 'unary_operator' && size.text.startsWith('-')) ? 'bounded-queue' : 'unbounded-queue';
    }
    return resolved === 'queue.SimpleQueue' ? 'unbounded-queue' : null;
  };
  const annotated = (resolved: string): Extra | null => (resolved === 'threading.Thread' ? 'thread' : null);
  return inferWith(ctx, expression, classify, annotated)?.type ?? null;
}

/** `executor.submit(...)` / `asyncio.run_coroutine_threadsafe(...)`: a concurrent.futures.Future. */
function makesFuture(ctx: RuleContext, expression: SyntaxNode): boolean {
  const node = unparenthesize(expression);
  if (node.type !== 'call') return false;
  if (ctx.resolveCallee(node) === 'asyncio.run_coroutine_threadsafe') return true;
  const method = methodCall(node);
  if (method?.method !== 'submit') return false;
  const pool = typeOf(ctx, method.receiver);
  if (pool === THREAD_POOL || pool === PROCESS_POOL) return true;
  const last = /(\w+)\s*$/.exec(method.receiver.text)?.[1] ?? '';
  return /(executor|pool)$/i.test(last);
}

/**
 * The future behind `.result()`'s receiver: the call itself, or a name this function binds once to
 * such a call and mentions nowhere else (a future also awaited through `wrap_future`, checked with
 * `done()` or waited on elsewhere may well be finished).
 */
function isPendingFuture(ctx: RuleContext, receiver: SyntaxNode): boolean {
  const node = unparenthesize(receiver);
  if (makesFuture(ctx, node)) return true;
  if (node.type !== 'identifier') return false;
  const found = ctx.lookup(node.text);
  const scope = ctx.scope().node;
  if (!found || found.scope.node.id !== scope.id || found.bindings.length !== 1) return false;
  const [binding] = found.bindings;
  if (binding?.kind !== 'assign' || !binding.value || !makesFuture(ctx, binding.value)) return false;
  const body = scope.childForFieldName('body');
  return body !== null && identifierCounts(body).get(node.text) === 2;
}

const FUTURE_WRAPPERS = new Set(['asyncio.wrap_future', 'asyncio.shield', 'asyncio.wait_for']);

/** The names an expression mentions, nested scopes left out. */
function namesIn(node: SyntaxNode, out = new Set<string>()): Set<string> {
  if (node.type === 'identifier') out.add(node.text);
  else if (node.type !== 'lambda' && node.type !== 'function_definition') for (const child of node.namedChildren) namesIn(child, out);
  return out;
}

/**
 * `t.join()` after the function awaited a future it handed to that thread: `t` is a local bound once
 * to `threading.Thread(target=..., args=(..., fut))` (the future among its `args`/`kwargs` or
 * positional arguments), and an `await fut` (or `await asyncio.wrap_future(fut)`, `shield`,
 * `wait_for`) comes before the join in this function. The thread completes that future as it
 * finishes (asyncio's `shutdown_default_executor`), so the join returns at once.
 */
function joinsAfterAwaitedFuture(ctx: RuleContext, receiver: SyntaxNode, join: SyntaxNode): boolean {
  const node = unparenthesize(receiver);
  if (node.type !== 'identifier') return false;
  const found = ctx.lookup(node.text);
  const scope = ctx.scope().node;
  if (!found || found.scope.node.id !== scope.id || found.bindings.length !== 1) return false;
  const [binding] = found.bindings;
  const thread = binding?.kind === 'assign' ? binding.value : null;
  if (thread?.type !== 'call') return false;
  const resolved = ctx.resolveCallee(thread);
  if (resolved !== 'threading.Thread' && resolved !== 'threading.Timer') return false;
  const handed = new Set<string>();
  for (const arg of thread.childForFieldName('arguments')?.namedChildren ?? []) {
    if (arg.type === 'keyword_argument') {
      const name = arg.childForFieldName('name')?.text;
      const value = arg.childForFieldName('value');
      if (value && (name === 'args' || name === 'kwargs')) namesIn(value, handed);
    } else if (resolved === 'threading.Timer' || positionalArguments(thread).indexOf(arg) >= 3) {
      namesIn(arg, handed);
    }
  }
  if (handed.size === 0) return false;
  const body = scope.childForFieldName('body');
  let awaited = false;
  const visit = (current: SyntaxNode) => {
    if (awaited || current.startIndex >= join.startIndex) return;
    if (current.type === 'await') {
      let value = current.namedChild(0) ? unparenthesize(current.namedChild(0)!) : null;
      if (value?.type === 'call' && FUTURE_WRAPPERS.has(ctx.resolveCallee(value) ?? '')) value = positionalArguments(value)[0] ?? null;
      if (value?.type === 'identifier' && handed.has(value.text)) awaited = true;
      return;
    }
    for (const child of current.namedChildren) {
      if (child.type !== 'function_definition' && child.type !== 'lambda' && child.type !== 'class_definition') visit(child);
    }
  };
  if (body) visit(body);
  return awaited;
}

/** Calls that work on memory only: container methods, and builtins that copy or measure. */
const IN_MEMORY = new Set([
  'get', 'pop', 'popitem', 'setdefault', 'append', 'appendleft', 'add', 'remove', 'discard', 'update', 'items', 'keys',
  'values', 'copy', 'clear', 'extend', 'insert', 'index', 'count', 'popleft', 'len', 'list', 'dict', 'set', 'tuple',
  'sorted', 'min', 'max', 'isinstance', 'id', 'hash', 'bool', 'int', 'str', 'frozenset', 'any', 'all', 'sum',
  'filter', 'map', 'zip', 'enumerate', 'range', 'reversed', 'abs', 'round', 'repr', 'getattr', 'hasattr', 'iter',
  'next', 'float', 'median', 'mean', 'notify', 'notify_all',
]);

/**
 * Whether every holder of the lock `value` names keeps it only for a moment: each `with <lock>:`
 * of the class (for `self.x`) or the file does nothing but work on memory (container methods,
 * copying builtins, `notify()`; a sync holder may also `wait()` on a Condition, which releases the
 * lock), and nothing calls `<lock>.acquire()` by hand. Then taking it on the loop cannot wait for
 * long: electrum's `interfaces_lock`, guarding a dict shared with GUI threads.
 */
function heldBriefly(ctx: RuleContext, value: SyntaxNode): boolean {
  const lock = value.text.replace(/\s+/g, '');
  const root = lock.startsWith('self.') ? enclosing(value, 'class_definition') : ctx.file.tree.rootNode;
  if (!root) return false;
  const holders = root.descendantsOfType('with_statement').filter((w) => withItemValues(w).some((held) => held.text.replace(/\s+/g, '') === lock));
  const byHand = root.descendantsOfType('call').some((call) => {
    const method = methodCall(call);
    return method?.method === 'acquire' && method.receiver.text.replace(/\s+/g, '') === lock;
  });
  if (byHand || holders.length === 0) return false;
  return holders.every((holder) => {
    const body = holder.childForFieldName('body');
    const sync = enclosing(holder, 'function_definition')?.child(0)?.type !== 'async';
    return body !== null && worksOnMemory(ctx, body, sync, 0);
  });
}

/** Constructors and reads that only touch memory: asyncio's primitives, clocks, `typing.cast`. */
const IN_MEMORY_CALLEES = new Set([
  'asyncio.Lock', 'asyncio.Event', 'asyncio.Condition', 'asyncio.Semaphore', 'asyncio.Queue', 'time.monotonic',
  'time.monotonic_ns', 'time.time', 'time.time_ns', 'time.perf_counter', 'time.perf_counter_ns', 'typing.cast',
]);

/**
 * Whether `body` only works on memory: no `await` or `yield`, and every call is a container method
 * or copying builtin (`IN_MEMORY`, and in a sync holder a Condition's `wait()`), a clock read or an
 * asyncio primitive built (`IN_MEMORY_CALLEES`), the exception of a `raise`, or a function of this
 * file (`_refresh_snapshot()`, `self._reject()`) whose own body works on memory, followed at most
 * three calls deep (aiointercept's patch lock, snap7's rate limiter).
 */
function worksOnMemory(ctx: RuleContext, body: SyntaxNode, sync: boolean, depth: number): boolean {
  if (body.descendantsOfType(['await', 'yield']).length > 0) return false;
  return body.descendantsOfType('call').every((call) => {
    const callee = call.childForFieldName('function');
    const name = callee?.type === 'attribute' ? callee.childForFieldName('attribute')?.text : callee?.text;
    if (name === undefined) return false;
    if (IN_MEMORY.has(name) || (sync && name === 'wait')) return true;
    if (IN_MEMORY_CALLEES.has(ctx.resolveCallee(call) ?? '')) return true;
    if (call.parent?.type === 'raise_statement') return true;
    // One undecorated sync `def` of this file (a decorator may wrap the helper in anything).
    const helpers = depth < 3 ? definitionsOf(ctx, call) : null;
    const helper = helpers?.length === 1 && helpers[0]!.parent?.type !== 'decorated_definition' ? helpers[0]! : null;
    const helperBody = helper?.child(0)?.type !== 'async' ? helper?.childForFieldName('body') : null;
    return helperBody !== null && helperBody !== undefined && worksOnMemory(ctx, helperBody, true, depth + 1);
  });
}

/** What puts work on another thread: a thread, an executor, `to_thread`. */
const THREAD_STARTERS = /\b(Thread|Timer|ThreadPoolExecutor|run_in_executor|to_thread|run_coroutine_threadsafe|call_soon_threadsafe|start_new_thread)\b/;

/**
 * A `threading.RLock` (every assignment of the name in the class, for `self.x`, or the file) in a
 * class (or file) that starts no thread and uses no executor: every holder runs on the loop's thread, and an
 * RLock lets the thread holding it take it again, so no task ever waits for it (pypoint's client lock).
 */
function reentrantOnLoopThread(ctx: RuleContext, value: SyntaxNode): boolean {
  const rlock = inferWith(
    ctx,
    value,
    (made) => (made.type === 'call' && ctx.resolveCallee(made) === 'threading.RLock' ? 'rlock' : null),
    (annotated) => (annotated === 'threading.RLock' ? 'rlock' : null),
  );
  const root = value.text.startsWith('self.') ? enclosing(value, 'class_definition') : ctx.file.tree.rootNode;
  return rlock !== null && root !== null && !THREAD_STARTERS.test(root.text);
}

/**
 * A lock taken in a sync helper (seen only when transitive-blocking summarises the helpers of async
 * code) whose class (for `self.x`; else the file) puts no work on another thread: the thread it
 * would wait for is not in sight, and the helper is as likely a thread-safe API taking the lock for
 * a moment (anthropic's token cache, snap7's rate limiter) as one that waits. Written in async code
 * itself the lock is still reported; in a helper it needs a visible second thread.
 */
function uncontendedInHelper(ctx: RuleContext, value: SyntaxNode): boolean {
  if (ctx.scope().kind !== 'def') return false;
  const root = value.text.startsWith('self.') ? enclosing(value, 'class_definition') : ctx.file.tree.rootNode;
  return root !== null && !THREAD_STARTERS.test(root.text);
}

export const blockingThreadPrimitive: Rule = {
  meta: {
    id: 'AG108',
    slug: 'blocking-thread-primitive',
    aliases: [],
    family: 'blocking',
    severity: 'error',
    title: 'Blocking threading primitive in async code',
    fix: 'Coordinate tasks with the asyncio primitives (`asyncio.Lock`, `Event`, `Queue`), or wait for the thread side off the loop (`await asyncio.to_thread(q.get)`, `await asyncio.wrap_future(fut)`).',
    messages: {
      acquire: '`{receiver}.acquire()` on a threading {kind} blocks the event loop until another thread releases it',
      with: '`with {receiver}:` takes a threading {kind}: the event loop blocks while another thread holds it',
      withAwait:
        '`with {receiver}:` holds a threading {kind} across an `await`: another task taking it meanwhile blocks the loop thread, which then can never release it (deadlock)',
      wait: '`{receiver}.{method}()` on a threading {kind} blocks the event loop until another thread signals it',
      queueGet: '`{receiver}.get()` on a `queue.Queue` blocks the event loop until an item arrives',
      queuePut: '`{receiver}.put()` on a bounded `queue.Queue` blocks the event loop while the queue is full',
      queueJoin: '`{receiver}.join()` on a `queue.Queue` blocks the event loop until every item is processed',
      threadJoin: '`{receiver}.join()` blocks the event loop until the thread finishes',
      result: '`.result()` on a `concurrent.futures.Future` blocks the event loop until the work is done',
    },
    docs: {
      what: 'Flags blocking waits on thread-synchronisation objects in async code: `acquire()` on a `threading.Lock/RLock/Semaphore/BoundedSemaphore/Condition` (not `acquire(False)`, `acquire(blocking=False)`, `acquire(timeout=0)`), a plain `with` on one of them, `wait()` / `wait_for()` on a `threading.Event/Condition`, `get()` and `join()` on a `queue.Queue` (not `get_nowait()`, `get(False)`, `get(block=False)`, `get(timeout=0)`), `put()` on a `queue.Queue` built with a `maxsize` (an unbounded queue never blocks on put), `join()` on a `threading.Thread/Timer` (not after the function awaited a future it handed to that thread in `args`/`kwargs`: `thread = Thread(target=work, args=(fut,))`, `await fut`, `thread.join()`, where the thread completes the future as it finishes, so the join returns at once), and `.result()` on a `concurrent.futures.Future` visibly made by `executor.submit(...)` or `asyncio.run_coroutine_threadsafe(...)`, chained or through a local used nowhere else. The receiver must be visibly of that type (a constructor, an annotation, a `self.x` assigned one); asyncio locks, events and queues are not this rule, nor a method of unknown type that happens to be called `acquire`, `get` or `wait`, nor `q.get` handed by reference to `run_in_executor` / `to_thread`. An `acquire(timeout=...)` with a non-zero timeout is reported in async code, but in a sync helper it does not make the helper count as blocking for transitive-blocking (AG110): a bounded acquire there is a thread-safety guard with a deadline (a fork lock around an in-memory reset), not a wait its async callers should answer for. A plain `with` on a lock is also left alone when every holder of that lock (every `with` on it in the class, for `self.x`, or in the file; none taking it by hand with `acquire()`) only works on memory (container methods, copying builtins, `notify()`, and in a sync holder the `wait()` of a Condition, which releases the lock; clock reads, asyncio primitives built, the exception of a `raise`, and calls of this file\'s own undecorated functions, module-level or `self.` methods, whose bodies work on memory in turn, three calls deep): taking it cannot wait for long. Holding a threading lock across an `await` is flagged, except a `threading.RLock` (every assignment of it) in a class (for `self.x`; else the file) that starts no thread and uses no executor (`Thread`, `Timer`, `ThreadPoolExecutor`, `run_in_executor`, `to_thread`...): every holder then runs on the loop thread, and an RLock lets the thread that holds it take it again, so no task ever waits for it. In a sync helper that transitive-blocking (AG110) follows, a lock (taken with `with` or `acquire()`) makes the helper count as blocking only when its class (for `self.x`; else the file) visibly puts work on another thread (`Thread`, `Timer`, an executor, `to_thread`...): with no second thread in sight, the helper may be a thread-safe API taking the lock for a moment (a token cache, a rate limiter).',
      why: 'These calls park the calling thread until another thread acts. In async code the calling thread is the event loop: no task runs, no timer fires and no socket is served until the other thread releases the lock, sets the event, fills the queue or finishes the work. If that other party is itself a task on the same loop (a threading lock held across an `await`, a future that needs the loop to complete), it can never run: the service deadlocks.',
      example: [
        'import queue',
        '',
        'jobs = queue.Queue()',
        '',
        '',
        'async def next_job(worker):',
        '    job = jobs.get()',
        '    await worker.run(job)',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        'import queue',
        '',
        'jobs = queue.Queue()',
        '',
        '',
        'async def next_job(worker):',
        '    job = await asyncio.to_thread(jobs.get)',
        '    await worker.run(job)',
      ].join('\n'),
    },
    cites: [
      { guide: 'S0', section: "Step 5 — Don't block the event loop" },
      { guide: 'S0', section: 'Step 3 — Bridge sync ↔ async correctly' },
      { guide: 'S1', section: 'Pitfall 1: Blocking the Event Loop' },
    ],
  },
  create(ctx) {
    return {
      call(node) {
        if (!ctx.inAsyncCode()) return;
        const method = methodCall(node);
        if (!method) return;
        const receiver = method.receiver.text.replace(/\s+/g, '');
        const data = { receiver, method: method.method };
        switch (method.method) {
          case 'acquire': {
            const kind = LOCK_KIND[typeOf(ctx, method.receiver) ?? ''];
            if (!kind || isZero(argument(node, 'blocking', 0)) || reentrantOnLoopThread(ctx, method.receiver)) return;
            const timeout = argument(node, 'timeout', 1);
            if (isZero(timeout)) return;
            // A bounded acquire in a sync function (seen only when transitive-blocking summarises
            // its helpers) is a thread-safety guard with a deadline, not a wait its async callers
            // should answer for; written in async code itself, it is still reported.
            const bounded = timeout !== null && timeout.type !== 'none' && !(timeout.type === 'unary_operator' && timeout.text.startsWith('-'));
            if (bounded && ctx.scope().kind === 'def') return;
            if (uncontendedInHelper(ctx, method.receiver)) return;
            ctx.report({ node, messageId: 'acquire', data: { ...data, kind } });
            return;
          }
          case 'wait':
          case 'wait_for': {
            const type = typeOf(ctx, method.receiver);
            if (type !== THREADING_EVENT && type !== THREADING_CONDITION) return;
            if (type === THREADING_EVENT && method.method !== 'wait') return;
            if (isZero(argument(node, 'timeout', method.method === 'wait' ? 0 : 1))) return;
            ctx.report({ node, messageId: 'wait', data: { ...data, kind: type === THREADING_EVENT ? 'event' : 'condition' } });
            return;
          }
          case 'get':
            if (typeOf(ctx, method.receiver) !== SYNC_QUEUE) return;
            if (isZero(argument(node, 'block', 0)) || isZero(argument(node, 'timeout', 1))) return;
            ctx.report({ node, messageId: 'queueGet', data });
            return;
          case 'put':
            if (typeOf(ctx, method.receiver) !== SYNC_QUEUE || extraOf(ctx, method.receiver) !== 'bounded-queue') return;
            if (isZero(argument(node, 'block', 1)) || isZero(argument(node, 'timeout', 2))) return;
            ctx.report({ node, messageId: 'queuePut', data });
            return;
          case 'join': {
            if (isZero(argument(node, 'timeout', 0))) return;
            const extra = extraOf(ctx, method.receiver);
            if (extra === 'thread' && joinsAfterAwaitedFuture(ctx, method.receiver, node)) return;
            if (extra === 'thread') ctx.report({ node, messageId: 'threadJoin', data });
            else if (extra === 'bounded-queue' || extra === 'unbounded-queue') ctx.report({ node, messageId: 'queueJoin', data });
            return;
          }
          case 'result':
            if (isZero(argument(node, 'timeout', 0)) || !isPendingFuture(ctx, method.receiver)) return;
            ctx.report({ node, messageId: 'result', data });
            return;
          default:
            return;
        }
      },
      with_statement(node) {
        if (!ctx.inAsyncCode() || node.child(0)?.type === 'async') return;
        const clause = node.namedChildren.find((c) => c.type === 'with_clause');
        const body = node.childForFieldName('body');
        for (const item of clause?.namedChildren ?? []) {
          if (item.type !== 'with_item') continue;
          let value = item.childForFieldName('value');
          if (value?.type === 'as_pattern') value = value.namedChild(0);
          if (!value) continue;
          const kind = LOCK_KIND[typeOf(ctx, value) ?? ''];
          if (!kind) continue;
          const receiver = value.text.replace(/\s+/g, '');
          const acrossAwait = body !== null && awaitsInside(body);
          if (!acrossAwait && heldBriefly(ctx, value)) continue;
          if (reentrantOnLoopThread(ctx, value) || uncontendedInHelper(ctx, value)) continue;
          ctx.report({ node: value, messageId: acrossAwait ? 'withAwait' : 'with', data: { receiver, kind } });
        }
      },
    };
  },
};
