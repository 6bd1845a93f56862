import type { SyntaxNode } from '../python/parser.js';
import { TERMINAL_READERS } from './blocking-input.js';
import type { Rule, RuleContext } from './types.js';
import { dottedName, methodCall, methodsOf, NESTED_SCOPES, positionalArguments, statementCall, suspends, unparenthesize } from './util.js';


/** Calls that never return normally: they raise (SystemExit) or end the process. */
const NEVER_RETURN = new Set(['sys.exit', 'os._exit', 'builtins.exit', 'builtins.quit', 'os.abort']);


/**
 * The ways a piece of code can end *without having suspended*, for the loop being checked: by
 * falling through, by `continue` or by `break` of that loop (each with the line of a witness).
 * Paths that suspend somewhere, and paths that leave by return/raise, are of no interest.
 */
interface Unchecked {
  fall: boolean;
  /** Row (0-based) of a `continue` reached without suspending, or -1. */
  continueRow: number;
  brk: boolean;
}

const LEAVES: Unchecked = { fall: false, continueRow: -1, brk: false };
const FALLS: Unchecked = { fall: true, continueRow: -1, brk: false };

function merge(a: Unchecked, b: Unchecked): Unchecked {
  return { fall: a.fall || b.fall, continueRow: a.continueRow >= 0 ? a.continueRow : b.continueRow, brk: a.brk || b.brk };
}

/** Thrown when a loop contains something the analysis does not model: the loop is left alone. */
class Unsure extends Error {}

/** Deeper nesting than this is not real code: the loop is left alone (and the stack is safe). */
const MAX_DEPTH = 100;

/**
 * A dispatch test on a subject: `isinstance(x, T)`, `type(x) is T`, `x is C`, `x == C`, `x in (...)`,
 * or an `or` of such tests. Returns the subjects' texts, or null for any other condition.
 */
function dispatchSubjects(condition: SyntaxNode): string[] | null {
  const node = unparenthesize(condition);
  if (node.type === 'boolean_operator' && node.childForFieldName('operator')?.type === 'or') {
    const left = dispatchSubjects(node.childForFieldName('left')!);
    const right = left && dispatchSubjects(node.childForFieldName('right')!);
    return left && right ? [...left, ...right] : null;
  }
  if (node.type === 'call' && node.childForFieldName('function')?.text === 'isinstance') {
    const args = node.childForFieldName('arguments')?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
    return args.length === 2 && args[0]!.type !== 'keyword_argument' ? [subjectText(args[0]!)] : null;
  }
  if (node.type === 'comparison_operator' && node.namedChildCount === 2) {
    const operator = comparisonOperator(node);
    if (operator !== 'is' && operator !== '==' && operator !== 'in') return null;
    return [subjectText(node.namedChild(0)!)];
  }
  return null;
}

/** The operator of a two-operand comparison as written: `is`, `==`, `in`, `is not`. */
function comparisonOperator(node: SyntaxNode): string {
  return node.children.filter((c) => !c.isNamed).map((c) => c.type).join(' ');
}

/** `type(x)` -> `x`; whitespace collapsed. */
function subjectText(node: SyntaxNode): string {
  const value = unparenthesize(node);
  if (value.type === 'call' && value.childForFieldName('function')?.text === 'type') {
    const args = value.childForFieldName('arguments')?.namedChildren ?? [];
    if (args.length === 1) return args[0]!.text.replace(/\s+/g, '');
  }
  return value.text.replace(/\s+/g, '');
}

/** True when `body` (not nested scopes) assigns `name = <call>` before `before`. */
function assignedFromCallBefore(body: SyntaxNode, name: string, before: SyntaxNode): boolean {
  const visit = (node: SyntaxNode): boolean => {
    if (node.startIndex >= before.startIndex) return false;
    if (node.type === 'assignment') {
      const left = node.childForFieldName('left');
      const right = node.childForFieldName('right');
      if (left?.type === 'identifier' && left.text === name && right && unparenthesize(right).type === 'call') return true;
    }
    for (const child of node.namedChildren) if (!NESTED_SCOPES.has(child.type) && visit(child)) return true;
    return false;
  };
  return visit(body);
}

/**
 * An `if`/`elif` chain without `else` that dispatches on what this pass just took in: every test is
 * a dispatch test (isinstance / is / == / in), at least two of them on the same local name, and that
 * name was assigned from a call earlier in the loop's body (`event = conn.next_event()`). The chain
 * lists the cases the author handles; each pass consumes a new value, so the implicit `else` is not
 * a loop spinning on unchanged state.
 */
