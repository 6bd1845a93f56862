import { foreignEventLoop } from '../python/imports.js';
import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { dottedName, enclosing, exceptClauseParts, isGenerator, methodsOf, NESTED_SCOPES, runAsRoot, runByTestRunner, statementCall, suspends, unparenthesize } from './util.js';

/** Exception types whose handler also catches the task's cancellation. */
const CATCHES_CANCELLATION = new Set(['asyncio.CancelledError', 'builtins.BaseException']);

/** Calls that never return normally: they raise (SystemExit) or end the process. */
const NEVER_RETURN = new Set(['sys.exit', 'os._exit', 'builtins.exit', 'builtins.quit', 'os.abort', 'pytest.fail', 'pytest.skip', 'pytest.exit']);

/** `assert False, "..."` (or `0`, `None`): a test failing on purpose, which raises on every run. */
const ALWAYS_FAILS = /^assert\s+(False|0|None)\s*(,|$)/;

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
  const { types: written, written: caught, alias } = exceptClauseParts(clause);
  if (!caught) return { text: 'except:', catchAll: true, name: null };
  const types = written.map((type) => ctx.resolveName(type) ?? '');
  if (!types.some((type) => CATCHES_CANCELLATION.has(type))) return null;
  return { text: `except ${caught.text.replace(/\s+/g, ' ')}:`, catchAll: !types.includes('asyncio.CancelledError'), name: alias };
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

  /** While checking a handler: the name its `as` binds, so `isinstance(e, CancelledError)` can be decided. */
  private caughtAs: string | null = null;

  constructor(private readonly ctx: RuleContext) {}

  /**
   * The outcomes of a handler's body for the cancellation it catches: with `except (...) as e`, a
   * test `isinstance(e, asyncio.CancelledError)` is true (`if isinstance(e, CancelledError): raise`
   * re-raises it, rayforge's serial drivers).
   */
  handler(body: SyntaxNode | null, alias: string | null): number {
    this.caughtAs = alias;
    try {
      return this.block(body);
    } finally {
      this.caughtAs = null;
    }
  }

  /** True/false when `condition` tests whether the caught exception is a CancelledError; else null. */
  private cancellationTest(condition: SyntaxNode | null): boolean | null {
    if (!condition || !this.caughtAs) return null;
    const node = unparenthesize(condition);
    if (node.type === 'not_operator') {
      const inner = this.cancellationTest(node.childForFieldName('argument'));
      return inner === null ? null : !inner;
    }
    if (node.type !== 'call' || node.childForFieldName('function')?.text !== 'isinstance') return null;
    const [subject, type] = node.childForFieldName('arguments')?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
    if (subject?.text !== this.caughtAs || !type) return null;
    const written = unparenthesize(type);
    const types = written.type === 'tuple' ? written.namedChildren : [written];
    const names = types.map((t) => this.ctx.resolveName(t) ?? t.text);
    if (names.some((name) => name === 'asyncio.CancelledError')) return true;
    // Another class (`isinstance(exc, PyMongoError)`): a project's exceptions derive from Exception,
    // which CancelledError does not; only BaseException's other children could match it.
    return names.some((name) => /(^|\.)(BaseException|KeyboardInterrupt|SystemExit|GeneratorExit)$/.test(name)) ? null : false;
  }

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
      case 'assert_statement':
        return ALWAYS_FAILS.test(node.text) ? RAISE : NORMAL;
      case 'return_statement':
        return RETURN;
      case 'break_statement':
        return BREAK;
      case 'continue_statement':
        return CONTINUE;
      case 'if_statement': {
        const known = this.cancellationTest(node.childForFieldName('condition'));
        if (known === true) return this.block(node.childForFieldName('consequence'));
        if (known === false) {
          const rest = node.namedChildren.find((c) => c.type === 'elif_clause' || c.type === 'else_clause');
          if (!rest) return NORMAL;
          if (rest.type === 'else_clause') return this.block(rest.childForFieldName('body'));
        }
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
    // unittest's `self.fail(...)` raises AssertionError.
    if (!awaited && dottedName(call.childForFieldName('function')) === 'self.fail') return true;
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
 * for a task one has just cancelled: the CancelledError caught is the task's, by design. The cancel
 * may also be done by a method of the same class called just before (`self.stop()` cancelling
 * `self._task`, then `await self._task`).
 */
function awaitsTaskItCancelled(clause: SyntaxNode): boolean {
  const tryStatement = clause.parent;
  const body = tryStatement?.childForFieldName('body');
  if (!tryStatement || !body) return false;
  const awaitedNodes = body.descendantsOfType('await').map((a) => (a.namedChild(0) ? unparenthesize(a.namedChild(0)!) : null));
  const names = awaitedNodes.map((node) => dottedName(node)).filter((name): name is string => name !== null);
  // `call.cancel()` then `await call.read()` (a gRPC call): the read reports the call's own cancellation.
  const receivers = awaitedNodes
    .map((node) => (node?.type === 'call' ? node.childForFieldName('function') : null))
    .map((callee) => (callee?.type === 'attribute' ? dottedName(callee.childForFieldName('object')) : null))
    .filter((name): name is string => name !== null && !/^(self|cls)$/.test(name));
  if (names.length === 0 && receivers.length === 0) return false;
  if (names.some((name) => loopOverCancelledOrDone(tryStatement, name))) return true;
  // `if task.done(): try: await task` (hyperion): awaiting a finished task never suspends, so the
  // CancelledError can only be the task's own.
  if (body.namedChildren.filter((c) => c.type !== 'comment').length === 1 && names.some((name) => guardedByDone(tryStatement, name))) return true;
  const before: SyntaxNode[] = [body];
  for (let sibling = tryStatement.previousNamedSibling; sibling; sibling = sibling.previousNamedSibling) before.push(sibling);
  // `if task.cancel(): try: await task ...` (duotecno's disconnect): the cancel is the test of an `if` around it.
  for (let up = tryStatement.parent; up && !NESTED_SCOPES.has(up.type); up = up.parent) {
    const condition = up.type === 'if_statement' || up.type === 'elif_clause' ? up.childForFieldName('condition') : null;
    if (condition) before.push(condition);
  }
  const cancels = (text: string) => [...names, ...receivers].some((name) => cancelCallOf(name).test(text));
  if (cancels(before.map((n) => n.text).join('\n'))) return true;
  // `self.stop()` just before, where `stop` is a method of the enclosing class that cancels the task.
  const helpers = new Set<string>();
  for (const statement of before.slice(1)) {
    const call = statementCall(statement) ?? (statement.type === 'expression_statement' && statement.namedChild(0)?.type === 'await' ? statement.namedChild(0)!.namedChild(0) : null);
    const callee = call?.type === 'call' ? call.childForFieldName('function') : null;
    if (callee?.type === 'attribute' && /^(self|cls)$/.test(callee.childForFieldName('object')?.text ?? '')) {
      const method = callee.childForFieldName('attribute')?.text;
      if (method) helpers.add(method);
    }
  }
  if (helpers.size === 0) return false;
  const cls = enclosing(clause, 'class_definition');
  return methodsOf(cls).some((fn) => helpers.has(fn.childForFieldName('name')?.text ?? '') && cancels(fn.text));
}

/**
 * `name` is the variable of a `for` loop around the `try` that goes over tasks already settled:
 * ones an earlier loop or comprehension over the same collection cancelled (`[t.cancel() for t in
 * pending]`, then `for task in pending: try: await task`), or the `done` set of `asyncio.wait`,
 * whose awaits never suspend. The CancelledError caught is the task's own.
 */
function loopOverCancelledOrDone(tryStatement: SyntaxNode, name: string): boolean {
  let loop: SyntaxNode | null = tryStatement.parent;
  while (loop && loop.type !== 'for_statement' && !NESTED_SCOPES.has(loop.type)) loop = loop.parent;
  const variable = loop?.type === 'for_statement' ? loop.childForFieldName('left') : null;
  const over = loop?.childForFieldName('right');
  if (!loop || variable?.type !== 'identifier' || variable.text !== name || !over) return false;
  const collections = new Set(namesIn(over));
  const fn = enclosing(loop, 'function_definition');
  if (!fn) return false;
  // The `done` set of `done, pending = await asyncio.wait(...)`.
  if (over.type === 'identifier') {
    const done = fn.descendantsOfType('assignment').some((a) => {
      const left = a.childForFieldName('left');
      const first = left && (left.type === 'pattern_list' || left.type === 'tuple_pattern') ? left.namedChild(0) : null;
      return first?.text === over.text && /^await\s+(asyncio\.)?wait\(/.test(a.childForFieldName('right')?.text ?? '');
    });
    if (done) return true;
  }
  // An earlier loop or comprehension over one of the same collections that cancels its items.
  const earlier = [...fn.descendantsOfType('for_statement'), ...fn.descendantsOfType('for_in_clause')].filter((other) => other.endIndex <= loop!.startIndex);
  return earlier.some((other) => {
    const item = other.childForFieldName('left');
    const source = other.childForFieldName('right');
    if (item?.type !== 'identifier' || !source) return false;
    if (!namesIn(source).some((n) => collections.has(n))) return false;
    const scope = other.type === 'for_statement' ? other.childForFieldName('body') : other.parent;
    return scope !== null && cancelCallOf(item.text).test(scope.text);
  });
}

/** The names an expression reads (`pending`, `done | pending` -> done, pending). */
function namesIn(node: SyntaxNode): string[] {
  return node.type === 'identifier' ? [node.text] : node.descendantsOfType('identifier').map((n) => n.text);
}

/**
 * `except CancelledError: if not self._sigint_received: raise` (aioconsole): the handler re-raises
 * unless a flag of the class is set, and the class sets that flag where it calls `.cancel()`. It
 * absorbs only the cancellation its own class issued, and passes every other one on. (Not
 * `if not reader.cancelled(): raise`: cancelling a task that awaits `reader` cancels `reader` too,
 * so that test cannot tell the two apart.)
 */
function ownCancellationOnly(clause: SyntaxNode, body: SyntaxNode | null): boolean {
  const first = body?.namedChildren.find((c) => c.type !== 'comment');
  if (first?.type !== 'if_statement' || first.namedChildren.some((c) => c.type === 'elif_clause' || c.type === 'else_clause')) return false;
  const inner = first.childForFieldName('consequence')?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
  if (inner.length !== 1 || inner[0]!.type !== 'raise_statement' || inner[0]!.namedChildren.length > 0) return false;
  const flag = /^not\s+(self\.\w+)$/.exec(first.childForFieldName('condition')?.text.trim() ?? '')?.[1];
  const cls = enclosing(clause, 'class_definition');
  if (!flag || !cls) return false;
  const escaped = flag.replace('.', '\\.');
  return methodsOf(cls).some((fn) => new RegExp(`${escaped}\\s*=\\s*True\\b`).test(fn.text) && /\.\s*cancel\s*\(/.test(fn.text));
}

/** The `try` sits in an `if <name>.done():` (with no `not`), within its function. */
function guardedByDone(tryStatement: SyntaxNode, name: string): boolean {
  for (let up = tryStatement.parent; up && !NESTED_SCOPES.has(up.type); up = up.parent) {
    if (up.type !== 'if_statement') continue;
    const consequence = up.childForFieldName('consequence');
    if (up.childForFieldName('condition')?.text.replace(/\s+/g, '') === `${name}.done()`) return consequence !== null && tryStatement.startIndex >= consequence.startIndex;
  }
  return false;
}

/** The points where the function around `body` can suspend, inside `body` (nested scopes aside). */
function suspensionPoints(body: SyntaxNode): SyntaxNode[] {
  const fn = enclosing(body, 'function_definition');
  return body
    .descendantsOfType(['await', 'with_statement', 'for_statement'])
    .filter((node) => node.isNamed && (node.type === 'await' || node.child(0)?.type === 'async'))
    .filter((node) => enclosing(node, 'function_definition')?.id === fn?.id && !enclosing(node, 'lambda'));
}

/**
 * Every point where the `try` body can suspend sits in the body of an inner `try` whose own
 * handler catches the cancellation and does not raise (aioraven's mock device: `try: c = await
 * reader.read(1) except CancelledError: break` inside the outer `try`). The outer handler can
 * never see the task's cancellation; the inner one is the swallow, reported on its own.
 */
function stoppedInside(ctx: RuleContext, outcomes: Outcomes, body: SyntaxNode): boolean {
  const points = suspensionPoints(body);
  return (
    points.length > 0 &&
    points.every((point) => {
      for (let block = point.parent; block && block.id !== body.id; block = block.parent) {
        const inner = block.parent;
        if (block.type !== 'block' || inner?.type !== 'try_statement' || inner.childForFieldName('body')?.id !== block.id) continue;
        const handler = inner.namedChildren.find((c) => c.type === 'except_clause' && cancellationCaught(ctx, c));
        if (handler && !(outcomes.block(handler.namedChildren.find((c) => c.type === 'block') ?? null) & RAISE)) return true;
      }
      return false;
    })
  );
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
 * The `try` is the last thing its `async def` does: the last statement of the body (or of a `with`
 * that is, or of an `except` of a `try` that is). A catch-all there is the boundary of a task (an
 * ASGI server's `run_asgi`, an accept handler, one racer of `staggered_race`): whatever it catches,
 * the coroutine ends right after, so nothing carries on as if it had not been cancelled. With
 * `loopExit`, the `try` may also be the last statement of a loop that is (the handler breaks out of
 * it). With `windDown`, any straight-line code (no loop) may follow, not only cleanup awaits: a task
 * nobody waits on that logs, stops its track and sets its "exited" event on the way out.
 */
function endsTheCoroutine(clause: SyntaxNode, loopExit = false, windDown = false, start: SyntaxNode | null = clause.parent): boolean {
  const tail = (statement: SyntaxNode) => isCleanupAwait(statement) || (windDown && !hasLoop(statement));
  let node: SyntaxNode | null = start;
  while (node) {
    const block = node.parent;
    if (block?.type !== 'block') return false;
    // Only cleanup may follow (`await runner.cleanup()`, `await writer.wait_closed()`).
    const after: SyntaxNode[] = [];
    for (let sibling = node.nextNamedSibling; sibling; sibling = sibling.nextNamedSibling) if (sibling.type !== 'comment') after.push(sibling);
    if (!after.every(tail)) return false;
    const owner = block.parent;
    if (owner?.type === 'function_definition') return owner.child(0)?.type === 'async';
    if (owner?.type === 'except_clause' || owner?.type === 'except_group_clause') {
      // The handler's end is its `try`'s end, once the `finally` (if any) has run.
      const outer = owner.parent;
      const final = outer?.namedChildren.find((c) => c.type === 'finally_clause');
      if (!outer || (final && !(final.namedChildren.find((c) => c.type === 'block')?.namedChildren ?? []).every(tail))) return false;
      node = outer;
      continue;
    }
    if (owner?.type === 'else_clause' || owner?.type === 'finally_clause') return false;
    if (owner?.type !== 'with_statement' && !(loopExit && (owner?.type === 'while_statement' || owner?.type === 'for_statement'))) return false;
    node = owner;
  }
  return false;
}

/**
 * A handler that only breaks (siridb's keep-alive loop: `except CancelledError: break` deep in an
 * `if` of the loop body) leaves its innermost loop whatever follows it there; the coroutine ends
 * when that loop is the last thing it does (wind-down code aside).
 */
function breaksOutOfTheLastLoop(clause: SyntaxNode): boolean {
  for (let up = clause.parent; up && !NESTED_SCOPES.has(up.type); up = up.parent) {
    if (up.type === 'while_statement' || up.type === 'for_statement') return endsTheCoroutine(clause, true, true, up);
  }
  return false;
}

/** Whether a statement contains a loop (nested defs aside). */
function hasLoop(statement: SyntaxNode): boolean {
  if (NESTED_SCOPES.has(statement.type) || statement.type === 'decorated_definition') return false;
  if (statement.type === 'for_statement' || statement.type === 'while_statement') return true;
  return statement.namedChildren.some(hasLoop);
}

const CLEANUP = /^await\s+[\w.]+\.(cleanup|close|aclose|wait_closed|shutdown|stop)\(\s*\)$/;

/** `await <something>.cleanup()` and the like, as a statement of its own. */
function isCleanupAwait(statement: SyntaxNode): boolean {
  return statement.type === 'expression_statement' && CLEANUP.test(statement.text.replace(/\s+/g, ' ').trim());
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

/** `<name>.cancel(` as written in source text (`task.cancel()`, `self._task.cancel(msg)`), not `other_task.cancel(`. */
function cancelCallOf(name: string): RegExp {
  return new RegExp(`(^|[^\\w.])${name.replace(/\./g, '\\.')}\\s*\\.\\s*cancel\\s*\\(`);
}

/** The last part of a name: `wait` for `asyncio.wait` and `wait`; undefined for anything else. */
function lastName(node: SyntaxNode | null | undefined): string | undefined {
  if (node?.type === 'attribute') return node.childForFieldName('attribute')?.text;
  return node?.type === 'identifier' ? node.text : undefined;
}

/**
 * What starts a coroutine as a task of its own: asyncio's `create_task` / `ensure_future` and the
 * `Task` constructor, `run_coroutine_threadsafe`, Home Assistant's `async_create_task` /
 * `async_create_background_task`, and `spawn` of aiorpcx's and aiojobs' task groups and schedulers.
 */
const SPAWNERS = new Set(['create_task', 'ensure_future', 'Task', 'run_coroutine_threadsafe', 'async_create_task', 'async_create_background_task', 'create_background_task', 'spawn']);
const COLLECTION_COMPREHENSIONS = new Set(['list_comprehension', 'set_comprehension', 'generator_expression']);
const WAITERS = new Set(['shield', 'wait_for', 'gather', 'wait', 'as_completed']);
/** Waiters that cancel what they wait for when they are cancelled themselves (`shield`, `wait` and `as_completed` do not). */
const PROPAGATING = new Set(['wait_for', 'gather']);

/** How the file waits on things: texts of everything awaited or handed to a waiter. */
interface Waited {
  /** `await x`, `gather(*x)`, `shield(x)`, `wait([x])`...: whoever reads the outcome. */
  any: Set<string>;
  /** Only `await x`, `wait_for(x)`, `gather(x)`: waits whose cancellation cancels `x` too. */
  cancelling: Set<string>;
}

const norm = (node: SyntaxNode) => unparenthesize(node).text.replace(/^\*/, '').replace(/\s+/g, '');

/**
 * `task.cancel()` and then `await task` (bare, in a `try` that catches the CancelledError, or under
 * `with suppress(...)`): the waiter cancelled the task itself and counts on it ending, so the
 * outcome it reads is the same whether the task re-raises or returns.
 */
function absorbsCancellation(node: SyntaxNode, waitedText?: string): boolean {
  const awaited = waitedText ?? (node.namedChild(0) ? norm(node.namedChild(0)!) : null);
  for (let up = node.parent; up && !NESTED_SCOPES.has(up.type); up = up.parent) {
    // A waiter that did not cancel the task itself (aiohttp's shutdown, awaiting the handler task
    // under a timeout) still reads the outcome: a swallow there defeats its timeout.
    if (up.type === 'block' && awaited) {
      const statement = up.namedChildren.find((c) => c.startIndex <= node.startIndex && node.endIndex <= c.endIndex);
      for (let before = statement?.previousNamedSibling; before; before = before.previousNamedSibling) {
        if (norm(before).startsWith(`${awaited}.cancel(`)) return true;
      }
    }
  }
  return false;
}

/**
 * The texts `root` waits on. With `unread`, awaits it says read nothing are left out of `any` (not
 * of `cancelling`: they still pass a cancellation on).
 */
function waitedTexts(root: SyntaxNode, unread: (node: SyntaxNode, text?: string) => boolean = () => false): Waited {
  const waited: Waited = { any: new Set(), cancelling: new Set() };
  for (const node of root.descendantsOfType('await')) {
    if (!node.namedChild(0)) continue;
    if (!unread(node)) waited.any.add(norm(node.namedChild(0)!));
    waited.cancelling.add(norm(node.namedChild(0)!));
  }
  for (const call of root.descendantsOfType('call')) {
    const callee = call.childForFieldName('function');
    const last = lastName(callee);
    if (!last || !WAITERS.has(last)) continue;
    const add = (node: SyntaxNode) => {
      // `task.cancel()` then `await asyncio.wait([task])` (labgrid's onLeave): as for an await.
      if (!unread(call, norm(node))) waited.any.add(norm(node));
      if (PROPAGATING.has(last)) waited.cancelling.add(norm(node));
    };
    for (const arg of call.childForFieldName('arguments')?.namedChildren ?? []) {
      const value = arg.type === 'list_splat' && arg.namedChild(0) ? arg.namedChild(0)! : arg;
      add(value);
      // `wait([task])`, `gather(*(a, b))`: the items too.
      const literal = unparenthesize(value);
      if (['list', 'tuple', 'set'].includes(literal.type)) for (const item of literal.namedChildren) add(item);
    }
  }
  return waited;
}

/** The `async def` around the visited node (nested defs aside), or null. */
function enclosingCoroutine(ctx: RuleContext): SyntaxNode | null {
  const fn = [...ctx.scopeChain()].reverse().find((scope) => scope.kind === 'async-def' || scope.kind === 'def');
  return fn?.kind === 'async-def' ? fn.node : null;
}

/** Whether a function is defined directly in a class body. */
function isMethod(fn: SyntaxNode): boolean {
  let up = fn.parent;
  if (up?.type === 'decorated_definition') up = up.parent;
  return up?.type === 'block' && up.parent?.type === 'class_definition';
}

const COROUTINE_PLACES = new Set(['await', 'argument_list', 'assignment', 'keyword_argument', 'return_statement', 'list', 'tuple']);

/**
 * The calls of `fn` in this file: a method through an attribute (`self.worker()`) of anything but
 * an imported module (`connect_utils._cancel()` is another module's function), a function by its name.
 */
function callsOf(ctx: RuleContext, fn: SyntaxNode): SyntaxNode[] {
  const name = fn.childForFieldName('name')?.text;
  if (!name) return [];
  const method = isMethod(fn);
  // A function nested in another is called only there (a namesake elsewhere is another function).
  const outer = method ? null : enclosing(fn, 'function_definition');
  return (outer ?? ctx.file.tree.rootNode).descendantsOfType('call').filter((call) => {
    const callee = call.childForFieldName('function');
    if (!method) return callee?.type === 'identifier' && callee.text === name;
    if (callee?.type !== 'attribute' || callee.childForFieldName('attribute')?.text !== name) return false;
    const object = dottedName(callee.childForFieldName('object'));
    // `self.worker()` calls the method of its own class, not a namesake in another class.
    if (object === 'self' || object === 'cls') return enclosing(call, 'class_definition')?.id === enclosing(fn, 'class_definition')?.id;
    // `super().release()` in the same class calls the base class's method.
    if (callee.childForFieldName('object')?.text.replace(/\s+/g, '') === 'super()') return enclosing(call, 'class_definition')?.id !== enclosing(fn, 'class_definition')?.id;
    if (object !== null && ctx.imports.resolve(object) !== null) return false;
    // Through another object, only where a coroutine can go (awaited, handed on, kept): `proc.poll()`
    // in `if proc.poll() is None:` is a namesake's plain method, not this coroutine.
    return COROUTINE_PLACES.has(call.parent?.type ?? '');
  });
}

/** The `create_task(node)` / `ensure_future(node)` around `node` (its first argument), or null. */
function spawnAround(node: SyntaxNode): SyntaxNode | null {
  // `ensure_future(self.run_loop() if looping else self.run())`: either branch is the argument.
  while (node.parent?.type === 'conditional_expression' && node.parent.namedChildren[1]?.id !== node.id) node = node.parent;
  const args = node.parent;
  const spawn = args?.type === 'argument_list' ? args.parent : null;
  const spawner = spawn?.childForFieldName('function');
  const spawnName = lastName(spawner);
  if (!spawn || !spawnName || !SPAWNERS.has(spawnName) || args?.namedChildren[0]?.id !== node.id) return null;
  return spawn;
}

/**
 * The spawns that start the coroutine a call creates: the call is the argument of `create_task` /
 * `ensure_future`, or is kept in a local that is only ever handed to them (`wrapped =
 * self._run_event(...)`, then `create_task(wrapped)`). Null when the coroutine goes anywhere else.
 */
function spawnsOf(call: SyntaxNode): SyntaxNode[] | null {
  const direct = spawnAround(call);
  if (direct) return [direct];
  const holder = call.parent;
  const left = holder?.type === 'assignment' && holder.childForFieldName('right')?.id === call.id ? holder.childForFieldName('left') : null;
  const scope = enclosing(call, 'function_definition');
  if (left?.type !== 'identifier' || !scope) return null;
  const uses = scope.descendantsOfType('identifier').filter((id) => id.text === left.text && id.id !== left.id);
  const spawns = uses.map(spawnAround);
  return spawns.length > 0 && spawns.every((s) => s !== null) ? (spawns as SyntaxNode[]) : null;
}

/**
 * Where the task a spawn creates goes: `'dropped'` (an expression statement, or returned by a
 * function every call of which in this file drops the result, like discord.py's `_schedule_event`),
 * the variable or attribute it is assigned to, the container it is added to, or null (unknown).
 */
function keptIn(ctx: RuleContext, spawn: SyntaxNode, depth = 0): 'dropped' | { holder: SyntaxNode; container: boolean } | null {
  // `self.task = await group.spawn(coro)`: aiorpcx's and aiojobs' spawn hand the task over when awaited.
  if (spawn.parent?.type === 'await' && lastName(spawn.childForFieldName('function')) === 'spawn') return keptIn(ctx, spawn.parent, depth);
  const holder = spawn.parent;
  if (holder?.type === 'expression_statement') return 'dropped';
  if (holder?.type === 'assignment' && holder.childForFieldName('right')?.id === spawn.id) {
    const left = holder.childForFieldName('left');
    // `tasks[path] = create_task(...)`: kept in a container.
    const dict = left?.type === 'subscript' ? left.childForFieldName('value') : null;
    if (dict && (dict.type === 'identifier' || dict.type === 'attribute')) return { holder: dict, container: true };
    return left && (left.type === 'identifier' || left.type === 'attribute') ? { holder: left, container: false } : null;
  }
  // `self._tasks = [ensure_future(a()), ensure_future(b())]`, `tasks = {create_task(f(x)) for x in xs}`:
  // a collection of tasks, kept where the collection is assigned.
  const collection = holder && ['list', 'set', 'tuple'].includes(holder.type) ? holder : holder && COLLECTION_COMPREHENSIONS.has(holder.type) && holder.childForFieldName('body')?.id === spawn.id ? holder : null;
  if (collection) {
    const assignment = collection.parent;
    const left = assignment?.type === 'assignment' && assignment.childForFieldName('right')?.id === collection.id ? assignment.childForFieldName('left') : null;
    return left && (left.type === 'identifier' || left.type === 'attribute') ? { holder: left, container: true } : null;
  }
  if (holder?.type === 'argument_list') {
    // `self._tasks.add(create_task(...))`: kept in a container.
    const method = holder.parent?.childForFieldName('function');
    const object = method?.type === 'attribute' && ['add', 'append'].includes(method.childForFieldName('attribute')?.text ?? '') ? method.childForFieldName('object') : null;
    return object && (object.type === 'identifier' || object.type === 'attribute') ? { holder: object, container: true } : null;
  }
  if (holder?.type === 'return_statement') {
    const fn = enclosing(spawn, 'function_definition');
    const calls = fn ? callsOf(ctx, fn) : [];
    if (calls.length > 0 && calls.every((call) => call.parent?.type === 'expression_statement')) return 'dropped';
    // The only call of a factory that returns the task (transitions' `create_timer`): the task goes
    // where that call's result goes (`self.runner[key] = self.create_timer(...)`).
    return calls.length === 1 && depth < 3 ? keptIn(ctx, calls[0]!, depth + 1) : null;
  }
  return null;
}

/**
 * The coroutine function whose last act is to await this call (`await self._take_message()` as the
 * final statement of `run`, or `return await ...`): the call's outcome is that function's outcome.
 */
function tailOf(call: SyntaxNode): SyntaxNode | null {
  const awaited = call.parent;
  if (awaited?.type !== 'await') return null;
  const statement = awaited.parent;
  if (statement?.type !== 'expression_statement' && statement?.type !== 'return_statement') return null;
  const body = statement.parent;
  const fn = body?.type === 'block' ? body.parent : null;
  if (fn?.type !== 'function_definition' || fn.child(0)?.type !== 'async') return null;
  const last = body!.namedChildren.filter((c) => c.type !== 'comment').pop();
  return last?.id === statement.id ? fn : null;
}

/**
 * For each call of `fn` in the file, where its tasks go; null when a call is not a spawn. With
 * `tails`, a call that is the awaited tail of another coroutine function is that function's
 * business: it goes to `tails` instead.
 */
function tasksOf(ctx: RuleContext, fn: SyntaxNode, tails?: SyntaxNode[]): ReturnType<typeof keptIn>[] | null {
  const calls = callsOf(ctx, fn);
  if (calls.length === 0) return null;
  const kept: ReturnType<typeof keptIn>[] = [];
  for (const call of calls) {
    const tail = tails ? tailOf(call) : null;
    if (tail && tail.id !== fn.id) {
      tails!.push(tail);
      continue;
    }
    // `asyncio.run(main())` / `loop.run_until_complete(main())`: the root of the program, which no
    // coroutine awaits (cylc's `ret = asyncio.run(_run(scheduler))`, then `sys.exit(ret)`).
    if (runAsRoot(ctx, call)) {
      kept.push('dropped');
      continue;
    }
    const spawns = spawnsOf(call);
    if (!spawns) return null;
    for (const spawn of spawns) kept.push(keptIn(ctx, spawn));
  }
  return kept;
}

/**
 * Whether the coroutine function around the handler is, in this file, only ever started as a
 * background task that nothing awaits: every call of it is started with `create_task` /
 * `ensure_future` (directly or through a local), and the task is dropped, or kept somewhere no
 * `await`, `gather`, `wait`, `wait_for` or `shield` of this file (of the class, for `self.<attr>`)
 * ever reads. Cancelling such a task
 * is how it is stopped, and nobody waits to see a CancelledError come out of it (discord.py's
 * shard worker, aiortc's RTCP loop whose `stop()` waits on an "exited" event). Null-safe: unsure means no.
 */
function onlyABackgroundTask(ctx: RuleContext, fn: SyntaxNode, waited: (holder: SyntaxNode) => Waited, depth = 0): boolean {
  // Awaited as the last act of another coroutine (pubnub's `run()` awaiting `_take_message()`):
  // a background task if that one is.
  const tails: SyntaxNode[] = [];
  const kept = tasksOf(ctx, fn, depth < 3 ? tails : undefined);
  if (!tails.every((tail) => onlyABackgroundTask(ctx, tail, waited, depth + 1))) return false;
  // Read by an `await`, `wait_for` or `gather` that does not absorb it (a container: any of its items).
  const unread = (holder: SyntaxNode) => {
    const { any, cancelling } = waited(holder);
    const name = norm(holder);
    const of = (text: string) => text === name || text.startsWith(`${name}[`) || text.startsWith(`${name}.`);
    if ([...any].some((text) => of(text) && cancelling.has(text))) return false;
    // `for task in self._tasks: await task`: the items of a container, awaited one by one.
    return !ctx.file.tree.rootNode.descendantsOfType('for_statement').some((loop) => {
      const variable = loop.childForFieldName('left');
      const over = loop.childForFieldName('right');
      return variable?.type === 'identifier' && over !== null && of(norm(over)) && cancelling.has(variable.text) && any.has(variable.text);
    });
  };
  return (
    kept !== null &&
    kept.every((k) => {
      if (k === 'dropped') return true;
      if (k === null) return false;
      const onward = escapes(k.holder);
      return onward !== null && onward.every(unread) && unread(k.holder);
    })
  );
}

/** The function a name is assigned in, when it is a local of it (not a module-level `_tasks` set). */
function localTo(name: SyntaxNode): SyntaxNode | null {
  const fn = enclosing(name, 'function_definition');
  if (!fn) return null;
  const assigned = fn.descendantsOfType(['assignment', 'augmented_assignment']).some((a) => {
    const left = a.childForFieldName('left');
    return left?.type === 'identifier' && left.text === name.text;
  });
  return assigned ? fn : null;
}

/**
 * Where a local holding the task goes beyond its function: the containers it is added to
 * (`_background_tasks.add(task)`, the keep-a-reference idiom), to be checked for waits like the
 * task itself; null when it leaves otherwise (returned, handed to a call, stored), since whoever
 * gets it may await it.
 */
function escapes(holder: SyntaxNode): SyntaxNode[] | null {
  if (holder.type !== 'identifier') return [];
  const fn = enclosing(holder, 'function_definition');
  if (!fn) return [];
  const containers: SyntaxNode[] = [];
  for (const use of fn.descendantsOfType('identifier')) {
    if (use.text !== holder.text || use.id === holder.id) continue;
    const parent = use.parent;
    if (parent?.type === 'argument_list') {
      const callee = parent.parent?.childForFieldName('function');
      const method = callee?.type === 'attribute' ? callee.childForFieldName('attribute')?.text : null;
      const container = callee?.type === 'attribute' ? callee.childForFieldName('object') : null;
      if (container && (method === 'add' || method === 'append' || method === 'update' || method === 'extend') && parent.namedChildren.length === 1) {
        containers.push(container);
        continue;
      }
      // `asyncio.wait(tasks)`, `gather(*tasks)`: a wait, which `waitedTexts` reads as one.
      const waiter = lastName(callee);
      if (waiter && WAITERS.has(waiter)) continue;
      return null;
    }
    // `asyncio.wait([task])`: handed to a waiter, which `waitedTexts` reads as a wait on the task.
    if ((parent?.type === 'list' || parent?.type === 'tuple' || parent?.type === 'set') && handedToWaiter(parent)) continue;
    if (parent?.type === 'return_statement' || parent?.type === 'list' || parent?.type === 'tuple') return null;
    if (parent?.type === 'assignment' && parent.childForFieldName('right')?.id === use.id) return null;
  }
  return containers;
}

/** A literal collection that is an argument of `wait`, `gather`, `shield`... */
function handedToWaiter(literal: SyntaxNode): boolean {
  const args = literal.parent?.type === 'list_splat' ? literal.parent.parent : literal.parent;
  const callee = args?.type === 'argument_list' ? args.parent?.childForFieldName('function') : null;
  const last = lastName(callee);
  return last !== undefined && WAITERS.has(last);
}

/**
 * Whether the coroutine's own task is never cancelled by this file: every call of it is a spawn
 * whose task is dropped or kept in a variable or attribute that is never `.cancel()`ed and only
 * ever waited on through waiters that do not pass a cancellation on (`shield`, `wait`).
 */
function ownTaskNeverCancelled(ctx: RuleContext, fn: SyntaxNode, waited: Waited): boolean {
  const kept = tasksOf(ctx, fn);
  const text = ctx.file.tree.rootNode.text;
  return (
    kept !== null &&
    kept.every((k) => {
      if (k === 'dropped') return true;
      if (k === null || k.container) return false;
      const name = norm(k.holder);
      return !waited.cancelling.has(name) && !cancelCallOf(name).test(text);
    })
  );
}

/**
 * The `try` body is only `await self.<task>`, a task the enclosing class cancels itself
 * (`self.<task>.cancel()` in another method): the CancelledError caught is that task's, by design
 * (websockets' `close_connection` waiting for `transfer_data_task`).
 */
function awaitsATaskTheClassCancels(clause: SyntaxNode): boolean {
  const statements = clause.parent?.childForFieldName('body')?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
  const awaited = statements.length === 1 && statements[0]!.type === 'expression_statement' && statements[0]!.namedChild(0)?.type === 'await' ? statements[0]!.namedChild(0)!.namedChild(0) : null;
  if (awaited?.type !== 'attribute' || awaited.childForFieldName('object')?.text !== 'self') return false;
  const cls = enclosing(clause, 'class_definition');
  return cls !== null && cancelCallOf(awaited.text.replace(/\s+/g, '')).test(cls.text);
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

/**
 * contextlib's `__aexit__`: `except BaseException as exc: if exc is value: return False` then
 * `raise`. The only path that does not raise returns False for the very exception `__aexit__` was
 * given, which makes the `async with` re-raise it: the cancellation propagates.
 */
function reraisesThroughAexit(ctx: RuleContext, body: SyntaxNode | null, name: string | null): boolean {
  const fn = enclosingCoroutine(ctx);
  if (!body || name === null || fn?.childForFieldName('name')?.text !== '__aexit__') return false;
  const params = new Set((fn.childForFieldName('parameters')?.namedChildren ?? []).map((p) => p.text));
  const statements = body.namedChildren.filter((c) => c.type !== 'comment');
  const [guard, ...rest] = statements;
  if (guard?.type !== 'if_statement' || guard.namedChildren.some((c) => c.type === 'elif_clause' || c.type === 'else_clause')) return false;
  const condition = unparenthesize(guard.childForFieldName('condition')!);
  const operands = condition.type === 'comparison_operator' ? condition.namedChildren : [];
  if (operands.length !== 2 || !/^\S+\s+is\s+(not\s+)?\S+$/.test(condition.text) || operands[0]!.text !== name || !params.has(operands[1]!.text)) return false;
  const inner = guard.childForFieldName('consequence')?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
  // `if exc is not value: raise`, then nothing: falling off the end returns None for `value` itself.
  if (/^\S+\s+is\s+not\s+\S+$/.test(condition.text)) return rest.length === 0 && inner.length === 1 && inner[0]!.type === 'raise_statement';
  const returnsFalse = inner.length === 1 && inner[0]!.type === 'return_statement' && /^return(\s+(False|None))?$/.test(inner[0]!.text);
  return returnsFalse && rest.length > 0 && rest.every((statement) => statement.type === 'raise_statement');
}

/**
 * The handler keeps the exception in a local (`cancelled = e`) that the function raises later
 * (`if cancelled: raise cancelled`, mitmproxy's connection handler): cleanup runs first, and the
 * cancellation still comes out.
 */
function raisedLater(fn: SyntaxNode | null, body: SyntaxNode | null, name: string | null): boolean {
  if (!fn || !body || name === null) return false;
  const kept = body
    .descendantsOfType('assignment')
    .filter((a) => a.childForFieldName('right')?.type === 'identifier' && a.childForFieldName('right')!.text === name && a.childForFieldName('left')?.type === 'identifier')
    .map((a) => a.childForFieldName('left')!.text);
  if (kept.length === 0) return false;
  return fn.descendantsOfType('raise_statement').some((r) => {
    const raised = r.namedChildren[0];
    return raised?.type === 'identifier' && kept.includes(raised.text) && r.startIndex > body.endIndex;
  });
}

/**
 * The handler sets the flag its `while <flag>:` loop runs on to False (`self.running = False`,
 * pymodbus's request handler): the loop ends after this pass, as if the handler broke out of it.
 */
function clearsLoopFlag(clause: SyntaxNode, body: SyntaxNode | null): boolean {
  if (!body) return false;
  let loop: SyntaxNode | null = clause.parent;
  while (loop && loop.type !== 'while_statement' && !NESTED_SCOPES.has(loop.type)) loop = loop.parent;
  const condition = loop?.type === 'while_statement' ? loop.childForFieldName('condition') : null;
  const flag = condition ? dottedName(unparenthesize(condition)) : null;
  if (!flag) return false;
  return body.namedChildren.some((statement) => {
    const assignment = statement.type === 'expression_statement' ? statement.namedChild(0) : null;
    return assignment?.type === 'assignment' && dottedName(assignment.childForFieldName('left')) === flag && assignment.childForFieldName('right')?.type === 'false';
  });
}

/**
 * The handler stops a service loop: the coroutine runs `while ...:` until cancelled, and the
 * handler leaves that loop (`return`, `break`, clearing its flag), either from inside it or around
 * it (`try: while True: ... except CancelledError: log`), after which the coroutine only winds down.
 * Such a coroutine is a task's root (a reader, a heartbeat, a consumer) and cancelling it is how it
 * is stopped.
 */
function endsAServiceLoop(clause: SyntaxNode, outcome: number, body: SyntaxNode | null): boolean {
  if (outcome & CONTINUE) return false;
  // `return results`: a value for whoever awaits it, so someone does (a helper, not a task's root).
  if (body?.descendantsOfType('return_statement').some((r) => r.namedChildren.some((c) => c.type !== 'comment' && c.type !== 'none'))) return false;
  let inner: SyntaxNode | null = null;
  for (let up = clause.parent; up && !NESTED_SCOPES.has(up.type); up = up.parent) {
    if (up.type === 'while_statement' || up.type === 'for_statement') {
      inner = up;
      break;
    }
  }
  if (inner) {
    if (inner.type !== 'while_statement') return false;
    const leaves = !(outcome & NORMAL) || clearsLoopFlag(clause, body);
    return leaves && endsTheCoroutine(clause, true, true, inner);
  }
  // Around the loop: the `try` body's last statement is the `while`, and the coroutine ends with the handler.
  const tryBody = clause.parent?.childForFieldName('body');
  const last = tryBody?.namedChildren.filter((c) => c.type !== 'comment').at(-1);
  return last?.type === 'while_statement' && !(outcome & BREAK) && endsTheCoroutine(clause, false, true);
}

/**
 * A catch-all around cleanup inside an outer handler, followed by a bare `raise` (channels_redis:
 * `except CancelledError: try: await cleanup() except BaseException: log; raise`): whatever it
 * catches, the original exception is re-raised right after, cancellation included.
 */
function cleanupBeforeReraise(clause: SyntaxNode): boolean {
  // The outer handler the `try` sits in (through `if`s and `with`s, not loops or functions)...
  let node: SyntaxNode | null = clause.parent;
  let outer: SyntaxNode | null = null;
  while (node?.parent) {
    const parent: SyntaxNode = node.parent;
    if (parent.type === 'except_clause' || parent.type === 'except_group_clause') {
      outer = parent;
      break;
    }
    if (NESTED_SCOPES.has(parent.type) || parent.type === 'for_statement' || parent.type === 'while_statement' || parent.type === 'try_statement') return false;
    node = parent;
  }
  // ...ends with a bare `raise` that everything before it falls through to.
  const statements = outer?.namedChildren.find((c) => c.type === 'block')?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
  const last = statements[statements.length - 1];
  if (last?.type !== 'raise_statement' || last.namedChildren.length > 0) return false;
  return !statements.slice(0, -1).some((s) => s.descendantsOfType(['return_statement', 'break_statement', 'continue_statement']).length > 0);
}

/**
 * The coroutine function is handed to `asyncio.start_server` / `start_unix_server` (panoramisk's
 * FastAGI `handler`): asyncio runs it as the root task of each connection, which nothing awaits.
 */
function connectionHandler(ctx: RuleContext, fn: SyntaxNode): boolean {
  const name = fn.childForFieldName('name')?.text;
  if (!name) return false;
  return ctx.file.tree.rootNode.descendantsOfType('call').some((call) => {
    const callee = call.childForFieldName('function');
    const last = lastName(callee);
    if (last !== 'start_server' && last !== 'start_unix_server') return false;
    const first = call.childForFieldName('arguments')?.namedChildren[0];
    const handler = lastName(first);
    return handler === name;
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
      what: 'Flags, in async code, an `except` clause that catches cancellation (`asyncio.CancelledError`, imported however, a tuple containing it, `BaseException`, or a bare `except:`) and has a path that does not raise: it falls off its end, or leaves with `return`, `break` or `continue`. Handlers that raise on every path (bare `raise`, `raise e`, `raise Other() from e`) are fine, and so is `except Exception`, which does not catch CancelledError since Python 3.8. A coroutine awaited as the last statement of another (`await self._take_message()` ending `run`) is a background task when that one is. Awaiting, in a `for` loop, tasks that an earlier loop or comprehension over the same collection cancelled (`[t.cancel() for t in pending]`, then `for task in pending: try: await task`), or tasks of the `done` set of `asyncio.wait` (which never suspend), is not flagged either; nor a handler that re-raises unless a flag of its class is set, where the class sets that flag next to its own `.cancel()` call (`if not self._sigint_received: raise`). `if not reader.cancelled(): raise` around `await reader` is still flagged: cancelling the task that awaits `reader` cancels `reader` too, so the test cannot tell the two cancellations apart. Awaiting a task right after cancelling it (`task.cancel()`, also as the test of an `if` around the `try`: `if task.cancel(): try: await task`; or a task known to be finished, `if task.done(): try: await task`, or a call of a method of the same class that cancels it such as `self.stop()`, then `try: await task / except CancelledError: pass`), handlers that call `uncancel()` or test `cancelling()` (telling the task\'s own cancellation from another), and catch-alls (`BaseException`, bare `except:`) that hand the exception to a waiter (`future.set_exception(exc)`) or keep `sys.exc_info()` to re-raise later are deliberate and not flagged. A call to a function of the same file annotated `-> NoReturn`/`-> Never`, or whose body raises on every path (abstract `raise NotImplementedError` stubs aside), counts as a raise. A clause behind an earlier `except asyncio.CancelledError:` of the same `try` never sees the cancellation and is not flagged. A `try` whose body cannot suspend (no `await`, `async for` or `async with`) cannot receive the task\'s cancellation and is not flagged, nor is a catch-all whose body is a retry filter on its own exception (`if type(e) in RETRYABLE: ... else: raise`). Catch-alls are also left alone when the `try` is the last statement of the `async def` (or of a `with` that is; only cleanup awaits such as `await runner.cleanup()` may follow) and the handler does not `break` or `continue`: the coroutine ends right after, as at the root of a task (an ASGI `run_asgi`, an accept handler); when they store the exception for the caller (`results.append(exc)`, `errors[i] = exc`) and then `return` or raise on every path; and in a module that imports trio but not asyncio (trio code, where asyncio\'s CancelledError is not involved). Two more shapes are deliberate: a handler whose only non-raising path returns the result of work that had already completed (`if fut.done(): return fut.result()` else `raise`, the `wait_for` race idiom), and a handler that ends a coroutine this file only ever starts as a background task nobody awaits (every call is the argument of `create_task`/`ensure_future`, the `Task` constructor, `run_coroutine_threadsafe`, Home Assistant\'s `async_create_task`/`async_create_background_task`, or the `spawn` of an aiorpcx or aiojobs group or scheduler, directly or through a local only handed to them; either branch of a conditional expression counts; the task is dropped, returned by a function whose every call drops it (or whose only call keeps it, like transitions\' `self.runner[key] = self.create_timer(...)`), or kept (in a variable, an attribute, or a set, list or dict of tasks, built by a literal, a comprehension, `add`/`append`, or copied into another with `update`/`extend`) where no `await`, `gather` or `wait_for` of the file, or of the class for `self.<attr>`, reads it: `shield` and `wait` do not pass a waiter\'s cancellation on to the task, so the task\'s handling of its own cancellation is between it and whoever cancels it; an `await` or a wait right after the same code cancelled the task (`task.cancel()` then `await task`, bare, in a `try` or under `suppress`, or `await asyncio.wait([task])`), or inside a coroutine that is itself only a dropped task, reads nothing, since that waiter counts on the task ending either way; calls through an imported module are another function): cancelling such a task is how it is stopped, and nobody waits to see the CancelledError. Such a handler ends the coroutine when it returns, or when its `try` is the last statement (of the body, a `with`, an `except` of a `try` that is, or a loop it breaks out of; a handler that only `break`s leaves its innermost loop from anywhere in that loop\'s body) followed only by straight-line code without loops (logging, setting an "exited" event, one last send). Also deliberate: a `try` whose body is only `await self.<task>`, a task the class cancels itself (`self.<task>.cancel()`), in a coroutine whose own task this file never cancels (started only as tasks never `.cancel()`ed and waited on only through `shield` or `wait`): the CancelledError caught is the awaited task\'s. A coroutine handed to `asyncio.start_server` / `start_unix_server` counts as such a task (asyncio runs it as the root of each connection), and a handler that sets the flag of its `while <flag>:` loop to False ends that loop as a `break` would. A catch-all around cleanup inside an outer handler, followed by a bare `raise` that re-raises the original exception, is not a swallow either. So is the `__aexit__` idiom of contextlib (`except BaseException as exc: if exc is value: return False` then `raise`): returning False for the very exception `__aexit__` was given makes `async with` re-raise it. Nor a handler the cancellation cannot reach: every `await` of its `try` sits in an inner `try` whose own handler catches the cancellation and does not raise (that inner handler is the one reported), or the handler fails on every path (`assert False`, `pytest.fail(...)`, `self.fail(...)`). Nor a test or fixture itself (a `test*` function of a test file, at module level or in a class, or a pytest fixture): the test runner never cancels it, so the CancelledError it catches is the awaited work\'s, often the very outcome the test checks; coroutines nested in a test are still checked. After `call.cancel()`, `await call.read()` catching the CancelledError (a gRPC call) is the cancel-then-await idiom on that object. Nor a private service loop this file never calls: a coroutine with a private name (`_reader_loop`, `__call__`) that runs a `while` loop until it is cancelled, whose handler leaves that loop (`break`, a `return` without a value, clearing the loop\'s flag; from inside the loop or from a `try` around it) with only wind-down after, and that is not an async generator: it is a task\'s root started from elsewhere (a reader, a heartbeat, a consumer), and cancelling it is how it is stopped; a public one (`sync_forever`) is an API its users await, and stays flagged. With `except (...) as e`, the handler is read for the cancellation it catches: `isinstance(e, asyncio.CancelledError)` is true and `isinstance(e, SomeProjectError)` false (a project\'s exceptions derive from `Exception`, which CancelledError does not), so `if isinstance(e, asyncio.CancelledError): raise` re-raises it, and so does a bare `raise` after `if isinstance(exc, PyMongoError): ... continue`. Merely storing the exception and carrying on (in a loop, or with more work after the `try`) is still a swallow, and the two catch-all exceptions (the `try` ending the coroutine, the exception stored for the caller) never apply to an explicit `except asyncio.CancelledError:`, which names what it swallows.',
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
    const neverCancelled = new Map<number, boolean>();
    let fileWaited: Waited | null = null;
    const cached = (cache: Map<number, boolean>, fn: SyntaxNode, test: (fn: SyntaxNode) => boolean) => {
      let verdict = cache.get(fn.id);
      if (verdict === undefined) cache.set(fn.id, (verdict = test(fn)));
      return verdict;
    };
    const waitedFile = () => (fileWaited ??= waitedTexts(ctx.file.tree.rootNode));
    // An await reads nothing of a task's cancellation when it absorbs it, or when it runs in a
    // coroutine that is itself only ever a dropped task (graphql-core's `dispose` awaiting the
    // cancelled task from a fire-and-forget `await_task()`).
    const dropped = new Map<number, boolean>();
    const unread = (node: SyntaxNode, text?: string): boolean => {
      if (absorbsCancellation(node, text)) return true;
      const fn = enclosing(node, 'function_definition');
      return fn !== null && fn.child(0)?.type === 'async' && cached(dropped, fn, (f) => tasksOf(ctx, f)?.every((k) => k === 'dropped') === true);
    };
    const backgroundWaited = new Map<number, Waited>();
    // What reads `self.<attr>` is in the class that keeps it; anything else may be read anywhere.
    // A local of a function (`task = ensure_future(...)`) is read only in that function and the
    // functions nested in it.
    const waitedFor = (holder: SyntaxNode): Waited => {
      const cls = /^(self|cls)\./.test(holder.text) ? enclosing(holder, 'class_definition') : null;
      const fn = holder.type === 'identifier' ? localTo(holder) : null;
      const root = cls ?? fn ?? ctx.file.tree.rootNode;
      let waited = backgroundWaited.get(root.id);
      if (!waited) backgroundWaited.set(root.id, (waited = waitedTexts(root, unread)));
      return waited;
    };
    let trioOnly: boolean | null = null;
    return {
      except_clause(node) {
        if (!ctx.inAsyncCode()) return;
        const caught = cancellationCaught(ctx, node);
        if (!caught) return;
        if (caughtEarlier(ctx, node)) return;
        // Cancellation is delivered at a suspension point: a `try` body that cannot suspend cannot
        // receive the task's own (asgiref re-raising a stored exception in `try: raise exc`).
        const tryBody = node.parent?.childForFieldName('body') ?? null;
        if (!tryBody || !suspends(tryBody, { yields: false })) return;
        if (stoppedInside(ctx, outcomes, tryBody)) return;
        // Trio code (anyio's trio backend): a catch-all there catches trio's Cancelled, which trio
        // re-delivers at the next checkpoint; asyncio's CancelledError is not involved.
        if (caught.catchAll && (trioOnly ??= foreignEventLoop(ctx.file.tree.rootNode) === 'trio')) return;
        const body = node.namedChildren.find((c) => c.type === 'block') ?? null;
        const outcome = outcomes.handler(body, caught.name);
        if (!(outcome & SWALLOWING)) return;
        // `uncancel()`, or `if task.cancelling(): raise`: the handler tells its own cancellation from another.
        if (body && /\.\s*(uncancel|cancelling)\s*\(/.test(body.text)) return;
        if (body && caught.catchAll && handsOn(ctx, body, caught.name)) return;
        if (caught.catchAll && retryFilter(body, caught.name)) return;
        if (caught.catchAll && cleanupBeforeReraise(node)) return;
        if (reraisesThroughAexit(ctx, body, caught.name)) return;
        if (raisedLater(enclosingCoroutine(ctx), body, caught.name)) return;
        if (caught.catchAll && !(outcome & (BREAK | CONTINUE))) {
          if (endsTheCoroutine(node)) return;
          if (body && !(outcome & NORMAL) && storesException(body, caught.name)) return;
        }
        if (awaitsTaskItCancelled(node)) return;
        // A test or fixture: the test runner never cancels it, so what the handler catches is the
        // awaited work's own cancellation, the outcome the test waits for (mitmproxy, pygls, aiohomekit).
        const coroutine = enclosingCoroutine(ctx);
        if (coroutine && runByTestRunner(ctx, coroutine)) return;
        if (ownCancellationOnly(node, body)) return;
        if (!caught.catchAll && !(outcome & NORMAL) && returnsCompletedResult(body)) return;
        const fn = enclosingCoroutine(ctx);
        // A task nobody waits on, ended by the handler (returning, falling off the end or `break`ing
        // out of its final loop, then winding down): its cancellation has nobody to reach.
        const leaves = !(outcome & (NORMAL | BREAK | CONTINUE));
        const endsLoop = !(outcome & NORMAL) || clearsLoopFlag(node, body);
        const onlyBreaks = (outcome & BREAK) !== 0 && !(outcome & (NORMAL | CONTINUE));
        if (fn && !(outcome & CONTINUE) && (leaves || endsTheCoroutine(node, endsLoop, true) || (onlyBreaks && breaksOutOfTheLastLoop(node)))) {
          if (cached(background, fn, (f) => onlyABackgroundTask(ctx, f, waitedFor) || connectionHandler(ctx, f))) return;
        }
        // A private service loop this file never calls: started elsewhere as a task, stopped by cancelling
        // it. A public one (`sync_forever`) is an API its users await.
        if (fn && endsAServiceLoop(node, outcome, body) && !isGenerator(fn) && fn.childForFieldName('name')?.text.startsWith('_') === true && callsOf(ctx, fn).length === 0) return;
        // Waiting for a task the class cancels, in a task nobody cancels: the CancelledError is that task's.
        if (fn && awaitsATaskTheClassCancels(node) && cached(neverCancelled, fn, (f) => ownTaskNeverCancelled(ctx, f, waitedFile()))) return;
        ctx.report({ node, messageId: 'swallowed', data: { caught: caught.text } });
      },
    };
  },
};
