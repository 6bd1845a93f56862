import type { Rule } from './types.js';
import { asyncioImportedAsAsyncio, calleeText, replaceStatementLine, soleExpressionStatement } from './util.js';

export const blockingSleep: Rule = {
  meta: {
    id: 'AG101',
    slug: 'blocking-sleep',
    aliases: ['ASYNC251', 'S7488'],
    family: 'blocking',
    severity: 'error',
    title: 'Blocking sleep in async code',
    fix: 'Use `await asyncio.sleep(...)`: it suspends this task and lets the others run.',
    messages: {
      sleep: '`time.sleep()` blocks the event loop: no other task runs until it returns',
      aliased: '`{callee}()` is `time.sleep()`: it blocks the event loop, no other task runs until it returns',
    },
    docs: {
      what: 'Flags `time.sleep(...)` called in async code, however it is imported (`import time as t`, `from time import sleep`). A `time.sleep` handed by reference to `asyncio.to_thread` or `loop.run_in_executor`, or called in a nested sync `def` or `lambda`, is not flagged.',
      why: 'An event loop runs one task at a time and only switches tasks at an `await`. `time.sleep` does not await: it parks the whole thread, so every other task, timer, callback and connection on that loop freezes for the full duration. A retry back-off or a polling delay written this way turns into a stall of the whole service.',
      example: [
        'import asyncio',
        'import time',
        '',
        '',
        'async def fetch_with_retry(client, url):',
        '    for attempt in range(5):',
        '        try:',
        '            return await client.get(url)',
        '        except ConnectionError:',
        '            time.sleep(2 ** attempt)',
        "    raise ConnectionError(url)",
      ].join('\n'),
      useInstead: [
        'import asyncio',
        'import time',
        '',
        '',
        'async def fetch_with_retry(client, url):',
        '    for attempt in range(5):',
        '        try:',
        '            return await client.get(url)',
        '        except ConnectionError:',
        '            await asyncio.sleep(2 ** attempt)',
        "    raise ConnectionError(url)",
      ].join('\n'),
    },
    cites: [
      { guide: 'S0', section: "Step 5 — Don't block the event loop" },
      { guide: 'S1', section: 'Pitfall 1: Blocking the Event Loop' },
      { guide: 'S2', section: 'Critical Warnings' },
    ],
  },
  create(ctx) {
    return {
      call(node) {
        if (!ctx.inAsyncCode() || ctx.resolveCallee(node) !== 'time.sleep') return;
        const callee = calleeText(node);
        const statement = soleExpressionStatement(node);
        const args = node.childForFieldName('arguments')?.text;
        const suggestion =
          statement && args !== undefined && asyncioImportedAsAsyncio(ctx)
            ? replaceStatementLine(ctx.file, statement, `await asyncio.sleep${args}`)
            : null;
        ctx.report({
          node,
          messageId: callee === 'time.sleep' ? 'sleep' : 'aliased',
          data: { callee },
          ...(suggestion ? { suggestion } : {}),
        });
      },
    };
  },
};
