import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { ASYNCIO_CONDITION, ASYNCIO_EVENT, ASYNCIO_LOCK, ASYNCIO_QUEUE, ASYNCIO_SEMAPHORE, dottedName, inTestFunction, methodCall, namesIO, namesIOVerb, NESTED_SCOPES, pythonAtLeast, shorten, typeOf, unparenthesize } from './util.js';

const COMPREHENSIONS = new Set(['list_comprehension', 'set_comprehension', 'dictionary_comprehension']);

/** Reading the body of a response the loop already has: `await resp.json()`. */
const RESPONSE_BODY = new Set(['json', 'text', 'body']);

/** Receivers that serialise their operations: one DB connection, a cursor, a transaction, a queue. */
const SERIAL_RECEIVER = /(^|[._])(conn|connection|cursor|cur|tx|txn|transaction|queue|q|lock|sem|semaphore|limiter|ws|websocket|socket|sock|stream|reader|writer|channel)$/i;
const SERIAL_TYPES = new Set([ASYNCIO_QUEUE, ASYNCIO_LOCK, ASYNCIO_EVENT, ASYNCIO_CONDITION, ASYNCIO_SEMAPHORE]);
/** Words that say the loop paces itself on purpose. */
const PACING = /sleep|throttl|rate_?limit|backoff|wait|retry|poll/i;
/** Methods that mutate the object they are called on. */
const MUTATORS = new Set(['append', 'appendleft', 'add', 'update', 'extend', 'insert', 'pop', 'popleft', 'remove', 'discard', 'clear', 'setdefault']);

type AwaitKind = 'read' | 'other' | 'stop';

interface Scan {
  awaits: { node: SyntaxNode; call: SyntaxNode | null; kind: AwaitKind }[];
  /** A `break`, `return`, `yield` or `async for`: the loop decides on results, or streams. */
  stops: boolean;
}

/** `asyncio.wait_for(f(x), 5)` / `asyncio.shield(f(x))` -> `f(x)`. */
function unwrapAwaitable(ctx: RuleContext, expression: SyntaxNode): SyntaxNode {
  let node = unparenthesize(expression);
  for (let i = 0; i < 3 && node.type === 'call'; i++) {
    const resolved = ctx.resolveCallee(node);
    if (resolved !== 'asyncio.wait_for' && resolved !== 'asyncio.shield') break;
    const first = node.childForFieldName('arguments')?.namedChildren[0];
    if (!first || first.type === 'keyword_argument') break;
    node = unparenthesize(first);
  }
  return node;
}

/** What an awaited call is: a read that may run concurrently, something else, or pacing. */
function kindOf(ctx: RuleContext, call: SyntaxNode, loopNames: ReadonlySet<string>): AwaitKind {
  const resolved = ctx.resolveCallee(call);
  // asyncio itself: sleep paces, gather batches, to_thread/wait/queues are their own story.
  if (resolved?.startsWith('asyncio.')) return 'stop';
  const callee = call.childForFieldName('function');
  const text = callee?.text ?? '';
  if (PACING.test(text)) return 'stop';
  const method = methodCall(call);
  if (method) {
    const receiver = dottedName(method.receiver) ?? '';
    if (SERIAL_RECEIVER.test(receiver)) return 'stop';
    const type = typeOf(ctx, method.receiver);
    if (type && SERIAL_TYPES.has(type)) return 'stop';
    // An ORM session's `get(User, id)`: one SQLAlchemy AsyncSession is not safe to share between tasks.
    const first = call.childForFieldName('arguments')?.namedChildren[0];
    if (first?.type === 'identifier' && /^[A-Z][a-z]/.test(first.text)) return 'stop';
    // A method of the loop's item (`item.get_translated_payload(t)`): a clear I/O verb or nothing.
    const head = receiver.split('.')[0] ?? '';
    if (loopNames.has(head)) return namesIOVerb(method.method) ? 'read' : 'other';
    return namesIO(receiver, method.method) || RESPONSE_BODY.has(method.method) ? 'read' : 'other';
  }
  return callee?.type === 'identifier' && namesIO(null, callee.text) ? 'read' : 'other';
}