function isEventDispatch(node: SyntaxNode, loopBody: SyntaxNode | null): boolean {
  if (!loopBody) return false;
  const conditions = branchBlocks(node).filter((branch) => branch.condition !== null).map((branch) => branch.condition);
  if (conditions.length < 2) return false;
  const counts = new Map<string, number>();
  for (const condition of conditions) {
    const subjects = condition ? dispatchSubjects(condition) : null;
    if (!subjects) return false;
    for (const subject of new Set(subjects)) counts.set(subject, (counts.get(subject) ?? 0) + 1);
  }
  for (const [subject, count] of counts) {
    if (count >= 2 && /^[A-Za-z_]\w*$/.test(subject) && assignedFromCallBefore(loopBody, subject, node)) return true;
  }
  return false;
}


/** The blocks of an `if` chain with their tests: its `if`, every `elif`, and the `else` (no test). */
function branchBlocks(node: SyntaxNode): { block: SyntaxNode | null; condition: SyntaxNode | null }[] {
  const blocks = [{ block: node.childForFieldName('consequence'), condition: node.childForFieldName('condition') }];
  for (const branch of node.namedChildren) {
    if (branch.type === 'elif_clause') blocks.push({ block: branch.childForFieldName('consequence'), condition: branch.childForFieldName('condition') });
    if (branch.type === 'else_clause') blocks.push({ block: branch.childForFieldName('body'), condition: null });
  }
  return blocks;
}

/**
 * `x is None`, `x == h11.NEED_DATA`, `x is PAUSED`: a comparison with a sentinel (None, or a name
 * in capitals), the case of a take that returned no value yet.
 */
function isSentinelTest(condition: SyntaxNode): boolean {
  const node = unparenthesize(condition);
  if (node.type !== 'comparison_operator' || node.namedChildCount !== 2) return false;
  const operator = comparisonOperator(node);
  if (operator !== 'is' && operator !== '==') return false;
  const value = node.namedChild(1)!;
  const last = value.type === 'attribute' ? value.childForFieldName('attribute')?.text : value.text;
  return value.type === 'none' || /^[A-Z][A-Z0-9_]*$/.test(last ?? '');
}

/**
 * A `try` whose body cannot suspend and takes a value (`part = string_reader.read()`), with a handler
 * that awaits (reading more input when the take raised `WantRead`): its `else` only runs after a
 * successful take.
 */
function takesWithWaitingHandler(tryStatement: SyntaxNode, bodySuspends: boolean): boolean {
  if (bodySuspends) return false;
  const body = tryStatement.childForFieldName('body');
  const takes = (body?.namedChildren ?? []).some((statement) => {
    const value = statement.type === 'expression_statement' ? statement.namedChild(0) : null;
    return value?.type === 'assignment' && unparenthesize(value.childForFieldName('right') ?? value).type === 'call';
  });
  const waits = tryStatement.namedChildren.some((part) => part.type === 'except_clause' && suspends(part.namedChildren.find((c) => c.type === 'block') ?? null));
  return takes && waits;
}

/** Methods that take an item off a collection (and raise, or return a default, once it is empty). */
const CONSUMING_METHODS = new Set(['pop', 'popleft', 'popitem', 'get_nowait']);

/**
 * A statement that takes an item off a collection, on its own or as the right side of an assignment:
 * `x = items.pop(0)`, `queue.get_nowait()` (or `queue.get(False)`), `d.popitem()`, `next(reader)`. `pop` with a default (`d.pop(k, None)`)
 * may take nothing and does not count. A pass through such a statement consumes a finite collection
 * (`get_nowait()` raises `QueueEmpty` once it is drained), so the path cannot repeat forever on
 * unchanged state.
 */
