import type { SyntaxNode } from '../python/parser.js';
import type { Rule } from './types.js';
import { calleeText, pythonAtLeast } from './util.js';

/*
 * "More than one asyncio.run on a path", decided simply and on the syntax tree of one scope (a
 * function body, or the module with its class bodies): a later call C2 is flagged when an earlier
 * call C1 of the same scope may run before it, that is unless
 *   - C1 and C2 sit in branches that exclude each other: the arms of one `if`/`elif`/`else`, the
 *     cases of one `match`, the two arms of `a if c else b`, or a `try` body and its `except`
 *     handler (a fallback), two handlers, a handler and the `else`;
 *   - C1's path leaves the scope first: C1 is in a `return` statement, or a `return`, `raise` or
 *     `sys.exit()` follows it in one of its enclosing blocks (before C2's statement).
 * No data flow, no loops unrolled: a `while` that only runs once is still a loop.
 *
 * A call inside a loop of its scope (a `for`/`while` body, a `while` test, a comprehension past its
 * first iterable) is flagged on its own, unless the loop cannot run it twice (`return
 * asyncio.run(...)`, or `break`/`return`/`raise` right after it), or the loop is a restart/retry
 * loop: the call is in a `try` body with an `except` handler, inside a `while` loop or a
 * `for ... in range(...)`.
 */

const LOOPS = new Set(['for_statement', 'while_statement']);
const COMPREHENSIONS = new Set(['list_comprehension', 'set_comprehension', 'dictionary_comprehension', 'generator_expression']);
/** The scope boundaries a call's ancestors are followed up to. */
const SCOPES = new Set(['function_definition', 'lambda', 'module']);
const EXIT_CALLS = new Set(['sys.exit', 'os._exit', 'builtins.exit', 'builtins.quit']);

/** The node's ancestors up to and including its scope (function / lambda / module), innermost first. */
function ancestors(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let current = node.parent; current; current = current.parent) {
    out.push(current);
    if (SCOPES.has(current.type)) break;
  }
  return out;
}

/** Which part of a branching statement `child` is, when the parts exclude each other; null otherwise. */
function branchOf(parent: SyntaxNode, child: SyntaxNode): string | null {
  switch (parent.type) {
    case 'if_statement':
      if (parent.childForFieldName('condition')?.id === child.id) return null;
      return `if:${child.id}`;
    case 'conditional_expression': {
      const named = parent.namedChildren;
      if (named[0]?.id === child.id) return 'then';
      if (named[2]?.id === child.id) return 'else';
      return null;
    }
    case 'block':
      // A `match` body: its case clauses.
      return parent.parent?.type === 'match_statement' && child.type === 'case_clause' ? `case:${child.id}` : null;
    case 'try_statement':
      if (child.type === 'except_clause' || child.type === 'except_group_clause') return `except:${child.id}`;
      if (parent.childForFieldName('body')?.id === child.id) return 'body';
      if (child.type === 'else_clause') return 'else';
      return null;
    default:
      return null;
  }
}

/** True when the two parts of `parent` (an if/match/conditional/try) never both run. */
function exclusive(parent: SyntaxNode, a: SyntaxNode, b: SyntaxNode): boolean {
  const first = branchOf(parent, a);
  const second = branchOf(parent, b);
  if (first === null || second === null || first === second) return false;
  if (parent.type !== 'try_statement') return true;
  // try: body + except (fallback), except + except, except + else; never body + else.
  return first.startsWith('except') || second.startsWith('except');
}

/** A statement list: a block or the module. */
function isBlock(node: SyntaxNode): boolean {
  return node.type === 'block' || node.type === 'module';
}

