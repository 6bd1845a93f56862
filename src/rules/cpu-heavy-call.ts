import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { calleeText, inferWith, keywordArgument, methodCall, PATH, positionalArguments, typeOf, unparenthesize } from './util.js';

/** Functions that burn CPU for as long as their input is large (or by design, for a KDF). */
const SINKS: ReadonlyMap<string, string> = new Map([
  ['hashlib.pbkdf2_hmac', 'key derivation, slow by design'],
  ['hashlib.scrypt', 'key derivation, slow by design'],
  ['bcrypt.hashpw', 'password hashing, slow by design'],
  ['bcrypt.checkpw', 'password hashing, slow by design'],
  ['bcrypt.kdf', 'key derivation, slow by design'],
  ['argon2.low_level.hash_secret', 'password hashing, slow by design'],
  ['argon2.low_level.hash_secret_raw', 'password hashing, slow by design'],
  ['argon2.low_level.verify_secret', 'password hashing, slow by design'],
  ['zlib.compress', 'compression'],
  ['zlib.decompress', 'decompression'],
  ['gzip.compress', 'compression'],
  ['gzip.decompress', 'decompression'],
  ['bz2.compress', 'compression'],
  ['bz2.decompress', 'decompression'],
  ['lzma.compress', 'compression'],
  ['lzma.decompress', 'decompression'],
  // pandas readers do the file (or database) I/O and the parsing: reported here, not as file I/O.
  ...[
    'read_csv',
    'read_table',
    'read_fwf',
    'read_excel',
    'read_json',
    'read_parquet',
    'read_feather',
    'read_orc',
    'read_pickle',
    'read_hdf',
    'read_xml',
    'read_html',
    'read_stata',
    'read_sas',
    'read_spss',
  ].map((name): [string, string] => [`pandas.${name}`, 'reading and parsing a whole file into a DataFrame']),
  ...['read_sql', 'read_sql_query', 'read_sql_table'].map((name): [string, string] => [`pandas.${name}`, 'a synchronous query parsed into a DataFrame']),
]);

/** Parsers that read a whole file object (`json.load(f)`) or a whole file's text (`json.loads(f.read())`). */
const FILE_PARSERS = new Set(['json.load', 'yaml.load', 'yaml.safe_load', 'yaml.full_load', 'yaml.unsafe_load']);
const TEXT_PARSERS = new Set(['json.loads', 'yaml.load', 'yaml.safe_load', 'yaml.full_load', 'yaml.unsafe_load']);

const OPENERS = new Set(['builtins.open', 'io.open', 'codecs.open', 'gzip.open', 'bz2.open', 'lzma.open']);

type Heavy = 'file' | 'argon2-hasher' | 'passlib-context' | 'image' | 'dataframe';

/** Methods that do the heavy work, by receiver type. */
const HEAVY_METHODS: Partial<Record<Heavy, ReadonlySet<string>>> = {
  'argon2-hasher': new Set(['hash', 'verify']),
  'passlib-context': new Set(['hash', 'verify', 'verify_and_update', 'encrypt']),
  image: new Set(['resize', 'thumbnail', 'convert', 'rotate', 'transpose', 'transform', 'filter', 'reduce', 'quantize', 'save']),
  dataframe: new Set(['to_csv', 'to_excel', 'to_parquet', 'to_json', 'to_sql', 'to_pickle', 'to_feather', 'to_hdf', 'to_stata', 'to_orc']),
};

const WHAT: Record<Heavy, string> = {
  file: 'a file',
  'argon2-hasher': 'an argon2 `PasswordHasher` (password hashing, slow by design)',
  'passlib-context': 'a passlib `CryptContext` (password hashing, slow by design)',
  image: 'a PIL image (processing every pixel)',
  dataframe: 'a DataFrame (serialising every row)',
};

/** Image methods that return another image. */
const IMAGE_TO_IMAGE = new Set(['resize', 'convert', 'rotate', 'transpose', 'transform', 'filter', 'reduce', 'quantize', 'copy', 'crop']);