function consumesItem(statement: SyntaxNode): boolean {
  const expressions = statement.namedChildren.filter((c) => c.type !== 'comment');
  if (expressions.length !== 1) return false;
  let value = expressions[0]!;
  if (value.type === 'assignment') {
    const right = value.childForFieldName('right');
    if (!right) return false;
    value = right;
  }
  value = unparenthesize(value);
  if (value.type !== 'call') return false;
  const args = value.childForFieldName('arguments')?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
  // `next(reader)` without a default: the iterator moves on, and raises StopIteration at its end.
  if (value.childForFieldName('function')?.text === 'next') return args.length === 1 && positionalArguments(value).length === 1;
  const method = methodCall(value);
  // `queue.get(False)` / `queue.get(block=False)`: `get_nowait()` spelled out (cylc's delta queue).
  if (method?.method === 'get' && args.length === 1 && (args[0]!.type === 'false' || (args[0]!.type === 'keyword_argument' && /^block\s*=\s*False$/.test(args[0]!.text)))) return true;
  if (!method || !CONSUMING_METHODS.has(method.method)) return false;
  const positional = positionalArguments(value);
  // Only plain positional arguments: `pop()`, `pop(0)`, `pop(key)`; nothing for the others.
  if (positional.length !== args.length) return false;
  return method.method === 'pop' ? args.length <= 1 : args.length === 0;
}

/** The enclosing `def` of `node` (not crossing lambdas or classes), or null. */
function enclosingFunction(node: SyntaxNode): SyntaxNode | null {
  for (let n = node.parent; n; n = n.parent) {
    if (n.type === 'function_definition') return n;
    if (n.type === 'lambda' || n.type === 'class_definition') return null;
  }
  return null;
}

/** True when `node` is a literal falsy value: `False`, `None`, `0`, `''`, `()`, `[]`, `{}`. */
function falsyLiteral(node: SyntaxNode): boolean {
  const value = unparenthesize(node);
  if (value.type === 'false' || value.type === 'none') return true;
  if (value.type === 'integer' && /^0+$/.test(value.text)) return true;
  if ((value.type === 'tuple' || value.type === 'list' || value.type === 'dictionary') && value.namedChildCount === 0) return true;
  return value.type === 'string' && /^[rbuRBU]*(''|"")$/.test(value.text);
}

/** True when `statement` assigns to an attribute of `receiver` (`self._paused = False`, `self.n += 1`). */
function assignsAttribute(statement: SyntaxNode, receiver: string): boolean {
  if (statement.type !== 'expression_statement') return false;
  const value = statement.namedChildren.find((c) => c.type !== 'comment');
  if (value?.type !== 'assignment' && value?.type !== 'augmented_assignment') return false;
  const left = value.childForFieldName('left');
  return left?.type === 'attribute' && left.childForFieldName('object')?.text === receiver;
}

/**
 * A condition that is a call to a method of the enclosing class on `self` (`if self._maybe_resume():`)
 * that returns a true value only right after assigning to an attribute of `self`: a pass taking
 * that branch has just changed the object's state, so it does not repeat on unchanged state.
 */
function stateChangingGuard(condition: SyntaxNode | null, loop: SyntaxNode): boolean {
  if (!condition) return false;
  const call = unparenthesize(condition);
  if (call.type !== 'call') return false;
  const method = methodCall(call);
  if (!method || method.receiver.type !== 'identifier') return false;
  const outer = enclosingFunction(loop);
  const self = outer?.childForFieldName('parameters')?.namedChildren[0];
  if (!outer || self?.type !== 'identifier' || self.text !== method.receiver.text) return false;
  const owner = outer.parent?.type === 'decorated_definition' ? outer.parent.parent : outer.parent;
  if (owner?.type !== 'block' || owner.parent?.type !== 'class_definition') return false;
  // The last definition of that name in the class wins, as in Python.
  const target = methodsOf(owner.parent).filter((definition) => definition.childForFieldName('name')?.text === method.method).pop() ?? null;
  const body = target?.childForFieldName('body');
  const receiver = target?.childForFieldName('parameters')?.namedChildren[0];
  if (!target || !body || receiver?.type !== 'identifier' || target.child(0)?.type === 'async') return false;
  const truthyReturns: SyntaxNode[] = [];
  const collect = (node: SyntaxNode): void => {
    for (const child of node.namedChildren) {
      if (NESTED_SCOPES.has(child.type)) continue;
      if (child.type === 'return_statement') {
        const value = child.namedChildren.find((c) => c.type !== 'comment');
        if (value && !falsyLiteral(value)) truthyReturns.push(child);
      } else collect(child);
    }
  };
  collect(body);
  if (truthyReturns.length === 0) return false;
  // Every true return follows, on the straight path to it, an assignment to an attribute of self.
  return truthyReturns.every((ret) => {
    for (let n: SyntaxNode | null = ret; n && n.id !== body.id; n = n.parent) {
      for (let s = n.previousNamedSibling; s; s = s.previousNamedSibling) if (assignsAttribute(s, receiver.text)) return true;
    }
    return false;
  });
}

