import type { SyntaxNode } from '../python/parser.js';
import type { Rule } from './types.js';
import { isGenerator, isStub } from './util.js';

/**
 * True when the function's own body awaits or uses `async for` / `async with` / an asynchronous
 * comprehension. The bodies of nested defs and classes are theirs, but their parameter defaults,
 * decorators and base classes run in this function; a lambda is searched like Ruff's RUF029 does
 * (an `await` there is AG209's SyntaxError anyway).
 */
function usesAsyncFeatures(definition: SyntaxNode): boolean {
  const body = definition.childForFieldName('body');
  if (!body) return true;
  const pending: SyntaxNode[] = [body];
  while (pending.length > 0) {
    const node = pending.pop()!;
    const type = node.type;
    if (type === 'await') return true;
    // `async for`, `async with`, `[x async for x in it]`: the keyword is the node's first child.
    if ((type === 'for_statement' || type === 'with_statement' || type === 'for_in_clause') && node.child(0)?.type === 'async') return true;
    const skip = type === 'function_definition' || type === 'class_definition' ? node.childForFieldName('body')?.id : undefined;
    for (const child of node.namedChildren) if (child.id !== skip) pending.push(child);
  }
  return false;
}


const PARAMETER_PARENTS = new Set(['parameters', 'lambda_parameters', 'default_parameter', 'typed_parameter', 'typed_default_parameter', 'list_splat_pattern', 'dictionary_splat_pattern']);

/**
 * Names used in the file as a value rather than called: `app.on_startup.append(on_startup)`,
 * `handlers = {"x": handle_x}`, `return inner`. A coroutine function handed to an API must stay
 * `async def` whether it awaits or not.
 */
function namesUsedAsValues(root: SyntaxNode): Set<string> {
  const names = new Set<string>();
  const cursor = root.walk();
  for (;;) {
    if (cursor.nodeType === 'identifier') {
      const node = cursor.currentNode;
      const parent = node.parent;
      const field = cursor.currentFieldName;
      const isDefinitionName = (parent?.type === 'function_definition' || parent?.type === 'class_definition') && field === 'name';
      const isCallee = parent?.type === 'call' && field === 'function';
      const isAttributeName = parent?.type === 'attribute' && field === 'attribute';
      const isKeyword = parent?.type === 'keyword_argument' && field === 'name';
      // A parameter or an assignment target of the same name binds a new value, it does not use this one.
      const isParameter = PARAMETER_PARENTS.has(parent?.type ?? '') && (field === 'name' || field == null);
      const isTarget = parent?.type === 'assignment' && field === 'left';
      if (!isDefinitionName && !isCallee && !isAttributeName && !isKeyword && !isParameter && !isTarget) names.add(node.text);
    }
    if (cursor.gotoFirstChild()) continue;
    for (;;) {
      if (cursor.gotoNextSibling()) break;
      if (!cursor.gotoParent()) return names;
    }
  }
}

export const asyncWithoutAwait: Rule = {
  meta: {
    id: 'AG210',
    slug: 'async-without-await',
    aliases: ['RUF029', 'ASYNC124', 'S7503'],
    family: 'coroutines',
    severity: 'off',
    title: '`async def` that never awaits',
    fix: 'Make it a plain `def` and drop the `await` at its call sites; keep `async def` only where an API requires a coroutine function.',
    messages: {
      noAwait: '`async def {name}` never awaits, nor uses `async for` / `async with`: it runs start to finish without yielding to the event loop, and every caller must still `await` it',
    },
    docs: {
      what: 'Flags an `async def` whose own body (nested functions aside) contains no `await`, `async for`, `async with` or asynchronous comprehension. Deliberately not flagged, because the signature is not the author\'s to change: methods (any `def` directly in a class body: overrides, protocol and ABC implementations, `__aenter__`), decorated functions (routes, handlers, fixtures, `@overload`), functions the file uses as a value rather than calling them (`app.on_startup.append(on_startup)`, `return inner`: a callback an API will await), stubs whose body is only `...`, `pass`, a docstring or `raise NotImplementedError`, and async generators (a `yield` makes them async iterators; `def` would change what callers get). Off by default: enable it in `.github/asyncguard.yml`.',
      why: 'An `async def` without an `await` never gives control back to the event loop: calling it builds a coroutine object, the caller awaits it, and the body then runs start to finish as if it were sync, holding the loop the whole time (a slow body stalls every other task just like a blocking call). The `async` only costs: a coroutine allocation per call, an `await` at every call site, and the function cannot be called from sync code. It also misleads readers into assuming the function is I/O-friendly. Often it marks a forgotten `await` inside, or a leftover from a refactoring.',
      example: [
        'import asyncio',
        '',
        '',
        'async def build_headers(token):',
        '    return {"Authorization": f"Bearer {token}"}',
        '',
        '',
        'async def fetch(session, url, token):',
        '    headers = await build_headers(token)',
        '    async with session.get(url, headers=headers) as response:',
        '        return await response.json()',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'def build_headers(token):',
        '    return {"Authorization": f"Bearer {token}"}',
        '',
        '',
        'async def fetch(session, url, token):',
        '    headers = build_headers(token)',
        '    async with session.get(url, headers=headers) as response:',
        '        return await response.json()',
      ].join('\n'),
    },
    cites: [{ guide: 'S0', section: 'Step 1 — Verify async is the right tool' }],
  },
  create(ctx) {
    let values: Set<string> | null = null;
    return {
      function_definition(node) {
        if (node.child(0)?.type !== 'async') return;
        // Methods and decorated functions: the signature belongs to a class hierarchy or a framework.
        if (ctx.scope().kind === 'class' || node.parent?.type === 'decorated_definition') return;
        const name = node.childForFieldName('name');
        if (!name || isStub(node) || usesAsyncFeatures(node) || isGenerator(node)) return;
        values ??= namesUsedAsValues(ctx.file.tree.rootNode);
        if (values.has(name.text)) return;
        ctx.report({ node: name, messageId: 'noAwait', data: { name: name.text } });
      },
    };
  },
};
