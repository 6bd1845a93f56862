import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { keywordArgument, methodCall, occurrencesIn, parenthesized, positionalArguments, runAsRoot, unparenthesize } from './util.js';

const WAIT = new Set(['asyncio.wait', 'asyncio.tasks.wait']);

/** `return_when` values after which some tasks may still be running. */
const EARLY_RETURNS: Record<string, string> = {
  'asyncio.FIRST_COMPLETED': 'FIRST_COMPLETED',
  'asyncio.FIRST_EXCEPTION': 'FIRST_EXCEPTION',
  'asyncio.tasks.FIRST_COMPLETED': 'FIRST_COMPLETED',
  'asyncio.tasks.FIRST_EXCEPTION': 'FIRST_EXCEPTION',
  'concurrent.futures.FIRST_COMPLETED': 'FIRST_COMPLETED',
  'concurrent.futures.FIRST_EXCEPTION': 'FIRST_EXCEPTION',
};

/** Calls that only look at a collection: passing the pending set to them hands nothing on. */
const INSPECTORS = new Set(['len', 'bool', 'str', 'repr', 'print', 'isinstance', 'id', 'any', 'all']);
/** Calls that copy a collection: whatever happens to the copy happens to the tasks. */
const COPIES = new Set(['list', 'set', 'tuple', 'frozenset', 'sorted']);
/** Methods of a task (or a set) that only look at it. */
const INSPECTING_METHODS = new Set(['result', 'done', 'exception', 'cancelled', 'get_name', 'get_coro', 'get_stack', 'print_stack']);
const LOG_METHODS = new Set(['debug', 'info', 'warning', 'warn', 'error', 'exception', 'critical', 'log']);
/** Expressions a name passes through unchanged on its way to where it is used. */
const TRANSPARENT = new Set(['list', 'set', 'tuple', 'parenthesized_expression', 'expression_list', 'list_splat', 'pattern_list']);
/** Where reading a name only tests or shows it. */
const TESTS = new Set(['comparison_operator', 'boolean_operator', 'not_operator', 'interpolation', 'assert_statement']);