class Paths {
  private depth = 0;
  /** The body of the loop being checked. */
  loopBody: SyntaxNode | null = null;
  /** The loop being checked. */
  loop: SyntaxNode | null = null;

  constructor(private readonly ctx: RuleContext) {}

  block(block: SyntaxNode | null): Unchecked {
    if (++this.depth > MAX_DEPTH) {
      this.depth = 0;
      throw new Unsure();
    }
    try {
      return this.sequence(block);
    } finally {
      this.depth = Math.max(0, this.depth - 1);
    }
  }

  private sequence(block: SyntaxNode | null): Unchecked {
    let out: Unchecked = { fall: true, continueRow: -1, brk: false };
    for (const statement of block?.namedChildren ?? []) {
      if (statement.type === 'comment') continue;
      const next = this.statement(statement);
      out = { fall: next.fall, continueRow: out.continueRow >= 0 ? out.continueRow : next.continueRow, brk: out.brk || next.brk };
      if (!out.fall) break;
    }
    return out;
  }

  private statement(node: SyntaxNode): Unchecked {
    switch (node.type) {
      case 'return_statement':
      case 'raise_statement':
        return LEAVES;
      case 'continue_statement':
        return { fall: false, continueRow: node.startPosition.row, brk: false };
      case 'break_statement':
        return { fall: false, continueRow: -1, brk: true };
      case 'if_statement':
        return this.ifStatement(node);
      case 'for_statement':
      case 'while_statement':
        return this.innerLoop(node);
      case 'try_statement':
        return this.tryStatement(node);
      case 'with_statement': {
        if (node.child(0)?.type === 'async' || suspends(node.namedChildren.find((c) => c.type === 'with_clause') ?? null)) return LEAVES;
        return this.block(node.childForFieldName('body'));
      }
      case 'match_statement':
        throw new Unsure();
      case 'function_definition':
      case 'class_definition':
      case 'decorated_definition':
        return FALLS;
      case 'expression_statement': {
        if (suspends(node) || consumesItem(node) || this.movesCursor(node) || this.readsTerminal(node)) return LEAVES;
        const call = statementCall(node);
        const callee = call ? this.ctx.resolveCallee(call) : null;
        return callee && NEVER_RETURN.has(callee) ? LEAVES : FALLS;
      }
      default:
        return suspends(node) ? LEAVES : FALLS;
    }
  }

  /**
   * A statement that waits for the user's next line (`answer = input(prompt)`, `sys.stdin.readline()`):
   * a pass through it does not spin on unchanged state, it waits for new input (munet's pause
   * prompt). That wait blocks the loop, which is blocking-input's (AG106) finding, not this rule's.
   */
  private readsTerminal(statement: SyntaxNode): boolean {
    const expression = statement.namedChildren.find((c) => c.type !== 'comment');
    const value = expression?.type === 'assignment' ? expression.childForFieldName('right') : expression;
    const call = value ? unparenthesize(value) : null;
    if (call?.type !== 'call') return false;
    const callee = this.ctx.resolveCallee(call);
    return callee !== null && TERMINAL_READERS.has(callee);
  }

  /**
   * `index += 1` on a name or attribute that a test in the loop's body reads (dbussy's scan of its
   * receive queue: `if index == len(queue): await ...`): each pass that takes this path moves the
   * cursor on towards the test that ends the scan, so it does not repeat on unchanged state.
   */
  private movesCursor(statement: SyntaxNode): boolean {
    const assignment = statement.namedChild(0);
    if (assignment?.type !== 'augmented_assignment' || !/^[+-]=$/.test(assignment.child(1)?.text ?? '')) return false;
    const target = assignment.childForFieldName('left');
    if (!target || (target.type !== 'identifier' && target.type !== 'attribute') || !this.loop) return false;
    const name = target.text.replace(/\s+/g, '');
    const tests = this.loop.descendantsOfType(['if_statement', 'elif_clause', 'while_statement']).map((n) => n.childForFieldName('condition'));
    return tests.some((test) => test !== null && [test, ...test.descendantsOfType(['identifier', 'attribute'])].some((n) => n.text.replace(/\s+/g, '') === name));
  }

