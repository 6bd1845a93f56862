import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { calleeText, definitionsOf, identifierCounts, isGenerator, methodCall, positionalArguments, spawnsTask, statementCall, unparenthesize } from './util.js';

/**
 * `asyncio.ensure_future(loop.run_in_executor(...))` (or of `asyncio.wrap_future(...)`): the argument
 * is already a future for work running in a thread pool, not a coroutine, and `ensure_future`
 * returns it as it is. No task is created: the work finishes in the pool whatever happens to the
 * reference, and an exception nobody retrieved is still logged.
 */
function wrapsExecutorFuture(ctx: RuleContext, call: SyntaxNode): boolean {
  if (ctx.resolveCallee(call) !== 'asyncio.ensure_future') return false;
  const first = positionalArguments(call)[0];
  const argument = first ? unparenthesize(first) : null;
  if (argument?.type !== 'call') return false;
  return methodCall(argument)?.method === 'run_in_executor' || ctx.resolveCallee(argument) === 'asyncio.wrap_future' || callsSyncDef(ctx, argument);
}

/**
 * `ensure_future(self._reconnect())` where `_reconnect` is a plain `def` of this class or module
 * (i3ipc keeps the future it returns on the object): no coroutine, so no new task; `ensure_future`
 * hands the future back as it is, and whoever made it keeps it.
 */
function callsSyncDef(ctx: RuleContext, call: SyntaxNode): boolean {
  const definitions = definitionsOf(ctx, call);
  return definitions !== null && definitions.every((d) => d.child(0)?.type !== 'async' && !isGenerator(d) && d.parent?.type !== 'decorated_definition');
}

/** A call that starts a task whose reference is the call's result. */
function startsTask(ctx: RuleContext, call: SyntaxNode): boolean {
  return spawnsTask(ctx, call) && !wrapsExecutorFuture(ctx, call);
}

export const danglingTask: Rule = {
  meta: {
    id: 'AG202',
    slug: 'dangling-task',
    aliases: ['RUF006', 'ASYNC300', 'S7502'],
    family: 'coroutines',
    severity: 'error',
    title: 'Task created and not kept',
    fix: 'Keep the task (a set of background tasks with `add_done_callback(tasks.discard)`, or an attribute) and await or cancel it, or start it in an `asyncio.TaskGroup` (Python 3.11+).',
    messages: {
      discarded: 'The task `{callee}()` starts is dropped: the loop keeps only a weak reference, so it can be garbage-collected mid-run and its exception is never seen',
      unused: '`{name}` holds the task `{callee}()` starts but is never used: the task can be garbage-collected mid-run and its exception is never seen',
    },
    docs: {
      what: "Flags `asyncio.create_task(...)`, `asyncio.ensure_future(...)` and an event loop's `create_task(...)` whose result is thrown away: a bare statement, or a local variable (annotated or not) that is never used again in the function. An event loop is recognised by what the file binds it to (`asyncio.get_running_loop()`, `get_event_loop()`, an `AbstractEventLoop` annotation, a `self._loop` assigned one of these) or, when nothing is known, by its name (`loop`, `self.loop`, discord.py's `self.bot.loop`). `TaskGroup.create_task` is not flagged (the group keeps its tasks), nor is a task stored on an attribute, in a collection, passed to a call or returned. A task kept in a local that is used but never awaited is AG203's, not this rule's. Not flagged either: `asyncio.ensure_future(loop.run_in_executor(...))` (or of `asyncio.wrap_future(...)`), which wraps a future for work in a thread pool, not a coroutine: `ensure_future` returns that future as it is, the work finishes in the pool whatever happens to the reference, and an unretrieved exception is still logged; nor `ensure_future(self._reconnect())` where `_reconnect` is a plain `def` of the class or module, which returns a future, not a coroutine, so no task is made.",
      why: 'The event loop keeps only a weak reference to a task. If nothing else holds it, the garbage collector may destroy the task before it finishes ("Task was destroyed but it is pending!"), and when it fails, its exception is logged at best and never reaches the code that started it. Fire-and-forget work then vanishes intermittently, which is the hardest kind of bug to trace.',
      example: [
        'import asyncio',
        '',
        '',
        'async def handle_request(request):',
        '    asyncio.create_task(log_request(request))',
        '    return await process_request(request)',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        'background_tasks = set()',
        '',
        '',
        'async def handle_request(request):',
        '    task = asyncio.create_task(log_request(request))',
        '    background_tasks.add(task)',
        '    task.add_done_callback(background_tasks.discard)',
        '    return await process_request(request)',
      ].join('\n'),
    },
    cites: [
      { guide: 'S0', section: 'Step 2 — Pick the concurrency primitive' },
      { guide: 'S0', section: 'Step 4 — Cancellation discipline' },
      { guide: 'S0', section: 'Gotcha' },
      { guide: 'S0', section: 'Do NOT' },
      { guide: 'S2', section: 'Critical Warnings' },
    ],
  },
  create(ctx) {
    const counts = new Map<number, Map<string, number>>();
    const usesIn = (fn: SyntaxNode) => {
      let found = counts.get(fn.id);
      if (!found) {
        found = identifierCounts(fn);
        counts.set(fn.id, found);
      }
      return found;
    };

    return {
      expression_statement(node) {
        const call = statementCall(node);
        if (call && startsTask(ctx, call)) ctx.report({ node: call, messageId: 'discarded', data: { callee: calleeText(call) } });
      },
      assignment(node) {
        const scope = ctx.scope();
        if (scope.kind !== 'def' && scope.kind !== 'async-def') return;
        // `a = task = ...`: the inner assignment is not a statement of its own, and `a` keeps the task.
        if (node.parent?.type !== 'expression_statement') return;
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        // `task = ...` and `task: asyncio.Task = ...`; chained, tuple and attribute targets keep it elsewhere.
        if (left?.type !== 'identifier' || right?.type !== 'call') return;
        if (!startsTask(ctx, right)) return;
        // The target itself is the one occurrence: any other (a read, a `nonlocal`, a closure) counts as a use.
        if ((usesIn(scope.node).get(left.text) ?? 0) > 1) return;
        ctx.report({ node: right, messageId: 'unused', data: { name: left.text, callee: calleeText(right) } });
      },
    };
  },
};
