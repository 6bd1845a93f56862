import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { dottedName, exceptClauseParts, identifiersNamed, methodCall, NESTED_SCOPES, parenthesized, unparenthesize } from './util.js';

const COMPREHENSIONS = new Set(['list_comprehension', 'set_comprehension', 'generator_expression', 'dictionary_comprehension']);
const EXCEPTION_CLASSES = new Set(['builtins.Exception', 'builtins.BaseException']);

/** What the code does with the results (a list that holds the exceptions too). */
type Use = 'handled' | 'unchecked' | 'filtered';

/** `return_exceptions=True`, literally. */
function returnsExceptions(call: SyntaxNode): boolean {
  const args = call.childForFieldName('arguments');
  return (args?.namedChildren ?? []).some(
    (a) => a.type === 'keyword_argument' && a.childForFieldName('name')?.text === 'return_exceptions' && a.childForFieldName('value')?.type === 'true',
  );
}


/** A builtin no scope around the gather rebinds (the import table only knows a few builtins). */
function isBuiltin(ctx: RuleContext, name: string): boolean {
  return ctx.lookup(name) === null;
}

function worst(uses: Use[]): Use {
  if (uses.includes('handled')) return 'handled';
  if (uses.includes('filtered')) return 'filtered';
  return 'unchecked';
}

