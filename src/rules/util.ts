import picomatch from 'picomatch';
import type { ParsedFile, SyntaxNode } from '../python/parser.js';
import type { RuleContext, Suggestion } from './types.js';

// Helpers shared by the rules. Pure functions of the syntax tree and the rule context.

/** `a.b.c` for an identifier or attribute chain, null for anything else (calls, subscripts...). */
export function dottedName(node: SyntaxNode | null): string | null {
  const parts: string[] = [];
  let current = node;
  while (current?.type === 'attribute') {
    const attribute = current.childForFieldName('attribute');
    if (attribute?.type !== 'identifier') return null;
    parts.push(attribute.text);
    current = current.childForFieldName('object');
  }
  if (current?.type !== 'identifier') return null;
  parts.push(current.text);
  return parts.reverse().join('.');
}

/** `(x)` -> `x`. */
export function unparenthesize(node: SyntaxNode): SyntaxNode {
  let current = node;
  while (current.type === 'parenthesized_expression' && current.namedChildCount === 1) current = current.namedChild(0)!;
  return current;
}

/** The outermost parentheses around `node` (`((x))` for `x`), or `node` itself: where it sits in its expression. */
export function parenthesized(node: SyntaxNode): SyntaxNode {
  let outer = node;
  while (outer.parent?.type === 'parenthesized_expression') outer = outer.parent;
  return outer;
}

/** The callee as written, whitespace collapsed: `time.sleep`, `Path(p).read_text`. */
export function calleeText(call: SyntaxNode): string {
  return (call.childForFieldName('function')?.text ?? '').replace(/\s+/g, '');
}

/** The resolved callee when it is one of `names`. */
export function calleeIn(ctx: RuleContext, call: SyntaxNode, names: ReadonlySet<string>): string | null {
  const resolved = ctx.resolveCallee(call);
  return resolved !== null && names.has(resolved) ? resolved : null;
}

/** `receiver.method(...)`: the receiver expression and the method name. */
export function methodCall(call: SyntaxNode): { receiver: SyntaxNode; method: string } | null {
  const callee = call.childForFieldName('function');
  if (callee?.type !== 'attribute') return null;
  const receiver = callee.childForFieldName('object');
  const method = callee.childForFieldName('attribute');
  if (!receiver || method?.type !== 'identifier') return null;
  return { receiver, method: method.text };
}

/** The expression statement a call makes up on its own (`f(x)` as a statement), else null. */
export function soleExpressionStatement(call: SyntaxNode): SyntaxNode | null {
  const parent = call.parent;
  if (parent?.type !== 'expression_statement') return null;
  const expressions = parent.namedChildren.filter((c) => c.type !== 'comment');
  return expressions.length === 1 && expressions[0]!.id === call.id ? parent : null;
}

/** The call an expression statement consists of, else null. */
export function statementCall(statement: SyntaxNode): SyntaxNode | null {
  const expressions = statement.namedChildren.filter((c) => c.type !== 'comment');
  return expressions.length === 1 && expressions[0]!.type === 'call' ? expressions[0]! : null;
}

/**
 * A suggestion replacing `statement` (one line, alone on it) by `code`, keeping the indentation
 * and a trailing comment. Null when the statement spans lines or shares its line with other code.
 */