  private ifStatement(node: SyntaxNode): Unchecked {
    if (suspends(node.childForFieldName('condition'))) return LEAVES;
    // A dispatch on the value this pass took in, one of whose cases waits for more input (h11's
    // `if event is NEED_DATA: await ...`): the other cases, `else` included, handle a value taken.
    if (isEventDispatch(node, this.loopBody)) {
      const branches = branchBlocks(node).map(({ block, condition }) => ({ sentinel: condition !== null && isSentinelTest(condition), block, paths: this.block(block) }));
      // A sentinel case that neither waits nor leaves (`if message is None: continue`) is the spin.
      const sentinels = branches.filter((b) => b.sentinel);
      const waits = (b: (typeof branches)[number]) => !b.paths.fall && b.paths.continueRow < 0 && !b.paths.brk && suspends(b.block);
      const settles = (b: (typeof branches)[number]) => !b.paths.fall && b.paths.continueRow < 0;
      if (sentinels.some(waits) && sentinels.every(settles)) return { fall: false, continueRow: -1, brk: branches.some((b) => b.paths.brk) };
    }
    // A branch entered only after a call that changed the object's state is progress, not a spin.
    let out = this.loop && stateChangingGuard(node.childForFieldName('condition'), this.loop) ? LEAVES : this.block(node.childForFieldName('consequence'));
    for (const branch of node.namedChildren) {
      if (branch.type === 'elif_clause') {
        // Reaching the elif means its condition runs: an await there covers it and what follows.
        if (suspends(branch.childForFieldName('condition'))) return out;
        out = merge(out, this.block(branch.childForFieldName('consequence')));
      } else if (branch.type === 'else_clause') {
        return merge(out, this.block(branch.childForFieldName('body')));
      }
    }
    // No else: the conditions may all be false, unless the chain dispatches on a value just taken in.
    return isEventDispatch(node, this.loopBody) ? out : merge(out, FALLS);
  }

  /** A loop inside the loop being checked: its `break`/`continue` are its own. */
  private innerLoop(node: SyntaxNode): Unchecked {
    const header = node.type === 'for_statement' ? node.childForFieldName('right') : node.childForFieldName('condition');
    if (node.child(0)?.type === 'async' || suspends(header)) return LEAVES;
    const body = this.block(node.childForFieldName('body'));
    const alternative = node.childForFieldName('alternative');
    const infinite = node.type === 'while_statement' && isInfinite(node);
    let out: Unchecked;
    if (infinite) {
      // Ends only by a break: one reached without suspending is a way through.
      out = { fall: body.brk, continueRow: -1, brk: false };
    } else if (!body.fall && body.continueRow < 0 && !body.brk) {
      // Every iteration suspends. Zero iterations would not, but whether the iterable can be empty
      // is beyond a syntactic check: lean towards silence.
      out = LEAVES;
    } else out = FALLS;
    if (alternative && out.fall && !infinite) out = merge({ ...out, fall: false }, this.block(alternative.childForFieldName('body')));
    return out;
  }

  private tryStatement(node: SyntaxNode): Unchecked {
    const body = node.childForFieldName('body');
    const tried = this.block(body);
    // A handler runs after an exception somewhere in the body. If the body awaits, the exception
    // most likely came from that await (or after it): lean towards silence and treat it as suspended.
    const bodySuspends = suspends(body);
    let out = tried;
    let finalBlock: SyntaxNode | null = null;
    for (const part of node.namedChildren) {
      if (part.type === 'except_clause' || part.type === 'except_group_clause') {
        if (!bodySuspends) out = merge(out, this.block(part.namedChildren.find((c) => c.type === 'block') ?? null));
      } else if (part.type === 'else_clause') {
        // `try: part = reader.read() except WantRead: await ... else: ...`: the `else` runs only when
        // the body took a value; when there is none the handler waits. The `else` is progress.
        if (tried.fall && takesWithWaitingHandler(node, bodySuspends)) out = { ...out, fall: false, brk: out.brk || this.block(part.childForFieldName('body')).brk };
        else if (tried.fall) out = merge({ ...out, fall: false }, this.block(part.childForFieldName('body')));
      } else if (part.type === 'finally_clause') {
        finalBlock = part.namedChildren.find((c) => c.type === 'block') ?? null;
      }
    }
    if (!finalBlock) return out;
    const final = this.block(finalBlock);
    // A finally that suspends (or leaves) on every path covers every way through the statement.
    if (!final.fall) return { fall: false, continueRow: final.continueRow, brk: final.brk };
    return merge(out, { fall: false, continueRow: final.continueRow, brk: final.brk });
  }
}

