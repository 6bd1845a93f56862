import type { SyntaxNode } from '../python/parser.js';
import type { Rule } from './types.js';
import { calleeText, keywordArgument, methodCall, methodsOf, NESTED_SCOPES, PATH, positionalArguments, typeOf, unparenthesize } from './util.js';

/**
 * `os` / `os.path` functions that ask the filesystem (a `stat`, a directory read, a metadata write).
 * Left out on purpose, as pure path math or a process-local lookup: `abspath`, `relpath`,
 * `normpath`, `expanduser`, `expandvars`, `join`, `split*`, `basename`, `dirname`, `getcwd`.
 */
const OS_CALLS = new Set([
  'os.path.exists',
  'os.path.lexists',
  'os.path.isfile',
  'os.path.isdir',
  'os.path.islink',
  'os.path.ismount',
  'os.path.isjunction',
  'os.path.getsize',
  'os.path.getmtime',
  'os.path.getatime',
  'os.path.getctime',
  'os.path.samefile',
  'os.path.sameopenfile',
  'os.path.realpath',
  'os.stat',
  'os.lstat',
  'os.listdir',
  'os.scandir',
  'os.walk',
  'os.remove',
  'os.unlink',
  'os.rename',
  'os.renames',
  'os.replace',
  'os.makedirs',
  'os.mkdir',
  'os.rmdir',
  'os.removedirs',
  'os.chmod',
  'os.chown',
  'os.access',
  'os.readlink',
  'os.symlink',
  'os.link',
  'os.utime',
  'os.truncate',
]);

/**
 * `pathlib.Path` methods that touch the disk for metadata. `read_text/read_bytes/write_text/
 * write_bytes/open` are file I/O (AG103); `absolute`, `expanduser`, `cwd`, `home` only ask the
 * process; `with_suffix`, `joinpath`, `relative_to`, `/`... are path math.
 */
const PATH_METHODS = new Set([
  'exists',
  'is_file',
  'is_dir',
  'is_symlink',
  'is_mount',
  'is_junction',
  'is_socket',
  'is_fifo',
  'is_block_device',
  'is_char_device',
  'stat',
  'lstat',
  'owner',
  'group',
  'samefile',
  'resolve',
  'readlink',
  'iterdir',
  'glob',
  'rglob',
  'walk',
  'touch',
  'mkdir',
  'rmdir',
  'unlink',
  'rename',
  'replace',
  'chmod',
  'lchmod',
  'symlink_to',
  'hardlink_to',
  'link_to',
]);

/**
 * Calls that bind a UNIX socket to a filesystem path, by method name, with the argument that is the
 * path: its keyword and, when it may be passed positionally, its position.
 */
const SOCKET_BINDERS: Record<string, { keyword: string; position: number | null }> = {
  bind: { keyword: '', position: 0 },
  create_unix_server: { keyword: 'path', position: 1 },
  start_unix_server: { keyword: 'path', position: 1 },
  create_datagram_endpoint: { keyword: 'local_addr', position: null },
};


/** An expression's text, whitespace collapsed, `str(x)` / `os.fspath(x)` / `(x)` unwrapped. */
function pathKey(expression: SyntaxNode): string {
  let node = unparenthesize(expression);
  while (node.type === 'call' && /^(str|os\.fspath|fspath)$/.test(calleeText(node))) {
    const args = node.childForFieldName('arguments')?.namedChildren ?? [];
    if (args.length !== 1 || args[0]!.type === 'keyword_argument') break;
    node = unparenthesize(args[0]!);
  }
  return node.text.replace(/\s+/g, '');
}

/**
 * The path expressions a function binds a UNIX socket to: the address of a `.bind(...)`, the
 * `path=` of `create_unix_server`/`start_unix_server`, the `local_addr=` of
 * `create_datagram_endpoint` in its body (nested scopes left out), and, when the function is
 * itself one of those (an event loop's own implementation), its parameter of that name.
 */
function socketPaths(definition: SyntaxNode): Set<string> {
  const out = new Set<string>();
  const name = definition.childForFieldName('name')?.text;
  const own = name ? SOCKET_BINDERS[name] : undefined;
  const parameters = definition.childForFieldName('parameters')?.namedChildren ?? [];
  const parameterName = (p: SyntaxNode) => (p.type === 'identifier' ? p.text : (p.childForFieldName('name') ?? p.namedChildren.find((c) => c.type === 'identifier'))?.text);
  if (own?.keyword && parameters.some((p) => parameterName(p) === own.keyword)) out.add(own.keyword);
  const body = definition.childForFieldName('body');
  if (!body) return out;
  const visit = (node: SyntaxNode) => {
    if (node.type === 'call') {
      const method = methodCall(node);
      const callee = method?.method ?? node.childForFieldName('function')?.text;
      const binder = callee ? SOCKET_BINDERS[callee] : undefined;
      if (binder && (method || callee !== 'bind')) {
        const argument =
          (binder.keyword ? keywordArgument(node, binder.keyword) : null) ??
          (binder.position !== null ? (positionalArguments(node)[binder.position] ?? null) : null);
        if (argument) out.add(pathKey(argument));
      }
    }
    for (const child of node.namedChildren) if (!NESTED_SCOPES.has(child.type)) visit(child);
  };
  visit(body);
  return out;
}

