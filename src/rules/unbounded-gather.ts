import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { definitionsOf, dottedName, methodCall, namesIO, NESTED_SCOPES, unparenthesize } from './util.js';

const COMPREHENSIONS = new Set(['list_comprehension', 'generator_expression']);
const SPAWNERS = new Set(['asyncio.create_task', 'asyncio.ensure_future', 'asyncio.Task']);
const LITERALS = new Set(['list', 'tuple', 'set', 'dictionary', 'string', 'list_comprehension', 'set_comprehension', 'dictionary_comprehension']);
/** Text that says concurrency is bounded somewhere: a semaphore, a limiter, a throttle. */
const BOUNDED_TEXT = /semaphore|\bsem\b|_sem\b|\bsem_|limiter|throttl|rate_?limit|capacitylimiter|max_concurren/i;
/** Names of inputs that are already batches (`for chunk in chunked(ids, 100): gather(...)`). */
const BATCH_NAME = /batch|chunk|page|window|slice/i;
const VIEWS = new Set(['items', 'keys', 'values']);

/** One coroutine per item of `iterable`. */
interface FanOut {
  iterable: SyntaxNode;
  /** The call made per item (`fetch(url)`), or the function mapped (`map(fetch, urls)`). */
  coroutine: SyntaxNode;
  /** The loop's target (`conn` of `for conn in ...`), when there is one. */
  target: SyntaxNode | null;
}

/** Names of task wrappers: `loop.create_task`, a project's own `create_task(fn, *args)`. */
const SPAWN_NAMES = new Set(['create_task', 'ensure_future']);

/**
 * `asyncio.create_task(f(x))` -> `f(x)`; a wrapper named `create_task` / `ensure_future` that takes
 * the coroutine (`loop.create_task(f(x))`) or the function to call (`create_task(item.close)`) ->
 * that coroutine or function.
 */
function unwrapSpawn(ctx: RuleContext, node: SyntaxNode): SyntaxNode {
  const inner = unparenthesize(node);
  if (inner.type !== 'call') return inner;
  const first = inner.childForFieldName('arguments')?.namedChildren[0];
  if (!first || first.type === 'keyword_argument' || first.type === 'list_splat') return inner;
  if (SPAWNERS.has(ctx.resolveCallee(inner) ?? '')) return unparenthesize(first);
  const callee = dottedName(inner.childForFieldName('function'));
  const last = callee?.slice(callee.lastIndexOf('.') + 1) ?? '';
  const started = unparenthesize(first);
  if (SPAWN_NAMES.has(last) && (started.type === 'call' || started.type === 'attribute' || started.type === 'identifier')) return started;
  return inner;
}

/** A coroutine started per item: a call, or a function a task wrapper calls (`create_task(item.close)`). */
function started(body: SyntaxNode, coroutine: SyntaxNode): boolean {
  return coroutine.type === 'call' || coroutine.id !== unparenthesize(body).id;
}

function fromComprehension(ctx: RuleContext, node: SyntaxNode): FanOut | null {
  if (!COMPREHENSIONS.has(node.type)) return null;
  const clauses = node.namedChildren.filter((c) => c.type === 'for_in_clause');
  if (clauses.length !== 1 || clauses[0]!.child(0)?.type === 'async') return null;
  const body = node.childForFieldName('body');
  const iterable = clauses[0]!.childForFieldName('right');
  if (!body || !iterable) return null;
  const coroutine = unwrapSpawn(ctx, body);
  return started(body, coroutine) ? { iterable, coroutine, target: clauses[0]!.childForFieldName('left') } : null;
}