/** Awaits and async constructs of `root` (not in nested functions), and whether it stops early. */
function scan(ctx: RuleContext, roots: SyntaxNode[], loopNames: ReadonlySet<string>): Scan {
  const result: Scan = { awaits: [], stops: false };
  for (const root of roots) {
    const cursor = root.walk();
    for (;;) {
      const type = cursor.nodeType;
      if (type === 'break_statement' || type === 'return_statement' || type === 'yield') result.stops = true;
      if ((type === 'for_statement' || type === 'for_in_clause') && cursor.currentNode.child(0)?.type === 'async') result.stops = true;
      if (type === 'await' && cursor.nodeIsNamed) {
        const node = cursor.currentNode;
        const awaited = node.namedChild(0);
        const call = awaited ? unwrapAwaitable(ctx, awaited) : null;
        // Awaiting a task or a future: the work already runs concurrently.
        if (call?.type !== 'call') result.awaits.push({ node, call: null, kind: 'stop' });
        else result.awaits.push({ node, call, kind: kindOf(ctx, call, loopNames) });
      }
      if (type === 'with_statement' && cursor.currentNode.child(0)?.type === 'async') {
        const clause = cursor.currentNode.namedChildren.find((c) => c.type === 'with_clause');
        for (const item of clause?.namedChildren ?? []) {
          let value = item.childForFieldName('value');
          if (value?.type === 'as_pattern') value = value.namedChild(0);
          if (!value) continue;
          const call = unparenthesize(value);
          // `async with lock:` orders the iterations; `async with session.get(url) as r:` reads.
          if (call.type !== 'call') result.awaits.push({ node: item, call: null, kind: 'stop' });
          else result.awaits.push({ node: item, call, kind: kindOf(ctx, call, loopNames) });
        }
      }
      if (!NESTED_SCOPES.has(type) && cursor.gotoFirstChild()) continue;
      let done = false;
      for (;;) {
        if (cursor.gotoNextSibling()) break;
        if (!cursor.gotoParent()) {
          done = true;
          break;
        }
      }
      if (done) break;
    }
  }
  return result;
}

/** Names an assignment target binds: `a`, `a, (b, c)`, `*rest`. */
function targetNames(target: SyntaxNode | null, into: Set<string>): void {
  if (!target) return;
  if (target.type === 'identifier') {
    into.add(target.text);
    return;
  }
  if (target.type === 'attribute' || target.type === 'subscript') return;
  for (const child of target.namedChildren) targetNames(child, into);
}

function mentions(node: SyntaxNode, names: ReadonlySet<string>): boolean {
  const cursor = node.walk();
  for (;;) {
    if (cursor.nodeType === 'identifier' && names.has(cursor.nodeText)) return true;
    if (cursor.gotoFirstChild()) continue;
    for (;;) {
      if (cursor.gotoNextSibling()) break;
      if (!cursor.gotoParent()) return false;
    }
  }
}

/** Every node of `roots` of the given types, outside nested functions. */
function nodesOf(roots: SyntaxNode[], types: ReadonlySet<string>): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  const stack = [...roots].reverse();
  while (stack.length) {
    const node = stack.pop()!;
    if (types.has(node.type)) found.push(node);
    if (NESTED_SCOPES.has(node.type)) continue;
    for (let i = node.namedChildCount - 1; i >= 0; i--) stack.push(node.namedChild(i)!);
  }
  return found;
}

const BINDERS = new Set(['assignment', 'augmented_assignment', 'named_expression', 'for_statement', 'as_pattern']);

/** The loop variables plus every local the body derives from them, to a fixed point. */
function tainted(targets: Set<string>, body: SyntaxNode[]): Set<string> {
  const names = new Set(targets);
  const binders = nodesOf(body, BINDERS);
  for (let changed = true; changed; ) {
    changed = false;
    for (const binder of binders) {
      let source: SyntaxNode | null = null;
      let target: SyntaxNode | null = null;
      if (binder.type === 'assignment' || binder.type === 'augmented_assignment') {
        source = binder.childForFieldName('right');
        target = binder.childForFieldName('left');
      } else if (binder.type === 'named_expression') {
        source = binder.childForFieldName('value');
        target = binder.childForFieldName('name');
      } else if (binder.type === 'for_statement') {
        source = binder.childForFieldName('right');
        target = binder.childForFieldName('left');
      } else if (binder.type === 'as_pattern') {
        source = binder.namedChild(0);
        target = binder.childForFieldName('alias');
      }
      if (!source || !target || !mentions(source, names)) continue;
      const before = names.size;
      targetNames(target, names);
      if (names.size !== before) changed = true;
    }
  }
  return names;
}

