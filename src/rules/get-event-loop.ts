import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext, Suggestion } from './types.js';
import { pythonAtLeast, underVersionGuard } from './util.js';

/**
 * The callee rewritten to `get_running_loop`, as a suggestion replacing the callee's line, or null
 * when the rewrite would not be exact: the callee is not `<asyncio module>.get_event_loop` nor a
 * bare `get_event_loop` next to an imported `get_running_loop`, or the line holds another call.
 */
function runningLoopSuggestion(ctx: RuleContext, call: SyntaxNode): Suggestion | null {
  const callee = call.childForFieldName('function');
  if (!callee) return null;
  let name: SyntaxNode | null = null;
  if (callee.type === 'attribute') {
    const object = callee.childForFieldName('object');
    if (!object || ctx.resolveName(object) !== 'asyncio') return null;
    name = callee.childForFieldName('attribute');
  } else if (callee.type === 'identifier') {
    // `from asyncio import get_event_loop`: only when `get_running_loop` is imported the same way.
    const running = ctx.lookup('get_running_loop');
    if (!running || running.scope.kind !== 'module' || !running.bindings.every((b) => b.kind === 'import')) return null;
    if (ctx.imports.resolve('get_running_loop') !== 'asyncio.get_running_loop') return null;
    name = callee;
  }
  if (name?.type !== 'identifier' || name.text !== 'get_event_loop') return null;
  const row = name.startPosition.row;
  if (row !== call.startPosition.row) return null;
  const line = ctx.file.lines[row];
  if (line === undefined || line.split('get_event_loop').length !== 2) return null;
  return {
    line: row + 1,
    endLine: row + 1,
    replacement: `${line.slice(0, name.startPosition.column)}get_running_loop${line.slice(name.endPosition.column)}`,
  };
}

/**
 * A version check in the file that draws the line at Python 3.7 (`sys.version_info >= (3, 7)`,
 * `sys.version_info[:2] < (3, 7)`, `sys.version_info[1] > 6`, `sys.version_info.minor >= 7`): the
 * file keeps a branch for 3.6, which has no `get_running_loop()`.
 */
function keepsPython36Branch(root: SyntaxNode): boolean {
  return root.descendantsOfType(['if_statement', 'elif_clause', 'conditional_expression']).some((node) => {
    const condition = node.type === 'conditional_expression' ? node.namedChildren[1] : node.childForFieldName('condition');
    const text = condition?.text.replace(/\s+/g, '') ?? '';
    return /sys\.version_info(\[0?:2\])?[<>]=?\(3,[67]\)|sys\.version_info(\[1\]|\.minor)[<>]=?[67]\b/.test(text);
  });
}

export const getEventLoop: Rule = {
  meta: {
    id: 'AG208',
    slug: 'get-event-loop',
    aliases: [],
    family: 'coroutines',
    severity: 'warning',
    title: 'asyncio.get_event_loop() in async code',
    fix: 'Use `asyncio.get_running_loop()`: inside a coroutine it returns the same loop, and it never creates one.',
    messages: {
      call: '`{callee}()` in async code: use `asyncio.get_running_loop()`, which returns the loop running this code and never creates or looks up another',
    },
    docs: {
      what: 'Flags a call to `asyncio.get_event_loop()` (through any import: `import asyncio as aio`, `from asyncio import get_event_loop`) in async code: lexically inside an `async def`, not in a nested `def`, lambda or class body. `get_event_loop()` in sync code (a `__init__`, a callback, the entry point) is a different question and not flagged here, nor is a local or imported function of another module that happens to be called `get_event_loop`. A suggestion rewrites the call when the rewrite is exact. With `python_version` below 3.7 in the configuration (the code still supports Python 3.6, which has no `get_running_loop`) nothing is flagged, and neither is a call under a Python-version check (`if sys.version_info < (3, 7):`, or a flag like `PY37`, in either branch): the fallback written for such Pythons. A file whose own version checks draw the line at 3.7 (`sys.version_info >= (3, 7)`, `sys.version_info[1] > 6`) still runs on 3.6, so none of its calls is flagged.',
      why: 'In a coroutine there is always a running loop, and `get_running_loop()` says so: it returns that loop or raises. `get_event_loop()` goes through the event loop policy instead, and its behaviour where no loop runs has changed from release to release: it silently created a new loop, then warned (DeprecationWarning from 3.10 and 3.12), and raises RuntimeError from 3.14. Inside the coroutine both return the same loop, so the call reads as if it could run anywhere; copied into a sync helper, a thread or a library hook, it hands out a loop that nothing runs (tasks and futures attached to it never complete and the program hangs) or fails on newer Pythons, instead of failing at once with a clear error.',
      example: [
        'import asyncio',
        '',
        '',
        'async def read_config(path):',
        '    loop = asyncio.get_event_loop()',
        '    return await loop.run_in_executor(None, path.read_text)',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        '',
        'async def read_config(path):',
        '    loop = asyncio.get_running_loop()',
        '    return await loop.run_in_executor(None, path.read_text)',
      ].join('\n'),
    },
    cites: [{ guide: 'S1', section: 'Pattern 4: Run Blocking Code with run_in_executor()' }],
  },
  create(ctx) {
    let keepsPython36: boolean | undefined;
    return {
      call(node) {
        if (!ctx.inAsyncCode() || ctx.resolveCallee(node) !== 'asyncio.get_event_loop') return;
        // `get_running_loop()` arrived in Python 3.7: code that still supports 3.6 cannot use it.
        if (pythonAtLeast(ctx.settings.pythonVersion, 3, 7) === false) return;
        // ...nor can the branch of a version check written for such Pythons.
        if (underVersionGuard(node, ctx.scope().node)) return;
        // ...nor a file that keeps such a branch elsewhere: it still runs on 3.6 (FRR's ospfclient).
        if ((keepsPython36 ??= keepsPython36Branch(ctx.file.tree.rootNode))) return;
        const suggestion = runningLoopSuggestion(ctx, node);
        const callee = (node.childForFieldName('function')?.text ?? '').replace(/\s+/g, '');
        ctx.report({ node, messageId: 'call', data: { callee }, ...(suggestion ? { suggestion } : {}) });
      },
    };
  },
};