/** Statements `name.append(x)` in for loops of `scope` (not in nested functions). */
function appendLoops(scope: SyntaxNode, name: string): { loop: SyntaxNode; value: SyntaxNode }[] {
  const found: { loop: SyntaxNode; value: SyntaxNode }[] = [];
  const body = scope.childForFieldName('body');
  if (!body) return found;
  const cursor = body.walk();
  for (;;) {
    if (cursor.nodeType === 'call') {
      const call = cursor.currentNode;
      const method = methodCall(call);
      if (method && method.method === 'append' && method.receiver.type === 'identifier' && method.receiver.text === name) {
        let loop = call.parent;
        while (loop && loop.type !== 'for_statement' && !NESTED_SCOPES.has(loop.type)) loop = loop.parent;
        const value = call.childForFieldName('arguments')?.namedChildren[0];
        if (loop?.type === 'for_statement' && value) found.push({ loop, value });
        else found.push({ loop: call, value: call });
      }
    }
    if (!NESTED_SCOPES.has(cursor.nodeType) && cursor.gotoFirstChild()) continue;
    for (;;) {
      if (cursor.gotoNextSibling()) break;
      if (!cursor.gotoParent()) return found;
    }
  }
}

/** `*<expression>` of a gather: the items and the coroutine started per item, when plain. */
function fanOut(ctx: RuleContext, splatted: SyntaxNode): FanOut | null {
  const node = unparenthesize(splatted);
  const direct = fromComprehension(ctx, node);
  if (direct) return direct;
  if (node.type === 'call') {
    // `map(fetch, urls)`
    const callee = node.childForFieldName('function');
    const args = node.childForFieldName('arguments')?.namedChildren ?? [];
    if (callee?.type === 'identifier' && callee.text === 'map' && ctx.lookup('map') === null && args.length === 2) {
      return { coroutine: args[0]!, iterable: args[1]!, target: null };
    }
    return null;
  }
  if (node.type !== 'identifier') return null;
  // `tasks`, built once in this function by a comprehension or by `append` in a loop.
  const scope = ctx.scope();
  const found = ctx.lookup(node.text);
  if (!found || found.scope.node.id !== scope.node.id || found.bindings.length !== 1) return null;
  const binding = found.bindings[0]!;
  if (binding.kind !== 'assign' || !binding.value) return null;
  const value = unparenthesize(binding.value);
  const built = fromComprehension(ctx, value);
  if (built) return built;
  if (value.type !== 'list' || value.namedChildCount !== 0) return null;
  const appends = appendLoops(scope.node, node.text);
  if (appends.length !== 1 || appends[0]!.loop.type !== 'for_statement' || appends[0]!.loop.child(0)?.type === 'async') return null;
  const iterable = appends[0]!.loop.childForFieldName('right');
  const coroutine = unwrapSpawn(ctx, appends[0]!.value);
  return iterable && started(appends[0]!.value, coroutine) ? { iterable, coroutine, target: appends[0]!.loop.childForFieldName('left') } : null;
}

/**
 * The input's text when `iterable` is an input of unknown size: a parameter, a local computed by
 * a call, an attribute. Null for what is bounded or unsure: literals, slices, `range(...)`, a
 * batch of a loop, anything else.
 */
function unboundedInput(ctx: RuleContext, iterable: SyntaxNode): string | null {
  let node = unparenthesize(iterable);
  if (node.type === 'call') {
    const method = methodCall(node);
    const callee = node.childForFieldName('function');
    const args = node.childForFieldName('arguments')?.namedChildren ?? [];
    if (method && VIEWS.has(method.method) && args.length === 0) node = unparenthesize(method.receiver);
    else if (callee?.type === 'identifier' && callee.text === 'enumerate' && ctx.lookup('enumerate') === null && args.length === 1) node = unparenthesize(args[0]!);
    else return null;
  }
  const name = dottedName(node);
  if (!name || BATCH_NAME.test(name)) return null;
  if (node.type === 'identifier') {
    const found = ctx.lookup(name);
    if (!found) return null;
    for (const binding of found.bindings) {
      if (binding.kind === 'for' || binding.kind === 'import' || binding.kind === 'def' || binding.kind === 'class') return null;
      const value = binding.value ? unparenthesize(binding.value) : null;
      if (value && (LITERALS.has(value.type) || value.type === 'subscript')) return null;
    }
  }
  return name;
}

/** Builtins that only combine or copy what they are given (`chain(self._idle, self._busy)`). */
const COMBINERS = new Set(['list', 'tuple', 'set', 'frozenset', 'sorted', 'reversed', 'chain', 'itertools.chain']);