export const blockingFsMetadata: Rule = {
  meta: {
    id: 'AG104',
    slug: 'blocking-fs-metadata',
    aliases: ['ASYNC240'],
    family: 'blocking',
    severity: 'info',
    title: 'Blocking filesystem call in async code',
    fix: 'Run it in a thread (`await asyncio.to_thread(os.path.exists, path)`), or use `anyio.Path` / `aiofiles.os` where the filesystem may be slow.',
    messages: {
      osCall: '`{callee}()` is a synchronous filesystem call: the event loop waits for the disk',
      pathMethod: '`Path.{method}()` is a synchronous filesystem call: the event loop waits for the disk',
    },
    docs: {
      what: 'Flags filesystem metadata calls made synchronously in async code: `os.path.exists/lexists/isfile/isdir/islink/ismount/getsize/getmtime/getatime/getctime/samefile/realpath`, `os.stat/lstat/listdir/scandir/walk/remove/unlink/rename/replace/makedirs/mkdir/rmdir/removedirs/chmod/chown/access/readlink/symlink/link/utime/truncate`, and the `pathlib.Path` methods that touch the disk (`exists`, `is_file`, `is_dir`, `stat`, `iterdir`, `glob`, `rglob`, `resolve`, `touch`, `mkdir`, `unlink`, `rename`, `replace`, `chmod`, `owner`...) when the receiver is visibly a `Path` (`Path(p).exists()`, a name bound to `Path(...)` or annotated `Path`). Pure path math is never flagged (`os.path.join/basename/dirname/splitext/abspath/normpath/relpath/expanduser`, `Path.with_suffix/joinpath/absolute/expanduser`, `/`), nor a name of unknown type. Reading and writing file contents (`Path.read_text` & co.) is blocking-file-io (AG103), not this rule. Not flagged either: one-time set-up of a UNIX socket file, a call whose path (the same expression, `str()`/`os.fspath()` aside) the same function also binds a socket to (`sock.bind(path)`, `create_unix_server(path=...)`, `start_unix_server(path=...)`, `create_datagram_endpoint(local_addr=...)`, or the `path`/`local_addr` parameter of an event loop implementing `create_unix_server`/`create_datagram_endpoint` itself): removing a stale socket or fixing its permissions sits next to a `bind` that is just as synchronous. The same holds for `self.<path>` when another method of the class serves a UNIX socket on it (the socket file\'s removal in `close()`).',
      why: 'Each of these is a system call that waits for the filesystem. On a local SSD with a warm cache that is microseconds, which is why this is advice; on NFS, a FUSE or container overlay filesystem, a cold cache or a busy disk it is milliseconds to seconds, and a directory walk or glob multiplies it by the number of entries. Meanwhile the event loop runs nothing else: every request of the service waits behind one `exists()`.',
      example: [
        'import os',
        '',
        '',
        'async def serve_upload(request, root):',
        '    path = os.path.join(root, request.match_info["name"])',
        '    if not os.path.isfile(path):',
        '        return None',
        '    return await request.app["store"].send(path)',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        'import os',
        '',
        '',
        'async def serve_upload(request, root):',
        '    path = os.path.join(root, request.match_info["name"])',
        '    if not await asyncio.to_thread(os.path.isfile, path):',
        '        return None',
        '    return await request.app["store"].send(path)',
      ].join('\n'),
    },
    cites: [{ guide: 'S0', section: "Step 5 — Don't block the event loop" }],
  },
  create(ctx) {
    const cache = new Map<number, Set<string>>();
    /** True when `path` is also where this function binds a UNIX socket: one-time socket-file set-up. */
    const isSocketPath = (path: SyntaxNode | undefined): boolean => {
      if (!path) return false;
      const scope = ctx.scope();
      if (scope.kind !== 'def' && scope.kind !== 'async-def') return false;
      let paths = cache.get(scope.node.id);
      if (!paths) cache.set(scope.node.id, (paths = socketPaths(scope.node)));
      const key = pathKey(path);
      if (paths.has(key)) return true;
      // `os.unlink(self._path)` in `close()` of a class whose other method serves a UNIX socket on
      // `self._path`: the socket file's teardown, once, as synchronous as its set-up.
      if (!key.startsWith('self.')) return false;
      const chain = ctx.scopeChain();
      const owner = chain[chain.indexOf(scope) - 1];
      if (owner?.kind !== 'class') return false;
      let classPaths = cache.get(owner.node.id);
      if (!classPaths) {
        classPaths = new Set<string>();
        for (const definition of methodsOf(owner.node)) for (const p of socketPaths(definition)) classPaths.add(p);
        cache.set(owner.node.id, classPaths);
      }
      return classPaths.has(key);
    };
    return {
      call(node) {
        if (!ctx.inAsyncCode()) return;
        const resolved = ctx.resolveCallee(node);
        if (resolved !== null && OS_CALLS.has(resolved)) {
          if (isSocketPath(positionalArguments(node)[0])) return;
          ctx.report({ node, messageId: 'osCall', data: { callee: calleeText(node) } });
          return;
        }
        const method = methodCall(node);
        if (!method || !PATH_METHODS.has(method.method)) return;
        if (typeOf(ctx, method.receiver) !== PATH) return;
        const receiver = unparenthesize(method.receiver);
        const pathArgument = receiver.type === 'call' ? positionalArguments(receiver)[0] : undefined;
        if (isSocketPath(receiver) || isSocketPath(pathArgument)) return;
        ctx.report({ node, messageId: 'pathMethod', data: { method: method.method } });
      },
    };
  },
};