type Event = { name: string; kind: 'read' | 'write' } | { kind: 'await' };

/**
 * Reads and writes of the loop body in evaluation order (right-hand sides before their targets),
 * names and dotted names (`self.offset`) alike, and a marker after each flagged await.
 */
function events(roots: SyntaxNode[], marks: ReadonlySet<number>): Event[] {
  const out: Event[] = [];
  const read = (node: SyntaxNode) => {
    let current: SyntaxNode | null = node;
    while (current) {
      const dotted = dottedName(current);
      if (dotted) out.push({ name: dotted, kind: 'read' });
      current = current.type === 'attribute' ? current.childForFieldName('object') : null;
    }
  };
  const write = (target: SyntaxNode | null) => {
    if (!target) return;
    const node = unparenthesize(target);
    if (node.type === 'identifier' || node.type === 'attribute') {
      const dotted = dottedName(node);
      if (dotted) out.push({ name: dotted, kind: 'write' });
      else visit(node);
      return;
    }
    if (node.type === 'subscript') {
      const value = node.childForFieldName('value');
      for (const index of node.namedChildren.filter((c) => c.id !== value?.id)) visit(index);
      const dotted = dottedName(value);
      if (dotted) out.push({ name: dotted, kind: 'write' });
      else if (value) visit(value);
      return;
    }
    for (const child of node.namedChildren) write(child);
  };
  const visit = (node: SyntaxNode): void => {
    switch (node.type) {
      case 'identifier':
        out.push({ name: node.text, kind: 'read' });
        return;
      case 'attribute': {
        if (dottedName(node)) read(node);
        else for (const child of node.namedChildren) visit(child);
        return;
      }
      case 'assignment': {
        const right = node.childForFieldName('right');
        if (right) visit(right);
        write(node.childForFieldName('left'));
        return;
      }
      case 'augmented_assignment': {
        const right = node.childForFieldName('right');
        const left = node.childForFieldName('left');
        if (right) visit(right);
        if (left) visit(left);
        write(left);
        return;
      }
      case 'named_expression': {
        const value = node.childForFieldName('value');
        if (value) visit(value);
        write(node.childForFieldName('name'));
        return;
      }
      case 'for_statement': {
        const right = node.childForFieldName('right');
        if (right) visit(right);
        write(node.childForFieldName('left'));
        for (const part of [node.childForFieldName('body'), node.childForFieldName('alternative')]) if (part) visit(part);
        return;
      }
      case 'as_pattern': {
        const value = node.namedChild(0);
        if (value) visit(value);
        write(node.childForFieldName('alias'));
        return;
      }
      case 'call': {
        const method = methodCall(node);
        const args = node.childForFieldName('arguments');
        if (method && MUTATORS.has(method.method) && dottedName(method.receiver)) {
          if (args) visit(args);
          out.push({ name: dottedName(method.receiver)!, kind: 'write' });
        } else {
          for (const child of node.namedChildren) visit(child);
        }
        return;
      }
      default:
        for (const child of node.namedChildren) visit(child);
        if (marks.has(node.id)) out.push({ kind: 'await' });
    }
  };
  for (const root of roots) visit(root);
  return out;
}

/**
 * True when an iteration may read what an earlier one wrote before its awaits are done: a cursor
 * (`offset = page.next`), a `seen` set, a counter that gates the call. An accumulator only written
 * after the awaits (`total += len(rows)`) does not order anything.
 */
function carriesState(roots: SyntaxNode[], marks: ReadonlySet<number>, loopNames: ReadonlySet<string>): boolean {
  const list = events(roots, marks);
  const lastAwait = list.map((e) => e.kind).lastIndexOf('await');
  const written = new Set(list.flatMap((e) => (e.kind === 'write' && !loopNames.has(e.name) ? [e.name] : [])));
  const assigned = new Set<string>();
  for (let i = 0; i < list.length && i <= lastAwait; i++) {
    const event = list[i]!;
    if (event.kind === 'await') continue;
    if (event.kind === 'write') assigned.add(event.name);
    else if (written.has(event.name) && !assigned.has(event.name)) return true;
  }
  return false;
}