export const droppedGatherExceptions: Rule = {
  meta: {
    id: 'AG402',
    slug: 'dropped-gather-exceptions',
    aliases: [],
    family: 'concurrency',
    severity: 'warning',
    title: 'Exceptions from `gather(return_exceptions=True)` dropped',
    fix: 'Check every result (`if isinstance(result, BaseException): log or raise it`), or drop `return_exceptions=True` (or use a TaskGroup on Python 3.11+) so failures propagate.',
    messages: {
      discarded: 'The results of `gather(..., return_exceptions=True)` are thrown away, and with them every exception the awaitables raised: failures vanish silently',
      unused: '`{name}` holds the results of `gather(..., return_exceptions=True)` but is never read: every exception the awaitables raised is lost',
      unchecked: '`{name}` holds the results of `gather(..., return_exceptions=True)`, exceptions included, but nothing checks them for exceptions: a failure passes for a result',
      filtered: 'The exceptions `gather(..., return_exceptions=True)` returned are filtered out and never logged or re-raised: failures vanish silently',
    },
    docs: {
      what: "Flags `await asyncio.gather(..., return_exceptions=True)` over work the function starts itself (calls written in the gather, `gather(a(), b())`, `gather(*(f(x) for x in xs))`, or a local of the function only ever bound to such calls: a comprehension or literal of calls, a list that only gets calls appended, a task made here) whose results are dropped: the awaited call as a statement, a local that is never read, a local only measured or indexed into (`len(results)`, `results[0].status`) or iterated without any `isinstance` check, and a comprehension that silently filters the exceptions out (`[r for r in results if not isinstance(r, Exception)]`). Any hand-over of the results counts as handling them and is not flagged: returned, yielded, passed to a call, stored on an attribute, in a container or under another name, or iterated with an `isinstance` check, a log call or a `raise` of the item. Nor is gathering existing tasks held in a name when the function that holds them later iterates the same name and asks each task for its outcome (`for t in tasks: if t.exception() ...` or `t.result()`; a mere `t.cancelled()` reads no failure), since the exceptions are read from the tasks themselves. Nor is a gather statement whose results are the function's own doing or a best-effort cleanup: waiting for tasks it cancelled or threw into first (`for t in tasks: t.cancel()`, `self._reader.cancel()` then `gather(self._reader, ...)`, a list built by appending tasks the same loop cancels or `t.throw(exc)`s), a gather in an `except` clause that re-raises after it (`raise`, `raise e`: the original error propagates, and a cleanup error must not replace it), and a gather of nothing but closes of held resources (`conn.close()`, `aclose()`, `wait_closed()`, `disconnect()`, `dispose()`, `unsubscribe()`, `__aexit__(...)`, also as `_close()` or `async_unsubscribe()`, directly, in a comprehension, or appended as `create_task(item.close)`, or a `wait()` / `join()` of something told to stop in the statements just before, `stream.stop_streaming()` then `stream.wait()`), where one failing close must not stop the others. In test paths (`test_paths`) the finding drops to info and is not commented: a test gathering work it expects to fail, or whose outcome it checks another way, drops those results on purpose. Stopping services (`svc.stop()`) is still flagged. Tasks the function did not start (a parameter, an attribute such as `self._writer_task`, a helper's result, a copy of a set kept elsewhere) are not flagged: they have an owner that deals with their failures (a done-callback, a try/except in the task, a later `task.exception()`), and the gather only waits for them to finish.",
      why: '`return_exceptions=True` turns every exception into a value in the result list; nothing is raised and nothing is logged. Unless the code looks at those values, a failed request, a refused connection or a bug in one coroutine disappears without a trace, and code that uses the results as data fails later, far from the cause, on an exception object where it expected a response.',
      example: [
        'import asyncio',
        '',
        '',
        'async def notify_all(clients, message):',
        '    await asyncio.gather(*(client.notify(message) for client in clients[:50]), return_exceptions=True)',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        'import logging',
        '',
        'log = logging.getLogger(__name__)',
        '',
        '',
        'async def notify_all(clients, message):',
        '    targets = clients[:50]',
        '    results = await asyncio.gather(*(client.notify(message) for client in targets), return_exceptions=True)',
        '    for client, result in zip(targets, results):',
        '        if isinstance(result, Exception):',
        "            log.warning('notifying %s failed: %r', client, result)",
      ].join('\n'),
    },
    cites: [
      { guide: 'S0', section: 'Gotcha' },
      { guide: 'S1', section: 'Pattern 1: Concurrent Execution with gather()' },
    ],
  },
  create(ctx) {
    return {
      call(node) {
        if (!ctx.inAsyncCode() || ctx.resolveCallee(node) !== 'asyncio.gather' || !returnsExceptions(node)) return;
        // Only an awaited gather: a bare `gather(...)` statement is a missing await (AG201).
        let value: SyntaxNode = node;
        value = parenthesized(value);
        if (value.parent?.type !== 'await') return;
        value = value.parent;
        value = parenthesized(value);
        const parent = value.parent;
        if (!parent) return;
        // Tasks that already ran before the gather have an owner, which handles their failures
        // (a done-callback, a try/except in the task); the gather only waits for them to finish.
        if (!startsItsWork(ctx, node)) return;
        if (parent.type === 'expression_statement') {
          // Cancel, then wait for the cancellations to land: the results are CancelledErrors by
          // design, and dropping them is the point (`for t in tasks: t.cancel()` first).
          if (waitsForCancelledTasks(ctx, node) || checksTasksAfter(ctx, node)) return;
          // Best-effort cleanup: on an error path that re-raises its error, or closing resources.
          if (reraisesAfter(value.parent!) || gathersTeardown(ctx, node)) return;
          ctx.report({ node, messageId: 'discarded' });
          return;
        }
        if (parent.type === 'assignment' && parent.childForFieldName('right')?.id === value.id && !parent.childForFieldName('type')) {
          const left = parent.childForFieldName('left');
          const scope = ctx.scope();
          if (left?.type !== 'identifier' || (scope.kind !== 'def' && scope.kind !== 'async-def')) return;
          const uses = identifiersNamed(scope.node, left.text).filter((use) => use.id !== left.id);
          if (checksTasksAfter(ctx, node)) return;
          if (uses.length === 0) {
            ctx.report({ node, messageId: 'unused', data: { name: left.text } });
            return;
          }
          const verdict = worst(uses.map((use) => classify(ctx, use)));
          if (verdict !== 'handled') ctx.report({ node, messageId: verdict, data: { name: left.text } });
          return;
        }
        const iterated = iteration(ctx, value);
        if (iterated && iterated !== 'handled') ctx.report({ node, messageId: iterated, data: { name: 'the results' } });
      },
    };
  },
};