/** The `return_when` constant's short name when it lets `wait` return with tasks still running. */
function earlyReturn(ctx: RuleContext, call: SyntaxNode): string | null {
  const value = keywordArgument(call, 'return_when');
  if (!value) return null;
  const node = unparenthesize(value);
  if (node.type === 'string') {
    const text = node.text.replace(/^[rbuRBU]*['"]+|['"]+$/g, '');
    return text === 'FIRST_COMPLETED' || text === 'FIRST_EXCEPTION' ? text : null;
  }
  const resolved = ctx.resolveName(node);
  return resolved ? (EARLY_RETURNS[resolved] ?? null) : null;
}

/** True when the identifier is an assignment target (`x = ...`, `a, x = ...`, `for x in ...`). */
function isTarget(identifier: SyntaxNode): boolean {
  let node = identifier;
  for (let parent = node.parent; parent; node = parent, parent = parent.parent) {
    if (parent.type === 'pattern_list' || parent.type === 'tuple_pattern' || parent.type === 'list_pattern') continue;
    if (parent.type === 'assignment' || parent.type === 'for_statement' || parent.type === 'for_in_clause') {
      return parent.childForFieldName('left')?.id === node.id;
    }
    return false;
  }
  return false;
}

/** True when a read of a tracked name (`pending`, or the collection waited on) hands the tasks on. */
function handsOn(ctx: RuleContext, identifier: SyntaxNode, depth = 0): boolean {
  let node = identifier;
  for (let parent = node.parent; parent; node = parent, parent = parent.parent) {
    if (parent.type === 'attribute') {
      if (parent.childForFieldName('object')?.id !== node.id) return false;
      // `task.result()` or `task.done()` only looks; `task.cancel()`, `pending.pop()`, anything else may hand on.
      return !INSPECTING_METHODS.has(parent.childForFieldName('attribute')?.text ?? '');
    }
    if (TRANSPARENT.has(parent.type)) continue;
    if (TESTS.has(parent.type)) return false;
    if (parent.type === 'keyword_argument') {
      if (parent.childForFieldName('name')?.id === node.id) return false;
      continue;
    }
    if (parent.type === 'argument_list') {
      const call = parent.parent;
      const callee = call?.type === 'call' ? call.childForFieldName('function') : null;
      const name = callee?.type === 'identifier' && !ctx.lookup(callee.text) ? callee.text : null;
      if (name && INSPECTORS.has(name)) return false;
      if (name && COPIES.has(name)) {
        node = call!;
        parent = call!;
        continue;
      }
      const method = callee?.type === 'attribute' ? callee.childForFieldName('attribute')?.text : null;
      const receiver = callee?.type === 'attribute' ? (callee.childForFieldName('object')?.text ?? '') : '';
      if (method && LOG_METHODS.has(method) && /log/i.test(receiver)) return false;
      return true; // gather(*pending), cancel_all(pending), asyncio.wait(pending), tasks.update(pending)
    }
    if (parent.type === 'assignment' || parent.type === 'augmented_assignment') {
      // `rest = pending` keeps it (stored or aliased); `pending = set()` rebinds it.
      return parent.childForFieldName('right')?.id === node.id;
    }
    if (parent.type === 'for_statement' || parent.type === 'for_in_clause') {
      if (parent.childForFieldName('right')?.id !== node.id) return false;
      // `for t in pending: t.cancel()` hands on; `for t in tasks: if t.done(): ...` only looks.
      const variable = parent.childForFieldName('left');
      if (variable?.type !== 'identifier' || depth > 3) return true;
      const scope = parent.type === 'for_statement' ? parent.childForFieldName('body') : parent.parent;
      const uses = (scope?.descendantsOfType('identifier') ?? []).filter((n) => n.text === variable.text && n.id !== variable.id);
      return uses.some((use) => handsOn(ctx, use, depth + 1));
    }
    if (parent.type === 'if_statement' || parent.type === 'elif_clause' || parent.type === 'while_statement' || parent.type === 'conditional_expression') {
      return parent.childForFieldName('condition')?.id !== node.id;
    }
    // return, yield, await, del, subscripts, anything unforeseen: assume it is taken care of.
    return true;
  }
  return true;
}

/**
 * The wait is the last thing `asyncio.run` does: `fn` is only ever run as `asyncio.run(fn())` (or by
 * `run_until_complete`) in this file, and nothing after the wait awaits (dask's `main.run`, which logs and returns).
 * `asyncio.run` cancels and waits for every task still pending when its coroutine returns.
 */
function endsRootCoroutine(ctx: RuleContext, fn: SyntaxNode, statement: SyntaxNode): boolean {
  const name = fn.childForFieldName('name')?.text;
  if (!name || ctx.scope().kind !== 'async-def') return false;
  const calls = ctx.file.tree.rootNode.descendantsOfType('call').filter((call) => call.childForFieldName('function')?.text === name);
  const rootOnly = calls.length > 0 && calls.every((call) => runAsRoot(ctx, call));
  if (!rootOnly) return false;
  const body = fn.childForFieldName('body');
  return body !== null && !body.descendantsOfType(['await', 'async']).some((n) => n.startIndex >= statement.endIndex);
}

export const firstCompletedWithoutCancel: Rule = {
  meta: {
    id: 'AG303',
    slug: 'first-completed-without-cancel',
    aliases: [],
    family: 'cancellation',
    severity: 'warning',
    title: 'asyncio.wait returns early and the pending tasks are left running',
    fix: 'Cancel what is still pending once the race is decided (`for task in pending: task.cancel()`, in a `finally:` if the wait itself can be cancelled), or hand the pending set on to whoever will.',
    messages: {
      kept: '`{pending}` holds the tasks still running after `asyncio.wait(..., return_when={when})`, and nothing cancels, awaits or hands them on: the losers keep running in the background',
      dropped: 'The tasks still running after `asyncio.wait(..., return_when={when})` are dropped without being cancelled: the losers keep running in the background',
    },
    docs: {
      what: "Flags `await asyncio.wait(tasks, return_when=FIRST_COMPLETED)` (or `FIRST_EXCEPTION`) in async code when the pending set it returns is thrown away (`done, _ = ...`, a bare `await`) or kept in a local that is never used again except to be tested or counted (`if pending:`, `len(pending)`, a log line), and the tasks waited on cannot be reached another way: they were created for the call (a literal list or set, a comprehension of `create_task` calls) or are held by locals that are not used again either. Any later use that hands the tasks on counts as handling them: a `for` loop over them, `task.cancel()`, `gather(*pending)`, a helper call `cancel_all(pending)`, waiting on them again (`while pending: done, pending = await asyncio.wait(pending, ...)`), returning or storing them, in a `finally:` too. Tasks passed in by the caller, kept on `self`, or in module globals are the owner's to cancel and are not flagged; nor is a wait on one awaitable (`wait([task])`, nothing can be left pending) or on plain futures (locals only ever assigned `loop.create_future()` or `asyncio.Future()`: nothing runs that could be cancelled); `ALL_COMPLETED` (the default) is not flagged.",
      why: "`asyncio.wait` does not cancel anything: when it returns on the first result, the other tasks keep running. Losers of a race go on using connections, CPU and rate limits, their results and exceptions are never collected (\"Task exception was never retrieved\"), and a task dropped this way can even be garbage-collected mid-run. Inside a TaskGroup, leaving them running makes the group wait for every loser before it exits.",
      example: [
        'import asyncio',
        '',
        '',
        'async def fastest_mirror(session, mirrors):',
        '    tasks = [asyncio.create_task(session.get(url)) for url in mirrors]',
        '    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)',
        '    return done.pop().result()',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'async def fastest_mirror(session, mirrors):',
        '    tasks = [asyncio.create_task(session.get(url)) for url in mirrors]',
        '    try:',
        '        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)',
        '    finally:',
        '        for task in tasks:',
        '            task.cancel()',
        '    return done.pop().result()',
      ].join('\n'),
    },
    cites: [{ guide: 'S0', section: 'Step 2 — Pick the concurrency primitive' }],
  },
  create(ctx) {
    return {
      call(node) {
        if (!ctx.inAsyncCode()) return;
        const callee = ctx.resolveCallee(node);
        if (!callee || !WAIT.has(callee)) return;
        const when = earlyReturn(ctx, node);
        if (!when) return;
        let awaited: SyntaxNode = node;
        awaited = parenthesized(awaited);
        if (awaited.parent?.type !== 'await') return;
        const statementPart = awaited.parent.parent;
        const fn = ctx.scope().node;

        // Where the pending set goes: dropped, or a local name.
        let pending: SyntaxNode | null = null;
        let statement: SyntaxNode;
        if (statementPart?.type === 'expression_statement') statement = statementPart;
        else if (statementPart?.type === 'assignment' && statementPart.parent?.type === 'expression_statement') {
          const left = statementPart.childForFieldName('left');
          const targets = left && ['pattern_list', 'tuple_pattern', 'list_pattern'].includes(left.type) ? left.namedChildren : [];
          if (targets.length !== 2 || targets[1]!.type !== 'identifier') return;
          pending = targets[1]!;
          statement = statementPart.parent;
        } else return;

        // The tasks waited on: made for this call, or held by locals we can follow.
        const fs = positionalArguments(node)[0] ?? keywordArgument(node, 'fs') ?? keywordArgument(node, 'aws');
        if (!fs) return;
        const tracked: SyntaxNode[] = pending ? [pending] : [];
        const input = unparenthesize(fs);
        const local = (name: SyntaxNode) => {
          const found = ctx.lookup(name.text);
          return found !== null && found.scope.node.id === fn.id && found.bindings.every((b) => b.kind !== 'param' && b.kind !== 'global');
        };
        if (input.type === 'identifier') {
          if (!local(input)) return;
          tracked.push(input);
        } else if (input.type === 'list' || input.type === 'set' || input.type === 'tuple') {
          // `wait([task])`: one awaitable, done when `wait` returns; nothing is left pending.
          if (input.namedChildren.length === 1 && input.namedChild(0)!.type !== 'list_splat') return;
          // Plain futures (`loop.create_future()`), not tasks: nothing runs that could be cancelled.
          const plainFuture = (item: SyntaxNode) => {
            const found = item.type === 'identifier' && local(item) ? ctx.lookup(item.text) : null;
            return found !== null && found.bindings.every((b) => b.kind === 'assign' && b.value?.type === 'call' && (methodCall(b.value)?.method === 'create_future' || ctx.resolveCallee(b.value) === 'asyncio.Future'));
          };
          if (input.namedChildren.every(plainFuture)) return;
          for (const element of input.namedChildren) {
            const item = element.type === 'list_splat' ? element.namedChild(0) : element;
            if (item?.type === 'call') continue;
            if (item?.type !== 'identifier' || !local(item)) return;
            tracked.push(item);
          }
        } else if (['list_comprehension', 'set_comprehension', 'generator_expression'].includes(input.type)) {
          if (input.childForFieldName('body')?.type !== 'call') return;
        } else return;

        // Any later use (or any use in a loop around the wait) that hands the tasks on.
        const loops: SyntaxNode[] = [];
        for (let n = statement.parent; n && n.id !== fn.id; n = n.parent) {
          if (n.type === 'for_statement' || n.type === 'while_statement') loops.push(n);
        }
        const counts = (occurrence: SyntaxNode) =>
          occurrence.startIndex >= statement.endIndex || loops.some((loop) => occurrence.startIndex >= loop.startIndex && occurrence.endIndex <= loop.endIndex);
        const innermostLoop = loops[0];
        for (const name of tracked) {
          const occurrences = occurrencesIn(fn, name.text);
          // A collection rebuilt in each iteration before the wait (`read = create_task(...)`) is a
          // new one each time: its place in the wait call is not a use of the previous one.
          const rebuiltInLoop =
            name.id !== pending?.id &&
            innermostLoop !== undefined &&
            occurrences.some(({ node: o }) => o.startIndex >= innermostLoop.startIndex && o.endIndex <= innermostLoop.endIndex && isTarget(o));
          for (const { node: occurrence } of occurrences) {
            if (occurrence.id === pending?.id || !counts(occurrence)) continue;
            if (rebuiltInLoop && occurrence.startIndex >= node.startIndex && occurrence.endIndex <= node.endIndex) continue;
            if (handsOn(ctx, occurrence)) return;
          }
        }
        if (endsRootCoroutine(ctx, fn, statement)) return;
        if (pending && pending.text !== '_') {
          ctx.report({ node, messageId: 'kept', data: { pending: pending.text, when } });
        } else ctx.report({ node, messageId: 'dropped', data: { when } });
      },
    };
  },
};
