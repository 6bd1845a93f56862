import type { Rule } from './types.js';
import { calleeText } from './util.js';

/**
 * `mypkg.db.query` matches that callee exactly; `legacy.*` matches everything under `legacy.`.
 * Patterns are matched against the callee as the file's imports resolve it, so
 * `from mypkg.db import query as q; q()` is `mypkg.db.query`.
 */
function matchesBlockingPattern(pattern: string, callee: string): boolean {
  if (pattern.endsWith('.*')) return callee.startsWith(pattern.slice(0, -1));
  return callee === pattern;
}

export const configuredBlockingCall: Rule = {
  meta: {
    id: 'AG111',
    slug: 'configured-blocking-call',
    aliases: ['ASYNC200'],
    family: 'blocking',
    severity: 'error',
    title: 'Call the team listed as blocking, in async code',
    fix: 'Use the replacement the team configured for this call (shown in the message), or move the call off the loop with `await asyncio.to_thread(...)`.',
    messages: {
      configured: '`{callee}()` is on this repository\'s list of blocking calls (`{pattern}`): {suggestion}',
    },
    docs: {
      what: 'Flags calls, in async code, to the functions a repository lists as blocking under `blocking_calls` in `.github/asyncguard.yml` (or `asyncguard check --config FILE` / `--blocking-call PATTERN=SUGGESTION` on the command line), like flake8-async\'s ASYNC200. A pattern is a dotted name (`mypkg.db.query`) or a prefix ending in `.*` (`legacy.*`), matched against the callee as the file\'s imports resolve it. With no list configured the rule reports nothing. Example configuration:\n\n```yaml\nblocking_calls:\n  billing.client.charge: "use billing.aio.charge"\n  legacy.*: "legacy is synchronous: run it with asyncio.to_thread"\n```',
      why: 'Every codebase has its own blocking helpers (an in-house SDK, a sync database wrapper, a legacy module) that no generic linter knows. Called from a coroutine they stall the event loop just like `time.sleep`: every other request waits until they return. Listing them once lets the review catch each new call.',
      example: [
        'from billing.client import charge',
        '',
        '',
        'async def checkout(order):',
        '    receipt = charge(order.customer, order.total)',
        '    return receipt.id',
      ].join('\n'),
      useInstead: [
        'from billing.aio import charge',
        '',
        '',
        'async def checkout(order):',
        '    receipt = await charge(order.customer, order.total)',
        '    return receipt.id',
      ].join('\n'),
      settings: { blockingCalls: [{ pattern: 'billing.client.charge', suggestion: 'use billing.aio.charge' }] },
    },
    cites: [{ guide: 'S0', section: "Step 5 — Don't block the event loop" }],
  },
  create(ctx) {
    const patterns = ctx.settings.blockingCalls;
    if (patterns.length === 0) return {};
    return {
      call(node) {
        if (!ctx.inAsyncCode()) return;
        const callee = ctx.resolveCallee(node);
        if (!callee) return;
        const match = patterns.find((entry) => matchesBlockingPattern(entry.pattern, callee));
        if (!match) return;
        ctx.report({ node, messageId: 'configured', data: { callee: calleeText(node), pattern: match.pattern, suggestion: match.suggestion } });
      },
    };
  },
};