/** A call that starts work: a coroutine call (`fetch(u)`), or a task made of one (`create_task(fetch(u))`). */
function isWorkCall(node: SyntaxNode | null | undefined): boolean {
  return node !== null && node !== undefined && unparenthesize(node).type === 'call';
}

/**
 * Every awaitable the gather waits on is work this function starts: a call written in the gather
 * (`gather(a(), b())`, `gather(*(f(x) for x in xs))`, `gather(*[...])`), or held by a local of this
 * function only ever bound to such calls (a comprehension or literal of calls, a list that only gets
 * calls appended, a task made here). Tasks held by a parameter, an attribute or a helper's result
 * were started elsewhere, by an owner that deals with their failures.
 */
function startsItsWork(ctx: RuleContext, gather: SyntaxNode): boolean {
  return everyGathered(ctx, gather, isWorkCall);
}

/**
 * Whether every awaitable the gather waits on passes `test`: each argument, the items of a splatted
 * comprehension or literal, or of a local of the function only ever bound to such collections and
 * grown only by `append`/`add` (or `extend` with a comprehension or literal) of items that pass. A
 * single argument may also be a local only ever bound to an awaitable that passes.
 */
function everyGathered(ctx: RuleContext, gather: SyntaxNode, test: (awaitable: SyntaxNode) => boolean): boolean {
  const args = (gather.childForFieldName('arguments')?.namedChildren ?? []).filter((arg) => arg.type !== 'keyword_argument' && arg.type !== 'comment');
  if (args.length === 0) return false;
  const scope = ctx.scope();
  const itemsOf = (collection: SyntaxNode): SyntaxNode[] | null => {
    const value = unparenthesize(collection);
    if (COMPREHENSIONS.has(value.type)) {
      const body = value.childForFieldName('body');
      return body ? [body] : null;
    }
    return value.type === 'list' || value.type === 'tuple' || value.type === 'set' ? value.namedChildren : null;
  };
  // What a local of this function is ever assigned; null for anything else (a parameter, a global).
  const valuesOf = (name: SyntaxNode): SyntaxNode[] | null => {
    if (name.type !== 'identifier' || (scope.kind !== 'def' && scope.kind !== 'async-def')) return null;
    const found = ctx.lookup(name.text);
    if (!found || found.scope.node.id !== scope.node.id || found.bindings.length === 0) return null;
    const values = found.bindings.map((binding) => (binding.kind === 'assign' && binding.value ? unparenthesize(binding.value) : null));
    return values.every((value) => value !== null) ? (values as SyntaxNode[]) : null;
  };
  return args.every((arg) => {
    if (arg.type !== 'list_splat') return test(arg) || (valuesOf(unparenthesize(arg))?.every(test) ?? false);
    const inner = arg.namedChild(0) ? unparenthesize(arg.namedChild(0)!) : null;
    if (!inner) return false;
    const written = itemsOf(inner);
    if (written) return written.every(test);
    const values = valuesOf(inner);
    if (!values) return false;
    const gathered: SyntaxNode[] = [];
    for (const value of values) {
      const items = itemsOf(value);
      if (!items) return false;
      gathered.push(...items);
    }
    const growers = callsIn(scope.node, (call) => {
      const method = methodCall(call);
      return method !== null && ['append', 'add', 'extend'].includes(method.method) && method.receiver.type === 'identifier' && method.receiver.text === inner.text;
    });
    for (const call of growers) {
      const added = call.childForFieldName('arguments')?.namedChildren[0];
      const items = !added ? null : methodCall(call)!.method === 'extend' ? itemsOf(added) : [added];
      if (!items) return false;
      gathered.push(...items);
    }
    return gathered.length > 0 && gathered.every(test);
  });
}

/**
 * What the code does with the result list (or an item of it) at `expression`. Anything not known
 * to drop the exceptions counts as handled: silence beats a guess.
 */
