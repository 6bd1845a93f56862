import { callTarget, hopLabel, type CallTarget } from '../python/call-graph.js';
import type { Rule } from './types.js';
import { calleeText } from './util.js';

export const transitiveBlocking: Rule = {
  meta: {
    id: 'AG110',
    slug: 'transitive-blocking',
    aliases: [],
    family: 'blocking',
    severity: 'warning',
    title: 'Async code calls a sync function that blocks',
    fix: 'Keep the call path fully async (an async library all the way down), or run the sync helper in a thread: `await asyncio.to_thread(helper, ...)`.',
    messages: {
      chain: '`{callee}()` blocks the event loop: {chain} ({where})',
    },
    docs: {
      what: 'Flags a call in async code to a sync function or method whose body blocks, directly or through further sync calls (at most 4 functions deep): a module-level `def` of the same file (`helper()`, found the way Python finds the name, so a local of the same name hides it), a method of the enclosing class (`self.helper()`, `cls.helper()`), `ClassName.helper()`, a class whose `__init__` blocks (`Config()`), and, in a pull request, a function imported from another changed file (`from .utils import load`, `import pkg.utils as u; u.load()`). "Blocks" means what the blocking rules (sleep, HTTP, file I/O, subprocess...) report at warning or error severity when written in async code; filesystem metadata and other `info` findings do not count. The message names the chain down to the blocking call. Not flagged: a helper handed by reference to `asyncio.to_thread` / `run_in_executor`, calls in nested `def`s and lambdas, helpers that block only inside a function of their own, `async def` helpers, generators, helpers behind a decorator other than `staticmethod`/`classmethod` (it may wrap, cache or offload the call), names defined more than once, methods inherited from a class the file does not show, and direct blocking calls (their own rule reports them).',
      why: 'Hiding a blocking call behind a helper does not make it non-blocking: the event loop runs the helper, and everything it calls, on its only thread, so every other task, timer and connection waits until the helper returns. The call site is where the mistake is made (the helper itself may be fine in sync code or in a thread), and it is the line a reviewer sees; the blocking line may be in an untouched function or another file.',
      example: [
        'import json',
        '',
        '',
        'def read_file(path):',
        '    with open(path) as f:',
        '        return f.read()',
        '',
        '',
        'def load_config(path):',
        '    return json.loads(read_file(path))',
        '',
        '',
        'async def handle(request):',
        '    config = load_config("settings.json")',
        '    return config[request.query["key"]]',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        'import json',
        '',
        '',
        'def read_file(path):',
        '    with open(path) as f:',
        '        return f.read()',
        '',
        '',
        'def load_config(path):',
        '    return json.loads(read_file(path))',
        '',
        '',
        'async def handle(request):',
        '    config = await asyncio.to_thread(load_config, "settings.json")',
        '    return config[request.query["key"]]',
      ].join('\n'),
    },
    cites: [
      { guide: 'S3', section: 'Sync vs Async Decision Guide' },
      { guide: 'S0', section: 'Step 3 — Bridge sync ↔ async correctly' },
    ],
  },
  create(ctx) {
    // Every call target of the file, so that the helpers they reach are summarised in one batch.
    const targets: CallTarget[] = [];
    let prepared = false;
    return {
      call(node) {
        if (!ctx.inAsyncCode()) return;
        const target = callTarget(ctx, node);
        if (!target) return;
        targets.push(target);
        // Answered once the whole file has been seen (the helper may be defined further down).
        ctx.defer(() => {
          const index = ctx.blockingIndex();
          if (!prepared) {
            prepared = true;
            index.prepare(targets);
          }
          const chain = index.chain(target);
          if (!chain) return;
          const own = ctx.file.path;
          const callee = calleeText(node);
          const hops = chain.hops.map((hop, i) => (i === 0 ? callee : hopLabel(hop, own)));
          ctx.report({
            node,
            messageId: 'chain',
            data: {
              callee,
              chain: [...hops.map((hop) => `${hop}()`), chain.blocks.call].join(' -> '),
              where: chain.path === own ? `line ${chain.blocks.line}` : `${chain.path}:${chain.blocks.line}`,
            },
          });
        });
      },
    };
  },
};
