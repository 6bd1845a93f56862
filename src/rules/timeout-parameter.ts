import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { exceptClauseParts, isStub, isTestCode, pythonAtLeast, keywordArgument, NESTED_SCOPES, positionalArguments, unparenthesize } from './util.js';

/** asyncio's own ways to bound a wait: what a caller can apply just as well. */
const TIMEOUT_PRIMITIVES = new Set([
  'asyncio.wait_for',
  'asyncio.timeout',
  'asyncio.timeout_at',
  'asyncio.as_completed',
  'asyncio.tasks.wait_for',
  'asyncio.timeouts.timeout',
  'asyncio.timeouts.timeout_at',
  'async_timeout.timeout',
  'async_timeout.timeout_at',
]);

const PARAMETER = 'timeout';

/** The node declaring parameter `name` in a function's parameter list, or null. */
function parameterNode(definition: SyntaxNode, name: string): SyntaxNode | null {
  for (const param of definition.childForFieldName('parameters')?.namedChildren ?? []) {
    const id = param.type === 'identifier' ? param : param.type === 'typed_parameter' ? param.namedChild(0) : param.childForFieldName('name');
    if (id?.type === 'identifier' && id.text === name) return param;
  }
  return null;
}


/** Names a module lists in `__all__ = [...]` / `(...)` (its declared public API). */
function exportedNames(root: SyntaxNode): Set<string> {
  const names = new Set<string>();
  for (const statement of root.namedChildren) {
    if (statement.type !== 'expression_statement') continue;
    const assignment = statement.namedChild(0);
    if (assignment?.type !== 'assignment' && assignment?.type !== 'augmented_assignment') continue;
    if (assignment.childForFieldName('left')?.text !== '__all__') continue;
    for (const string of assignment.childForFieldName('right')?.descendantsOfType('string_content') ?? []) names.add(string.text);
  }
  return names;
}

/**
 * Functions the module docstring documents as its API with a Sphinx directive: `.. autofunction:: name`,
 * `.. function:: name(...)` (also `py:function`, sphinxcontrib-asyncio's `cofunction`/`autocofunction`,
 * and a dotted `pkg.mod.name`). Like `__all__`, a declared public API.
 */
function documentedFunctions(root: SyntaxNode): Set<string> {
  const names = new Set<string>();
  const first = root.namedChildren.find((c) => c.type !== 'comment');
  const docstring = first?.type === 'expression_statement' && first.namedChildCount === 1 ? first.namedChild(0) : null;
  if (docstring?.type !== 'string' && docstring?.type !== 'concatenated_string') return names;
  for (const match of docstring.text.matchAll(/^\s*\.\.\s+(?:py:)?(?:auto)?(?:co)?function::\s*([\w.]+)/gm)) {
    const dotted = match[1]!;
    names.add(dotted.slice(dotted.lastIndexOf('.') + 1));
  }
  return names;
}

/** Calls that only compute a number from the timeout (`max(timeout, 1)`): looked through. */
const ARITHMETIC = new Set(['min', 'max', 'float', 'int', 'abs', 'round']);

/**
 * What the primitive bounds: the awaitable handed to `wait_for(aw, ...)`, or what the body of
 * `async with timeout(...):` awaits. Nothing for `as_completed` (it hands back results to consume,
 * not one awaitable to bound).
 */
function boundedAwaitables(call: SyntaxNode, callee: string): SyntaxNode[] {
  if (callee.endsWith('as_completed')) return [];
  const first = callee.endsWith('wait_for') ? (positionalArguments(call)[0] ?? keywordArgument(call, 'fut')) : null;
  let item = call.parent;
  if (item?.type === 'as_pattern') item = item.parent;
  const statement = item?.type === 'with_item' ? item.parent?.parent : null;
  if (statement?.type !== 'with_statement') return first ? [first] : [];
  const out: SyntaxNode[] = [];
  const visit = (node: SyntaxNode) => {
    if (node.type === 'await' && node.namedChild(0)) out.push(node.namedChild(0)!);
    for (const child of node.namedChildren) if (!NESTED_SCOPES.has(child.type)) visit(child);
  };
  const body = statement.childForFieldName('body');
  if (body) visit(body);
  return out;
}

/** The exceptions a deadline raises: asyncio's (an alias of the builtin since 3.11) and the builtin. */
const TIMEOUT_ERRORS = new Set(['asyncio.TimeoutError', 'asyncio.exceptions.TimeoutError', 'builtins.TimeoutError', 'async_timeout.TimeoutError', 'concurrent.futures.TimeoutError']);

