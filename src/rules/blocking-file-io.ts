import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { calleeIn, calleeText, enclosing, identifiersNamed, keywordArgument, methodCall, parenthesized, PATH, positionalArguments, typeOf, unparenthesize } from './util.js';

/** Functions that open a file with blocking reads and writes. */
const OPENERS = new Set([
  'builtins.open',
  'io.open',
  'io.open_code',
  'codecs.open',
  'gzip.open',
  'bz2.open',
  'lzma.open',
]);

/**
 * `os.fdopen(fd)` wraps a descriptor that is already open (a pipe, a socket, a tty, or a file some
 * other call opened): it does no disk I/O itself. It is flagged only when the descriptor visibly
 * comes from `os.open(...)` here (`os.fdopen(os.open(path, flags, 0o600), 'w')`, or a local name
 * bound only to `os.open(...)`): that pair opens a file on disk.
 */
function fdopenOfOsOpen(ctx: RuleContext, call: SyntaxNode): boolean {
  if (ctx.resolveCallee(call) !== 'os.fdopen') return false;
  const first = positionalArguments(call)[0];
  if (!first) return false;
  const isOsOpen = (node: SyntaxNode | null | undefined) => {
    const value = node ? unparenthesize(node) : null;
    return value?.type === 'call' && ctx.resolveCallee(value) === 'os.open';
  };
  const argument = unparenthesize(first);
  if (isOsOpen(argument)) return true;
  if (argument.type !== 'identifier') return false;
  const found = ctx.lookup(argument.text);
  if (!found || found.scope.node.id !== ctx.scope().node.id || found.bindings.length === 0) return false;
  return found.bindings.every((binding) => binding.kind === 'assign' && isOsOpen(binding.value));
}

/** `pathlib.Path` methods that do the file I/O themselves. */
const PATH_IO = new Set(['open', 'read_text', 'read_bytes', 'write_text', 'write_bytes']);

/**
 * `open(fd, 'rb', closefd=False)`: a file object around a descriptor someone else opened (a pty, a
 * pipe, a socket), handed to `connect_read_pipe` and the like; nothing is opened on disk.
 */
function wrapsDescriptor(call: SyntaxNode): boolean {
  const closefd = keywordArgument(call, 'closefd');
  return closefd !== null && closefd.type === 'false';
}

/** The loop's pipe transports: they take pipes, sockets and character devices, never a regular file. */
const PIPE_TRANSPORTS = new Set(['connect_read_pipe', 'connect_write_pipe']);

/**
 * `pipe = io.open(master, 'w+b', 0)` whose every use is an argument of `loop.connect_read_pipe` /
 * `connect_write_pipe` (multiplex's pty): asyncio refuses a regular file there, so what is opened
 * is a pipe, a pty or a socket, and the transport does the reading and writing without blocking.
 */
function openedForPipeTransport(call: SyntaxNode): boolean {
  const assignment = parenthesized(call).parent;
  const name = assignment?.type === 'assignment' && assignment.childForFieldName('right')?.id === parenthesized(call).id ? assignment.childForFieldName('left') : null;
  const scope = name?.type === 'identifier' ? enclosing(call, 'function_definition') : null;
  if (!name || !scope) return false;
  const uses = identifiersNamed(scope, name.text).filter((use) => use.id !== name.id);
  return (
    uses.length > 0 &&
    uses.every((use) => {
      const args = use.parent;
      const callee = args?.type === 'argument_list' ? args.parent?.childForFieldName('function') : null;
      const method = callee?.type === 'attribute' ? callee.childForFieldName('attribute')?.text : null;
      return method !== null && method !== undefined && PIPE_TRANSPORTS.has(method);
    })
  );
}

/**
 * `open(os.devnull, 'w')`, `open('/dev/null')`: the null device involves no disk, so opening and
 * writing it never wait (subprocess-tee's sink for a discarded stream).
 */
