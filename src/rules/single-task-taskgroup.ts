import type { SyntaxNode } from '../python/parser.js';
import { taskGroupsOf } from './control-flow-in-taskgroup.js';
import type { Rule } from './types.js';
import { identifiersNamed, methodCall, shorten, suspends } from './util.js';




export const singleTaskTaskgroup: Rule = {
  meta: {
    id: 'AG405',
    slug: 'single-task-taskgroup',
    aliases: ['ASYNC112', 'S7513'],
    family: 'concurrency',
    severity: 'info',
    title: 'TaskGroup that runs a single task',
    fix: 'Await the coroutine directly (`result = await work()`): a TaskGroup only pays off when something runs alongside the task.',
    messages: {
      single: 'This TaskGroup only runs `{coroutine}` and nothing alongside it: awaiting it directly does the same, without a task and an ExceptionGroup',
    },
    docs: {
      what: "Flags `async with asyncio.TaskGroup() as tg:` whose body starts exactly one task (`tg.create_task(coro)` once, as a statement of the body itself, not in a loop or a branch) and never awaits after starting it, so the task is all the group runs. Not flagged: two tasks, a task started in a loop or under an `if`, a body that awaits something else after starting the task (that is real concurrency), a group handed on (`worker(tg)`, a closure, an attribute), a task kept in a name the body uses again, and `async with` on several context managers.",
      why: "A task started in a TaskGroup only begins to run when the body next suspends, here at the end of the `async with`, where the group waits for it: the code runs exactly as `await coro` would, with the cost of a task and with any exception wrapped in an `ExceptionGroup` that callers must unpack with `except*`. It usually means the concurrency the author had in mind (a second task, a loop) is missing.",
      example: [
        'import asyncio',
        '',
        '',
        'async def refresh(cache, key, load):',
        '    async with asyncio.TaskGroup() as tg:',
        '        task = tg.create_task(load(key))',
        '    cache[key] = task.result()',
      ].join('\n'),
      useInstead: ['async def refresh(cache, key, load):', '    cache[key] = await load(key)'].join('\n'),
    },
    cites: [{ guide: 'S2', section: 'Pattern 3: TaskGroup (Python 3.11+)' }],
  },
  create(ctx) {
    return {
      with_statement(node) {
        if (!ctx.inAsyncCode()) return;
        const clause = node.namedChildren.find((c) => c.type === 'with_clause');
        if (clause?.namedChildren.filter((c) => c.type === 'with_item').length !== 1) return;
        const [group] = taskGroupsOf(ctx, node);
        if (!group?.fresh || !group.name) return;
        const body = node.childForFieldName('body');
        if (!body) return;
        // The group is used exactly once, as `tg.create_task(...)`.
        const uses = identifiersNamed(body, group.name);
        if (uses.length !== 1) return;
        const callee = uses[0]!.parent;
        const call = callee?.parent;
        if (callee?.type !== 'attribute' || call?.type !== 'call' || call.childForFieldName('function')?.id !== callee.id) return;
        if (methodCall(call)?.method !== 'create_task' || callee.childForFieldName('object')?.id !== uses[0]!.id) return;
        const args = call.childForFieldName('arguments')?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
        const positional = args.filter((a) => a.type !== 'keyword_argument');
        const keywords = args.filter((a) => a.type === 'keyword_argument');
        if (positional.length !== 1 || positional[0]!.type === 'list_splat' || keywords.some((k) => k.childForFieldName('name')?.text !== 'name')) return;
        // ... in a statement of the body itself: `tg.create_task(c)` or `t = tg.create_task(c)`.
        let statement: SyntaxNode | null = call.parent;
        let kept: string | null = null;
        if (statement?.type === 'assignment') {
          const left = statement.childForFieldName('left');
          if (left?.type !== 'identifier' || statement.childForFieldName('right')?.id !== call.id) return;
          kept = left.text;
          statement = statement.parent;
        }
        if (statement?.type !== 'expression_statement' || statement.parent?.id !== body.id) return;
        if (statement.namedChildren.filter((c) => c.type !== 'comment').length !== 1) return;
        // A task kept in a name the body uses again may be cancelled, awaited or handed on there.
        if (kept && identifiersNamed(body, kept).length !== 1) return;
        // Nothing after it suspends: the task is all the group runs.
        for (const later of body.namedChildren) {
          if (later.startIndex >= statement.endIndex && suspends(later)) return;
        }
        ctx.report({ node: call, messageId: 'single', data: { coroutine: shorten(positional[0]!.text) } });
      },
    };
  },
};