function classify(ctx: RuleContext, expression: SyntaxNode, depth = 0): Use {
  if (depth > 6) return 'handled';
  let node = expression;
  node = parenthesized(node);
  const parent = node.parent;
  if (!parent) return 'handled';
  switch (parent.type) {
    case 'argument_list': {
      const call = parent.parent;
      const callee = call?.type === 'call' ? call.childForFieldName('function') : null;
      // `len(results)` measures the list; nothing looks at what is in it.
      if (callee?.type === 'identifier' && callee.text === 'len' && isBuiltin(ctx, 'len')) return 'unchecked';
      return 'handled';
    }
    case 'subscript':
      // `results[0]`: an item, classified by what is done with it; `x[results]` is a hand-over.
      return parent.childForFieldName('value')?.id === node.id ? classify(ctx, parent, depth + 1) : 'handled';
    case 'attribute':
      // `results[0].status`, `results.count(None)`: used as data, never checked.
      return parent.childForFieldName('object')?.id === node.id ? 'unchecked' : 'handled';
    case 'for_statement':
    case 'for_in_clause':
      return parent.childForFieldName('right')?.id === node.id ? (iteration(ctx, node) ?? 'handled') : 'handled';
    default:
      return 'handled';
  }
}

/**
 * `for r in results: ...` / `[... for r in results ...]`: handled when the loop checks an item with
 * `isinstance`, or hands it over (a call, a `raise`, a `return`); `filtered` for a comprehension that
 * only drops the exceptions; null when `expression` is not iterated.
 */
function iteration(ctx: RuleContext, expression: SyntaxNode): Use | null {
  const loop = expression.parent;
  if (!loop || loop.childForFieldName('right')?.id !== expression.id) return null;
  const target = loop.childForFieldName('left');
  if (target?.type !== 'identifier') return 'handled';
  const name = target.text;
  if (loop.type === 'for_statement') {
    const body = loop.childForFieldName('body');
    if (!body) return 'handled';
    return itemUses(ctx, body, name);
  }
  if (loop.type !== 'for_in_clause') return null;
  const comprehension = loop.parent;
  if (!comprehension || !COMPREHENSIONS.has(comprehension.type)) return 'handled';
  const clauses = comprehension.namedChildren.filter((c) => c.type === 'for_in_clause');
  if (clauses.length !== 1) return 'handled';
  // `[r for r in results if not isinstance(r, Exception)]`: the exceptions are dropped on purpose
  // and never seen again.
  const filters = comprehension.namedChildren.filter((c) => c.type === 'if_clause');
  const body = comprehension.childForFieldName('body');
  // Whatever the body does, it only sees the results that are not exceptions.
  if (filters.length === 1 && body && droppingFilter(ctx, filters[0]!, name)) return 'filtered';
  const uses = [body, ...filters].filter((n): n is SyntaxNode => n !== null).map((n) => itemUses(ctx, n, name));
  return worst(uses);
}

/** `if not isinstance(r, Exception)` / `(Exception, BaseException)`. */
function droppingFilter(ctx: RuleContext, clause: SyntaxNode, name: string): boolean {
  const condition = clause.namedChild(0);
  if (condition?.type !== 'not_operator') return false;
  const test = condition.childForFieldName('argument');
  if (!test || !isIsinstanceOf(ctx, unparenthesize(test), name)) return false;
  const args = unparenthesize(test).childForFieldName('arguments')?.namedChildren ?? [];
  const classes = args[1] ? (unparenthesize(args[1]).type === 'tuple' ? unparenthesize(args[1]).namedChildren : [args[1]]) : [];
  return classes.length > 0 && classes.every((c) => EXCEPTION_CLASSES.has(ctx.resolveName(c) ?? ''));
}

function isIsinstanceOf(ctx: RuleContext, call: SyntaxNode, name: string): boolean {
  if (call.type !== 'call') return false;
  const callee = call.childForFieldName('function');
  if (callee?.type !== 'identifier' || callee.text !== 'isinstance' || !isBuiltin(ctx, 'isinstance')) return false;
  const first = call.childForFieldName('arguments')?.namedChildren[0];
  return first !== undefined && unparenthesize(first).type === 'identifier' && unparenthesize(first).text === name;
}

