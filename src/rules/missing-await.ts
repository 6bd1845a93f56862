import type { Binding } from '../python/imports.js';
import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { calleeIn, calleeText, insertBefore, isGenerator, methodCall, preservesCoroutine, statementCall, unparenthesize } from './util.js';

/** asyncio APIs returning a coroutine (or, for gather, a future) that does nothing useful unawaited. */
const ASYNCIO_AWAITABLES = new Set([
  'asyncio.sleep',
  'asyncio.wait_for',
  'asyncio.wait',
  'asyncio.to_thread',
  'asyncio.gather',
  'asyncio.open_connection',
  'asyncio.open_unix_connection',
  'asyncio.start_server',
  'asyncio.start_unix_server',
  'asyncio.create_subprocess_exec',
  'asyncio.create_subprocess_shell',
]);

type Callee = 'function' | 'method' | 'asyncio';

/** Answers "is this def a generator?" once per def. */
type GeneratorCheck = (definition: SyntaxNode) => boolean;

/** True when every binding is an undecorated (or method-decorated) `async def` that does not yield. */
function allCoroutineFunctions(bindings: readonly Binding[], generator: GeneratorCheck): boolean {
  return (
    bindings.length > 0 &&
    bindings.every(
      (b) => b.kind === 'def' && b.async === true && preservesCoroutine(b.decorators) && b.definition !== undefined && !generator(b.definition),
    )
  );
}

/** What makes `call` a coroutine call, or null when it is not known to be one. */
function coroutineCallee(ctx: RuleContext, call: SyntaxNode, generator: GeneratorCheck): Callee | null {
  const callee = call.childForFieldName('function');
  if (callee?.type === 'identifier') {
    const found = ctx.lookup(callee.text);
    if (found && allCoroutineFunctions(found.bindings, generator)) return 'function';
  }
  const method = methodCall(call);
  if (method && method.receiver.type === 'identifier' && (method.receiver.text === 'self' || method.receiver.text === 'cls')) {
    if (isMethodOfAsyncDef(ctx, method.receiver.text, method.method, generator)) return 'method';
  }
  return calleeIn(ctx, call, ASYNCIO_AWAITABLES) ? 'asyncio' : null;
}

/** `self.m()` inside a method of class C, where C's body defines `m` only as an `async def`. */
function isMethodOfAsyncDef(ctx: RuleContext, receiver: string, name: string, generator: GeneratorCheck): boolean {
  const chain = ctx.scopeChain();
  const method = chain[chain.length - 1];
  const owner = chain[chain.length - 2];
  if (!method || !owner || (method.kind !== 'def' && method.kind !== 'async-def') || owner.kind !== 'class') return false;
  const self = ctx.lookup(receiver);
  if (!self || self.scope.node.id !== method.node.id || !self.bindings.every((b) => b.kind === 'param')) return false;
  const members = ctx.imports.bindingsIn(owner.node).get(name);
  return members !== undefined && allCoroutineFunctions(members, generator);
}

export const missingAwait: Rule = {
  meta: {
    id: 'AG201',
    slug: 'missing-await',
    aliases: [],
    family: 'coroutines',
    severity: 'error',
    title: 'Coroutine called without await',
    fix: 'Put `await` before the call (or hand the coroutine to `asyncio.create_task` / a TaskGroup and keep the task).',
    messages: {
      statement: '`{callee}()` returns a coroutine that is never awaited: the call does nothing',
      condition: '`{callee}()` returns a coroutine, which is always true: the test never checks the result',
    },
    docs: {
      what: 'Flags a statement (or an `if` / `while` test) that calls a coroutine function without `await`: an `async def` of the same file called by name, `self.method()` / `cls.method()` where the class defines `method` as `async def`, or an asyncio coroutine API (`asyncio.sleep`, `wait_for`, `wait`, `to_thread`, `gather`, `open_connection`, `create_subprocess_exec/shell`). In a sync function only a same-file `async def` called by name is flagged. mypy (`unused-coroutine`) and pyright (`reportUnusedCoroutine`) report the same mistake when the code is type-checked.',
      why: 'Calling a coroutine function only creates a coroutine object; nothing in its body runs until it is awaited. The statement silently does nothing (the sleep does not sleep, the write is not written), Python prints "coroutine ... was never awaited" at garbage collection, far from the bug, and in a test the coroutine object is truthy, so the condition is always true.',
      example: [
        'import asyncio',
        '',
        '',
        'async def flush(buffer):',
        '    await asyncio.sleep(0)',
        '    buffer.clear()',
        '',
        '',
        'async def close(buffer):',
        '    flush(buffer)',
        '    asyncio.sleep(0.1)',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'async def flush(buffer):',
        '    await asyncio.sleep(0)',
        '    buffer.clear()',
        '',
        '',
        'async def close(buffer):',
        '    await flush(buffer)',
        '    await asyncio.sleep(0.1)',
      ].join('\n'),
    },
    cites: [
      { guide: 'S1', section: 'Core Principles' },
      { guide: 'S1', section: 'Pitfall 2: Missing await' },
      { guide: 'S1', section: 'Troubleshooting Quick Guide' },
    ],
  },
  create(ctx) {
    const generators = new Map<number, boolean>();
    const generator: GeneratorCheck = (definition) => {
      let known = generators.get(definition.id);
      if (known === undefined) {
        known = isGenerator(definition);
        generators.set(definition.id, known);
      }
      return known;
    };

    function check(call: SyntaxNode, messageId: 'statement' | 'condition'): void {
      const kind = ctx.scope().kind;
      if (kind === 'class' || kind === 'lambda') return;
      const callee = coroutineCallee(ctx, call, generator);
      if (!callee) return;
      const inAsync = ctx.inAsyncCode();
      // In sync code only the plainest case: a coroutine function of this very file, by name.
      if (!inAsync && callee !== 'function') return;
      const suggestion = inAsync ? insertBefore(ctx.file, call, 'await ') : null;
      ctx.report({ node: call, messageId, data: { callee: calleeText(call) }, ...(suggestion ? { suggestion } : {}) });
    }

    function checkCondition(statement: SyntaxNode): void {
      let test = statement.childForFieldName('condition');
      while (test) {
        test = unparenthesize(test);
        if (test.type !== 'not_operator') break;
        test = test.childForFieldName('argument');
      }
      if (test?.type === 'call') check(test, 'condition');
    }

    return {
      expression_statement(node) {
        const call = statementCall(node);
        if (call) check(call, 'statement');
      },
      if_statement: checkCondition,
      elif_clause: checkCondition,
      while_statement: checkCondition,
    };
  },
};