function heavyOf(ctx: RuleContext, expression: SyntaxNode, depth = 0): Heavy | null {
  // `img = img.convert()` refers back to itself: stop following after a while.
  if (depth > 16) return null;
  const classify = (value: SyntaxNode): Heavy | null => {
    if (value.type !== 'call') return null;
    const resolved = ctx.resolveCallee(value);
    if (resolved !== null) {
      if (OPENERS.has(resolved)) return 'file';
      if (resolved === 'argon2.PasswordHasher') return 'argon2-hasher';
      if (resolved === 'passlib.context.CryptContext') return 'passlib-context';
      if (resolved === 'PIL.Image.open' || resolved === 'PIL.Image.new' || resolved === 'PIL.Image.frombytes') return 'image';
      if (resolved === 'pandas.DataFrame' || (SINKS.has(resolved) && resolved.startsWith('pandas.'))) return 'dataframe';
    }
    const method = methodCall(value);
    if (method?.method === 'open' && typeOf(ctx, method.receiver) === PATH) return 'file';
    if (method && IMAGE_TO_IMAGE.has(method.method) && heavyOf(ctx, method.receiver, depth + 1) === 'image') return 'image';
    return null;
  };
  const annotated = (resolved: string): Heavy | null =>
    resolved === 'pandas.DataFrame' ? 'dataframe' : resolved === 'PIL.Image.Image' ? 'image' : resolved === 'argon2.PasswordHasher' ? 'argon2-hasher' : null;
  return inferWith(ctx, expression, classify, annotated)?.type ?? null;
}

/** A name bound to an open file (`with open(p) as f`): not the `open(...)` call itself, which AG103 reports. */
function isFileName(ctx: RuleContext, node: SyntaxNode): boolean {
  const value = unparenthesize(node);
  return value.type === 'identifier' && heavyOf(ctx, value) === 'file';
}

/** Below this many PBKDF2 rounds a derivation takes well under a millisecond (a protocol's fixed hash, not a password store). */
const CHEAP_PBKDF2_ROUNDS = 10_000;

/** `pbkdf2_hmac(name, password, salt, 1000)`: an iteration count written as a small literal. */
function fewIterations(call: SyntaxNode): boolean {
  const rounds = positionalArguments(call)[3] ?? keywordArgument(call, 'iterations');
  const value = rounds ? unparenthesize(rounds) : null;
  return value?.type === 'integer' && Number(value.text.replace(/_/g, '')) < CHEAP_PBKDF2_ROUNDS;
}