export const repeatedAsyncioRun: Rule = {
  meta: {
    id: 'AG206',
    slug: 'repeated-asyncio-run',
    aliases: [],
    family: 'coroutines',
    severity: 'warning',
    title: '`asyncio.run` called more than once',
    fix: 'Call `asyncio.run` once, on one `async def main()` that awaits (or gathers) all the work.',
    messages: {
      repeated:
        'A second `{callee}()` in {where}: each call builds and closes a new event loop, and anything bound to the first loop (sessions, connection pools, locks, queues, futures) breaks in the next ("Event loop is closed"); {advice}',
      inLoop:
        '`{callee}()` inside a loop builds and closes a new event loop on every iteration: the iterations run one after another, and nothing created on one loop works in the next; {advice}',
    },
    docs: {
      what: 'Flags the second and later `asyncio.run(...)` of one function, or of the module level, that can run after an earlier one, and an `asyncio.run(...)` inside a loop (`for`, `while`, a comprehension). Not flagged: calls in different functions, calls in branches that exclude each other (`if`/`else`, `match` cases, a `try` body and its `except` fallback), a call after which the path returns, raises or exits, a call in a loop that ends right after it (`return asyncio.run(...)`, `break`), a call in a restart/retry loop (in a `try` with an `except` handler inside a `while` or a `for ... in range(...)`), a worker `while` loop whose coroutine takes a name the iteration bound before the call (`builder = decode(socket.recv())`, then `asyncio.run(process(builder))`: the next job is not known until this one is done), a call inside a lambda or a nested function (a thread running its own loop), `asyncio.Runner().run(...)`, and a later run that shares nothing with the earlier one: no name of its argument (other than the coroutine function called and imported names) appears in the earlier run\'s argument or result (`asyncio.run(demo_a())` then `asyncio.run(demo_b())`, independent demos or sub-tests each opening and closing their own connections; a shared name assigned anew between the two runs, such as `runners = get_runners()` before each `asyncio.run(*runners)`, counts as fresh), which costs a second loop but cannot hand it an object of the first. In async code AG205 reports `asyncio.run` instead.',
      why: '`asyncio.run` creates a fresh event loop, runs the coroutine, cancels what is left, shuts down the default executor and closes the loop. A second call pays all of that again, and worse, objects created under the first loop are tied to it: an aiohttp `ClientSession`, an asyncpg pool, an `asyncio.Lock` or `Queue` with waiters, a cached future. Used from the second loop they raise "Event loop is closed" or "attached to a different loop", or hang. Inside a loop the iterations also run strictly one after another, giving up the concurrency asyncio is there for.',
      example: [
        'import asyncio',
        '',
        '',
        'def main(urls):',
        '    session = asyncio.run(open_session())',
        '    pages = asyncio.run(fetch_all(session, urls))',
        '    return pages',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'async def crawl(urls):',
        '    session = await open_session()',
        '    return await fetch_all(session, urls)',
        '',
        '',
        'def main(urls):',
        '    return asyncio.run(crawl(urls))',
      ].join('\n'),
    },
    cites: [
      { guide: 'S1', section: 'Pitfall 3: Event Loop Closed' },
      { guide: 'S1', section: 'Troubleshooting Quick Guide' },
    ],
  },
  create(ctx) {
    /** The asyncio.run calls seen so far, by scope node id. */
    const seen = new Map<number, SyntaxNode[]>();

    const isExit = (statement: SyntaxNode, kinds: ReadonlySet<string>): boolean => {
      if (kinds.has(statement.type)) return true;
      if (statement.type !== 'expression_statement') return false;
      const call = statement.namedChildren.length === 1 ? statement.namedChildren[0] : undefined;
      if (call?.type !== 'call') return false;
      const resolved = ctx.resolveCallee(call);
      return resolved !== null && EXIT_CALLS.has(resolved);
    };

    /**
     * True when the path through `call` leaves before reaching `until` (an ancestor of `call`): the
     * call is returned, or an exit statement follows it in one of the blocks between, and, in the
     * block `stopBefore` lies in, before that statement.
     */
    function leavesAfter(call: SyntaxNode, path: SyntaxNode[], until: SyntaxNode, kinds: ReadonlySet<string>, stopBefore?: SyntaxNode): boolean {
      let child = call;
      for (const parent of path) {
        if (parent.type === 'return_statement' || (parent.type === 'raise_statement' && kinds.has('raise_statement'))) return true;
        if (isBlock(parent)) {
          let after = child.nextNamedSibling;
          while (after && after.id !== stopBefore?.id) {
            if (isExit(after, kinds)) return true;
            after = after.nextNamedSibling;
          }
        }
        if (parent.id === until.id) return false;
        child = parent;
      }
      return false;
    }

    const SEQUENCE_EXITS = new Set(['return_statement', 'raise_statement']);
    const LOOP_EXITS = new Set(['return_statement', 'raise_statement', 'break_statement']);

    /** The loop of the call's scope that may run it more than once, or null. */
    function repeatingLoop(call: SyntaxNode, path: SyntaxNode[]): SyntaxNode | null {
      let child = call;
      let inTryWithHandler = false;
      for (const parent of path) {
        if (parent.type === 'try_statement' && parent.childForFieldName('body')?.id === child.id) {
          if (parent.namedChildren.some((c) => c.type === 'except_clause' || c.type === 'except_group_clause')) inTryWithHandler = true;
        }
        if (LOOPS.has(parent.type)) {
          const body = parent.childForFieldName('body');
          const repeated = body?.id === child.id || (parent.type === 'while_statement' && parent.childForFieldName('condition')?.id === child.id);
          if (repeated && !leavesAfter(call, path, parent, LOOP_EXITS) && !(inTryWithHandler && isRetryLoop(parent)) && !isJobLoop(parent, call)) return parent;
        }
        if (COMPREHENSIONS.has(parent.type) && !inFirstIterable(parent, child, call)) return parent;
        child = parent;
      }
      return null;
    }

    /**
     * A worker's `while` loop that runs each job it receives (maggma's workers: `builder = ...` from
     * the message just received, then `asyncio.run(multi(builder, ...))`): the coroutine takes a
     * name the iteration bound before it, so the next job is not known until this one is done.
     */
    function isJobLoop(loop: SyntaxNode, call: SyntaxNode): boolean {
      if (loop.type !== 'while_statement') return false;
      const argument = call.childForFieldName('arguments')?.namedChildren[0];
      if (argument?.type !== 'call') return false;
      const used = new Set(argument.descendantsOfType('identifier').map((id) => id.text));
      return (loop.childForFieldName('body')?.descendantsOfType('assignment') ?? []).some((assignment) => {
        const left = assignment.childForFieldName('left');
        return left?.type === 'identifier' && used.has(left.text) && assignment.endIndex <= call.startIndex;
      });
    }

    /** `while ...:` or `for _ in range(...)`: a loop that re-runs a failed attempt. */
    function isRetryLoop(loop: SyntaxNode): boolean {
      if (loop.type === 'while_statement') return true;
      const iterable = loop.childForFieldName('right');
      return iterable?.type === 'call' && ctx.resolveCallee(iterable) === 'builtins.range';
    }

    function inFirstIterable(comprehension: SyntaxNode, child: SyntaxNode, call: SyntaxNode): boolean {
      const first = comprehension.namedChildren.find((c) => c.type === 'for_in_clause');
      if (first?.id !== child.id) return false;
      const iterable = first.childForFieldName('right');
      return iterable !== null && iterable.startIndex <= call.startIndex && call.endIndex <= iterable.endIndex;
    }

    /** True when `earlier` may run before `later` on one path through their scope. */
    function mayPrecede(earlier: SyntaxNode, earlierPath: SyntaxNode[], later: SyntaxNode, laterPath: SyntaxNode[]): boolean {
      const laterIds = new Set(laterPath.map((n) => n.id));
      let a = earlier;
      for (const common of earlierPath) {
        if (laterIds.has(common.id)) {
          // `common` is the lowest common ancestor; `a` and `b` its children towards each call.
          const index = laterPath.findIndex((n) => n.id === common.id);
          const b = index === 0 ? later : laterPath[index - 1]!;
          if (exclusive(common, a, b)) return false;
          return !leavesAfter(earlier, earlierPath, common, SEQUENCE_EXITS, b);
        }
        a = common;
      }
      return false;
    }

    /**
     * The objects a call's coroutine is given: the names in the argument of `asyncio.run(...)` other
     * than the coroutine function called (`client` and `panel` in `client.status(panel.hash)`, not
     * `main` in `main()`) and imported names, plus what an earlier run's result was assigned to.
     */
    function objectsOf(call: SyntaxNode): Set<string> {
      const names = new Set<string>();
      const argument = call.childForFieldName('arguments');
      for (const id of argument?.descendantsOfType('identifier') ?? []) {
        const parent = id.parent;
        if (parent?.type === 'call' && parent.childForFieldName('function')?.id === id.id) continue;
        if (parent?.type === 'attribute' && parent.childForFieldName('attribute')?.id === id.id) continue;
        if (parent?.type === 'keyword_argument' && parent.childForFieldName('name')?.id === id.id) continue;
        if (ctx.resolveName(id) !== null) continue;
        names.add(id.text);
      }
      const assignment = call.parent?.type === 'assignment' ? call.parent : null;
      for (const id of assignment?.childForFieldName('left')?.descendantsOfType('identifier') ?? []) names.add(id.text);
      return names;
    }

    /**
     * The later run uses something the earlier one had or made (a client, `self`, the earlier run's
     * result): objects bound to the first loop can reach the second. Two runs of coroutines that
     * share nothing (`asyncio.run(demo_a())`, then `asyncio.run(demo_b())`) only pay for a second
     * loop, which is not worth a review comment.
     */
    function sharesState(earlier: SyntaxNode, later: SyntaxNode): boolean {
      const before = objectsOf(earlier);
      return [...objectsOf(later)].some((name) => before.has(name) && !reboundBetween(name, earlier, later));
    }

    /**
     * The name is assigned anew between the two runs (cylc's `runners = get_runners(...)` before
     * each `asyncio.run(*runners)`): the later run gets a fresh object, not the earlier one's.
     */
    function reboundBetween(name: string, earlier: SyntaxNode, later: SyntaxNode): boolean {
      // The scope both runs are in: the last of `later`'s ancestors.
      const scope = ancestors(later).at(-1);
      return (scope?.descendantsOfType('assignment') ?? []).some((assignment) => {
        const left = assignment.childForFieldName('left');
        return left?.type === 'identifier' && left.text === name && left.startIndex > earlier.endIndex && left.startIndex < later.startIndex;
      });
    }

    function advice(): string {
      const once = 'put the work in one `async def main()` and call `asyncio.run(main())` once';
      const runner = 'keep one loop for several calls with `with asyncio.Runner() as runner: runner.run(...)`';
      const hasRunner = pythonAtLeast(ctx.settings.pythonVersion, 3, 11);
      if (hasRunner === null) return `${once}, or, on Python 3.11+, ${runner}`;
      return hasRunner ? `${once}, or ${runner}` : once;
    }

    function where(): string {
      const chain = ctx.scopeChain();
      for (let i = chain.length - 1; i >= 0; i--) {
        const scope = chain[i]!;
        if (scope.kind === 'def' || scope.kind === 'async-def') return `\`${scope.qualifiedName}\``;
        if (scope.kind === 'module') return 'the module';
      }
      return 'the module';
    }

    return {
      call(node: SyntaxNode) {
        if (ctx.inAsyncCode() || ctx.resolveCallee(node) !== 'asyncio.run') return;
        const path = ancestors(node);
        const scope = path[path.length - 1]!;
        const earlier = seen.get(scope.id) ?? [];
        seen.set(scope.id, [...earlier, node]);
        const data = { callee: calleeText(node), advice: advice() };
        if (repeatingLoop(node, path)) {
          ctx.report({ node, messageId: 'inLoop', data });
          return;
        }
        if (earlier.some((previous) => mayPrecede(previous, ancestors(previous), node, path) && sharesState(previous, node))) {
          ctx.report({ node, messageId: 'repeated', data: { ...data, where: where() } });
        }
      },
    };
  },
};