function isInfinite(loop: SyntaxNode): boolean {
  const condition = loop.childForFieldName('condition');
  if (!condition) return false;
  const node = unparenthesize(condition);
  return node.type === 'true' || (node.type === 'integer' && /^[1-9][0-9_]*$/.test(node.text));
}

export const loopWithoutCheckpoint: Rule = {
  meta: {
    id: 'AG306',
    slug: 'loop-without-checkpoint',
    aliases: ['ASYNC913'],
    family: 'cancellation',
    severity: 'warning',
    title: 'Endless loop with a path that never awaits',
    fix: 'Make every iteration reach an `await` (an `await asyncio.sleep(0)` or, better, an await on the thing you are waiting for) before it can `continue` or start over.',
    messages: {
      continues: 'This `while True:` loop can reach `continue` (line {line}) without awaiting: that iteration never yields to the event loop, and repeated, it freezes every other task',
      falls: 'This `while True:` loop has a path through its body that never awaits: that iteration never yields to the event loop, and repeated, it freezes every other task',
      never: 'This `while True:` loop never awaits and has no `break`, `return` or `raise`: it runs forever without yielding to the event loop',
    },
    docs: {
      what: "Flags, in async code, a `while True:` (or `while 1:`) loop whose body can complete an iteration without suspending: an `if` with no `else` (or a branch) that skips the only `await`, a `continue` reached before any `await`, an inner loop whose `break` skips it; and a `while True:` loop with no `await` at all and no `break`, `return` or `raise`. An `await`, `async for`, `async with` or `yield` on every path counts, as does a `try` body that awaits (its handlers are then taken to run after the await) and a `finally` that awaits. Paths that leave the loop (`break`, `return`, `raise`, `sys.exit()`) are fine. Not flagged, to stay precise: a loop with no `await` anywhere that can be left (a sync drain or retry loop, which ends), a loop whose only skip is an inner `for`/`while` that awaits in every iteration but might run zero times, and loops containing `match`, and the missing `else` of an `if`/`elif` chain that dispatches on a value the same pass just took in (every test an `isinstance(x, ...)` / `x is ...` / `x == ...` / `x in ...`, at least two on the same name `x`, assigned from a call earlier in the loop body, like `event = conn.next_event()`): each pass consumes a new event, so the cases left out do not spin on unchanged state. The same dispatch with an `else` is not flagged either when a case testing a sentinel (`event == h11.NEED_DATA`, `x is None`, a name in capitals) waits for more input and no sentinel case carries on without waiting: the other cases, `else` included, handle the value the pass took (`if message is None: continue` is still the spin). Nor the `else` of a `try` that takes a value (`part = reader.read()`) and whose handler awaits more input (after `WantRead`): the `else` runs only after a successful take. A path also counts as making progress when it takes an item off a collection in a statement of its own (`x = items.pop(0)`, `d.popitem()`, `q.popleft()`, `q.get_nowait()` or its spelled-out form `q.get(False)` / `q.get(block=False)`, `next(reader)`, but not `d.pop(k, default)` nor `next(it, default)`): the collection is finite, and `get_nowait()` raises `QueueEmpty` once it is drained (the `while True: q.get_nowait()` drain ended by a surrounding `except`), and when it goes through an `if self.method():` whose method (of the same class, not async) returns a true value only right after assigning to an attribute of `self` (`if self._maybe_resume_reading(): continue`): that pass changed the state the loop looks at. A path that moves a cursor the loop tests (`index += 1`, where an `if index == len(queue):` in the loop waits or leaves) makes progress too: each such pass moves it towards that test. So does a pass that waits for the user's next line (`answer = input(prompt)`, `sys.stdin.readline()`): it does not spin on unchanged state, it blocks, which blocking-input (AG106) reports. Nor a loop whose body, before its first `await`, leaves on a test of state the body itself changes (`event = conn.next_event()` then `if event is None: return`, a drain; or `if self.state != UNKNOWN: return` where a pass sets `self.state`): a pass that skips the `await` moves that state on.",
      why: "asyncio switches tasks only when the running task suspends at an `await`. An iteration that skips every `await` hands nothing back to the loop, and when the state that makes it skip does not change (an empty buffer, a paused flag, a closed connection) the loop spins on it: CPU at 100%, and every other task, timer and connection on the event loop frozen, including the very task that would change the state.",
      example: [
        'import asyncio',
        '',
        '',
        'async def pump(self):',
        '    while True:',
        '        if self.paused:',
        '            continue',
        '        chunk = await self.source.read(65536)',
        '        self.sink.write(chunk)',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'async def pump(self):',
        '    while True:',
        '        await self.resumed.wait()',
        '        chunk = await self.source.read(65536)',
        '        self.sink.write(chunk)',
      ].join('\n'),
    },
    cites: [{ guide: 'S0', section: "Step 5 — Don't block the event loop" }],
  },
  create(ctx) {
    const paths = new Paths(ctx);
    return {
      while_statement(node) {
        if (!ctx.inAsyncCode() || !isInfinite(node)) return;
        const body = node.childForFieldName('body');
        // The finding is the loop's header: the body may be long, and changes to it are not changes to the finding.
        const header = node.childForFieldName('condition') ?? node;
        let result: Unchecked;
        try {
          paths.loopBody = body;
          paths.loop = node;
          result = paths.block(body);
        } catch (error) {
          if (error instanceof Unsure) return;
          throw error;
        }
        if (!suspends(body)) {
          // Nothing awaits: a loop that can be left is a sync drain/retry loop; one that cannot spins.
          if (exitsLoop(body) || (!result.fall && result.continueRow < 0)) return;
          ctx.report({ node: header, messageId: 'never' });
          return;
        }
        if (body && exitTestOnLoopState(body)) return;
        if (result.continueRow >= 0) ctx.report({ node: header, messageId: 'continues', data: { line: String(result.continueRow + 1) } });
        else if (result.fall) ctx.report({ node: header, messageId: 'falls' });
      },
    };
  },
};