/**
 * `self._connections`, `self._holders.values()`, or a local bound only to such attributes or to
 * `chain(...)` / `list(...)` / `a + b` of them: what the object already holds, its number bounded by
 * what exists.
 */
function ownedBySelf(ctx: RuleContext, iterable: SyntaxNode, depth = 0): boolean {
  if (depth > 4) return false;
  const node = unparenthesize(iterable);
  if (node.type === 'attribute') {
    const name = dottedName(node);
    return name !== null && /^(self|cls)\./.test(name);
  }
  if (node.type === 'call') {
    const method = methodCall(node);
    const args = node.childForFieldName('arguments')?.namedChildren ?? [];
    if (method && VIEWS.has(method.method) && args.length === 0) return ownedBySelf(ctx, method.receiver, depth + 1);
    const callee = node.childForFieldName('function');
    const resolved = ctx.resolveCallee(node) ?? (callee?.type === 'identifier' && ctx.lookup(callee.text) === null ? callee.text : null);
    if (!resolved || !COMBINERS.has(resolved.replace(/^builtins\./, ''))) return false;
    return args.length > 0 && args.every((a) => a.type !== 'keyword_argument' && ownedBySelf(ctx, a.type === 'list_splat' ? a.namedChild(0) ?? a : a, depth + 1));
  }
  if (node.type === 'binary_operator' && node.child(1)?.type === '+') {
    const left = node.childForFieldName('left');
    const right = node.childForFieldName('right');
    return left !== null && right !== null && ownedBySelf(ctx, left, depth + 1) && ownedBySelf(ctx, right, depth + 1);
  }
  if (node.type === 'identifier') {
    const found = ctx.lookup(node.text);
    if (!found || found.scope.node.id !== ctx.scope().node.id || found.bindings.length === 0) return false;
    return found.bindings.every((b) => (b.kind === 'assign' || b.kind === 'annotation') && b.value !== undefined && ownedBySelf(ctx, b.value, depth + 1));
  }
  return false;
}

/** `conn.disconnect()` (or `create_task(conn.disconnect)`) for `conn` the loop's item: the item acts on itself. */
function callsOnItem(fan: FanOut): boolean {
  if (fan.target?.type !== 'identifier') return false;
  let receiver: string | null = null;
  if (fan.coroutine.type === 'call') {
    const method = methodCall(fan.coroutine);
    const callee = fan.coroutine.childForFieldName('function');
    // The item called itself: a registered callback or signal receiver (`handler(event)`).
    receiver = method ? dottedName(method.receiver) : callee?.type === 'identifier' ? callee.text : null;
  } else if (fan.coroutine.type === 'attribute') {
    receiver = dottedName(fan.coroutine.childForFieldName('object'));
  }
  return receiver !== null && receiver !== undefined && receiver.split('.')[0] === fan.target.text;
}

/** `async with x:` on an existing object (a semaphore, a lock, a limiter), not on a call. */
function acquiresShared(definition: SyntaxNode): boolean {
  const cursor = definition.walk();
  for (;;) {
    if (cursor.nodeType === 'with_statement' && cursor.currentNode.child(0)?.type === 'async') {
      const clause = cursor.currentNode.namedChildren.find((c) => c.type === 'with_clause');
      for (const item of clause?.namedChildren ?? []) {
        let value = item.childForFieldName('value');
        if (value?.type === 'as_pattern') value = value.namedChild(0);
        if (value && (value.type === 'identifier' || value.type === 'attribute' || value.type === 'subscript')) return true;
      }
    }
    if (cursor.gotoFirstChild()) continue;
    for (;;) {
      if (cursor.gotoNextSibling()) break;
      if (!cursor.gotoParent()) return false;
    }
  }
}

function bounded(definition: SyntaxNode): boolean {
  return BOUNDED_TEXT.test(definition.text) || acquiresShared(definition);
}

/** `loop.run_in_executor(pool, ...)` with a pool of its own: the pool's size bounds the work. */
function inOwnExecutor(coroutine: SyntaxNode): boolean {
  if (coroutine.type !== 'call') return false;
  const method = methodCall(coroutine);
  const executor = coroutine.childForFieldName('arguments')?.namedChildren[0];
  return method?.method === 'run_in_executor' && executor !== undefined && executor.type !== 'none';
}