/** Calls that only report: what they are given is not state the handler works with. */
const REPORTING = /^(print|warnings\.warn|\w*(log|logger|logging|LOGGER)\w*\.\w+)$/i;

/**
 * The primitive sits in the body of a `try` (within the function) whose handler for the timeout's
 * exception works with the function's own state: it returns the partial results, retries with the
 * function's arguments, raises its own error carrying what was read (`MDCReadTimeoutError(reason,
 * reader._buffer)`). Running out of time means something only the function can act on, which a
 * deadline set by the caller cannot reproduce. A handler that only logs and returns a constant
 * (`return {}`) is what a caller's own `except TimeoutError:` does just as well: still flagged.
 */
function handlesItsTimeout(ctx: RuleContext, primitive: SyntaxNode, definition: SyntaxNode): boolean {
  for (let up: SyntaxNode | null = primitive; up && up.id !== definition.id; up = up.parent) {
    const statement = up.parent;
    if (statement?.type !== 'try_statement' || statement.childForFieldName('body')?.id !== up.id) continue;
    for (const clause of statement.namedChildren) {
      if (clause.type !== 'except_clause') continue;
      const { types, alias } = exceptClauseParts(clause);
      if (!types.some((type) => TIMEOUT_ERRORS.has(ctx.resolveName(type) ?? ''))) continue;
      const body = clause.namedChildren.find((c) => c.type === 'block');
      const usesState = (body?.descendantsOfType('identifier') ?? []).some((id) => {
        if (id.text === PARAMETER || id.text === alias) return false;
        const parent = id.parent;
        if (parent?.type === 'attribute' && parent.childForFieldName('attribute')?.id === id.id) return false;
        if (parent?.type === 'keyword_argument' && parent.childForFieldName('name')?.id === id.id) return false;
        for (let n: SyntaxNode | null = parent; n && n.id !== clause.id; n = n.parent) {
          if (n.type === 'call' && REPORTING.test(n.childForFieldName('function')?.text ?? '')) return false;
        }
        const found = ctx.lookup(id.text);
        return found !== null && found !== undefined && found.scope.node.id === definition.id;
      });
      if (usesState) return true;
    }
  }
  return false;
}

/** What wraps an awaitable, or runs a function, handed in: the result is still the caller's work. */
const PARAMETER_WRAPPERS = new Set(['asyncio.ensure_future', 'asyncio.create_task', 'asyncio.to_thread']);

/** Every use of the nested function `definition` in `outer` is a call of it. */
function onlyCalledLocally(outer: SyntaxNode, definition: SyntaxNode): boolean {
  const name = definition.childForFieldName('name');
  if (!name) return false;
  const uses = outer.descendantsOfType('identifier').filter((id) => id.text === name.text && id.id !== name.id);
  return uses.length > 0 && uses.every((id) => id.parent?.type === 'call' && id.parent.childForFieldName('function')?.id === id.id);
}

