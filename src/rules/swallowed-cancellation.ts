import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { dottedName, statementCall, unparenthesize } from './util.js';

/** Exception types whose handler also catches the task's cancellation. */
const CATCHES_CANCELLATION = new Set(['asyncio.CancelledError', 'builtins.BaseException']);

/** Calls that never return normally: they raise (SystemExit) or end the process. */
const NEVER_RETURN = new Set(['sys.exit', 'os._exit', 'builtins.exit', 'builtins.quit', 'os.abort']);

// How a statement (list) can end, as a bit set.
const NORMAL = 1; // falls through to the next statement
const RAISE = 2;
const RETURN = 4;
const BREAK = 8;
const CONTINUE = 16;
/** Ways out of a handler that do not propagate the exception. */
const SWALLOWING = NORMAL | RETURN | BREAK | CONTINUE;

/** Methods that hand an exception to whoever waits for the outcome. */
const FORWARDERS = new Set(['set_exception', 'call_exception_handler']);

interface Caught {
  /** `except asyncio.CancelledError:` as written (the `as` part left out). */
  text: string;
  /** Only through `BaseException` / bare `except:`: a catch-all, not a CancelledError handler. */
  catchAll: boolean;
  /** The `as` name, if any. */
  name: string | null;
}

/** What the handler catches, when that includes cancellation; null when it does not. */
function cancellationCaught(ctx: RuleContext, clause: SyntaxNode): Caught | null {
  const value = clause.childForFieldName('value') ?? clause.namedChildren.find((c) => c.type !== 'block' && c.type !== 'comment') ?? null;
  if (!value) return { text: 'except:', catchAll: true, name: null };
  const alias = value.type === 'as_pattern' ? value.childForFieldName('alias')?.namedChild(0) : null;
  const caught = unparenthesize(value.type === 'as_pattern' ? (value.namedChild(0) ?? value) : value);
  const types = (caught.type === 'tuple' ? caught.namedChildren : [caught]).map((type) => ctx.resolveName(type) ?? '');
  if (!types.some((type) => CATCHES_CANCELLATION.has(type))) return null;
  return {
    text: `except ${caught.text.replace(/\s+/g, ' ')}:`,
    catchAll: !types.includes('asyncio.CancelledError'),
    name: alias?.type === 'identifier' ? alias.text : null,
  };
}

/**
 * A catch-all that hands the exception to a waiter (`waiter.set_exception(exc)`,
 * `retry_state.set_exception(sys.exc_info())`) or keeps `sys.exc_info()` to re-raise it later
 * (contextlib's exit stacks) forwards every outcome, cancellation included: futures, retry loops
 * and exit stacks are built this way. Merely storing the exception (`errors[i] = exc`) and carrying
 * on is still a swallow: the task goes on as if it had not been cancelled.
 */
function handsOn(ctx: RuleContext, body: SyntaxNode, name: string | null): boolean {
  const isExcInfo = (node: SyntaxNode) => node.type === 'call' && ctx.resolveCallee(node) === 'sys.exc_info';
  const isException = (node: SyntaxNode) => (name !== null && node.type === 'identifier' && node.text === name) || isExcInfo(node);
  const mentions = (node: SyntaxNode | null, match: (n: SyntaxNode) => boolean): boolean =>
    node !== null && (match(node) || node.descendantsOfType(['identifier', 'call']).some(match));
  for (const assignment of body.descendantsOfType('assignment')) {
    if (mentions(assignment.childForFieldName('right'), isExcInfo)) return true;
  }
  for (const call of body.descendantsOfType('call')) {
    const method = call.childForFieldName('function')?.childForFieldName('attribute')?.text;
    if (method && FORWARDERS.has(method) && mentions(call.childForFieldName('arguments'), isException)) return true;
  }
  return false;
}