/**
 * `discover(disco, item.jid, recurse=False)` inside `discover` itself, under `if recurse:`: a walk
 * one level into the children of the node the function just looked at, with the recursion switched
 * off by the very flag that guards the fan-out. What it visits is the structure's own direct
 * children, not a stream of inputs.
 */
function oneLevelRecursion(ctx: RuleContext, coroutine: SyntaxNode, gather: SyntaxNode): boolean {
  if (coroutine.type !== 'call') return false;
  const scope = ctx.scope();
  if (scope.kind !== 'async-def') return false;
  const name = scope.node.childForFieldName('name')?.text;
  const callee = coroutine.childForFieldName('function');
  if (!name || !callee) return false;
  if (callee.type === 'identifier') {
    if (callee.text !== name) return false;
    const found = ctx.lookup(name);
    if (!found || !found.bindings.some((b) => b.definition?.id === scope.node.id)) return false;
  } else if (dottedName(callee) !== `self.${name}` && dottedName(callee) !== `cls.${name}`) {
    return false;
  }
  const switchedOff = (coroutine.childForFieldName('arguments')?.namedChildren ?? [])
    .filter((a) => a.type === 'keyword_argument' && a.childForFieldName('value')?.type === 'false')
    .map((a) => a.childForFieldName('name')?.text);
  if (switchedOff.length === 0) return false;
  for (let node = gather.parent; node && node.id !== scope.node.id; node = node.parent) {
    if (node.type !== 'if_statement') continue;
    const condition = node.childForFieldName('condition');
    if (condition && unparenthesize(condition).type === 'identifier' && switchedOff.includes(unparenthesize(condition).text)) return true;
  }
  return false;
}

/** First words that open a request or a connection per item, on top of the reads of `namesIO`. */
const OPENING_VERBS = new Set(['upload', 'execute', 'connect', 'post', 'put', 'patch', 'send_request']);

/**
 * Whether the coroutine started per item clearly opens a request, a query or a connection:
 * `session.get(url)`, `fetch_user(uid)`, `bucket.upload` mapped over files. Closing, waiting on,
 * cancelling or bookkeeping (`w.close()`, `self.remove_worker(w)`, `self.rpc(w).profile()` through
 * a pool that caps its connections) is not the flood the rule is about, and an unknown verb may be
 * either: those stay silent.
 */
function opensIO(coroutine: SyntaxNode): boolean {
  const callee = coroutine.type === 'call' ? coroutine.childForFieldName('function') : coroutine;
  if (callee?.type === 'identifier') return namesIO(null, callee.text, OPENING_VERBS);
  if (callee?.type !== 'attribute') return false;
  const name = callee.childForFieldName('attribute')?.text;
  const receiver = dottedName(callee.childForFieldName('object'));
  return name !== undefined && receiver !== null && namesIO(receiver, name, OPENING_VERBS);
}