/**
 * A statement of the body, before any `await`, that leaves the loop on a test of state the body
 * itself changes: `event = conn.next_event()` then `if event is None: return` (dnspython's QUIC
 * event drain), or `if self.validation_state != UNKNOWN: return` where a pass sets
 * `self.validation_state` (prompt_toolkit's validator loop). A pass that skips the `await` moves
 * that state on, so the loop drains or ends instead of spinning on unchanged state.
 */
function exitTestOnLoopState(body: SyntaxNode): boolean {
  const assigned = new Set<string>();
  for (const assignment of body.descendantsOfType(['assignment', 'augmented_assignment'])) {
    const left = assignment.childForFieldName('left');
    const name = left ? dottedName(left) : null;
    if (name) assigned.add(name);
  }
  for (const statement of body.namedChildren) {
    if (statement.descendantsOfType('await').length > 0 || statement.type === 'for_statement' || statement.type === 'while_statement') return false;
    if (statement.type !== 'if_statement' || statement.namedChildren.some((c) => c.type === 'elif_clause' || c.type === 'else_clause')) continue;
    const consequence = statement.childForFieldName('consequence')?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
    const leaves = consequence.length === 1 && ['return_statement', 'break_statement', 'raise_statement'].includes(consequence[0]!.type);
    const condition = statement.childForFieldName('condition');
    if (!leaves || !condition) continue;
    const read = [condition, ...condition.descendantsOfType(['identifier', 'attribute'])].map((n) => dottedName(n)).filter((n): n is string => n !== null);
    if (read.some((name) => assigned.has(name))) return true;
  }
  return false;
}

/** True when a loop body contains a `break` of this loop, a `return`, or a `raise` (not in nested scopes). */
function exitsLoop(body: SyntaxNode | null): boolean {
  if (!body) return false;
  const visit = (node: SyntaxNode, innerLoop: boolean, depth = 0): boolean => {
    // Absurdly deep code: say it can exit, which keeps the rule silent.
    if (depth > 2 * MAX_DEPTH) return true;
    for (const child of node.namedChildren) {
      if (NESTED_SCOPES.has(child.type)) continue;
      if (child.type === 'return_statement' || child.type === 'raise_statement') return true;
      if (child.type === 'break_statement' && !innerLoop) return true;
      const loop = child.type === 'for_statement' || child.type === 'while_statement';
      if (visit(child, innerLoop || loop, depth + 1)) return true;
    }
    return false;
  };
  return visit(body, false);
}