function opensNullDevice(ctx: RuleContext, call: SyntaxNode): boolean {
  const first = positionalArguments(call)[0] ?? keywordArgument(call, 'file');
  if (!first) return false;
  return ctx.resolveName(first) === 'os.devnull' || /^[rbuf]*["']\/dev\/null["']$/i.test(first.text);
}

export const blockingFileIo: Rule = {
  meta: {
    id: 'AG103',
    slug: 'blocking-file-io',
    aliases: ['ASYNC230', 'ASYNC231', 'ASYNC232', 'S7493'],
    family: 'blocking',
    severity: 'warning',
    title: 'Blocking file I/O in async code',
    fix: 'Move the file work off the loop (`await asyncio.to_thread(path.read_text)`), or use `aiofiles` / `anyio.Path` on a hot path.',
    messages: {
      open: '`{callee}()` opens a file whose reads and writes block the event loop',
      pathMethod: '`Path.{method}()` reads or writes the whole file synchronously, blocking the event loop',
    },
    docs: {
      what: 'Flags opening or reading/writing files synchronously in async code: `open`, `io.open`, `os.fdopen`, `codecs.open`, `gzip.open`, `bz2.open`, `lzma.open`, and `pathlib.Path.open/read_text/read_bytes/write_text/write_bytes` when the receiver is visibly a `Path` (`Path(p).read_text()`, or a name bound to `Path(...)` or annotated `Path`). A name of unknown type is left alone. `os.fdopen(fd)` is flagged only when the descriptor visibly comes from `os.open(...)` (`os.fdopen(os.open(path, flags, 0o600), \'w\')`, or a local name bound only to `os.open(...)`): on a descriptor that is already open (a pipe, a socket, a tty, a caller\'s descriptor) it does no disk I/O, and pipes and sockets are then best handed to `loop.connect_read_pipe`/`connect_write_pipe`. A file object wrapped around a descriptor opened elsewhere (`open(fd, "rb", closefd=False)`, for `connect_read_pipe`) opens nothing on disk and is not flagged, nor is a file object whose every use is an argument of the loop\'s pipe transports (`pipe = io.open(master_fd, "w+b", 0)`, then `connect_read_pipe(..., pipe)` / `connect_write_pipe(..., pipe)`), which refuse regular files, nor opening the null device (`open(os.devnull, "w")`, `open("/dev/null")`), which never waits.',
      why: "Disk reads and writes are system calls that block the thread; on a network filesystem, a container's overlay filesystem or a busy disk they take milliseconds to seconds. While they run the event loop does nothing else: every other request waits behind one file read.",
      example: [
        'async def register(registry, token_file):',
        '    with open(token_file) as f:',
        '        token = f.read().strip()',
        '    return await registry.announce(token)',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        'from pathlib import Path',
        '',
        '',
        'async def register(registry, token_file):',
        '    text = await asyncio.to_thread(Path(token_file).read_text)',
        '    return await registry.announce(text.strip())',
      ].join('\n'),
    },
    cites: [
      { guide: 'S0', section: "Step 5 — Don't block the event loop" },
      { guide: 'S1', section: 'Pitfall 1: Blocking the Event Loop' },
      { guide: 'S1', section: 'Pattern 4: Run Blocking Code with run_in_executor()' },
    ],
  },
  create(ctx) {
    return {
      call(node) {
        if (!ctx.inAsyncCode()) return;
        if (calleeIn(ctx, node, OPENERS)) {
          if (wrapsDescriptor(node) || opensNullDevice(ctx, node) || openedForPipeTransport(node)) return;
          ctx.report({ node, messageId: 'open', data: { callee: calleeText(node) } });
          return;
        }
        if (fdopenOfOsOpen(ctx, node)) {
          ctx.report({ node, messageId: 'open', data: { callee: calleeText(node) } });
          return;
        }
        const method = methodCall(node);
        if (!method || !PATH_IO.has(method.method)) return;
        if (typeOf(ctx, method.receiver) !== PATH) return;
        ctx.report({ node, messageId: 'pathMethod', data: { method: method.method } });
      },
    };
  },
};