/** `[a, b]`, `(a,)`, `range(2)`: two items at most, nothing to gain. */
function tiny(iterable: SyntaxNode): boolean {
  const node = unparenthesize(iterable);
  if (node.type === 'list' || node.type === 'tuple' || node.type === 'set') return node.namedChildCount <= 2;
  if (node.type === 'call' && node.childForFieldName('function')?.text === 'range') {
    const args = node.childForFieldName('arguments')?.namedChildren ?? [];
    return args.length === 1 && args[0]!.type === 'integer' && Number(args[0]!.text) <= 2;
  }
  return false;
}


/**
 * `range(0, len(data), 244)`, or a body that slices by the loop variable (`data[offset:offset + n]`):
 * one payload sent or read chunk by chunk, in order, over one link.
 */
function chunked(iterable: SyntaxNode, body: SyntaxNode[], loopNames: ReadonlySet<string>): boolean {
  const node = unparenthesize(iterable);
  if (node.type === 'call' && node.childForFieldName('function')?.text === 'range' && (node.childForFieldName('arguments')?.namedChildren.length ?? 0) === 3) return true;
  return nodesOf(body, new Set(['slice'])).some((slice) => mentions(slice, loopNames));
}

/** The await is a statement of its own: the call's result is dropped, so it works by changing state. */
function resultDropped(node: SyntaxNode): boolean {
  return node.type === 'await' && node.parent?.type === 'expression_statement';
}

