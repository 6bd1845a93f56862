import type { SyntaxNode } from '../python/parser.js';
import type { Rule, Suggestion } from './types.js';
import { calleeText, occurrencesIn, spawnsTask, unparenthesize } from './util.js';

/** The statement after `statement` in its block, comments skipped; null at the end of the block. */
function nextStatement(statement: SyntaxNode): SyntaxNode | null {
  let next = statement.nextNamedSibling;
  while (next?.type === 'comment') next = next.nextNamedSibling;
  return next;
}

/** Every `await` in `node`, nested functions and lambdas excluded (they do not run here). */
function awaitsIn(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  const stack = [node];
  while (stack.length) {
    const current = stack.pop()!;
    if (current.type === 'await') out.push(current);
    if (current.id !== node.id && (current.type === 'lambda' || current.type === 'function_definition')) continue;
    for (const child of current.namedChildren) stack.push(child);
  }
  return out;
}

/** Simple statements that may await the task (compound ones run more than one await). */
const SIMPLE = new Set(['expression_statement', 'return_statement']);

/**
 * The two statements rewritten as one: `indent + next`, with `await t` replaced by `await <coro>`.
 * Only when both sit alone on consecutive lines and the first carries no comment.
 */
function mergeSuggestion(lines: readonly string[], first: SyntaxNode, next: SyntaxNode, awaited: SyntaxNode, coroutine: SyntaxNode): Suggestion | null {
  const row = first.startPosition.row;
  if (first.endPosition.row !== row || next.startPosition.row !== row + 1 || next.endPosition.row !== row + 1) return null;
  if (coroutine.startPosition.row !== row || coroutine.endPosition.row !== row) return null;
  const firstLine = lines[row];
  const nextLine = lines[row + 1];
  if (firstLine === undefined || nextLine === undefined) return null;
  if (firstLine.slice(0, first.startPosition.column).trim() !== '' || firstLine.slice(first.endPosition.column).trim() !== '') return null;
  if (nextLine.slice(0, next.startPosition.column).trim() !== '') return null;
  const replaced = `${nextLine.slice(0, awaited.startPosition.column)}await ${coroutine.text}${nextLine.slice(awaited.endPosition.column)}`;
  return { line: row + 1, endLine: row + 2, replacement: `${firstLine.slice(0, first.startPosition.column)}${replaced.slice(next.startPosition.column)}` };
}

export const pointlessTask: Rule = {
  meta: {
    id: 'AG204',
    slug: 'pointless-task',
    aliases: [],
    family: 'coroutines',
    severity: 'info',
    title: 'Task created only to be awaited at once',
    fix: 'Await the coroutine directly: `await x()` instead of `t = asyncio.create_task(x())` followed by `await t`.',
    messages: {
      pointless:
        '`{name}` is awaited by the very next statement: nothing runs alongside the task, so `{callee}()` adds a task (and a copied context) for nothing; await the coroutine directly',
    },
    docs: {
      what: "Flags `t = asyncio.create_task(coro)` (or `ensure_future`, or an event loop's `create_task`) immediately followed by a statement that awaits `t` (`await t`, `r = await t`, `return await t`) and does nothing else that awaits, when `t` is used nowhere else in the function. Not flagged: any statement between the two (the task then runs alongside it, which is the point of a task), `await asyncio.wait_for(t, ...)` or `shield(t)`, the task also stored elsewhere (`self.task = t = ...`, `tasks.add(t)`), `t` used after the await (`t.result()`), and `TaskGroup.create_task`.",
      why: 'A task exists to run concurrently with something. Awaiting it right away runs nothing alongside it: the caller simply waits, exactly as `await coro` would, but pays for a Task object, a copy of the context, an extra trip through the event loop, and a less direct traceback. The pattern is usually copied from examples that "keep a reference" to avoid dropped tasks; it misleads readers into looking for concurrency that is not there. (The one behavioural difference: context variables the coroutine sets become visible to the caller when it is awaited directly, where a task runs in a copy of the context.)',
      example: [
        'import asyncio',
        '',
        '',
        'async def work():',
        '    await asyncio.sleep(0)',
        '',
        '',
        'async def good():',
        '    task = asyncio.create_task(work())',
        '    await task',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'async def work():',
        '    await asyncio.sleep(0)',
        '',
        '',
        'async def good():',
        '    await work()',
      ].join('\n'),
    },
    cites: [{ guide: 'S2', section: 'Critical Warnings' }],
  },
  create(ctx) {
    return {
      assignment(node) {
        if (!ctx.inAsyncCode()) return;
        const statement = node.parent;
        if (statement?.type !== 'expression_statement' || statement.namedChildCount !== 1) return;
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        if (left?.type !== 'identifier' || right?.type !== 'call' || node.childForFieldName('type')) return;
        if (!spawnsTask(ctx, right)) return;
        const next = nextStatement(statement);
        if (!next || !SIMPLE.has(next.type)) return;
        const awaits = awaitsIn(next);
        if (awaits.length !== 1) return;
        const awaited = awaits[0]!;
        const operand = awaited.namedChild(0);
        if (!operand || unparenthesize(operand).type !== 'identifier' || unparenthesize(operand).text !== left.text) return;
        // Used exactly twice in the whole function: bound here, awaited there.
        const scope = ctx.scope().node;
        const uses = occurrencesIn(scope, left.text);
        if (uses.length !== 2 || uses.some((o) => o.nested)) return;
        const bindings = ctx.imports.bindingsIn(scope).get(left.text) ?? [];
        if (bindings.length !== 1) return;
        // `create_task(coro, name=...)`: only the plain single-argument form has an exact rewrite.
        const args = right.childForFieldName('arguments')?.namedChildren.filter((a) => a.type !== 'comment') ?? [];
        const coroutine = args.length === 1 && args[0]!.type !== 'keyword_argument' && args[0]!.type !== 'list_splat' ? args[0]! : null;
        const suggestion = coroutine ? mergeSuggestion(ctx.file.lines, statement, next, awaited, coroutine) : null;
        ctx.report({
          node: right,
          messageId: 'pointless',
          data: { name: left.text, callee: calleeText(right) },
          ...(suggestion ? { suggestion } : {}),
        });
      },
    };
  },
};