/** How the items named `name` under `node` are used: an isinstance check or a hand-over handles them. */
function itemUses(ctx: RuleContext, node: SyntaxNode, name: string): Use {
  const uses: Use[] = [];
  for (const use of identifiersNamed(node, name)) {
    let expression = use;
    expression = parenthesized(expression);
    const args = expression.parent;
    const call = args?.type === 'argument_list' ? args.parent : null;
    if (call && isIsinstanceOf(ctx, call, name)) return 'handled';
    if (args?.type === 'raise_statement' || args?.type === 'return_statement' || args?.type === 'yield') return 'handled';
    uses.push(classifyItem(ctx, expression));
  }
  return uses.length === 0 ? 'unchecked' : worst(uses);
}

/** An item: like the list, except that being iterated again means nothing. */
function classifyItem(ctx: RuleContext, expression: SyntaxNode): Use {
  const parent = expression.parent;
  if (parent && (parent.type === 'for_statement' || parent.type === 'for_in_clause')) return 'handled';
  // Other statements of the item (`r["id"]`, `r.status`): data use.
  return classify(ctx, expression);
}

/**
 * `await gather(*tasks, return_exceptions=True)` where the function cancelled the same tasks
 * before (`for t in tasks: t.cancel()`, `tasks[i].cancel()`, `[t.cancel() for t in tasks]`), or
 * named tasks cancelled before (`self._reader.cancel()` then `gather(self._reader, ...)`), or a
 * list built by appending tasks the same loop cancels or throws into (`t.throw(exc)`): the
 * shutdown idiom, whose results are the exceptions the function put there itself.
 */
function waitsForCancelledTasks(ctx: RuleContext, gather: SyntaxNode): boolean {
  const scope = ctx.scope();
  if (scope.kind !== 'def' && scope.kind !== 'async-def') return false;
  const args = (gather.childForFieldName('arguments')?.namedChildren ?? []).filter((arg) => arg.type !== 'keyword_argument' && arg.type !== 'comment');
  if (args.length === 0) return false;
  const before = scope.node.text.slice(0, gather.startIndex - scope.node.startIndex);
  const escape = (name: string) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return args.every((arg) => {
    if (arg.type !== 'list_splat') {
      // `self._writer_task.cancel()` earlier in the function, then `gather(self._writer_task, ...)`.
      const name = dottedName(unparenthesize(arg));
      return name !== null && new RegExp(`(^|[^\\w.])${escape(name)}\\.cancel\\(`).test(before);
    }
    const inner = arg.namedChild(0);
    if (inner?.type !== 'identifier') return false;
    const name = inner.text;
    const escaped = escape(name);
    // A loop (or comprehension) over the name whose target is cancelled, or an item of it cancelled.
    const loop = new RegExp(`for\\s+(\\w+)\\s+in\\s+${escaped}\\b[\\s\\S]*?\\b\\1\\.cancel\\(`);
    const comprehension = new RegExp(`\\b(\\w+)\\.cancel\\(\\)\\s+for\\s+\\1\\s+in\\s+${escaped}\\b`);
    return (
      loop.test(before) ||
      comprehension.test(before) ||
      new RegExp(`\\b${escaped}\\[[^\\]]*\\]\\.cancel\\(`).test(before) ||
      appendsInterrupted(ctx, scope.node, name, gather.startIndex)
    );
  });
}

/** What interrupts a task from outside: the exception it then ends with is the caller's own. */
const INTERRUPTS = new Set(['cancel', 'throw']);

/**
 * `tasks = []` and every `tasks.append(t)` (before `before`) sits in a loop that also calls
 * `t.cancel()` or `t.throw(exc)`: each task gathered was interrupted by this function.
 */
