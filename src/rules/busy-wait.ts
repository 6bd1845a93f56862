import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import {
  ASYNCIO_CONDITION,
  ASYNCIO_EVENT,
  ASYNCIO_LOCK,
  ASYNCIO_QUEUE,
  ASYNCIO_SEMAPHORE,
  enclosing,
  EVENT_LOOP,
  methodCall,
  methodsOf,
  spawnsTask,
  typeOf,
  unparenthesize,
} from './util.js';

/** Statements of a block that do something (comments and `pass` left out). */
function statements(block: SyntaxNode | null): SyntaxNode[] {
  return (block?.namedChildren ?? []).filter((s) => s.type !== 'comment' && s.type !== 'pass_statement');
}

/** The `asyncio.sleep(...)` call a statement consists of when it is `await asyncio.sleep(...)`; else null. */
function awaitedSleep(ctx: RuleContext, statement: SyntaxNode): SyntaxNode | null {
  if (statement.type !== 'expression_statement' || statement.namedChildCount !== 1) return null;
  const expression = statement.namedChild(0)!;
  if (expression.type !== 'await') return null;
  const call = expression.namedChild(0) ? unparenthesize(expression.namedChild(0)!) : null;
  return call?.type === 'call' && ctx.resolveCallee(call) === 'asyncio.sleep' ? call : null;
}

/** `if <cond>: break` with nothing else (no elif/else): the condition, else null. */
function breakIf(statement: SyntaxNode): SyntaxNode | null {
  if (statement.type !== 'if_statement') return null;
  if (statement.namedChildren.some((c) => c.type === 'elif_clause' || c.type === 'else_clause')) return null;
  const body = statements(statement.childForFieldName('consequence'));
  if (body.length !== 1 || body[0]!.type !== 'break_statement') return null;
  return statement.childForFieldName('condition');
}

/**
 * True when the condition only reads state (names, attributes, subscripts, comparisons, `len()`):
 * a flag some other code of the program sets, which an Event could carry. A condition that calls
 * something (`job.done()`, `client.is_ready()`) may be asking the outside world (a remote job, a
 * file, a device), where sleeping between checks is the only way: not flagged.
 */
function readsState(ctx: RuleContext, condition: SyntaxNode): boolean {
  if (condition.descendantsOfType(['await', 'lambda', 'named_expression']).length > 0) return false;
  return condition.descendantsOfType('call').every((call) => {
    const callee = call.childForFieldName('function');
    if (callee?.type === 'identifier') return callee.text === 'len' && !ctx.lookup('len');
    return asksTheProgram(ctx, call);
  });
}

/** Methods that read the state of an asyncio object of this very program, by its type. */
const STATE_METHODS: Record<string, ReadonlySet<string>> = {
  [ASYNCIO_EVENT]: new Set(['is_set']),
  [ASYNCIO_LOCK]: new Set(['locked']),
  [ASYNCIO_SEMAPHORE]: new Set(['locked']),
  [ASYNCIO_CONDITION]: new Set(['locked']),
  [ASYNCIO_QUEUE]: new Set(['empty', 'full', 'qsize']),
};
const FUTURE_METHODS = new Set(['done', 'cancelled']);

/**
 * `event.is_set()`, `queue.empty()`, or `task.done()` on a task or future this function created:
 * state another task of the program changes, which can be awaited instead of polled.
 */
function asksTheProgram(ctx: RuleContext, call: SyntaxNode): boolean {
  const method = methodCall(call);
  if (!method) return false;
  const type = typeOf(ctx, method.receiver);
  if (type && STATE_METHODS[type]?.has(method.method)) return true;
  if (!FUTURE_METHODS.has(method.method) || method.receiver.type !== 'identifier') return false;
  const found = ctx.lookup(method.receiver.text);
  if (!found || found.scope.node.id !== ctx.scope().node.id) return false;
  return found.bindings.every((binding) => {
    const value = binding.kind === 'assign' && binding.value ? unparenthesize(binding.value) : null;
    if (value?.type !== 'call') return false;
    if (spawnsTask(ctx, value) || ctx.resolveCallee(value) === 'asyncio.Future') return true;
    return methodCall(value)?.method === 'create_future' && typeOf(ctx, methodCall(value)!.receiver) === EVENT_LOOP;
  });
}

function isTrue(condition: SyntaxNode | null): boolean {
  if (!condition) return false;
  const node = unparenthesize(condition);
  return node.type === 'true' || (node.type === 'integer' && node.text !== '0');
}