export const sequentialAwaitInLoop: Rule = {
  meta: {
    id: 'AG401',
    slug: 'sequential-await-in-loop',
    aliases: [],
    family: 'concurrency',
    severity: 'warning',
    title: 'Independent awaits run one at a time in a loop',
    fix: 'Start the calls together with `asyncio.gather(*(fetch(x) for x in items))` (or an `asyncio.TaskGroup` on Python 3.11+), bounded by an `asyncio.Semaphore` when the input can be large.',
    messages: {
      loop: 'Each iteration waits for `{call}` before the next one starts, though no iteration needs another\'s result: the calls run one after another. Use {instead}',
      comprehension: 'The comprehension waits for `{call}` one item at a time, though no item needs another\'s result: the calls run one after another. Use {instead}',
    },
    docs: {
      what: "Flags a `for` loop (or a list / set / dict comprehension) in async code that awaits a call that clearly does I/O: one named `fetch...`, `load...`, `lookup...`, `download...`, `query...`, `request...` and the like on any object; an HTTP method on another object (`await client.get(url)`, `async with session.get(url)`, `await cache.get(key)`); or a `get...` / `list...` / `search...` / `find...` / `describe...` call on an object named for a remote store or service (`db`, `pool`, `api`, `redis`, `s3`, `storage`, `repo`, ...) or whose name says it is remote (`get_page(url)`), whose arguments depend on the loop variable, when every await of the body is such a read and the iterations are clearly independent. Deliberately not flagged: `read...` calls, which in asyncio mostly read one stream in order (`await reader.read(n)`, a decoder's `read_data(...)`); `async for`; a body that breaks, returns or yields (it decides on results or streams them); a cursor, counter or `seen` set that an iteration reads before its awaits and writes for the next one; pacing (`asyncio.sleep`, anything named sleep/wait/retry/poll/throttle) and any other asyncio call; writes and sends (`post`, `send`, `write`, `save`, unknown verbs) anywhere in the body, since their order may matter; a single connection, cursor, transaction, queue, lock or socket (`conn.fetchrow(...)`), or an ORM session (`session.get(User, id)`), which cannot serve two calls at once; awaiting tasks or futures that already run; a payload moved chunk by chunk (`for offset in range(0, len(data), 244)`, or a body slicing by the loop variable: ordered transfers over one link, or batches sized on purpose); reads whose results are dropped (`await self._fetch_zone(zone)` as a statement: they work by updating shared state, so the order may matter); a loop over one or two literal items; a method of the loop's item itself whose verb does not clearly name I/O (`[await choice.get_translated_payload(t) for choice in choices]`: the item serialises itself, often around a hook that returns at once; `await page.fetch()` is still flagged); a `get...` call on any other object (`await client.get_input_entity(peer)` in Telethon is a cache-first lookup that rarely goes to the network, and nothing in the name says which it is); and `test*` functions, where checks run in order on purpose. Reported once per loop, at the first dependent await.",
      why: 'Each `await` suspends the loop until that call is done, so N independent requests take N round-trips end to end: a hundred 50 ms lookups take five seconds where `gather` would take about 50 ms. The event loop is not blocked (other tasks still run), but this request, job or page is needlessly slow, and the latency grows with the input.',
      example: [
        'async def load_users(db, user_ids):',
        '    users = {}',
        '    for user_id in user_ids:',
        '        users[user_id] = await db.fetch_user(user_id)',
        '    return users',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'async def load_users(db, user_ids, limit=20):',
        '    semaphore = asyncio.Semaphore(limit)',
        '',
        '    async def load(user_id):',
        '        async with semaphore:',
        '            return await db.fetch_user(user_id)',
        '',
        '    users = await asyncio.gather(*(load(user_id) for user_id in user_ids))',
        '    return dict(zip(user_ids, users))',
      ].join('\n'),
    },
    cites: [
      { guide: 'S1', section: 'Pitfall 5: Sequential Instead of Concurrent' },
      { guide: 'S1', section: 'Troubleshooting Quick Guide' },
    ],
  },
  create(ctx) {
    const instead = () =>
      pythonAtLeast(ctx.settings.pythonVersion, 3, 11) === true
        ? '`asyncio.gather(...)` or an `asyncio.TaskGroup`, with an `asyncio.Semaphore` if the input can be large'
        : '`asyncio.gather(...)` (or an `asyncio.TaskGroup` on Python 3.11+), with an `asyncio.Semaphore` if the input can be large';


    /** The first await that should run concurrently, or null when the loop is not clearly independent. */
    function independentRead(body: SyntaxNode[], loopNames: Set<string>, withState: boolean): { node: SyntaxNode; call: SyntaxNode } | null {
      const found = scan(ctx, body, loopNames);
      if (found.stops || found.awaits.length === 0 || found.awaits.some((a) => a.kind !== 'read')) return null;
      const names = tainted(loopNames, body);
      const dependent = found.awaits.filter((a) => a.call && mentions(a.call, names));
      if (dependent.length === 0 || dependent.every((a) => resultDropped(a.node))) return null;
      if (withState && carriesState(body, new Set(found.awaits.map((a) => a.node.id)), loopNames)) return null;
      const first = dependent[0]!;
      return first.call ? { node: first.node, call: first.call } : null;
    }

    function report(found: { node: SyntaxNode; call: SyntaxNode }, messageId: 'loop' | 'comprehension'): void {
      ctx.report({ node: found.node, messageId, data: { call: shorten(found.call.text, 50), instead: instead() } });
    }

    return {
      for_statement(node) {
        if (!ctx.inAsyncCode() || inTestFunction(ctx) || node.child(0)?.type === 'async') return;
        const right = node.childForFieldName('right');
        const body = node.childForFieldName('body');
        if (!right || !body || tiny(right)) return;
        const loopNames = new Set<string>();
        targetNames(node.childForFieldName('left'), loopNames);
        if (loopNames.size === 0 || chunked(right, [body], loopNames)) return;
        const first = independentRead([body], loopNames, true);
        if (first) report(first, 'loop');
      },
      ...Object.fromEntries(
        [...COMPREHENSIONS].map((type) => [
          type,
          (node: SyntaxNode) => {
            if (!ctx.inAsyncCode() || inTestFunction(ctx)) return;
            const clauses = node.namedChildren.filter((c) => c.type === 'for_in_clause');
            if (clauses.length === 0 || clauses.some((c) => c.child(0)?.type === 'async')) return;
            const right = clauses[0]!.childForFieldName('right');
            if (!right || tiny(right)) return;
            const loopNames = new Set<string>();
            for (const clause of clauses) targetNames(clause.childForFieldName('left'), loopNames);
            const parts = node.namedChildren.filter((c) => c.type !== 'for_in_clause' || c.id !== clauses[0]!.id);
            const first = independentRead(
              parts.map((p) => (p.type === 'for_in_clause' ? p.childForFieldName('right') : p)).filter((p): p is SyntaxNode => p !== null),
              loopNames,
              false,
            );
            if (first) report(first, 'comprehension');
          },
        ]),
      ),
    };
  },
};