function appendsInterrupted(ctx: RuleContext, scope: SyntaxNode, name: string, before: number): boolean {
  const found = ctx.lookup(name);
  if (!found || found.scope.node.id !== scope.id) return false;
  if (!found.bindings.every((b) => b.kind === 'assign' && b.value && unparenthesize(b.value).type === 'list' && unparenthesize(b.value).namedChildCount === 0)) return false;
  const appends = callsIn(scope, (call) => {
    const method = methodCall(call);
    return method?.method === 'append' && method.receiver.type === 'identifier' && method.receiver.text === name;
  });
  if (appends.length === 0 || appends.some((call) => call.startIndex > before)) return false;
  return appends.every((call) => {
    const item = call.childForFieldName('arguments')?.namedChildren[0];
    if (item?.type !== 'identifier') return false;
    let loop = call.parent;
    while (loop && loop.type !== 'for_statement' && loop.type !== 'while_statement' && !NESTED_SCOPES.has(loop.type)) loop = loop.parent;
    if (!loop || NESTED_SCOPES.has(loop.type)) return false;
    return (
      callsIn(loop, (c) => {
        const method = methodCall(c);
        return method !== null && INTERRUPTS.has(method.method) && method.receiver.type === 'identifier' && method.receiver.text === item.text;
      }).length > 0
    );
  });
}

/** Calls under `root` (not in nested defs, lambdas or classes) that `test` accepts. */
function callsIn(root: SyntaxNode, test: (call: SyntaxNode) => boolean): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  const start = NESTED_SCOPES.has(root.type) ? root.childForFieldName('body') : root;
  const stack = start ? [start] : [];
  while (stack.length) {
    const node = stack.pop()!;
    if (node.type === 'call' && test(node)) found.push(node);
    if (NESTED_SCOPES.has(node.type)) continue;
    for (const child of node.namedChildren) stack.push(child);
  }
  return found;
}

/**
 * The gather statement sits in an `except` clause that re-raises after it (`raise`, or `raise e`
 * of `except ... as e`): cleanup on an error path, where the original error propagates and a
 * secondary error of the cleanup must not replace it.
 */
function reraisesAfter(statement: SyntaxNode): boolean {
  let clause: SyntaxNode | null = statement.parent;
  while (clause && clause.type !== 'except_clause' && clause.type !== 'except_group_clause' && !NESTED_SCOPES.has(clause.type)) clause = clause.parent;
  if (!clause || NESTED_SCOPES.has(clause.type)) return false;
  const { alias } = exceptClauseParts(clause);
  const stack = [...clause.namedChildren];
  while (stack.length) {
    const node = stack.pop()!;
    if (node.type === 'raise_statement' && node.startIndex > statement.endIndex) {
      const raised = node.namedChild(0);
      if (!raised || (alias !== null && raised.type === 'identifier' && raised.text === alias)) return true;
    }
    if (NESTED_SCOPES.has(node.type)) continue;
    stack.push(...node.namedChildren);
  }
  return false;
}

/** Methods that release a resource the code holds: closing it, leaving its context. */
const TEARDOWN = new Set(['close', 'aclose', 'wait_closed', 'disconnect', 'dispose', 'unsubscribe', '__aexit__']);

/** `close`, and the same under a private or Home Assistant-style name (`_close`, `async_unsubscribe`). */
function isTeardownName(name: string | undefined): boolean {
  return name !== undefined && (TEARDOWN.has(name) || TEARDOWN.has(name.replace(/^_+(?!_)/, '').replace(/^async_/, '')));
}
/** Task wrappers (`asyncio.create_task`, `loop.create_task`, a project's own `create_task(fn)`). */
const SPAWN_NAMES = new Set(['create_task', 'ensure_future']);

/** `conn.close()`, `create_task(conn.close())`, `create_task(item.close)` (a wrapper that calls it). */
function isTeardown(node: SyntaxNode, wrapped = false): boolean {
  const inner = unparenthesize(node);
  if (wrapped && inner.type === 'attribute') return isTeardownName(inner.childForFieldName('attribute')?.text);
  if (inner.type !== 'call') return false;
  const method = methodCall(inner);
  if (method && isTeardownName(method.method)) return true;
  if (method && (method.method === 'wait' || method.method === 'join') && stoppedJustBefore(inner, method.receiver.text)) return true;
  const callee = dottedName(inner.childForFieldName('function'));
  const last = callee?.slice(callee.lastIndexOf('.') + 1) ?? '';
  const first = inner.childForFieldName('arguments')?.namedChildren[0];
  return !wrapped && SPAWN_NAMES.has(last) && first !== undefined && first.type !== 'keyword_argument' && isTeardown(first, true);
}