export const timeoutParameter: Rule = {
  meta: {
    id: 'AG304',
    slug: 'timeout-parameter',
    aliases: ['ASYNC109', 'S7483'],
    family: 'cancellation',
    severity: 'info',
    title: 'Async function takes a timeout parameter',
    fix: 'Drop the `timeout` parameter and let callers bound the call: `async with asyncio.timeout(...)` (Python 3.11+) or `await asyncio.wait_for(...)`.',
    messages: {
      timeout311: '`{name}()` takes `timeout` only to apply it with `{primitive}()` itself: callers can bound the call with `async with asyncio.timeout(...)`, which also covers what they await around it',
      timeoutOld: '`{name}()` takes `timeout` only to apply it with `{primitive}()` itself: callers can bound the call with `await asyncio.wait_for({name}(...), ...)`',
      timeoutAny: '`{name}()` takes `timeout` only to apply it with `{primitive}()` itself: callers can bound the call with `async with asyncio.timeout(...)` (3.11+) or `asyncio.wait_for(...)`',
    },
    docs: {
      what: "Flags the `timeout` parameter of an `async def` that applies it with asyncio's own timeout machinery (`asyncio.wait_for`, `asyncio.timeout`/`timeout_at`, `as_completed(timeout=)`, `async_timeout`): the function re-implements what every caller can do. Deliberately not flagged, because the signature is not the author's to change or the timeout means something else: methods (a class's API, overrides, protocol and abstract methods), a timeout applied inside a loop (it bounds each attempt of a retry loop, or each item, which one deadline set by the caller cannot do), closures only called in the function that defines them (it works out the budget; a closure returned or handed on is still flagged), decorated functions (framework handlers, fixtures, `@overload`, context managers), stubs (`...`, `pass`, `raise NotImplementedError`), functions listed in the module's `__all__` or documented as its API by a Sphinx directive in the module docstring (`.. autofunction:: name`, `.. function:: name`), a `timeout` only handed on to another function or a library (`session.get(url, timeout=timeout)`), whose own timeout may mean a connect or read timeout rather than a deadline, and `asyncio.wait(..., timeout=timeout)`, which returns the partial results where a caller's deadline would raise. Nor test code (a path of the configured `test_paths`, by default test suites, `testing.py` harnesses and `examples/`; a path test runners collect; or a module importing pytest or unittest), where a helper\'s default `timeout=10` is the suite\'s guard against a hanging test rather than an API. Nor a timeout utility, whose whole purpose is to bound an awaitable its caller hands it: the awaitable given to `wait_for`, or everything awaited inside `async with timeout(...)`, is one of the function's own parameters, the coroutine a parameter makes (`await corofunc(**kwargs)`), or a task wrapped straight around one (`task = asyncio.ensure_future(aw)`): a drop-in `wait_for(fut, timeout)` such as asyncpg's `compat.wait_for` or aiostream's; a function parameter run in a thread (`asyncio.to_thread(func, *args)`) counts as one. Nor a function that acts on its own timeout: its `except TimeoutError:` works with the function's state (returns the results found so far, retries with its arguments, raises its own error carrying what it had read), which a deadline set by the caller cannot reproduce. A handler that only logs and returns a constant (`return {}`, `return False`) is still flagged: the caller's own `except TimeoutError:` does that just as well.",
      why: "A timeout parameter bounds only the one wait the function chose to wrap, and composes badly: a caller with its own deadline must translate it into each callee's parameter, and nested functions each start a fresh budget. A deadline set by the caller with `asyncio.timeout()` cancels whatever is being awaited inside it, at any depth, and one deadline covers a whole sequence of calls. This is advice, not a bug: keep the parameter where the API is public and long-standing.",
      example: [
        'import asyncio',
        '',
        '',
        'async def fetch_with_timeout(session, url, timeout=5.0):',
        '    return await asyncio.wait_for(session.get(url), timeout)',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'async def fetch(session, url):',
        '    return await session.get(url)',
        '',
        '',
        'async def main(session, url):',
        '    async with asyncio.timeout(5.0):',
        '        return await fetch(session, url)',
      ].join('\n'),
    },
    cites: [
      { guide: 'S0', section: 'Step 2 — Pick the concurrency primitive' },
      { guide: 'S2', section: 'Pattern 4: Timeout' },
    ],
  },
  create(ctx) {
    let exported: Set<string> | null = null;
    let documented: Set<string> | null = null;
    const newTimeout = pythonAtLeast(ctx.settings.pythonVersion, 3, 11);
    const messageId = newTimeout === null ? 'timeoutAny' : newTimeout ? 'timeout311' : 'timeoutOld';

    /** The read of the function's own `timeout` parameter among this primitive call's arguments, if any. */
    const parameterRead = (call: SyntaxNode, definition: SyntaxNode): SyntaxNode | null => {
      const args = call.childForFieldName('arguments');
      if (!args || !args.text.includes(PARAMETER)) return null;
      for (const identifier of args.descendantsOfType('identifier')) {
        if (identifier.text !== PARAMETER) continue;
        const parent = identifier.parent;
        if (parent?.type === 'keyword_argument' && parent.childForFieldName('name')?.id === identifier.id) continue;
        if (parent?.type === 'attribute' && parent.childForFieldName('attribute')?.id === identifier.id) continue;
        // The innermost call holding it must be this one, past plain arithmetic (`max(timeout, 1)`):
        // handed to anything else, it is that callee's timeout.
        let direct = false;
        for (let n: SyntaxNode | null = parent; n && n.id !== definition.id; n = n.parent) {
          if (n.type === 'lambda') break;
          if (n.type !== 'argument_list' || n.parent?.type !== 'call') continue;
          if (n.id === args.id) {
            direct = true;
            break;
          }
          const written = n.parent.childForFieldName('function');
          if (written?.type !== 'identifier' || !ARITHMETIC.has(written.text) || ctx.lookup(written.text)) break;
        }
        if (direct) return identifier;
      }
      return null;
    };

    let testFile: boolean | null = null;
    return {
      call(node) {
        if (!ctx.inAsyncCode()) return;
        const definition = ctx.scope().node;
        if (!parameterRead(node, definition)) return;
        // Test code: a helper's `timeout=10` is the suite's guard against a hanging test, not an API.
        if ((testFile ??= isTestCode(ctx))) return;
        const callee = ctx.resolveCallee(node);
        if (!callee || !TIMEOUT_PRIMITIVES.has(callee)) return;
        // The function's own parameter (not a local of the same name only, not an outer one).
        const found = ctx.lookup(PARAMETER);
        if (!found || found.scope.node.id !== definition.id || !found.bindings.some((b) => b.kind === 'param')) return;
        // Signatures the author may not own, or that mean something else.
        const chain = ctx.scopeChain();
        const owner = chain[chain.length - 2];
        if (owner?.kind === 'class') return;
        // A closure only called where it is defined: its callers are in the function around it, which
        // works out the budget itself (a closure returned or handed on is an API like any other).
        if ((owner?.kind === 'def' || owner?.kind === 'async-def') && onlyCalledLocally(owner.node, definition)) return;
        if (definition.parent?.type === 'decorated_definition') return;
        if (isStub(definition)) return;
        // Applied inside a loop: it bounds each attempt or item (a retry loop, a per-chunk deadline),
        // which one deadline set by the caller cannot do.
        for (let up = node.parent; up && up.id !== definition.id; up = up.parent) {
          if (up.type === 'for_statement' || up.type === 'while_statement') return;
        }
        if (handlesItsTimeout(ctx, node, definition)) return;
        // A timeout utility (a drop-in `wait_for`): it bounds an awaitable its caller hands it.
        const bounded = boundedAwaitables(node, callee).map(unparenthesize);
        const isParameter = (n: SyntaxNode) =>
          n.type === 'identifier' && (ctx.lookup(n.text)?.scope.node.id === definition.id) && (ctx.lookup(n.text)?.bindings.some((b) => b.kind === 'param') ?? false);
        // ...or a task wrapped around it first (`task = asyncio.ensure_future(aw)`, aiostream's shim).
        const wrapsParameter = (n: SyntaxNode) => {
          const found = n.type === 'identifier' ? ctx.lookup(n.text) : null;
          if (!found || found.scope.node.id !== definition.id) return false;
          return found.bindings.every((b) => {
            const value = b.kind === 'assign' && b.value ? unparenthesize(b.value) : null;
            // `cor = asyncio.wait_for(cor, timeout)`: the binding this very call makes.
            if (value?.id === node.id) return true;
            const wrapper = value?.type === 'call' ? ctx.resolveCallee(value) : null;
            const inner = value ? positionalArguments(value)[0] : undefined;
            return wrapper !== null && PARAMETER_WRAPPERS.has(wrapper) && inner !== undefined && isParameter(unparenthesize(inner));
          });
        };
        // ...or the coroutine a parameter makes (`await corofunc(**kwargs)`, aioredis' test runner).
        // ...or a function parameter run in a thread (`asyncio.to_thread(func, *args)`, janitor's `to_thread_timeout`).
        const callsParameter = (n: SyntaxNode) => {
          if (n.type !== 'call') return false;
          if (isParameter(unparenthesize(n.childForFieldName('function')!))) return true;
          const inner = positionalArguments(n)[0];
          return ctx.resolveCallee(n) === 'asyncio.to_thread' && inner !== undefined && isParameter(unparenthesize(inner));
        };
        if (bounded.length > 0 && bounded.every((n) => isParameter(n) || wrapsParameter(n) || callsParameter(n))) return;
        const name = definition.childForFieldName('name')?.text ?? '?';
        if (owner?.kind === 'module' && (exported ??= exportedNames(ctx.file.tree.rootNode)).has(name)) return;
        if (owner?.kind === 'module' && (documented ??= documentedFunctions(ctx.file.tree.rootNode)).has(name)) return;
        const param = parameterNode(definition, PARAMETER);
        if (!param) return;
        const primitive = unparenthesize(node.childForFieldName('function')!).text.replace(/\s+/g, '');
        ctx.report({ node: param, messageId, data: { name, primitive } });
      },
    };
  },
};