export function replaceStatementLine(file: ParsedFile, statement: SyntaxNode, code: string): Suggestion | null {
  const row = statement.startPosition.row;
  if (statement.endPosition.row !== row) return null;
  const line = file.lines[row];
  if (line === undefined) return null;
  const before = line.slice(0, statement.startPosition.column);
  const after = line.slice(statement.endPosition.column);
  if (before.trim() !== '' || !/^\s*(#.*)?$/.test(after)) return null;
  return { line: row + 1, endLine: row + 1, replacement: `${before}${code}${after}` };
}

/** A suggestion inserting `text` just before `node`, which must sit on one line. */
export function insertBefore(file: ParsedFile, node: SyntaxNode, text: string): Suggestion | null {
  const row = node.startPosition.row;
  if (node.endPosition.row !== row) return null;
  const line = file.lines[row];
  if (line === undefined) return null;
  const column = node.startPosition.column;
  return { line: row + 1, endLine: row + 1, replacement: `${line.slice(0, column)}${text}${line.slice(column)}` };
}

/** True when `asyncio` here is the module imported by `import asyncio`. */
export function asyncioImportedAsAsyncio(ctx: RuleContext): boolean {
  const found = ctx.lookup('asyncio');
  if (!found || !found.bindings.every((b) => b.kind === 'import' && b.target === 'asyncio')) return false;
  return ctx.imports.resolve('asyncio') === 'asyncio';
}

// ---------------------------------------------------------------------------------------------
// Light inference: what a value is, when the file says so plainly.

export const PATH = 'pathlib.Path';
export const REQUESTS_SESSION = 'requests.Session';
export const HTTPX_CLIENT = 'httpx.Client';
export const URLLIB3_POOL = 'urllib3.PoolManager';
export const EVENT_LOOP = 'asyncio.AbstractEventLoop';
export const TASK_GROUP = 'asyncio.TaskGroup';
// Synchronisation and queues: threading's block the thread, asyncio's are coroutine methods.
export const THREADING_LOCK = 'threading.Lock';
export const THREADING_EVENT = 'threading.Event';
export const THREADING_CONDITION = 'threading.Condition';
export const THREADING_SEMAPHORE = 'threading.Semaphore';
export const SYNC_QUEUE = 'queue.Queue';
export const ASYNCIO_QUEUE = 'asyncio.Queue';
export const ASYNCIO_LOCK = 'asyncio.Lock';
export const ASYNCIO_EVENT = 'asyncio.Event';
export const ASYNCIO_CONDITION = 'asyncio.Condition';
export const ASYNCIO_SEMAPHORE = 'asyncio.Semaphore';
// Async HTTP clients (to be used with `async with` and awaited) and executors.
export const AIOHTTP_SESSION = 'aiohttp.ClientSession';
export const HTTPX_ASYNC_CLIENT = 'httpx.AsyncClient';
export const THREAD_POOL = 'concurrent.futures.ThreadPoolExecutor';
export const PROCESS_POOL = 'concurrent.futures.ProcessPoolExecutor';

/** Classes whose constructor, and whose annotation, give a value of a known type (with aliases). */
const CLASSES: Record<string, string> = {
  'threading.Lock': THREADING_LOCK,
  'threading.RLock': THREADING_LOCK,
  'threading.Event': THREADING_EVENT,
  'threading.Condition': THREADING_CONDITION,
  'threading.Semaphore': THREADING_SEMAPHORE,
  'threading.BoundedSemaphore': THREADING_SEMAPHORE,
  'queue.Queue': SYNC_QUEUE,
  'queue.LifoQueue': SYNC_QUEUE,
  'queue.PriorityQueue': SYNC_QUEUE,
  'queue.SimpleQueue': SYNC_QUEUE,
  'asyncio.Queue': ASYNCIO_QUEUE,
  'asyncio.LifoQueue': ASYNCIO_QUEUE,
  'asyncio.PriorityQueue': ASYNCIO_QUEUE,
  'asyncio.Lock': ASYNCIO_LOCK,
  'asyncio.Event': ASYNCIO_EVENT,
  'asyncio.Condition': ASYNCIO_CONDITION,
  'asyncio.Semaphore': ASYNCIO_SEMAPHORE,
  'asyncio.BoundedSemaphore': ASYNCIO_SEMAPHORE,
  'aiohttp.ClientSession': AIOHTTP_SESSION,
  'httpx.AsyncClient': HTTPX_ASYNC_CLIENT,
  'concurrent.futures.ThreadPoolExecutor': THREAD_POOL,
  'concurrent.futures.ProcessPoolExecutor': PROCESS_POOL,
};

/** Calls (resolved) whose result is of a known type. */
const CONSTRUCTORS: Record<string, string> = {
  ...CLASSES,
  'pathlib.Path': PATH,
  'pathlib.PosixPath': PATH,
  'pathlib.WindowsPath': PATH,
  'pathlib.Path.home': PATH,
  'pathlib.Path.cwd': PATH,
  'requests.Session': REQUESTS_SESSION,
  'requests.session': REQUESTS_SESSION,
  'httpx.Client': HTTPX_CLIENT,
  'urllib3.PoolManager': URLLIB3_POOL,
  'urllib3.ProxyManager': URLLIB3_POOL,
  'urllib3.HTTPConnectionPool': URLLIB3_POOL,
  'urllib3.HTTPSConnectionPool': URLLIB3_POOL,
  'urllib3.connection_from_url': URLLIB3_POOL,
  'urllib3.proxy_from_url': URLLIB3_POOL,
  'asyncio.get_running_loop': EVENT_LOOP,
  'asyncio.get_event_loop': EVENT_LOOP,
  'asyncio.new_event_loop': EVENT_LOOP,
  'asyncio.TaskGroup': TASK_GROUP,
};

/** Annotations (resolved) naming a known type. */
const ANNOTATIONS: Record<string, string> = {
  ...CLASSES,
  'pathlib.Path': PATH,
  'pathlib.PosixPath': PATH,
  'pathlib.WindowsPath': PATH,
  'requests.Session': REQUESTS_SESSION,
  'httpx.Client': HTTPX_CLIENT,
  'urllib3.PoolManager': URLLIB3_POOL,
  'asyncio.AbstractEventLoop': EVENT_LOOP,
  'asyncio.BaseEventLoop': EVENT_LOOP,
  'asyncio.TaskGroup': TASK_GROUP,
};

/** Path methods and properties that return another Path. */
const PATH_TO_PATH = new Set(['joinpath', 'with_name', 'with_suffix', 'with_stem', 'expanduser', 'absolute', 'resolve', 'relative_to']);

const MAX_INFERENCE_DEPTH = 4;

/**
 * The type of `expression` when the file shows it plainly: a constructor call (`Path(p)`), a Path
 * derived from one (`Path(p) / 'x'`, `.parent`, `.with_suffix()`), or a name every binding of
 * which (assignment, `with ... as`, annotation) agrees on. Null when unsure.
 */
export function typeOf(ctx: RuleContext, expression: SyntaxNode, depth = 0): string | null {
  if (depth > MAX_INFERENCE_DEPTH) return null;
  const node = unparenthesize(expression);
  switch (node.type) {
    case 'call': {
      const resolved = ctx.resolveCallee(node);
      if (resolved && CONSTRUCTORS[resolved]) return CONSTRUCTORS[resolved];
      const method = methodCall(node);
      if (method && PATH_TO_PATH.has(method.method) && typeOf(ctx, method.receiver, depth + 1) === PATH) return PATH;
      return null;
    }
    case 'binary_operator': {
      if (node.childForFieldName('operator')?.type !== '/') return null;
      const left = node.childForFieldName('left');
      const right = node.childForFieldName('right');
      const isPath = (side: SyntaxNode | null) => side !== null && typeOf(ctx, side, depth + 1) === PATH;
      return isPath(left) || isPath(right) ? PATH : null;
    }
    case 'attribute': {
      const attribute = node.childForFieldName('attribute')?.text;
      const object = node.childForFieldName('object');
      if (attribute === 'parent' && object && typeOf(ctx, object, depth + 1) === PATH) return PATH;
      if (attribute && object?.type === 'identifier') return typeOfInstanceAttribute(ctx, object.text, attribute, depth);
      return null;
    }
    case 'identifier':
      return typeOfName(ctx, node.text, depth);
    default:
      return null;
  }
}

function typeOfName(ctx: RuleContext, name: string, depth: number): string | null {
  const found = ctx.lookup(name);
  if (!found) return null;
  let agreed: string | null = null;
  for (const binding of found.bindings) {
    let type: string | null = null;
    if (binding.annotation) type = annotationType(ctx, binding.annotation);
    else if ((binding.kind === 'assign' || binding.kind === 'with' || binding.kind === 'walrus') && binding.value) {
      type = typeOf(ctx, binding.value, depth + 1);
    }
    if (!type || (agreed && agreed !== type)) return null;
    agreed = type;
  }
  return agreed;
}

/**
 * `self.q` inside a method, where every assignment to `self.q` in the class's methods (and any
 * class-body annotation `q: asyncio.Queue`) agrees on one known type.
 */
function typeOfInstanceAttribute(ctx: RuleContext, self: string, attribute: string, depth: number): string | null {
  const bindings = instanceAttributeBindings(ctx, self, attribute);
  if (!bindings) return null;
  let agreed: string | null = null;
  for (const binding of bindings) {
    let type: string | null = null;
    if (binding.annotation) type = annotationType(ctx, binding.annotation);
    else if (binding.value?.type === 'identifier' && binding.method) {
      // `self.q = q` where the method's parameter `q` is annotated.
      const param = (ctx.imports.bindingsIn(binding.method).get(binding.value.text) ?? []).find((b) => b.kind === 'param');
      type = param?.annotation ? annotationType(ctx, param.annotation) : null;
    } else if (binding.value && binding.value.type !== 'identifier') type = typeOf(ctx, binding.value, depth + 1);
    if (!type || (agreed && agreed !== type)) return null;
    agreed = type;
  }
  return agreed;
}

/** `Path`, `httpx.Client | None`, `Optional[httpx.Client]`, `asyncio.Queue[int]` -> the type; null otherwise. */
function annotationType(ctx: RuleContext, annotation: SyntaxNode): string | null {
  const name = annotationName(ctx, annotation);
  return name ? (ANNOTATIONS[name] ?? null) : null;
}

// ---------------------------------------------------------------------------------------------
// Functions.

/** Decorators that leave an `async def` a coroutine function. */
const COROUTINE_PRESERVING = new Set([
  'staticmethod',
  'classmethod',
  'abstractmethod',
  'abc.abstractmethod',
  'override',
  'typing.override',
  'typing_extensions.override',
]);

export function preservesCoroutine(decorators: readonly string[] | undefined): boolean {
  return (decorators ?? []).every((d) => COROUTINE_PRESERVING.has(d));
}

/** Node types whose bodies run some other time than the code around them. */
export const NESTED_SCOPES: ReadonlySet<string> = new Set(['function_definition', 'lambda', 'class_definition']);

/** True when a function's own body (not a nested def) contains `yield`: an (async) generator. */
export function isGenerator(definition: SyntaxNode): boolean {
  const body = definition.childForFieldName('body');
  if (!body) return false;
  const cursor = body.walk();
  for (;;) {
    const type = cursor.nodeType;
    if (type === 'yield') return true;
    if (!NESTED_SCOPES.has(type) && cursor.gotoFirstChild()) continue;
    for (;;) {
      if (cursor.gotoNextSibling()) break;
      if (!cursor.gotoParent()) return false;
    }
  }
}

/**
 * True when `node` (outside nested defs, lambdas and classes, which run some other time) has a
 * point where the task can be suspended: `await`, `async for` / `async with` (in comprehensions
 * too), and, unless `yields` is false, `yield` (an async generator hands control to its consumer).
 */
export function suspends(node: SyntaxNode | null, { yields = true }: { yields?: boolean } = {}): boolean {
  if (!node) return false;
  const cursor = node.walk();
  for (;;) {
    const type = cursor.nodeType;
    if (type === 'await' || (yields && type === 'yield')) return true;
    if ((type === 'with_statement' || type === 'for_statement' || type === 'for_in_clause') && cursor.currentNode.child(0)?.type === 'async') return true;
    if (!NESTED_SCOPES.has(type) && cursor.gotoFirstChild()) continue;
    for (;;) {
      if (cursor.gotoNextSibling()) break;
      if (!cursor.gotoParent()) return false;
    }
  }
}

/** A body that only fixes a signature: a docstring, `...`, `pass`, `raise NotImplementedError[(...)]`. */
export function isStub(definition: SyntaxNode): boolean {
  const body = (definition.childForFieldName('body')?.namedChildren ?? []).filter((s) => s.type !== 'comment');
  return body.every((statement) => {
    if (statement.type === 'pass_statement') return true;
    if (statement.type === 'raise_statement') {
      let raised = statement.namedChildren[0];
      if (raised?.type === 'call') raised = raised.childForFieldName('function') ?? undefined;
      return raised?.text === 'NotImplementedError';
    }
    if (statement.type !== 'expression_statement' || statement.namedChildCount !== 1) return false;
    const only = statement.namedChild(0)!.type;
    return only === 'ellipsis' || only === 'string' || only === 'concatenated_string';
  });
}

/** Code for a message: whitespace collapsed, cut to `max` characters with an ellipsis. */
/**
 * The definitions of this file a call (or a function reference) reaches, when it can tell: `fetch(x)`
 * found the way Python finds the name, `self.fetch(x)` in the enclosing class. Null when any binding
 * of the name is not a `def`, or the name is not found.
 */
export function definitionsOf(ctx: RuleContext, coroutine: SyntaxNode): SyntaxNode[] | null {
  const callee = coroutine.type === 'call' ? coroutine.childForFieldName('function') : coroutine;
  if (callee?.type === 'identifier') {
    const found = ctx.lookup(callee.text);
    if (!found) return null;
    const defs = found.bindings.filter((b) => b.kind === 'def' && b.definition).map((b) => b.definition!);
    return defs.length === found.bindings.length ? defs : null;
  }
  if (callee?.type === 'attribute') {
    const receiver = callee.childForFieldName('object');
    const method = callee.childForFieldName('attribute')?.text;
    if (receiver?.type !== 'identifier' || (receiver.text !== 'self' && receiver.text !== 'cls') || !method) return null;
    const chain = ctx.scopeChain();
    const owner = [...chain].reverse().find((s) => s.kind === 'class');
    if (!owner) return null;
    const members = ctx.imports.bindingsIn(owner.node).get(method) ?? [];
    const defs = members.filter((b) => b.kind === 'def' && b.definition).map((b) => b.definition!);
    return defs.length > 0 && defs.length === members.length ? defs : null;
  }
  return null;
}

/** The name an `as` binds (`except E as err`, `with timeout(1) as cm`), or null. */
export function asAlias(value: SyntaxNode | null | undefined): string | null {
  const alias = value?.type === 'as_pattern' ? value.childForFieldName('alias')?.namedChild(0) : null;
  return alias?.type === 'identifier' ? alias.text : null;
}

/**
 * What an `except` clause names: the types it catches (a tuple's items, parentheses aside; none for
 * a bare `except:`) as written, and its `as` name.
 */
export function exceptClauseParts(clause: SyntaxNode): { types: SyntaxNode[]; written: SyntaxNode | null; alias: string | null } {
  const value = clause.childForFieldName('value') ?? clause.namedChildren.find((c) => c.type !== 'block' && c.type !== 'comment') ?? null;
  if (!value) return { types: [], written: null, alias: null };
  const written = unparenthesize(value.type === 'as_pattern' ? (value.namedChild(0) ?? value) : value);
  return { types: written.type === 'tuple' ? written.namedChildren : [written], written, alias: asAlias(value) };
}

/**
 * The call is the coroutine the program's root runs: the first argument of `asyncio.run(...)` or of
 * `<loop>.run_until_complete(...)`, which no other coroutine awaits.
 */
export function runAsRoot(ctx: RuleContext, call: SyntaxNode): boolean {
  const args = call.parent;
  const runner = args?.type === 'argument_list' && args.namedChildren[0]?.id === call.id ? args.parent : null;
  if (runner?.type !== 'call') return false;
  return methodCall(runner)?.method === 'run_until_complete' || ctx.resolveCallee(runner) === 'asyncio.run';
}

/**
 * The `with` statement `node` is an item of (`with node:`, `with node as x:`, `with (node as x):`),
 * or null.
 */
export function withStatementOf(node: SyntaxNode): SyntaxNode | null {
  let current = node;
  const climbParens = () => {
    current = parenthesized(current);
  };
  climbParens();
  if (current.parent?.type === 'as_pattern' && current.parent.namedChild(0)?.id === current.id) {
    current = current.parent;
    climbParens();
  }
  // `with (a() as x, b() as y,):` (a trailing comma) parses as one item holding a tuple.
  if (current.parent?.type === 'tuple' && current.parent.parent?.type === 'with_item') current = current.parent;
  if (current.parent?.type !== 'with_item') return null;
  const statement = current.parent.parent?.parent;
  return statement?.type === 'with_statement' ? statement : null;
}

/** Calls `enter` on every node under `root` (root excluded); `false` skips the node's children. */
export function walkBelow(root: SyntaxNode, enter: (node: SyntaxNode) => boolean | void): void {
  const cursor = root.walk();
  if (!cursor.gotoFirstChild()) return;
  for (;;) {
    const descend = enter(cursor.currentNode) !== false;
    if (descend && cursor.gotoFirstChild()) continue;
    for (;;) {
      if (cursor.gotoNextSibling()) break;
      if (!cursor.gotoParent() || cursor.currentNode.id === root.id) return;
    }
  }
}

/** The context-manager expressions of a `with` statement, `as` targets and parentheses removed. */
export function withItemValues(statement: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (const item of statement.namedChildren.find((c) => c.type === 'with_clause')?.namedChildren ?? []) {
    if (item.type !== 'with_item') continue;
    const value = item.childForFieldName('value');
    if (!value) continue;
    const top = unparenthesize(value);
    // `with (a() as x, b() as y,):` (a trailing comma) parses as one item holding a tuple.
    for (const element of top.type === 'tuple' ? top.namedChildren : [top]) {
      const inner = unparenthesize(element);
      const expression = inner.type === 'as_pattern' ? inner.namedChild(0) : inner;
      if (expression) out.push(unparenthesize(expression));
    }
  }
  return out;
}

/** The methods defined directly in a class body (decorated or not). */
export function methodsOf(cls: SyntaxNode | null): SyntaxNode[] {
  const body = cls?.childForFieldName('body');
  return (body?.namedChildren ?? [])
    .map((c) => (c.type === 'decorated_definition' ? c.childForFieldName('definition') : c))
    .filter((c): c is SyntaxNode => c?.type === 'function_definition');
}

/** The nearest ancestor of `node` of the given type. */
export function enclosing(node: SyntaxNode, type: string): SyntaxNode | null {
  for (let up = node.parent; up; up = up.parent) if (up.type === type) return up;
  return null;
}

/** Whether the innermost function is a test (`test*`): checks that run in order on purpose, pools and locks of its own. */
export function inTestFunction(ctx: RuleContext): boolean {
  return /^test/.test(ctx.scope().node.childForFieldName('name')?.text ?? '');
}

export function shorten(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

/** Identifiers named `name` under `node`, nested functions included (a closure use is a use). */
export function identifiersNamed(node: SyntaxNode, name: string): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  const cursor = node.walk();
  for (;;) {
    if (cursor.nodeType === 'identifier' && cursor.nodeText === name) found.push(cursor.currentNode);
    if (cursor.gotoFirstChild()) continue;
    for (;;) {
      if (cursor.gotoNextSibling()) break;
      if (!cursor.gotoParent()) return found;
    }
  }
}

/** How often each identifier occurs in `node`'s subtree (nested functions included). */
export function identifierCounts(node: SyntaxNode): Map<string, number> {
  const counts = new Map<string, number>();
  const cursor = node.walk();
  for (;;) {
    if (cursor.nodeType === 'identifier') {
      const text = cursor.nodeText;
      counts.set(text, (counts.get(text) ?? 0) + 1);
    }
    if (cursor.gotoFirstChild()) continue;
    for (;;) {
      if (cursor.gotoNextSibling()) break;
      if (!cursor.gotoParent()) return counts;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Inference in a rule's own vocabulary (sync DB clients, threads, futures...): the same bindings
// `typeOf` follows, with the rule naming the types.

type BindingOf = NonNullable<ReturnType<RuleContext['lookup']>>['bindings'][number];

/**
 * Where the value behind an expression was bound, seen from the visited node: `call` (the
 * expression is the value itself), `local` (the innermost function), `outer` (an enclosing
 * function), `module`, or `instance` (a `self.x` attribute assigned in some method of the class).
 */
export type BoundWhere = 'call' | 'local' | 'outer' | 'module' | 'instance';

export interface Inferred<T extends string> {
  type: T;
  where: BoundWhere;
}

/**
 * What `expression` is in a rule's own vocabulary. `classify` names the type of a value expression
 * (a constructor call, usually); `annotated` the type a resolved annotation names
 * (`sqlite3.Connection`, with `X | None` / `Optional[X]` unwrapped). Names and `self.x` attributes
 * are followed through their bindings (assignment, `with ... as`, walrus, annotation, `self.x = x`
 * of an annotated parameter), which must all agree. Null when unsure.
 */
export function inferWith<T extends string>(
  ctx: RuleContext,
  expression: SyntaxNode,
  classify: (value: SyntaxNode) => T | null,
  annotated: (resolved: string) => T | null,
  depth = 0,
): Inferred<T> | null {
  if (depth > MAX_INFERENCE_DEPTH) return null;
  const node = unparenthesize(expression);
  const agree = (bindings: readonly BindingOf[], where: BoundWhere): Inferred<T> | null => {
    let agreed: T | null = null;
    for (const binding of bindings) {
      let type: T | null = null;
      if (binding.annotation) {
        const resolved = annotationName(ctx, binding.annotation);
        type = resolved ? annotated(resolved) : null;
      } else if (where === 'instance' && binding.value?.type === 'identifier' && binding.method) {
        const param = (ctx.imports.bindingsIn(binding.method).get(binding.value.text) ?? []).find((b) => b.kind === 'param');
        const resolved = param?.annotation ? annotationName(ctx, param.annotation) : null;
        type = resolved ? annotated(resolved) : null;
      } else if ((binding.kind === 'assign' || binding.kind === 'with' || binding.kind === 'walrus') && binding.value) {
        type = inferWith(ctx, binding.value, classify, annotated, depth + 1)?.type ?? null;
      }
      if (!type || (agreed && agreed !== type)) return null;
      agreed = type;
    }
    return agreed ? { type: agreed, where } : null;
  };
  if (node.type === 'identifier') {
    const found = ctx.lookup(node.text);
    if (!found) return null;
    const where: BoundWhere = found.scope.kind === 'module' ? 'module' : found.scope.node.id === ctx.scope().node.id ? 'local' : 'outer';
    return agree(found.bindings, where);
  }
  if (node.type === 'attribute') {
    const object = node.childForFieldName('object');
    const attribute = node.childForFieldName('attribute');
    if (object?.type === 'identifier' && attribute?.type === 'identifier') {
      const bindings = instanceAttributeBindings(ctx, object.text, attribute.text);
      if (bindings) return agree(bindings, 'instance');
    }
  }
  const type = classify(node);
  return type ? { type, where: 'call' } : null;
}

/** The bindings of `self.<attribute>` in the class of the method around the visited node, or null. */
function instanceAttributeBindings(ctx: RuleContext, self: string, attribute: string): BindingOf[] | null {
  const chain = ctx.scopeChain();
  let method = -1;
  for (let i = chain.length - 1; i > 0; i--) {
    if (chain[i]!.kind === 'def' || chain[i]!.kind === 'async-def') {
      method = i;
      break;
    }
    if (chain[i]!.kind !== 'lambda') return null;
  }
  if (method < 1 || chain[method - 1]!.kind !== 'class') return null;
  const definition = chain[method]!.node;
  const classNode = chain[method - 1]!.node;
  const first = definition.childForFieldName('parameters')?.namedChildren[0];
  const firstName = first?.type === 'typed_parameter' ? first.namedChildren.find((c) => c.type === 'identifier')?.text : first?.text;
  if (firstName !== self || first?.type === 'default_parameter') return null;
  if ((ctx.imports.bindingsIn(definition).get(self) ?? []).some((b) => b.kind !== 'param')) return null;
  const bindings = [
    ...(ctx.imports.attributesOf(classNode).get(attribute) ?? []),
    ...(ctx.imports.bindingsIn(classNode).get(attribute) ?? []).filter((b) => b.kind === 'annotation'),
  ];
  return bindings.length > 0 ? bindings : null;
}

/** The dotted name an annotation resolves to, `X | None` and `Optional[X]` unwrapped; else null. */
function annotationName(ctx: RuleContext, annotation: SyntaxNode): string | null {
  let node = annotation;
  for (let i = 0; i < MAX_INFERENCE_DEPTH; i++) {
    node = unparenthesize(node);
    if (node.type === 'type' && node.namedChildCount === 1) node = node.namedChild(0)!;
    if (node.type === 'binary_operator' && node.childForFieldName('operator')?.type === '|') {
      const sides = [node.childForFieldName('left'), node.childForFieldName('right')].filter(
        (side): side is SyntaxNode => side !== null && side.text !== 'None',
      );
      if (sides.length !== 1) return null;
      node = sides[0]!;
      continue;
    }
    if (node.type === 'generic_type' || node.type === 'subscript') {
      const head = node.type === 'subscript' ? node.childForFieldName('value') : node.namedChild(0);
      const resolved = head ? ctx.resolveName(head) : null;
      if (resolved !== 'typing.Optional') return resolved;
      const inner = node.type === 'subscript' ? node.childForFieldName('subscript') : node.namedChild(1)?.namedChild(0);
      if (!inner) return null;
      node = inner;
      continue;
    }
    return ctx.resolveName(node);
  }
  return null;
}

/** The value of a keyword argument `name=` of a call, or null. */
export function keywordArgument(call: SyntaxNode, name: string): SyntaxNode | null {
  for (const argument of call.childForFieldName('arguments')?.namedChildren ?? []) {
    if (argument.type === 'keyword_argument' && argument.childForFieldName('name')?.text === name) {
      return argument.childForFieldName('value');
    }
  }
  return null;
}

/** The positional arguments of a call (no keywords, no splats, no comments). */
export function positionalArguments(call: SyntaxNode): SyntaxNode[] {
  return (call.childForFieldName('arguments')?.namedChildren ?? []).filter(
    (argument) =>
      argument.type !== 'keyword_argument' &&
      argument.type !== 'comment' &&
      argument.type !== 'list_splat' &&
      argument.type !== 'dictionary_splat',
  );
}

// ---------------------------------------------------------------------------------------------
// Tasks (AG202 dangling-task, AG203 task-never-awaited, AG204 pointless-task).

const TASK_SPAWNERS = new Set(['asyncio.create_task', 'asyncio.ensure_future']);

/**
 * Receivers taken for an event loop by name when inference knows nothing (`loop = loop or
 * asyncio.get_running_loop()`, discord.py's `self.bot.loop`): the last segment is one of these.
 * Nothing but a loop is called `loop` and has `create_task`; a TaskGroup is never called this.
 */
const LOOP_NAMES = new Set(['loop', '_loop', 'event_loop', '_event_loop']);

/**
 * True when `call` starts a task whose only strong reference is the call's result:
 * `asyncio.create_task` / `ensure_future` (through the imports), or `create_task` on an event
 * loop (inferred, or named `loop`). `TaskGroup.create_task` is not: the group keeps its tasks.
 */
export function spawnsTask(ctx: RuleContext, call: SyntaxNode): boolean {
  if (calleeIn(ctx, call, TASK_SPAWNERS)) return true;
  const method = methodCall(call);
  if (method?.method !== 'create_task') return false;
  const type = typeOf(ctx, method.receiver);
  if (type === EVENT_LOOP) return true;
  if (type !== null) return false;
  const dotted = dottedName(method.receiver);
  if (!dotted) return false;
  return LOOP_NAMES.has(dotted.slice(dotted.lastIndexOf('.') + 1));
}

/** One occurrence of an identifier, and whether it sits in a def, lambda or class nested in the scope. */
export interface Occurrence {
  node: SyntaxNode;
  nested: boolean;
}

/** Every identifier `name` in `scope`'s body (a def), nested functions included (flagged). */
export function occurrencesIn(scope: SyntaxNode, name: string): Occurrence[] {
  const out: Occurrence[] = [];
  const body = scope.childForFieldName('body');
  if (!body) return out;
  const cursor = body.walk();
  let nestedDepth = 0;
  const nestedAt: number[] = [];
  let depth = 0;
  for (;;) {
    const type = cursor.nodeType;
    if (type === 'identifier' && cursor.nodeText === name) out.push({ node: cursor.currentNode, nested: nestedDepth > 0 });
    const opensScope = NESTED_SCOPES.has(type);
    if (cursor.gotoFirstChild()) {
      if (opensScope) {
        nestedDepth++;
        nestedAt.push(depth);
      }
      depth++;
      continue;
    }
    for (;;) {
      if (cursor.gotoNextSibling()) break;
      if (!cursor.gotoParent()) return out;
      depth--;
      if (nestedAt.length && nestedAt[nestedAt.length - 1] === depth) {
        nestedAt.pop();
        nestedDepth--;
      }
      if (depth === 0) return out;
    }
  }
}

// ---- calls that reach out: by their names, since what a method does is rarely known ----

/** The verb of a callee: `fetch_user` -> `fetch`, `self._get` -> `get`, `getUser` -> `get`. */
function verbOf(name: string): string {
  const bare = name.replace(/^_+/, '');
  const snake = bare.split('_')[0] ?? '';
  const camel = /^[a-z]+/.exec(snake)?.[0] ?? snake;
  return camel.toLowerCase();
}

/**
 * First words of the calls that clearly reach out, wherever they are called: fetching a page,
 * querying a store, downloading a blob (`await fetch(url)`, `await api.fetch_user(id)`). Not
 * `read`: in asyncio it mostly reads a stream (`await reader.read(n)`, a decoder's `read_data(...)`),
 * one byte after another, in order.
 */
const IO_VERBS = new Set(['fetch', 'load', 'retrieve', 'download', 'query', 'lookup', 'scrape', 'crawl', 'ping', 'probe', 'request']);

/**
 * First words that only sometimes reach out: `get_user` may be a query or a dictionary lookup,
 * `get_input_entity` a cache-first resolver (Telethon). They count only on a receiver named for a
 * remote store or service (`db.get_user(id)`), or in a name that says it is remote (`get_page(url)`).
 */
const MAYBE_IO_VERBS = new Set(['get', 'list', 'describe', 'search', 'find', 'head', 'resolve', 'check']);
const REMOTE_RECEIVER = /^_*(db|database|pool|api|http|redis|s3|storage|store|backend|repo|repository|collection|bucket|es|elastic|mongo|dynamo|dynamodb|registry)$/i;
const REMOTE_NAME = /url|uri|http|page|remote|network|dns|feed|html|webpage|website/i;
/** HTTP methods of another object: `session.get(url)`, `client.head(url)`, `cache.get(key)`. */
const HTTP_METHODS = new Set(['get', 'head', 'options', 'request']);

/**
 * Whether a call named `name` on `receiver` (dotted, or null for a plain function) clearly does
 * I/O by its name. `verbs` adds first words that count for the caller (`upload`, `execute`).
 */
export function namesIO(receiver: string | null, name: string, verbs: ReadonlySet<string> = new Set()): boolean {
  const verb = verbOf(name);
  if (IO_VERBS.has(verb) || verbs.has(verb)) return true;
  if (receiver === null) return MAYBE_IO_VERBS.has(verb) && REMOTE_NAME.test(name);
  if (receiver !== 'self' && receiver !== 'cls' && HTTP_METHODS.has(name)) return true;
  if (!MAYBE_IO_VERBS.has(verb)) return false;
  return REMOTE_RECEIVER.test(receiver.split('.').pop() ?? '') || REMOTE_NAME.test(name);
}

/** The I/O verbs on their own, for a method of a loop's item (`await page.fetch()`). */
export function namesIOVerb(name: string): boolean {
  return IO_VERBS.has(verbOf(name));
}

/**
 * Whether the configured Python (`python_version`, `3.11`) is at least `major.minor`; null when it
 * is not known, so that each rule decides what an unknown version means.
 */
export function pythonAtLeast(version: string | null, major: number, minor: number): boolean | null {
  const match = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (!match) return null;
  const [a, b] = [Number(match[1]), Number(match[2])];
  return a > major || (a === major && b >= minor);
}

const testMatchers = new Map<string, (path: string) => boolean>();

/**
 * Whether a path is test code by the configuration's `test_paths` globs. One matcher per list:
 * settings reach worker threads as copies, so the list's text is the key.
 */
export function testPathMatcher(testPaths: readonly string[]): (path: string) => boolean {
  const key = testPaths.join('\0');
  let match = testMatchers.get(key);
  if (!match) {
    const glob = testPaths.length ? picomatch([...testPaths], { dot: true }) : () => false;
    match = (path: string) => glob(path.replace(/\\/g, '/'));
    testMatchers.set(key, match);
  }
  return match;
}

/** Where test runners collect tests: `tests/`, `test/`, `test_*.py`, `*_test.py`, `conftest.py`. */
const TEST_MODULE_PATH = /(^|\/)(tests?\/|test_[^/]*\.pyi?$|[^/]*_test\.pyi?$|conftest\.pyi?$)/;

/**
 * Test code as the team configured it (`test_paths`: suites, harnesses such as `testing.py`,
 * examples), or a test module: where a helper's guard or a deliberate blocking call is no API.
 */
export function isTestCode(ctx: RuleContext): boolean {
  return testPathMatcher(ctx.settings.testPaths)(ctx.file.path) || isTestModule(ctx);
}

/**
 * A module whose `test*` functions a test runner runs: a path runners collect, or a module that
 * imports pytest or unittest. Narrower than `isTestCode`: a `test_*` function in `examples/` or a
 * `testing.py` harness is not run as a test.
 */
export function isTestModule(ctx: RuleContext): boolean {
  if (TEST_MODULE_PATH.test(ctx.file.path.replace(/\\/g, '/'))) return true;
  for (const bindings of ctx.imports.bindingsIn(ctx.file.tree.rootNode).values()) {
    for (const binding of bindings) {
      const target = binding.kind === 'import' ? (binding.target ?? '') : '';
      if (/^(pytest|unittest)(\.|$)/.test(target)) return true;
    }
  }
  return false;
}

/** The decorators of a function definition, as dotted names resolved through the imports (or as written). */
export function decoratorsOf(ctx: RuleContext, definition: SyntaxNode): string[] {
  const decorated = definition.parent?.type === 'decorated_definition' ? definition.parent : null;
  if (!decorated) return [];
  return decorated.namedChildren
    .filter((c) => c.type === 'decorator')
    .map((decorator) => {
      let expression = decorator.namedChildren[0] ?? null;
      if (expression?.type === 'call') expression = expression.childForFieldName('function');
      return (expression && ctx.resolveName(expression)) ?? dottedName(expression) ?? '';
    });
}

/**
 * A coroutine the test runner drives: a `test*` function of a test file (at module level or in a
 * class), or a pytest fixture. The runner never cancels it.
 */
export function runByTestRunner(ctx: RuleContext, fn: SyntaxNode): boolean {
  if (!isTestModule(ctx)) return false;
  const holder = fn.parent?.type === 'decorated_definition' ? fn.parent.parent : fn.parent;
  const topLevel = holder?.type === 'module' || (holder?.type === 'block' && holder.parent?.type === 'class_definition');
  if (!topLevel) return false;
  if (/^test/.test(fn.childForFieldName('name')?.text ?? '')) return true;
  return decoratorsOf(ctx, fn).some((d) => d === 'fixture' || d.endsWith('.fixture'));
}

/** Names of Python-version flags: `PY_38`, `PY37`, `PY3`, `IS_PY310`, `PYTHON_VERSION`. */
const VERSION_FLAG = /^(IS_)?PY(THON)?_?(\d|VERSION)/i;

/**
 * The node sits under a Python-version guard within `fn` (`if not PY_38:`, `if sys.version_info <
 * (3, 8):`), in either branch: a compatibility path for older Pythons (aiohttp's `AioHTTPTestCase`
 * running the loop by hand without `IsolatedAsyncioTestCase`, frr's `get_event_loop()` for 3.6).
 */
export function underVersionGuard(node: SyntaxNode, fn: SyntaxNode): boolean {
  for (let current = node.parent; current && current.id !== fn.id; current = current.parent) {
    if (current.type !== 'if_statement' && current.type !== 'elif_clause') continue;
    const condition = current.childForFieldName('condition');
    if (!condition) continue;
    if (/\bsys\s*\.\s*version_info\b/.test(condition.text)) return true;
    const names = [condition, ...condition.descendantsOfType(['identifier', 'attribute'])];
    if (names.some((n) => (n.type === 'identifier' ? VERSION_FLAG.test(n.text) : VERSION_FLAG.test(n.childForFieldName('attribute')?.text ?? '')))) return true;
  }
  return false;
}