/** Methods that tell a worker or stream to stop, whose `wait()` / `join()` then waits for it to end. */
const STOP = /^(stop\w*|cancel|close|shutdown)$/;

/**
 * `stream.stop_streaming()` and then `stream.wait()` in the same block (aiohttp-sse's graceful
 * shutdown): the wait is for something just told to stop, a teardown like a close.
 */
function stoppedJustBefore(wait: SyntaxNode, receiver: string): boolean {
  let statement: SyntaxNode | null = wait;
  while (statement && statement.parent?.type !== 'block' && statement.parent?.type !== 'module') statement = statement.parent;
  for (let before = statement?.previousNamedSibling ?? null; before; before = before.previousNamedSibling) {
    const call = before.type === 'expression_statement' ? before.namedChild(0) : null;
    const stop = call?.type === 'call' ? methodCall(call) : null;
    if (stop && stop.receiver.text === receiver && STOP.test(stop.method)) return true;
  }
  return false;
}

/**
 * Every awaitable gathered closes a resource (`gather(conn.close(e), ...)`, `gather(*(c.close()
 * for c in conns), ...)`, or a list that only ever gets `create_task(item.close)` appended): a
 * best-effort teardown, where one failing close must not stop the others and has nothing to report.
 */
function gathersTeardown(ctx: RuleContext, gather: SyntaxNode): boolean {
  return everyGathered(ctx, gather, (awaitable) => isTeardown(awaitable));
}

/** What a task or future answers about its own failure (`cancelled()` alone does not read it). */
const OUTCOME = new Set(['exception', 'result']);

/**
 * `await gather(*tasks, return_exceptions=True)` where the function that holds `tasks` later walks
 * the same tasks and asks each for its outcome (`for t in tasks: if t.exception() ...`): the
 * exceptions are read from the tasks themselves, not from gather's result list.
 */
function checksTasksAfter(ctx: RuleContext, gather: SyntaxNode): boolean {
  const args = gather.childForFieldName('arguments')?.namedChildren ?? [];
  const splats = args.filter((arg) => arg.type === 'list_splat');
  if (splats.length === 0 || splats.some((arg) => arg.namedChild(0)?.type !== 'identifier')) return false;
  return splats.every((arg) => {
    const name = arg.namedChild(0)!.text;
    const found = ctx.lookup(name);
    if (!found || (found.scope.kind !== 'def' && found.scope.kind !== 'async-def')) return false;
    const body = found.scope.node.childForFieldName('body');
    return body !== null && loopsAfter(body, name, gather.endIndex).some(({ loop, target }) => asksOutcome(loop, target));
  });
}

/** `for t in <name>` loops and comprehension clauses of `root` that start after `after` (not in nested scopes). */
function loopsAfter(root: SyntaxNode, name: string, after: number): { loop: SyntaxNode; target: string }[] {
  const found: { loop: SyntaxNode; target: string }[] = [];
  const stack = [root];
  while (stack.length) {
    const node = stack.pop()!;
    if (node.type === 'for_statement' || node.type === 'for_in_clause') {
      const right = node.childForFieldName('right');
      const left = node.childForFieldName('left');
      if (node.startIndex >= after && right?.type === 'identifier' && right.text === name && left?.type === 'identifier') {
        // The comprehension around a clause holds the uses; a for statement holds them itself.
        found.push({ loop: node.type === 'for_in_clause' ? node.parent ?? node : node, target: left.text });
      }
    }
    if (NESTED_SCOPES.has(node.type)) continue;
    for (const child of node.namedChildren) stack.push(child);
  }
  return found;
}

/** `<target>.exception()` / `.result()` under `loop`. */
function asksOutcome(loop: SyntaxNode, target: string): boolean {
  return identifiersNamed(loop, target).some((use) => {
    const attribute = use.parent;
    if (attribute?.type !== 'attribute' || attribute.childForFieldName('object')?.id !== use.id) return false;
    const method = attribute.childForFieldName('attribute')?.text ?? '';
    return OUTCOME.has(method) && attribute.parent?.type === 'call' && attribute.parent.childForFieldName('function')?.id === attribute.id;
  });
}