export const cpuHeavyCall: Rule = {
  meta: {
    id: 'AG109',
    slug: 'cpu-heavy-call',
    aliases: [],
    family: 'blocking',
    severity: 'info',
    title: 'CPU-heavy call on the event loop',
    fix: 'Run it off the loop: `await asyncio.to_thread(fn, *args)`, or `await loop.run_in_executor(process_pool, fn, *args)` for long pure-Python work.',
    messages: {
      sink: '`{callee}()` is CPU-heavy ({what}): the event loop runs nothing else until it returns',
      method: '`.{method}()` on {what} is CPU-heavy: the event loop runs nothing else until it returns',
      parse: '`{callee}()` parses a whole file on the event loop: reading and parsing block every other task',
    },
    docs: {
      what: 'Flags known CPU sinks called in async code: key derivation and password hashing (`hashlib.pbkdf2_hmac`, `hashlib.scrypt`, `bcrypt.hashpw/checkpw/kdf`, argon2 `PasswordHasher().hash/verify` and `argon2.low_level.hash_secret*`, passlib `CryptContext().hash/verify`), whole-buffer compression (`zlib`, `gzip`, `bz2`, `lzma` `compress`/`decompress`), `json.load(f)` / `yaml.safe_load(f)` on an open file and `json.loads(f.read())`, PIL image processing (`resize`, `thumbnail`, `convert`, `rotate`, `filter`, `save`... on an image from `Image.open/new`), and pandas: the `read_csv/read_excel/read_parquet/read_json/read_sql...` readers (disk or database I/O plus parsing: this rule reports them, blocking-file-io does not) and `to_csv/to_excel/to_parquet/to_sql...` on a DataFrame. Cheap calls are not flagged (`hashlib.sha256(x).hexdigest()`, `pbkdf2_hmac` with an iteration count written below 10,000 (a fixed derivation of a protocol, under a millisecond), `bcrypt.gensalt()`, `zlib.crc32`, `json.loads(body)` of a request body), nor the same functions handed by reference to `asyncio.to_thread` / `run_in_executor` / `functools.partial`. `json.load(open(p))` written inline is left to blocking-file-io, which reports its `open`.',
      why: 'The event loop runs one piece of Python at a time. A bcrypt check takes 50-300 ms on purpose, compressing a few megabytes or parsing a large JSON or CSV file takes as long: meanwhile no other request is served, no timeout fires and heartbeats are missed. Offload it to a thread (hashing, zlib and most C parsers release the GIL) or to a process pool for pure-Python work.',
      example: [
        'import bcrypt',
        '',
        '',
        'async def login(db, username, password):',
        '    user = await db.fetch_user(username)',
        '    if not bcrypt.checkpw(password.encode(), user.password_hash):',
        '        return None',
        '    return user',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        'import bcrypt',
        '',
        '',
        'async def login(db, username, password):',
        '    user = await db.fetch_user(username)',
        '    if not await asyncio.to_thread(bcrypt.checkpw, password.encode(), user.password_hash):',
        '        return None',
        '    return user',
      ].join('\n'),
    },
    cites: [
      { guide: 'S0', section: 'Step 1 — Verify async is the right tool' },
      { guide: 'S0', section: "Step 5 — Don't block the event loop" },
      { guide: 'S1', section: 'Core Principles' },
      { guide: 'S1', section: 'Pitfall 1: Blocking the Event Loop' },
      { guide: 'S3', section: 'Sync vs Async Decision Guide' },
    ],
  },
  create(ctx) {
    return {
      call(node) {
        if (!ctx.inAsyncCode()) return;
        const resolved = ctx.resolveCallee(node);
        if (resolved !== null) {
          const what = SINKS.get(resolved);
          if (what && !(resolved === 'hashlib.pbkdf2_hmac' && fewIterations(node))) {
            ctx.report({ node, messageId: 'sink', data: { callee: calleeText(node), what } });
            return;
          }
          if (resolved.startsWith('passlib.hash.') && /\.(hash|verify|encrypt)$/.test(resolved)) {
            ctx.report({ node, messageId: 'sink', data: { callee: calleeText(node), what: 'password hashing, slow by design' } });
            return;
          }
          const [first] = positionalArguments(node);
          if (first && FILE_PARSERS.has(resolved) && isFileName(ctx, first)) {
            ctx.report({ node, messageId: 'parse', data: { callee: calleeText(node) } });
            return;
          }
          if (first && TEXT_PARSERS.has(resolved)) {
            const inner = unparenthesize(first);
            const read = inner.type === 'call' ? methodCall(inner) : null;
            if (read?.method === 'read' && positionalArguments(inner).length === 0 && isFileName(ctx, read.receiver)) {
              ctx.report({ node, messageId: 'parse', data: { callee: calleeText(node) } });
            }
            return;
          }
        }
        const method = methodCall(node);
        if (!method) return;
        const type = heavyOf(ctx, method.receiver);
        if (!type || !HEAVY_METHODS[type]?.has(method.method)) return;
        // `img.convert().resize()`: one finding, on the outer call.
        const outer = node.parent?.type === 'attribute' ? node.parent.parent : null;
        const next = outer?.type === 'call' ? methodCall(outer) : null;
        if (next && HEAVY_METHODS[type]?.has(next.method)) return;
        ctx.report({ node, messageId: 'method', data: { method: method.method, what: WHAT[type] } });
      },
    };
  },
};
