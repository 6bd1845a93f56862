import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { identifiersNamed, NESTED_SCOPES, TASK_GROUP, typeOf } from './util.js';

/** The TaskGroup an `async with` item enters. */
export interface EnteredTaskGroup {
  /** `async with asyncio.TaskGroup() as tg`: a group made here, empty on entry. */
  fresh: boolean;
  /** The `as` name, when the item binds a plain name. */
  name: string | null;
}


/** True for `async with` / `async for`. */
export function isAsyncStatement(node: SyntaxNode): boolean {
  return node.child(0)?.type === 'async';
}

/**
 * The asyncio TaskGroups an `async with` statement enters: `asyncio.TaskGroup()` however imported,
 * or a value light inference knows is one (`async with self._tg:`). Trio nurseries and anyio task
 * groups are out of scope.
 */
export function taskGroupsOf(ctx: RuleContext, statement: SyntaxNode): EnteredTaskGroup[] {
  if (statement.type !== 'with_statement' || !isAsyncStatement(statement)) return [];
  const clause = statement.namedChildren.find((c) => c.type === 'with_clause');
  const groups: EnteredTaskGroup[] = [];
  for (const item of clause?.namedChildren ?? []) {
    if (item.type !== 'with_item') continue;
    let value = item.childForFieldName('value');
    let name: string | null = null;
    if (value?.type === 'as_pattern') {
      const target = value.childForFieldName('alias')?.namedChild(0);
      name = target?.type === 'identifier' ? target.text : null;
      value = value.namedChild(0);
    }
    if (!value) continue;
    if (value.type === 'call' && ctx.resolveCallee(value) === 'asyncio.TaskGroup') groups.push({ fresh: true, name });
    else if (value.type !== 'call' && typeOf(ctx, value) === TASK_GROUP) groups.push({ fresh: false, name });
  }
  return groups;
}


type Jump = 'return' | 'break' | 'continue';

const LOOPS = new Set(['for_statement', 'while_statement']);

export const controlFlowInTaskgroup: Rule = {
  meta: {
    id: 'AG404',
    slug: 'control-flow-in-taskgroup',
    aliases: ['ASYNC121', 'S7514'],
    family: 'concurrency',
    severity: 'warning',
    title: '`return` / `break` / `continue` inside a TaskGroup',
    fix: 'Keep the value in a variable and put the `return` / `break` / `continue` after the `async with` block, or cancel the tasks you no longer need first.',
    messages: {
      return: '`return` inside `async with TaskGroup()` does not return until every task the group started has finished',
      break: '`break` inside `async with TaskGroup()` does not leave the loop until every task the group started has finished',
      continue: '`continue` inside `async with TaskGroup()` does not start the next iteration until every task the group started has finished',
    },
    docs: {
      what: 'Flags `return`, `break` and `continue` lexically inside the body of `async with asyncio.TaskGroup() as tg:` (or `async with` on a value known to be a TaskGroup) once the group may hold tasks: after the body has used the group, or anywhere in a loop of the body that uses it. A `break` / `continue` that targets a loop inside the TaskGroup body, a statement in a nested `def` or `lambda`, and a `return` before the group could have any task (`if not items: return []` first thing in the body) are not flagged. Trio nurseries and anyio task groups are out of scope.',
      why: "Leaving the body of a TaskGroup runs its `__aexit__`, which waits for every task the group started. The `return` looks like an early exit but the function keeps running until the slowest task is done (forever, for a task that serves or polls), and if one of the tasks fails, the return value is dropped and an `ExceptionGroup` comes out instead. Code that reads as \"stop here\" quietly means \"wait for everything\".",
      example: [
        'import asyncio',
        '',
        '',
        'async def first_match(urls, fetch):',
        '    async with asyncio.TaskGroup() as tg:',
        '        tasks = [tg.create_task(fetch(url)) for url in urls]',
        '        for task in asyncio.as_completed(tasks):',
        '            page = await task',
        '            if page.ok:',
        '                return page',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'async def first_match(urls, fetch):',
        '    found = None',
        '    async with asyncio.TaskGroup() as tg:',
        '        tasks = [tg.create_task(fetch(url)) for url in urls]',
        '        for task in asyncio.as_completed(tasks):',
        '            page = await task',
        '            if page.ok:',
        '                found = page',
        '                for other in tasks:',
        '                    other.cancel()',
        '                break',
        '    return found',
      ].join('\n'),
    },
    cites: [{ guide: 'S2', section: 'Pattern 3: TaskGroup (Python 3.11+)' }],
  },
  create(ctx) {
    function check(node: SyntaxNode, jump: Jump): void {
      if (!ctx.inAsyncCode()) return;
      let child = node;
      let loop: SyntaxNode | null = null;
      for (let parent = node.parent; parent && !NESTED_SCOPES.has(parent.type); child = parent, parent = parent.parent) {
        if (LOOPS.has(parent.type) && child.type === 'block' && parent.childForFieldName('body')?.id === child.id) {
          // `break` / `continue` leave this loop only; a `return` still leaves everything around it.
          if (jump !== 'return') return;
          loop = parent;
        }
        if (parent.type !== 'with_statement' || child.type !== 'block') continue;
        const body = child;
        for (const group of taskGroupsOf(ctx, parent)) {
          if (group.fresh) {
            // An empty group waits for nothing: only once the body has used it (or may, on an
            // earlier turn of a loop inside the body) does leaving it wait.
            if (!group.name) continue;
            const uses = identifiersNamed(body, group.name);
            const started = uses.some(
              (use) => use.startIndex < node.startIndex || (loop !== null && use.startIndex >= loop.startIndex && use.endIndex <= loop.endIndex),
            );
            if (!started) continue;
          }
          ctx.report({ node, messageId: jump });
          return;
        }
      }
    }

    return {
      return_statement: (node) => check(node, 'return'),
      break_statement: (node) => check(node, 'break'),
      continue_statement: (node) => check(node, 'continue'),
    };
  },
};
