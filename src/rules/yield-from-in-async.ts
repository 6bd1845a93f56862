import type { Rule } from './types.js';

export const yieldFromInAsync: Rule = {
  meta: {
    id: 'AG211',
    slug: 'yield-from-in-async',
    aliases: ['PLE1700'],
    family: 'coroutines',
    severity: 'error',
    title: '`yield from` inside an async function',
    fix: 'Yield the items one by one (`for item in source: yield item`, or `async for` over an async iterable); to run a coroutine, `await` it.',
    messages: {
      yieldFrom: '`yield from` inside `async def {name}` is a SyntaxError: the module cannot be imported',
    },
    docs: {
      what: 'Flags `yield from` in the body of an `async def`. A sync generator defined inside the `async def` (a nested `def`) or a lambda there may use `yield from`: not flagged.',
      why: 'An `async def` that yields is an asynchronous generator, and asynchronous generators cannot delegate with `yield from`: CPython rejects the function at compile time ("\'yield from\' inside async function"), so the whole module fails to import. The construct usually comes from porting a generator-based coroutine (`@asyncio.coroutine` style) or a sync generator to `async def`; the delegation has to become an explicit loop.',
      example: [
        'async def stream_rows(cursor, extra_rows):',
        '    async for row in cursor:',
        '        yield row',
        '    yield from extra_rows',
      ].join('\n'),
      useInstead: [
        'async def stream_rows(cursor, extra_rows):',
        '    async for row in cursor:',
        '        yield row',
        '    for row in extra_rows:',
        '        yield row',
      ].join('\n'),
    },
    cites: [{ guide: 'S3', section: '2. Coroutines' }],
  },
  create(ctx) {
    return {
      yield(node) {
        if (node.child(1)?.type !== 'from' || !ctx.inAsyncCode()) return;
        const scope = ctx.scope();
        ctx.report({ node, messageId: 'yieldFrom', data: { name: scope.node.childForFieldName('name')?.text ?? '?' } });
      },
    };
  },
};
