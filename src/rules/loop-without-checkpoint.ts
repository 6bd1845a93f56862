import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { statementCall, unparenthesize } from './util.js';

const NESTED_SCOPES = new Set(['function_definition', 'lambda', 'class_definition']);

/** Calls that never return normally: they raise (SystemExit) or end the process. */
const NEVER_RETURN = new Set(['sys.exit', 'os._exit', 'builtins.exit', 'builtins.quit', 'os.abort']);

/**
 * True when `node` contains a point where the task can be suspended: `await`, `async for`,
 * `async with`, or `yield` (an async generator hands control to its consumer). Nested functions,
 * lambdas and classes do not count: they run some other time. Short-circuits and conditional
 * expressions count too: the analysis leans towards silence.
 */
function suspends(node: SyntaxNode | null): boolean {
  if (!node) return false;
  const cursor = node.walk();
  for (;;) {
    const type = cursor.nodeType;
    if (type === 'await' || type === 'yield') return true;
    if ((type === 'with_statement' || type === 'for_statement') && cursor.currentNode.child(0)?.type === 'async') return true;
    if (!NESTED_SCOPES.has(type) && cursor.gotoFirstChild()) continue;
    for (;;) {
      if (cursor.gotoNextSibling()) break;
      if (!cursor.gotoParent()) return false;
    }
  }
}

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

class Paths {
  private depth = 0;

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
        if (suspends(node)) return LEAVES;
        const call = statementCall(node);
        const callee = call ? this.ctx.resolveCallee(call) : null;
        return callee && NEVER_RETURN.has(callee) ? LEAVES : FALLS;
      }
      default:
        return suspends(node) ? LEAVES : FALLS;
    }
  }

  private ifStatement(node: SyntaxNode): Unchecked {
    if (suspends(node.childForFieldName('condition'))) return LEAVES;
    let out = this.block(node.childForFieldName('consequence'));
    for (const branch of node.namedChildren) {
      if (branch.type === 'elif_clause') {
        // Reaching the elif means its condition runs: an await there covers it and what follows.
        if (suspends(branch.childForFieldName('condition'))) return out;
        out = merge(out, this.block(branch.childForFieldName('consequence')));
      } else if (branch.type === 'else_clause') {
        return merge(out, this.block(branch.childForFieldName('body')));
      }
    }
    return merge(out, FALLS); // no else: the condition may be false
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
      what: "Flags, in async code, a `while True:` (or `while 1:`) loop whose body can complete an iteration without suspending: an `if` with no `else` (or a branch) that skips the only `await`, a `continue` reached before any `await`, an inner loop whose `break` skips it; and a `while True:` loop with no `await` at all and no `break`, `return` or `raise`. An `await`, `async for`, `async with` or `yield` on every path counts, as does a `try` body that awaits (its handlers are then taken to run after the await) and a `finally` that awaits. Paths that leave the loop (`break`, `return`, `raise`, `sys.exit()`) are fine. Not flagged, to stay precise: a loop with no `await` anywhere that can be left (a sync drain or retry loop, which ends), a loop whose only skip is an inner `for`/`while` that awaits in every iteration but might run zero times, and loops containing `match`.",
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