function calleeLabel(coroutine: SyntaxNode): string {
  const callee = coroutine.type === 'call' ? coroutine.childForFieldName('function') : coroutine;
  const text = (callee?.text ?? coroutine.text).replace(/\s+/g, '');
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

export const unboundedGather: Rule = {
  meta: {
    id: 'AG403',
    slug: 'unbounded-gather',
    aliases: [],
    family: 'concurrency',
    severity: 'info',
    title: 'Unbounded fan-out with `gather`',
    fix: 'Bound the concurrency: acquire an `asyncio.Semaphore(n)` inside the coroutine (`async with sem:`), or gather the input in fixed-size batches.',
    messages: {
      unbounded: '`asyncio.gather` starts `{callee}()` for every item of `{input}` at once, and nothing bounds how many run together',
    },
    docs: {
      what: "Flags `asyncio.gather(*(f(x) for x in xs))`, `gather(*[f(x) for x in xs])`, `gather(*map(f, xs))` and `gather(*tasks)` where `tasks` is built by such a comprehension or by `tasks.append(f(x))` in a `for` loop, when `xs` is an input of unknown size (a parameter, an attribute, a local computed by a call) and nothing bounds the concurrency. Not flagged: a literal, a slice (`xs[:10]`), `range(...)`, a batch of an outer loop (or a name saying `batch` / `chunk` / `page`), a function that mentions a semaphore or limiter, and a callee of the same file that acquires a semaphore, lock or limiter (`async with sem:`) or mentions one, and a method of each item over what the object already holds (`gather(*(conn.close() for conn in self._connections))`, also over `self.x.values()` or a local bound only to such attributes or `chain(...)` of them): closing, waiting on or messaging resources that exist opens nothing new, and their number is what exists; so does calling each receiver a signal or event object holds (`gather(*(receiver(sender) for receiver in self._receivers.values()))`): the handlers registered in code; the same through a task wrapper named `create_task` / `ensure_future` (`create_task(item.close)` appended per held item). Nor is a one-level walk into a structure: the enclosing function calling itself per child with the flag that guards the fan-out switched off (`if recurse: gather(*(discover(c, recurse=False) for c in node.children))`). Only a coroutine that clearly opens a request, a query or a connection per item is flagged: a name that reads or requests (`fetch...`, `download...`, `query...`, `lookup...`, `request...`), uploads, executes, connects or posts, an HTTP method of another object (`session.get(url)`), or a `get...` / `list...` of an object named for a remote store or service (`db`, `api`, `s3`...). Closing, waiting on, removing, cancelling or messaging items, bookkeeping through the object's own methods, a callable handed in (`handler(event)`) and unknown verbs stay silent: they are not the flood of new connections the rule is about, and a guess would be noise. A call that takes the item as an argument (`self.execute_command(slot)` over caller-supplied `slots`) is flagged, and so is a callee defined elsewhere (`session.get`, an imported `fetch_user`): the finding is advice (info), to be dismissed where the input is known to be small.",
      why: 'gather starts every coroutine at once. With ten items that is the point; with the ten thousand rows a query returned it opens ten thousand connections or requests together: the remote side rate-limits or refuses them, connection pools time out waiting (httpx raises `PoolTimeout`), file descriptors run out, and memory holds every response at the same time. A semaphore keeps the same code concurrent but bounded.',
      example: [
        'import asyncio',
        '',
        '',
        'async def fetch_all(session, urls):',
        '    return await asyncio.gather(*(session.get(url) for url in urls))',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'async def fetch_all(session, urls, limit=10):',
        '    semaphore = asyncio.Semaphore(limit)',
        '',
        '    async def fetch_one(url):',
        '        async with semaphore:',
        '            return await session.get(url)',
        '',
        '    return await asyncio.gather(*(fetch_one(url) for url in urls))',
      ].join('\n'),
    },
    cites: [
      { guide: 'S0', section: 'Step 2 — Pick the concurrency primitive' },
      { guide: 'S1', section: 'Pattern 5: Rate Limiting with Semaphore' },
      { guide: 'S2', section: 'Pattern 2: Bounded Concurrency' },
    ],
  },
  create(ctx) {
    return {
      call(node) {
        if (!ctx.inAsyncCode() || ctx.resolveCallee(node) !== 'asyncio.gather') return;
        const scope = ctx.scope();
        if (BOUNDED_TEXT.test(scope.node.text)) return;
        for (const arg of node.childForFieldName('arguments')?.namedChildren ?? []) {
          if (arg.type !== 'list_splat' || !arg.namedChild(0)) continue;
          const fan = fanOut(ctx, arg.namedChild(0)!);
          if (!fan || !opensIO(fan.coroutine)) continue;
          const input = unboundedInput(ctx, fan.iterable);
          if (!input) continue;
          // Closing, waiting on or messaging what the object already holds (its connections, its
          // configured servers): nothing new is opened, and the count is what exists.
          if (callsOnItem(fan) && ownedBySelf(ctx, fan.iterable)) continue;
          if (oneLevelRecursion(ctx, fan.coroutine, node)) continue;
          const definitions = definitionsOf(ctx, fan.coroutine);
          if (definitions?.some(bounded) || inOwnExecutor(fan.coroutine)) continue;
          ctx.report({ node, messageId: 'unbounded', data: { callee: calleeLabel(fan.coroutine), input } });
          return;
        }
      },
    };
  },
};
