import type { Rule } from './types.js';
import { calleeText, methodCall, parenthesized } from './util.js';

export const asyncioRunInLoop: Rule = {
  meta: {
    id: 'AG205',
    slug: 'asyncio-run-in-loop',
    aliases: [],
    family: 'coroutines',
    severity: 'error',
    title: 'Event loop started inside a running loop',
    fix: 'Inside async code, `await` the coroutine (or start it with `asyncio.create_task` and keep the task); call `asyncio.run` only at the program entry point.',
    messages: {
      run: '`{callee}()` inside async code raises RuntimeError: asyncio.run() cannot be called from a running event loop',
      runUntilComplete: '`{callee}()` inside async code raises RuntimeError: this event loop is already running',
      nestAsyncio: '`{callee}()` patches asyncio to re-enter a running loop: the nested run starves and reorders every other task',
    },
    docs: {
      what: 'Flags `asyncio.run(...)` and `loop.run_until_complete(...)` called in async code, where an event loop is by definition already running, and `nest_asyncio.apply()` anywhere. An awaited `x.run_until_complete()` is a coroutine method of the project (of a stream, say), not of the loop, whose method returns a result rather than an awaitable, and is not flagged.',
      why: 'A thread runs one event loop at a time. `asyncio.run` and `run_until_complete` from inside a coroutine raise `RuntimeError` at run time, often only on the code path that was not tested (the "works in my REPL" failure under Jupyter or a FastAPI startup hook). `nest_asyncio` hides the error by making the loop re-entrant: the inner call then runs to completion while every task of the outer loop waits, and cancellation and timeouts stop behaving as documented.',
      example: [
        'import asyncio',
        '',
        '',
        'async def fetch_config(client):',
        '    return await client.get("/config")',
        '',
        '',
        'async def startup(client):',
        '    config = asyncio.run(fetch_config(client))',
        '    return config',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'async def fetch_config(client):',
        '    return await client.get("/config")',
        '',
        '',
        'async def startup(client):',
        '    config = await fetch_config(client)',
        '    return config',
      ].join('\n'),
    },
    cites: [
      { guide: 'S0', section: 'Step 3 — Bridge sync ↔ async correctly' },
      { guide: 'S0', section: 'Gotcha' },
      { guide: 'S0', section: 'Do NOT' },
    ],
  },
  create(ctx) {
    return {
      call(node) {
        const resolved = ctx.resolveCallee(node);
        if (resolved === 'nest_asyncio.apply') {
          ctx.report({ node, messageId: 'nestAsyncio', data: { callee: calleeText(node) } });
          return;
        }
        if (!ctx.inAsyncCode()) return;
        // `loop.run_until_complete(...)`; an awaited `stream.run_until_complete()` is a coroutine method of the project's own.
        if (resolved === 'asyncio.run') {
          ctx.report({ node, messageId: 'run', data: { callee: calleeText(node) } });
        } else if (methodCall(node)?.method === 'run_until_complete' && parenthesized(node).parent?.type !== 'await') {
          ctx.report({ node, messageId: 'runUntilComplete', data: { callee: calleeText(node) } });
        }
      },
    };
  },
};
