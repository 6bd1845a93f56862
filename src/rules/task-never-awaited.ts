import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { calleeText, occurrencesIn, spawnsTask } from './util.js';

/**
 * Task methods that only look at the task: calling them neither waits for it, nor cancels it, nor
 * retrieves its exception. Anything else done with the task (`await`, `cancel()`, `result()`,
 * `exception()`, `add_done_callback()`, passing it to a call, returning, storing, aliasing it)
 * counts as handling it.
 */
const INSPECTING = new Set([
  'done',
  'cancelled',
  'cancelling',
  'get_name',
  'set_name',
  'get_coro',
  'get_context',
  'get_loop',
  'get_stack',
  'print_stack',
]);

/** How one occurrence of the task's name (other than the assignment) treats the task. */
function inspectsOnly(occurrence: SyntaxNode): boolean {
  const parent = occurrence.parent;
  if (!parent) return false;
  // `del task`: drops the reference, handles nothing.
  if (parent.type === 'delete_statement') return true;
  if (parent.type !== 'attribute' || parent.childForFieldName('object')?.id !== occurrence.id) return false;
  const method = parent.childForFieldName('attribute')?.text ?? '';
  const call = parent.parent;
  return INSPECTING.has(method) && call?.type === 'call' && call.childForFieldName('function')?.id === parent.id;
}

/** The single binding of `name` in the function is this assignment (no re-binding, no global). */
function boundOnce(ctx: RuleContext, scope: SyntaxNode, name: string): boolean {
  const bindings = ctx.imports.bindingsIn(scope).get(name) ?? [];
  return bindings.length === 1 && bindings[0]!.kind === 'assign';
}

export const taskNeverAwaited: Rule = {
  meta: {
    id: 'AG203',
    slug: 'task-never-awaited',
    aliases: [],
    family: 'coroutines',
    severity: 'warning',
    title: 'Task kept in a local but never awaited',
    fix: 'Await the task (or gather it, cancel it, return it, or store it in a set with `add_done_callback(tasks.discard)`) before the function ends.',
    messages: {
      inspected:
        '`{name}` holds the task `{callee}()` starts, but the function only inspects it and never awaits, cancels, returns or hands it on: its exception is never retrieved, and once the function returns an unfinished task can be garbage-collected mid-run',
    },
    docs: {
      what: "Flags a local variable holding a task (`t = asyncio.create_task(...)`, `asyncio.ensure_future(...)`, an event loop's `create_task(...)`) that the function uses only to look at it (`t.done()`, `t.get_name()`, `t.cancelled()`, `del t`) and never awaits, gathers, cancels, returns, yields or hands on before it ends. Handing on is taken broadly so the rule stays quiet when the task goes anywhere: any `await`, passing the task to any call (`gather`, `wait`, `wait_for`, `shield`, `tasks.add`, `tasks.append`, `log(t)`), `t.cancel()`, `t.result()`, `t.exception()`, `t.add_done_callback(...)`, `return t`, `yield t`, `d[k] = t`, `self.task = t`, another name for it, or a use inside a nested function. A local that is never used at all is AG202's (dangling-task); a task started in a TaskGroup is never flagged.",
      why: 'While the function runs, its local keeps the task alive; when it returns, the last strong reference is gone. The event loop holds tasks only weakly, so an unfinished task can be garbage-collected mid-run ("Task was destroyed but it is pending!"), and when it fails nobody retrieves its exception: it is logged at best, at garbage collection, far from the code that started it. Checking `t.done()` does not change that: a task that was not done yet is still dropped.',
      example: [
        'import asyncio',
        'import logging',
        '',
        'log = logging.getLogger(__name__)',
        '',
        '',
        'async def refresh_cache(key):',
        '    await asyncio.sleep(0)',
        '',
        '',
        'async def handle(key):',
        '    task = asyncio.create_task(refresh_cache(key))',
        "    log.info('refreshing %s in %s', key, task.get_name())",
        "    return {'key': key}",
      ].join('\n'),
      useInstead: [
        'import asyncio',
        'import logging',
        '',
        'log = logging.getLogger(__name__)',
        'background_tasks = set()',
        '',
        '',
        'async def refresh_cache(key):',
        '    await asyncio.sleep(0)',
        '',
        '',
        'async def handle(key):',
        '    task = asyncio.create_task(refresh_cache(key))',
        "    log.info('refreshing %s in %s', key, task.get_name())",
        '    background_tasks.add(task)',
        '    task.add_done_callback(background_tasks.discard)',
        "    return {'key': key}",
      ].join('\n'),
    },
    cites: [
      { guide: 'S0', section: 'Gotcha' },
      { guide: 'S1', section: 'Troubleshooting Quick Guide' },
    ],
  },
  create(ctx) {
    return {
      assignment(node) {
        if (!ctx.inAsyncCode()) return;
        const scope = ctx.scope().node;
        if (node.parent?.type !== 'expression_statement') return;
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        if (left?.type !== 'identifier' || right?.type !== 'call' || !spawnsTask(ctx, right)) return;
        if (!boundOnce(ctx, scope, left.text)) return;
        const uses = occurrencesIn(scope, left.text).filter((o) => o.node.id !== left.id);
        // No use at all is AG202's; a use in a nested function may await it: silence.
        if (uses.length === 0 || uses.some((o) => o.nested || !inspectsOnly(o.node))) return;
        ctx.report({ node: right, messageId: 'inspected', data: { name: left.text, callee: calleeText(right) } });
      },
    };
  },
};