/** `-> NoReturn` / `-> Never` (quoted or not, bare or through typing / typing_extensions). */
const NO_RETURN_ANNOTATION = /^["']?((typing(_extensions)?|t)\.)?(NoReturn|Never)["']?$/;

/** `raise NotImplementedError...` alone: an abstract stub a subclass overrides, not a helper that raises. */
function isAbstractStub(body: SyntaxNode | null): boolean {
  const statements = (body?.namedChildren ?? []).filter((s) => s.type !== 'comment' && !(s.type === 'expression_statement' && s.namedChild(0)?.type === 'string'));
  return statements.length === 1 && statements[0]!.type === 'raise_statement' && /^raise\s+NotImplementedError\b/.test(statements[0]!.text);
}

class Outcomes {
  /** Functions of this file that never return normally, by name; `true` when async (they raise once awaited). */
  private raisers: Map<string, boolean> | null = null;

  constructor(private readonly ctx: RuleContext) {}

  block(block: SyntaxNode | null): number {
    if (!block) return NORMAL;
    let current = NORMAL;
    for (const statement of block.namedChildren) {
      if (!(current & NORMAL)) break;
      if (statement.type === 'comment') continue;
      current = (current & ~NORMAL) | this.statement(statement);
    }
    return current;
  }

  private statement(node: SyntaxNode): number {
    switch (node.type) {
      case 'raise_statement':
        return RAISE;
      case 'return_statement':
        return RETURN;
      case 'break_statement':
        return BREAK;
      case 'continue_statement':
        return CONTINUE;
      case 'if_statement': {
        let out = this.block(node.childForFieldName('consequence'));
        let hasElse = false;
        for (const branch of node.namedChildren) {
          if (branch.type === 'elif_clause') out |= this.block(branch.childForFieldName('consequence'));
          if (branch.type === 'else_clause') {
            hasElse = true;
            out |= this.block(branch.childForFieldName('body'));
          }
        }
        return hasElse ? out : out | NORMAL;
      }
      case 'for_statement':
      case 'while_statement': {
        const body = this.block(node.childForFieldName('body'));
        const alternative = node.childForFieldName('alternative');
        const infinite = node.type === 'while_statement' && node.childForFieldName('condition')?.type === 'true';
        // A loop ends normally by a break or by running out (never, for `while True`).
        let out = body & (RAISE | RETURN);
        if (body & BREAK) out |= NORMAL;
        if (!infinite) out |= alternative ? this.block(alternative.childForFieldName('body')) : NORMAL;
        return out;
      }
      case 'try_statement': {
        let out = this.block(node.childForFieldName('body'));
        let final: number | null = null;
        for (const part of node.namedChildren) {
          if (part.type === 'except_clause' || part.type === 'except_group_clause') {
            out |= this.block(part.namedChildren.find((c) => c.type === 'block') ?? null);
          } else if (part.type === 'else_clause' && out & NORMAL) {
            out = (out & ~NORMAL) | this.block(part.childForFieldName('body'));
          } else if (part.type === 'finally_clause') {
            final = this.block(part.namedChildren.find((c) => c.type === 'block') ?? null);
          }
        }
        if (final === null) return out;
        return final & NORMAL ? out | (final & ~NORMAL) : final;
      }
      case 'with_statement':
        return this.block(node.childForFieldName('body'));
      case 'match_statement': {
        let out = NORMAL;
        for (const block of node.descendantsOfType('case_clause')) {
          out |= this.block(block.childForFieldName('consequence') ?? block.namedChildren.find((c) => c.type === 'block') ?? null);
        }
        return out;
      }
      case 'expression_statement': {
        const call = statementCall(node);
        if (call && this.neverReturns(call, false)) return RAISE;
        const awaited = node.namedChildren.length === 1 && node.namedChild(0)?.type === 'await' ? node.namedChild(0)!.namedChild(0) : null;
        if (awaited?.type === 'call' && this.neverReturns(awaited, true)) return RAISE;
        return NORMAL;
      }
      default:
        return NORMAL;
    }
  }

  private neverReturns(call: SyntaxNode, awaited: boolean): boolean {
    const resolved = this.ctx.resolveCallee(call);
    if (!awaited && resolved && NEVER_RETURN.has(resolved)) return true;
    // `six.reraise(*sys.exc_info())` and home-grown `_reraise(exc)` helpers.
    if (!awaited && /(^|\.|_)reraise$/.test(dottedName(call.childForFieldName('function')) ?? '')) return true;
    // A helper of this file that raises on every path: `self._convert_socket_error(exc)` (`-> NoReturn`).
    const callee = call.childForFieldName('function');
    let name: string | null = null;
    if (callee?.type === 'identifier') name = callee.text;
    else if (callee?.type === 'attribute' && /^(self|cls)$/.test(callee.childForFieldName('object')?.text ?? '')) {
      name = callee.childForFieldName('attribute')?.text ?? null;
    }
    if (name === null) return false;
    const isAsync = this.neverReturning().get(name);
    return isAsync !== undefined && isAsync === awaited;
  }

  /**
   * The functions of this file annotated `-> NoReturn` / `-> Never`, or whose body raises on every
   * path (abstract `raise NotImplementedError` stubs left out: subclasses override them); a name
   * counts only when every function of the file with that name qualifies. Computed to a fixed point,
   * so a helper that calls such a helper on every path counts too.
   */
  private neverReturning(): Map<string, boolean> {
    if (this.raisers) return this.raisers;
    this.raisers = new Map();
    const byName = new Map<string, SyntaxNode[]>();
    for (const fn of this.ctx.file.tree.rootNode.descendantsOfType('function_definition')) {
      const name = fn.childForFieldName('name')?.text;
      if (name) byName.set(name, [...(byName.get(name) ?? []), fn]);
    }
    const qualifies = (fn: SyntaxNode): boolean => {
      const annotation = fn.childForFieldName('return_type')?.text.replace(/\s+/g, '') ?? '';
      if (NO_RETURN_ANNOTATION.test(annotation)) return true;
      const body = fn.childForFieldName('body');
      if (isAbstractStub(body)) return false;
      return this.block(body) === RAISE;
    };
    for (let changed = true; changed; ) {
      changed = false;
      for (const [name, fns] of byName) {
        if (this.raisers.has(name) || !fns.every(qualifies)) continue;
        this.raisers.set(name, fns[0]!.child(0)?.type === 'async');
        changed = true;
      }
    }
    return this.raisers;
  }
}

/**
 * `task.cancel()` then `try: await task / except CancelledError: pass` is the documented way to wait
 * for a task one has just cancelled: the CancelledError caught is the task's, by design.
 */
function awaitsTaskItCancelled(clause: SyntaxNode): boolean {
  const tryStatement = clause.parent;
  const body = tryStatement?.childForFieldName('body');
  if (!tryStatement || !body) return false;
  const awaited = body.descendantsOfType('await').map((a) => dottedName(a.namedChild(0) ? unparenthesize(a.namedChild(0)!) : null));
  const names = awaited.filter((name): name is string => name !== null);
  if (names.length === 0) return false;
  const before: string[] = [body.text];
  for (let sibling = tryStatement.previousNamedSibling; sibling; sibling = sibling.previousNamedSibling) before.push(sibling.text);
  const text = before.join('\n');
  return names.some((name) => new RegExp(`(^|[^\\w.])${name.replace(/\./g, '\\.')}\\s*\\.\\s*cancel\\s*\\(`).test(text));
}

/** An earlier `except` of the same `try` catching `asyncio.CancelledError`: this one never sees it. */
function caughtEarlier(ctx: RuleContext, clause: SyntaxNode): boolean {
  for (let sibling = clause.previousNamedSibling; sibling; sibling = sibling.previousNamedSibling) {
    if (sibling.type !== 'except_clause') continue;
    const caught = cancellationCaught(ctx, sibling);
    if (caught && !caught.catchAll) return true;
  }
  return false;
}

/**
 * A module that imports trio and not asyncio is trio code (anyio's trio backend): a catch-all there
 * catches trio's Cancelled, which trio re-delivers at the next checkpoint; asyncio's CancelledError
 * is not involved.
 */
function importsTrioNotAsyncio(ctx: RuleContext): boolean {
  const modules: string[] = [];
  for (const statement of ctx.file.tree.rootNode.descendantsOfType(['import_statement', 'import_from_statement'])) {
    if (statement.type === 'import_from_statement') {
      modules.push(statement.childForFieldName('module_name')?.text ?? '');
    } else {
      for (const name of statement.namedChildren) modules.push((name.type === 'aliased_import' ? name.childForFieldName('name') : name)?.text ?? '');
    }
  }
  const has = (top: string) => modules.some((m) => m === top || m.startsWith(`${top}.`));
  return has('trio') && !has('asyncio');
}

/**
 * The `try` is the last thing its `async def` does: the last statement of the body (or of a `with`
 * that is). A catch-all there is the boundary of a task (an ASGI server's `run_asgi`, an accept
 * handler, one racer of `staggered_race`): whatever it catches, the coroutine ends right after, so
 * nothing carries on as if it had not been cancelled.
 */
function endsTheCoroutine(clause: SyntaxNode, loopExit = false): boolean {
  let node: SyntaxNode | null = clause.parent;
  while (node) {
    const block = node.parent;
    if (block?.type !== 'block') return false;
    // Only cleanup may follow (`await runner.cleanup()`, `await writer.wait_closed()`).
    const after: SyntaxNode[] = [];
    for (let sibling = node.nextNamedSibling; sibling; sibling = sibling.nextNamedSibling) if (sibling.type !== 'comment') after.push(sibling);
    if (!after.every(isCleanupAwait)) return false;
    const owner = block.parent;
    if (owner?.type === 'function_definition') return owner.child(0)?.type === 'async';
    if (owner?.type === 'else_clause' || owner?.type === 'finally_clause') return false;
    if (owner?.type !== 'with_statement' && !(loopExit && (owner?.type === 'while_statement' || owner?.type === 'for_statement'))) return false;
    node = owner;
  }
  return false;
}

const CLEANUP = /^await\s+[\w.]+\.(cleanup|close|aclose|wait_closed|shutdown|stop)\(\s*\)$/;

/** `await <something>.cleanup()` and the like, as a statement of its own. */
function isCleanupAwait(statement: SyntaxNode): boolean {
  return statement.type === 'expression_statement' && CLEANUP.test(statement.text.replace(/\s+/g, ' ').trim());
}

const SUSPENDING = new Set(['await']);
const OWN_SCOPES = new Set(['function_definition', 'lambda', 'class_definition']);

/**
 * Whether the `try` body can suspend (an `await`, `async for`, `async with`, nested defs aside).
 * Cancellation is delivered at a suspension point: a body that never suspends cannot receive the
 * task's own cancellation (asgiref re-raising a stored exception in `try: raise exc`).
 */
function bodySuspends(clause: SyntaxNode): boolean {
  const body = clause.parent?.childForFieldName('body');
  if (!body) return true;
  const cursor = body.walk();
  for (;;) {
    const type = cursor.nodeType;
    if (SUSPENDING.has(type)) return true;
    if ((type === 'for_statement' || type === 'with_statement') && cursor.currentNode.child(0)?.type === 'async') return true;
    if (!OWN_SCOPES.has(type) && cursor.gotoFirstChild()) continue;
    for (;;) {
      if (cursor.gotoNextSibling()) break;
      if (!cursor.gotoParent()) return false;
    }
  }
}

/**
 * `except BaseException as e: if type(e) in RETRYABLE: ... else: raise`: a retry filter on the
 * handler's own exception, whose other branch re-raises. Cancellation is not in the filter unless
 * it names CancelledError / BaseException itself, so it always reaches the `raise`.
 */
function retryFilter(body: SyntaxNode | null, name: string | null): boolean {
  if (!body || name === null) return false;
  const statements = body.namedChildren.filter((c) => c.type !== 'comment');
  const last = statements[statements.length - 1];
  if (statements.length !== 1 || last?.type !== 'if_statement') return false;
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const typeTest = new RegExp(`^(not\\s+)?(type\\(\\s*${escaped}\\s*\\)\\s+(in|is|==)\\s|isinstance\\(\\s*${escaped}\\s*,|${escaped}\\.__class__\\s+(in|is|==)\\s)`);
  const tests = [last.childForFieldName('condition'), ...last.namedChildren.filter((c) => c.type === 'elif_clause').map((c) => c.childForFieldName('condition'))];
  if (!tests.every((test) => test && typeTest.test(test.text) && !/CancelledError|BaseException/.test(test.text))) return false;
  const otherwise = last.namedChildren.find((c) => c.type === 'else_clause')?.childForFieldName('body');
  if (!otherwise) return false;
  const final = otherwise.namedChildren.filter((c) => c.type !== 'comment').pop();
  return final?.type === 'raise_statement';
}

/**
 * `except CancelledError: if fut.done(): return fut.result() else: raise`: the awaited work had
 * already completed when the cancellation arrived, and its result is returned rather than leaked
 * (asyncpg's and CPython 3.8-3.11's `wait_for`). Every other path raises.
 */
function returnsCompletedResult(body: SyntaxNode | null): boolean {
  const statements = body?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
  const only = statements[0];
  if (statements.length !== 1 || only?.type !== 'if_statement') return false;
  const test = /^([\w.]+)\.done\(\)$/.exec(only.childForFieldName('condition')?.text.replace(/\s+/g, '') ?? '');
  if (!test) return false;
  const consequence = only.childForFieldName('consequence')?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
  const returned = consequence.length === 1 && consequence[0]!.type === 'return_statement' ? consequence[0]!.namedChild(0)?.text.replace(/\s+/g, '') : null;
  if (returned !== `${test[1]}.result()`) return false;
  const otherwise = only.namedChildren.find((c) => c.type === 'else_clause')?.childForFieldName('body');
  const last = otherwise?.namedChildren.filter((c) => c.type !== 'comment').pop();
  return last?.type === 'raise_statement' && !only.namedChildren.some((c) => c.type === 'elif_clause');
}

const SPAWNERS = new Set(['create_task', 'ensure_future']);
const WAITERS = new Set(['shield', 'wait_for', 'gather', 'wait', 'as_completed']);

/**
 * Whether the coroutine function around the handler is, in this file, only ever started as a
 * background task that nothing awaits: every call of it is the argument of `create_task` /
 * `ensure_future`, and the task is dropped, or kept somewhere no `await`, `gather`, `wait`,
 * `wait_for` or `shield` of this file ever reads. Cancelling such a task is how it is stopped,
 * and nobody waits to see a CancelledError come out of it (discord.py's shard worker, a shutdown
 * hook that sleeps until the loop cancels it). Null-safe: unsure means no.
 */
function onlyABackgroundTask(ctx: RuleContext, cache: Map<number, boolean>): boolean {
  const chain = ctx.scopeChain();
  const fn = [...chain].reverse().find((scope) => scope.kind === 'async-def' || scope.kind === 'def');
  if (!fn || fn.kind !== 'async-def') return false;
  const cached = cache.get(fn.node.id);
  if (cached !== undefined) return cached;
  const name = fn.node.childForFieldName('name')?.text;
  const root = ctx.file.tree.rootNode;
  let verdict = false;
  if (name) {
    const awaited = awaitedTexts(root);
    // A method is called through an attribute (`self.worker()`), a function by its name.
    const method = chain[chain.indexOf(fn) - 1]?.kind === 'class';
    const calls = root.descendantsOfType('call').filter((call) => {
      const callee = call.childForFieldName('function');
      if (method) return callee?.type === 'attribute' && callee.childForFieldName('attribute')?.text === name;
      return callee?.type === 'identifier' && callee.text === name;
    });
    verdict = calls.length > 0 && calls.every((call) => spawnedAndNeverAwaited(call, awaited));
  }
  cache.set(fn.node.id, verdict);
  return verdict;
}

/** Texts of everything awaited or handed to a waiter (`await x`, `gather(*x)`, `shield(x)`...). */
function awaitedTexts(root: SyntaxNode): Set<string> {
  const texts = new Set<string>();
  const norm = (node: SyntaxNode) => unparenthesize(node).text.replace(/^\*/, '').replace(/\s+/g, '');
  for (const node of root.descendantsOfType('await')) if (node.namedChild(0)) texts.add(norm(node.namedChild(0)!));
  for (const call of root.descendantsOfType('call')) {
    const callee = call.childForFieldName('function');
    const last = callee?.type === 'attribute' ? callee.childForFieldName('attribute')?.text : callee?.text;
    if (!last || !WAITERS.has(last)) continue;
    for (const arg of call.childForFieldName('arguments')?.namedChildren ?? []) {
      const value = arg.type === 'list_splat' && arg.namedChild(0) ? arg.namedChild(0)! : arg;
      texts.add(norm(value));
      // `wait([task])`, `gather(*(a, b))`: the items too.
      const literal = unparenthesize(value);
      if (['list', 'tuple', 'set'].includes(literal.type)) for (const item of literal.namedChildren) texts.add(norm(item));
    }
  }
  return texts;
}

function spawnedAndNeverAwaited(call: SyntaxNode, awaited: ReadonlySet<string>): boolean {
  const args = call.parent;
  const spawn = args?.type === 'argument_list' ? args.parent : null;
  const spawner = spawn?.childForFieldName('function');
  const spawnName = spawner?.type === 'attribute' ? spawner.childForFieldName('attribute')?.text : spawner?.text;
  if (!spawn || !spawnName || !SPAWNERS.has(spawnName) || args?.namedChildren[0]?.id !== call.id) return false;
  const holder = spawn.parent;
  if (holder?.type === 'expression_statement') return true;
  let kept: SyntaxNode | null | undefined = null;
  if (holder?.type === 'assignment' && holder.childForFieldName('right')?.id === spawn.id) kept = holder.childForFieldName('left');
  else if (holder?.type === 'argument_list') {
    // `self._tasks.add(create_task(...))`: kept in a container.
    const method = holder.parent?.childForFieldName('function');
    if (method?.type === 'attribute' && ['add', 'append'].includes(method.childForFieldName('attribute')?.text ?? '')) kept = method.childForFieldName('object');
  }
  if (!kept || (kept.type !== 'identifier' && kept.type !== 'attribute')) return false;
  return !awaited.has(kept.text.replace(/\s+/g, ''));
}

/**
 * The handler stores the exception where the caller gets it (`results.append(exc)`,
 * `errors[i] = exc`) and then leaves the coroutine (`return` / `raise` on every path): the outcome
 * is handed over, and no work goes on after it.
 */
function storesException(body: SyntaxNode, name: string | null): boolean {
  if (name === null) return false;
  const isName = (node: SyntaxNode | null | undefined) => node?.type === 'identifier' && node.text === name;
  for (const assignment of body.descendantsOfType('assignment')) {
    if (assignment.childForFieldName('left')?.type === 'subscript' && isName(assignment.childForFieldName('right'))) return true;
  }
  return body.descendantsOfType('call').some((call) => {
    const method = call.childForFieldName('function')?.childForFieldName('attribute')?.text;
    const args = call.childForFieldName('arguments')?.namedChildren ?? [];
    return (method === 'append' || method === 'put_nowait') && args.length === 1 && isName(args[0]);
  });
}

export const swallowedCancellation: Rule = {
  meta: {
    id: 'AG301',
    slug: 'swallowed-cancellation',
    aliases: ['ASYNC103', 'ASYNC104', 'S7497'],
    family: 'cancellation',
    severity: 'error',
    title: 'Cancellation swallowed',
    fix: 'End the handler with a bare `raise` on every path (do the cleanup first, or in `finally:`); catch `Exception` if cancellation is not what you mean to handle.',
    messages: {
      swallowed: '`{caught}` catches the task\'s CancelledError and can finish without re-raising it: the cancellation is lost',
    },
    docs: {
      what: 'Flags, in async code, an `except` clause that catches cancellation (`asyncio.CancelledError`, imported however, a tuple containing it, `BaseException`, or a bare `except:`) and has a path that does not raise: it falls off its end, or leaves with `return`, `break` or `continue`. Handlers that raise on every path (bare `raise`, `raise e`, `raise Other() from e`) are fine, and so is `except Exception`, which does not catch CancelledError since Python 3.8. Awaiting a task right after cancelling it (`task.cancel()` then `try: await task / except CancelledError: pass`), handlers that call `uncancel()`, and catch-alls (`BaseException`, bare `except:`) that hand the exception to a waiter (`future.set_exception(exc)`) or keep `sys.exc_info()` to re-raise later are deliberate and not flagged. A call to a function of the same file annotated `-> NoReturn`/`-> Never`, or whose body raises on every path (abstract `raise NotImplementedError` stubs aside), counts as a raise. A clause behind an earlier `except asyncio.CancelledError:` of the same `try` never sees the cancellation and is not flagged. A `try` whose body cannot suspend (no `await`, `async for` or `async with`) cannot receive the task\'s cancellation and is not flagged, nor is a catch-all whose body is a retry filter on its own exception (`if type(e) in RETRYABLE: ... else: raise`). Catch-alls are also left alone when the `try` is the last statement of the `async def` (or of a `with` that is; only cleanup awaits such as `await runner.cleanup()` may follow) and the handler does not `break` or `continue`: the coroutine ends right after, as at the root of a task (an ASGI `run_asgi`, an accept handler); when they store the exception for the caller (`results.append(exc)`, `errors[i] = exc`) and then `return` or raise on every path; and in a module that imports trio but not asyncio (trio code, where asyncio\'s CancelledError is not involved). Two more shapes are deliberate: a handler whose only non-raising path returns the result of work that had already completed (`if fut.done(): return fut.result()` else `raise`, the `wait_for` race idiom), and a handler that ends a coroutine this file only ever starts as a background task nobody awaits (every call is the argument of `create_task`/`ensure_future`, and no `await`, `gather`, `wait`, `wait_for` or `shield` of the file reads the task): cancelling such a task is how it is stopped, and nobody waits to see the CancelledError. Merely storing the exception and carrying on (in a loop, or with more work after the `try`) is still a swallow, and an explicit `except asyncio.CancelledError:` that swallows is always flagged.',
      why: 'Cancellation is how asyncio stops work: `task.cancel()`, `asyncio.timeout`, `wait_for`, TaskGroup and server shutdown all throw CancelledError into the task and wait for it to come out. A handler that swallows it makes the task carry on or return normally: timeouts stop timing out, TaskGroups and shutdowns hang waiting for a task that ignores them, and the canceller cannot tell that the work was abandoned.',
      example: [
        'import asyncio',
        '',
        '',
        'async def wait_closed(writer):',
        '    writer.close()',
        '    try:',
        '        await writer.wait_closed()',
        '    except asyncio.CancelledError:',
        '        pass',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'async def wait_closed(writer):',
        '    writer.close()',
        '    try:',
        '        await writer.wait_closed()',
        '    except asyncio.CancelledError:',
        '        writer.transport.abort()',
        '        raise',
      ].join('\n'),
    },
    cites: [
      { guide: 'S0', section: 'Step 4 — Cancellation discipline' },
      { guide: 'S0', section: 'Do NOT' },
    ],
  },
  create(ctx) {
    const outcomes = new Outcomes(ctx);
    const background = new Map<number, boolean>();
    let trioOnly: boolean | null = null;
    return {
      except_clause(node) {
        if (!ctx.inAsyncCode()) return;
        const caught = cancellationCaught(ctx, node);
        if (!caught) return;
        if (caughtEarlier(ctx, node)) return;
        if (!bodySuspends(node)) return;
        if (caught.catchAll && (trioOnly ??= importsTrioNotAsyncio(ctx))) return;
        const body = node.namedChildren.find((c) => c.type === 'block') ?? null;
        const outcome = outcomes.block(body);
        if (!(outcome & SWALLOWING)) return;
        if (body && /\.\s*uncancel\s*\(/.test(body.text)) return;
        if (body && caught.catchAll && handsOn(ctx, body, caught.name)) return;
        if (caught.catchAll && retryFilter(body, caught.name)) return;
        if (caught.catchAll && !(outcome & (BREAK | CONTINUE))) {
          if (endsTheCoroutine(node)) return;
          if (body && !(outcome & NORMAL) && storesException(body, caught.name)) return;
        }
        if (awaitsTaskItCancelled(node)) return;
        if (!caught.catchAll && !(outcome & NORMAL) && returnsCompletedResult(body)) return;
        // A task nobody waits on, ended by the handler (falling off the end, or `break`ing out of
        // its final loop): its cancellation has nobody to reach.
        if (!(outcome & CONTINUE) && endsTheCoroutine(node, !(outcome & NORMAL)) && onlyABackgroundTask(ctx, background)) return;
        ctx.report({ node, messageId: 'swallowed', data: { caught: caught.text } });
      },
    };
  },
};