const collapse = (text: string) => text.replace(/\s+/g, ' ').trim();

/** An expression's source without its comments or outer parentheses, on one line. */
function sourceOf(expression: SyntaxNode): string {
  const node = unparenthesize(expression);
  let text = '';
  let at = node.startIndex;
  for (const comment of node.descendantsOfType('comment')) {
    text += node.text.slice(at - node.startIndex, comment.startIndex - node.startIndex);
    at = comment.endIndex;
  }
  return collapse(text + node.text.slice(at - node.startIndex));
}

/** ` for ...` for a message: the sleep's first argument when short. */
function interval(sleep: SyntaxNode): string {
  const first = sleep.childForFieldName('arguments')?.namedChildren.find((a) => a.type !== 'comment');
  if (!first || first.type === 'keyword_argument') return '';
  const text = collapse(first.text);
  return text.length <= 30 ? ` ${text}` : '';
}

/**
 * The attributes (and module globals) that a signal handler of this file assigns: a function
 * registered with `signal.signal(sig, handler)` or `loop.add_signal_handler(sig, handler, ...)`
 * (`handler` a name, `self.handler`, or `functools.partial(handler, ...)`). uvicorn's `handle_exit`
 * sets `force_exit` this way: a handler installed with `signal.signal` runs between two bytecodes
 * of whatever the loop is doing, where an `asyncio.Event` cannot be set safely, so polling the
 * flag is the sound design.
 */
function signalSetState(ctx: RuleContext): Set<string> {
  const root = ctx.file.tree.rootNode;
  const handlers = new Set<string>();
  const handlerName = (argument: SyntaxNode | undefined): string | null => {
    if (!argument) return null;
    const node = unparenthesize(argument);
    if (node.type === 'identifier') return node.text;
    if (node.type === 'attribute') return node.childForFieldName('attribute')?.text ?? null;
    if (node.type === 'call' && /(^|\.)partial$/.test(node.childForFieldName('function')?.text ?? '')) {
      return handlerName(node.childForFieldName('arguments')?.namedChildren[0]);
    }
    return null;
  };
  for (const call of root.descendantsOfType('call')) {
    const isSignal = ctx.resolveCallee(call) === 'signal.signal' || methodCall(call)?.method === 'add_signal_handler';
    if (!isSignal) continue;
    const args = (call.childForFieldName('arguments')?.namedChildren ?? []).filter((a) => a.type !== 'comment' && a.type !== 'keyword_argument');
    const name = handlerName(args[1]);
    if (name) handlers.add(name);
  }
  const assigned = new Set<string>();
  if (handlers.size === 0) return assigned;
  for (const fn of root.descendantsOfType('function_definition')) {
    if (!handlers.has(fn.childForFieldName('name')?.text ?? '')) continue;
    const globals = new Set(fn.descendantsOfType('global_statement').flatMap((g) => g.namedChildren.map((n) => n.text)));
    for (const assignment of fn.descendantsOfType(['assignment', 'augmented_assignment'])) {
      const left = assignment.childForFieldName('left');
      if (left?.type === 'attribute') assigned.add(`.${left.childForFieldName('attribute')?.text ?? ''}`);
      else if (left?.type === 'identifier' && globals.has(left.text)) assigned.add(left.text);
    }
  }
  return assigned;
}

/** The condition reads an attribute or global that a signal handler of the file sets. */
function readsSignalState(condition: SyntaxNode, state: ReadonlySet<string>): boolean {
  if (state.size === 0) return false;
  const nodes = [condition, ...condition.descendantsOfType(['attribute', 'identifier'])];
  return nodes.some((node) => {
    if (node.type === 'attribute') return state.has(`.${node.childForFieldName('attribute')?.text ?? ''}`);
    return node.type === 'identifier' && node.parent?.type !== 'attribute' && state.has(node.text);
  });
}


/**
 * The condition reads a public attribute of an optional object the caller may pass: a parameter
 * of the enclosing function defaulting to `None` (`monitor=None`, polled as `monitor and
 * monitor.pause`). The flag is the caller's public interface, set from wherever the caller likes
 * (often another thread, where an `asyncio.Event` cannot be set safely), and the function does not
 * own the object to give it an Event.
 */
