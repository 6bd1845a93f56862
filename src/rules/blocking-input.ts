import type { Rule } from './types.js';
import { calleeText } from './util.js';

/** Calls that wait for the terminal or stdin. */
const READERS: ReadonlyMap<string, string> = new Map([
  ['builtins.input', 'input'],
  ['getpass.getpass', 'getpass'],
  ['sys.stdin.readline', 'stdin'],
  ['sys.stdin.readlines', 'stdin'],
  ['sys.stdin.read', 'stdin'],
]);

export const blockingInput: Rule = {
  meta: {
    id: 'AG106',
    slug: 'blocking-input',
    aliases: ['ASYNC250', 'S7501'],
    family: 'blocking',
    severity: 'error',
    title: 'Blocking terminal input in async code',
    fix: 'Read the line in a thread: `await asyncio.to_thread(input, prompt)` (or read stdin as a stream with `loop.connect_read_pipe`).',
    messages: {
      input: '`{callee}()` waits for the user to press Enter, and the event loop waits with it: no other task runs meanwhile',
      getpass: '`{callee}()` waits for the user to type a password, and the event loop waits with it: no other task runs meanwhile',
      stdin: '`{callee}()` blocks until stdin has data (or is closed), and the event loop waits with it: no other task runs meanwhile',
    },
    docs: {
      what: 'Flags the builtin `input()` (also as `builtins.input`), `getpass.getpass()` and `sys.stdin.read/readline/readlines()` called in async code. A function of your own named `input`, an `input` imported from another module, or a method `.input()` is not the builtin and is not flagged; neither is `input` handed by reference to `asyncio.to_thread`, nor called in a nested sync `def` or `lambda`.',
      why: 'Reading the terminal blocks the thread until a human answers. In async code that thread is the event loop: heartbeats, timeouts, open connections and every other task stop for as long as the prompt is on screen, often long enough for peers to drop the connection.',
      example: [
        'async def confirm_and_deploy(client, release):',
        '    answer = input(f"Deploy {release}? [y/N] ")',
        '    if answer.lower() == "y":',
        '        await client.deploy(release)',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'async def confirm_and_deploy(client, release):',
        '    answer = await asyncio.to_thread(input, f"Deploy {release}? [y/N] ")',
        '    if answer.lower() == "y":',
        '        await client.deploy(release)',
      ].join('\n'),
    },
    cites: [
      { guide: 'S0', section: "Step 5 — Don't block the event loop" },
      { guide: 'S1', section: 'Pitfall 1: Blocking the Event Loop' },
    ],
  },
  create(ctx) {
    return {
      call(node) {
        if (!ctx.inAsyncCode()) return;
        const resolved = ctx.resolveCallee(node);
        const kind = resolved === null ? undefined : READERS.get(resolved);
        if (!kind) return;
        ctx.report({ node, messageId: kind, data: { callee: calleeText(node) } });
      },
    };
  },
};
