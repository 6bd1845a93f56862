import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { exceptClauseParts, methodCall, NESTED_SCOPES, positionalArguments, statementCall, suspends, unparenthesize } from './util.js';


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

/** Methods that take an item off a collection (and raise, or return a default, once it is empty). */
const CONSUMING_METHODS = new Set(['pop', 'popleft', 'popitem', 'get_nowait']);

/**
 * A statement that takes an item off a collection, anywhere in it (`x = items.pop(0)`,
 * `batch.append(queue.get_nowait())`, `queue.get(False)`, `d.popitem()`, `next(reader)`). `pop`
 * with a default (`d.pop(k, None)`) may take nothing and does not count. A pass through such a
 * statement consumes a finite collection (`get_nowait()` raises `QueueEmpty` once it is drained),
 * so the path cannot repeat forever on unchanged state: this holds even in a loop that never awaits.
 */
function consumesItem(statement: SyntaxNode): boolean {
  return statement.descendantsOfType('call').some(takesItem);
}

function takesItem(value: SyntaxNode): boolean {
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

/**
 * Calls that only read: a pass through them, and through nothing else that could change state,
 * finds everything as it was and will take the same path again. Logging counts too: it changes
 * nothing the loop looks at.
 */
const READS_ONLY = new Set([
  'len', 'isinstance', 'issubclass', 'hasattr', 'getattr', 'callable', 'bool', 'int', 'float', 'str', 'repr', 'type', 'id',
  'abs', 'min', 'max', 'round', 'sum', 'any', 'all', 'sorted', 'list', 'tuple', 'dict', 'set', 'frozenset', 'print',
  'is_set', 'done', 'cancelled', 'empty', 'full', 'qsize', 'locked', 'is_closing', 'keys', 'values', 'items',
  'startswith', 'endswith', 'lower', 'upper', 'strip', 'format', 'time', 'monotonic', 'perf_counter',
  'debug', 'info', 'warning', 'warn', 'error', 'exception', 'critical', 'log',
]);

/** Predicates by their name: `self._should_pause_reading()`, `conn.is_open()`, `q.has_items()`. */
const PREDICATE = /^_*(is|has|should|can|needs?)_/;

/**
 * Whether a call changes nothing the next pass could see (see READS_ONLY): `d.get(key)` reads, a
 * bare `q.get()` takes or blocks; a predicate method reads; `pending.pop(key, None)` and
 * `seen.discard(x)` change something at most once, so the passes after the first find it as it was.
 */
function readsOnly(call: SyntaxNode): boolean {
  const callee = call.childForFieldName('function');
  const name = callee?.type === 'identifier' ? callee.text : callee?.type === 'attribute' ? callee.childForFieldName('attribute')?.text : null;
  if (!name) return false;
  const args = positionalArguments(call);
  if (name === 'get') return args.length >= 1 && args[0]!.type !== 'false';
  if (name === 'pop') return args.length === 2;
  return READS_ONLY.has(name) || name === 'discard' || PREDICATE.test(name);
}

/**
 * Whether running `node` may change what the loop looks at, so that the next pass can differ: a
 * call of anything but a known read (an unknown call may take input, move a cursor, block or flip a
 * flag), an assignment to an attribute or an item, `del`, and an assignment to a local the loop
 * tests (in an `if`, `elif` or `while` condition: `index += 1`, `result = None`). A counter nothing
 * tests is not progress. Only a pass that changes nothing spins on unchanged state.
 */
function changesState(node: SyntaxNode | null, tested: ReadonlySet<string>): boolean {
  if (!node) return false;
  const visit = (n: SyntaxNode): boolean => {
    if (NESTED_SCOPES.has(n.type) || n.type === 'lambda') return false;
    switch (n.type) {
      case 'call':
        if (!readsOnly(n)) return true;
        break;
      case 'delete_statement':
        return true;
      case 'augmented_assignment':
      case 'assignment': {
        const left = n.childForFieldName('left');
        if (left?.type !== 'identifier' || tested.has(left.text)) return true;
        break;
      }
    }
    return n.namedChildren.some(visit);
  };
  return visit(node);
}

class Paths {
  private depth = 0;
  /** The names the tests of the loop being checked read (see changesState). */
  tested: ReadonlySet<string> = new Set();
  /** Whether code that may change state counts as progress (see changesState). */
  progress = true;

  /** Whether running `node` suspends, or (with `progress`) may change the state the loop looks at. */
  private moves(node: SyntaxNode | null): boolean {
    return suspends(node) || (this.progress && changesState(node, this.tested));
  }

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
    const statements = (block?.namedChildren ?? []).filter((c) => c.type !== 'comment');
    for (let i = 0; i < statements.length; i++) {
      const statement = statements[i]!;
      const poll = this.progress ? this.emptyPoll(statement, statements[i + 1]) : null;
      if (poll) i++;
      const next = poll ?? this.statement(statement);
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
        // Entering a context (`with metrics.timer():`, `with lock:`) is set-up, not progress.
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
        if (this.moves(node) || consumesItem(node)) return LEAVES;
        const call = statementCall(node);
        const callee = call ? this.ctx.resolveCallee(call) : null;
        return callee && NEVER_RETURN.has(callee) ? LEAVES : FALLS;
      }
      default:
        return this.moves(node) ? LEAVES : FALLS;
    }
  }

  /**
   * A poll that took nothing: `message = conn.next_message()` (or `next(rows, None)`) followed by
   * `if message is None:` / `if not message:`. The pass where the call returned nothing changed
   * nothing, so that branch is checked as if the call were not there (`continue` there is the
   * spin); the passes that took a value made progress. Null when `statement` is not such a poll, or
   * when that branch falls through (lean towards silence).
   */
  private emptyPoll(statement: SyntaxNode, next: SyntaxNode | undefined): Unchecked | null {
    const assignment = statement.type === 'expression_statement' ? statement.namedChild(0) : null;
    const name = assignment?.type === 'assignment' ? assignment.childForFieldName('left') : null;
    const value = assignment?.childForFieldName('right');
    if (name?.type !== 'identifier' || !value || unparenthesize(value).type !== 'call' || suspends(value)) return null;
    if (next?.type !== 'if_statement') return null;
    const test = unparenthesize(next.childForFieldName('condition')!);
    const nothing =
      (test.type === 'not_operator' && test.childForFieldName('argument')?.text === name.text) ||
      (test.type === 'comparison_operator' && test.namedChild(0)?.text === name.text && test.namedChild(1)?.type === 'none' && operatorOf(test) === 'is');
    if (!nothing || changesState(test, this.tested)) return null;
    // The arguments of the call may change state themselves (`next(advance(), None)`): not a plain poll.
    const args = unparenthesize(value).childForFieldName('arguments');
    if (changesState(args, this.tested)) return null;
    const empty = this.block(next.childForFieldName('consequence'));
    return empty.fall ? null : { fall: false, continueRow: empty.continueRow, brk: empty.brk };
  }

  private ifStatement(node: SyntaxNode): Unchecked {
    if (this.moves(node.childForFieldName('condition'))) return LEAVES;
    let out = this.block(node.childForFieldName('consequence'));
    for (const branch of node.namedChildren) {
      if (branch.type === 'elif_clause') {
        // Reaching the elif means its condition runs: an await there covers it and what follows.
        if (this.moves(branch.childForFieldName('condition'))) return out;
        out = merge(out, this.block(branch.childForFieldName('consequence')));
      } else if (branch.type === 'else_clause') {
        return merge(out, this.block(branch.childForFieldName('body')));
      }
    }
    // No else: the conditions may all be false.
    return merge(out, FALLS);
  }

  /** A loop inside the loop being checked: its `break`/`continue` are its own. */
  private innerLoop(node: SyntaxNode): Unchecked {
    const header = node.type === 'for_statement' ? node.childForFieldName('right') : node.childForFieldName('condition');
    if (node.child(0)?.type === 'async' || this.moves(header)) return LEAVES;
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
        // Retrying after EINTR (`except InterruptedError: continue`) is the system call's own idiom
        // (PEP 475): the interruption does not repeat on unchanged state.
        if (!bodySuspends && !retriesInterrupted(part)) out = merge(out, this.block(part.namedChildren.find((c) => c.type === 'block') ?? null));
      } else if (part.type === 'else_clause') {
        if (tried.fall) out = merge({ ...out, fall: false }, this.block(part.childForFieldName('body')));
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

/** An `except InterruptedError:` clause. */
function retriesInterrupted(clause: SyntaxNode): boolean {
  const { types } = exceptClauseParts(clause);
  return types.length === 1 && types[0]!.text === 'InterruptedError';
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
      what: "Flags, in async code, a `while True:` (or `while 1:`) loop with a path through its body that neither suspends nor changes anything, so that the next pass takes the same path again: an `if` with no `else` (or a branch) that skips the only `await`, a `continue` reached before any `await`, an inner loop whose `break` skips it; and a `while True:` loop with no `await` at all and no `break`, `return` or `raise`. An `await`, `async for` or `async with` counts as suspending, as does a `yield`, a `try` body that awaits (its handlers are then taken to run after the await) and a `finally` that awaits. Paths that leave the loop (`break`, `return`, `raise`, `sys.exit()`) are fine. A path changes something, and so makes progress rather than spinning, when it calls anything but a known read (an unknown call may take input, move a cursor, block, or flip a flag: `event = conn.next_event()`, `line = next(reader)`, `input()`, `if self._maybe_resume_reading():`), assigns to an attribute or an item, deletes, or assigns to a local that a test of the loop reads (`index += 1`). Known reads change nothing: `len`, `isinstance`, `d.get(key)`, `event.is_set()`, `task.done()`, `q.empty()`, `time.monotonic()`, predicates by name (`self._should_pause()`, `conn.is_open()`), logging and `print`; so do `d.pop(key, None)` and `s.discard(x)` after their first pass, and a counter no test reads. One take is checked more closely: a call whose result is then tested for nothing (`message = conn.poll()` then `if message is None:` / `if not message:`) took nothing on the pass that enters that branch, so a `continue` there is the spin. Retrying after `except InterruptedError:` is the system call's own idiom (PEP 475) and is not a spin. Not flagged, to stay precise: a loop with no `await` anywhere that can be left (a sync drain or retry loop, which ends), a loop whose only skip is an inner `for`/`while` that awaits in every iteration but might run zero times, and loops containing `match`.",
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
        const bodySuspends = suspends(body);
        try {
          paths.tested = testedNames(node);
          // A loop that never awaits spins whatever it changes; one that does is stuck only on a
          // path that skips its awaits and changes nothing.
          paths.progress = bodySuspends;
          result = paths.block(body);
        } catch (error) {
          if (error instanceof Unsure) return;
          throw error;
        }
        if (!bodySuspends) {
          // Nothing awaits: a loop that can be left is a sync drain/retry loop; one that cannot spins.
          if (exitsLoop(body) || (!result.fall && result.continueRow < 0)) return;
          ctx.report({ node: header, messageId: 'never' });
          return;
        }
        if (result.continueRow >= 0) ctx.report({ node: header, messageId: 'continues', data: { line: String(result.continueRow + 1) } });
        else if (result.fall) ctx.report({ node: header, messageId: 'falls' });
      },
    };
  },
};

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

/** The operator of a two-operand comparison as written: `is`, `==`, `is not`. */
function operatorOf(comparison: SyntaxNode): string {
  return comparison.children.filter((c) => !c.isNamed).map((c) => c.type).join(' ');
}

/** The names the loop's tests read (its `if`, `elif` and `while` conditions): a pass assigning one moves on. */
function testedNames(loop: SyntaxNode): Set<string> {
  const names = new Set<string>();
  for (const node of loop.descendantsOfType(['if_statement', 'elif_clause', 'while_statement'])) {
    const test = node.childForFieldName('condition');
    if (!test) continue;
    for (const id of [test, ...test.descendantsOfType('identifier')]) if (id.type === 'identifier') names.add(id.text);
  }
  return names;
}