function readsOptionalParameterFlag(loop: SyntaxNode, condition: SyntaxNode): boolean {
  let fn: SyntaxNode | null = loop.parent;
  while (fn && fn.type !== 'function_definition') {
    if (fn.type === 'lambda' || fn.type === 'class_definition') return false;
    fn = fn.parent;
  }
  const optional = new Set<string>();
  for (const parameter of fn?.childForFieldName('parameters')?.namedChildren ?? []) {
    if (parameter.type !== 'default_parameter' && parameter.type !== 'typed_default_parameter') continue;
    const name = parameter.childForFieldName('name');
    const value = parameter.childForFieldName('value');
    if (name?.type === 'identifier' && value && unparenthesize(value).type === 'none') optional.add(name.text);
  }
  if (optional.size === 0) return false;
  return [condition, ...condition.descendantsOfType('attribute')].some((node) => {
    if (node.type !== 'attribute') return false;
    const object = node.childForFieldName('object');
    const attribute = node.childForFieldName('attribute')?.text ?? '';
    return object?.type === 'identifier' && optional.has(object.text) && !attribute.startsWith('_');
  });
}

/**
 * The condition reads an attribute of the instance (`self._server_running`) that the method the
 * class runs in a thread of its own assigns (`Thread(target=self._run)`, and `_run` sets it; the
 * OAuth server of twitchAPI): the flag is set from that thread, where an `asyncio.Event` of this
 * loop cannot be set safely.
 */
function readsThreadSetAttribute(loop: SyntaxNode, condition: SyntaxNode): boolean {
  const cls = enclosing(loop, 'class_definition');
  if (!cls) return false;
  const targets = new Set(
    cls
      .descendantsOfType('keyword_argument')
      .filter((k) => k.childForFieldName('name')?.text === 'target' && /^self\.\w+$/.test(k.childForFieldName('value')?.text ?? ''))
      .map((k) => k.childForFieldName('value')!.text.slice('self.'.length)),
  );
  const subclass = threadSubclass(cls);
  if (targets.size === 0 && !subclass) return false;
  const assignedIn = (fn: SyntaxNode) =>
    fn.descendantsOfType('assignment').flatMap((assignment) => {
      const left = assignment.childForFieldName('left');
      return left?.type === 'attribute' && left.childForFieldName('object')?.text === 'self' ? [left.text] : [];
    });
  const assignedThere = new Set<string>();
  const bySync = new Set<string>();
  const byAsync = new Set<string>();
  for (const fn of methodsOf(cls)) {
    const name = fn.childForFieldName('name')?.text ?? '';
    const assigned = assignedIn(fn);
    if (targets.has(name)) for (const attribute of assigned) assignedThere.add(attribute);
    if (name === '__init__') continue;
    for (const attribute of assigned) (fn.child(0)?.type === 'async' ? byAsync : bySync).add(attribute);
  }
  // A `threading.Thread` subclass (zwave-me-ws' websocket listener): its sync methods are the
  // thread's callbacks, so a flag only they set is set from that thread.
  const fromThread = (text: string) => assignedThere.has(text) || (subclass && bySync.has(text) && !byAsync.has(text));
  return [condition, ...condition.descendantsOfType('attribute')].some((node) => node.type === 'attribute' && fromThread(node.text));
}

/** A class deriving from `threading.Thread` (or `Thread` imported from it). */
function threadSubclass(cls: SyntaxNode): boolean {
  const bases = cls.childForFieldName('superclasses')?.namedChildren ?? [];
  return bases.some((base) => /^(threading\.)?Thread$/.test(base.text));
}

export const busyWait: Rule = {
  meta: {
    id: 'AG305',
    slug: 'busy-wait',
    aliases: ['ASYNC110', 'S7484'],
    family: 'cancellation',
    severity: 'warning',
    title: 'Polling loop around asyncio.sleep',
    fix: 'Wait for the change itself: have the code that changes the state set an `asyncio.Event` (or notify an `asyncio.Condition`) and `await event.wait()`, or await the future/task/process you are polling.',
    messages: {
      poll: 'This loop polls `{condition}` with `asyncio.sleep({interval})`: it wakes up to re-check instead of waiting for the change',
      pollUntil: 'This loop polls until `{condition}` with `asyncio.sleep({interval})`: it wakes up to re-check instead of waiting for the change',
    },
    docs: {
      what: "Flags, in async code, a `while <condition>:` loop whose body is only `await asyncio.sleep(...)` (comments and `pass` aside), and the same poll written as `while True:` with `if <condition>: break` and the sleep as its only statements (either order). Only conditions that read program state are flagged (names, attributes, subscripts, comparisons, `len()`: a flag some other task sets); calls count as program state only when they ask an asyncio object of the program (`event.is_set()`, `queue.empty()`, `lock.locked()` on objects the file shows to be asyncio ones, `task.done()` on a task or future the function created). Any other call (`while not operation.done():`, `while not client.is_ready():`) may be polling the outside world (a remote job, a file, a device), where sleeping between checks is the only way, and is not flagged. `while True:` around a sleep alone is the 'run forever' idiom of a `main()` and is not flagged; loops that do other work between checks (retries, progress reporting, a back-off) are not polls; trio and anyio sleeps are out of scope. Not flagged either: a condition that reads an attribute (or global) assigned in a signal handler of the same file, a function registered with `signal.signal(sig, handler)` or `loop.add_signal_handler(sig, handler)` (a name, `self.handler` or `functools.partial(handler, ...)`), like uvicorn's `force_exit`: a handler installed with `signal.signal` runs between two bytecodes of whatever the loop is doing and cannot set an `asyncio.Event` safely, so polling the flag is the sound design. Nor a condition that reads a public attribute (no leading underscore) of an optional object the caller may pass, a parameter defaulting to `None` (nio's `while monitor and monitor.pause:` on a `monitor=None` transfer monitor): the flag is the caller's public interface, which the caller may toggle from another thread (where an `asyncio.Event` cannot be set safely), and the function does not own the object to give it an Event. Nor a condition on an attribute of the instance (`self._server_running`) that the method the class runs in a thread of its own assigns (`Thread(target=self._run)`, and `_run` sets the flag): it is set from that thread, where an `asyncio.Event` cannot be set safely; in a `threading.Thread` subclass, the same holds for a flag that only its sync methods set (outside `__init__`), the thread\'s own callbacks. In test paths (`test_paths`) the finding drops to info and is not commented: a test polling until the system under test is ready is deliberate.",
      why: 'The task wakes up every interval to re-test a condition that some other code sets: it adds up to one interval of latency to every change (or burns the loop with `sleep(0)` and tiny intervals), costs a wake-up per interval per waiter even when nothing happens, and hides who is supposed to signal whom. An `asyncio.Event` or `Condition` wakes the waiter exactly when the state changes; a future, task or process can be awaited directly.',
      example: [
        'import asyncio',
        '',
        '',
        'class Connection:',
        '    def __init__(self):',
        '        self.ready = False',
        '',
        '    async def wait_ready(self):',
        '        while not self.ready:',
        '            await asyncio.sleep(0.1)',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'class Connection:',
        '    def __init__(self):',
        '        self.ready = asyncio.Event()',
        '',
        '    async def wait_ready(self):',
        '        await self.ready.wait()',
      ].join('\n'),
    },
    cites: [{ guide: 'S2', section: 'Quick Reference' }],
  },
  create(ctx) {
    let signalState: Set<string> | null = null;
    return {
      while_statement(node) {
        if (!ctx.inAsyncCode()) return;
        const condition = node.childForFieldName('condition');
        const body = statements(node.childForFieldName('body'));
        let polled: string | null = null;
        let sleep: SyntaxNode | null = null;
        let messageId = 'poll';
        if (!isTrue(condition)) {
          if (body.length !== 1) return;
          sleep = awaitedSleep(ctx, body[0]!);
          polled = condition ? sourceOf(condition) : null;
        } else if (body.length === 2) {
          // `while True: if done(): break; await asyncio.sleep(...)`, in either order.
          const [a, b] = body as [SyntaxNode, SyntaxNode];
          const exit = breakIf(a) ?? breakIf(b);
          sleep = awaitedSleep(ctx, a) ?? awaitedSleep(ctx, b);
          polled = exit ? sourceOf(exit) : null;
          messageId = 'pollUntil';
        }
        if (!sleep || !polled) return;
        const tested = isTrue(condition) ? body.map(breakIf).find((c) => c !== null) : condition;
        if (!tested || !readsState(ctx, tested)) return;
        signalState ??= signalSetState(ctx);
        if (readsSignalState(tested, signalState)) return;
        if (readsOptionalParameterFlag(node, tested)) return;
        if (readsThreadSetAttribute(node, tested)) return;
        ctx.report({ node, messageId, data: { condition: polled.length <= 60 ? polled : `${polled.slice(0, 57)}...`, interval: interval(sleep).trim() } });
      },
    };
  },
};
