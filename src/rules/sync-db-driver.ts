import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext } from './types.js';
import { calleeText, inferWith, keywordArgument, methodCall, NESTED_SCOPES, parenthesized, positionalArguments, unparenthesize } from './util.js';

/** What a value is, in this rule's vocabulary. */
type Db =
  | 'sqlite'
  | 'psycopg2'
  | 'psycopg'
  | 'mysql'
  | 'mongo'
  | 'mongo-db'
  | 'mongo-collection'
  | 'redis'
  | 'sa-engine'
  | 'sa-connection'
  | 'sa-session'
  | 'sa-sessionmaker';

/** Calls that connect at once (a network round trip or a file open): flagged wherever they run on the loop. */
const CONNECTORS: ReadonlyMap<string, Db> = new Map([
  ['sqlite3.connect', 'sqlite'],
  ['sqlite3.dbapi2.connect', 'sqlite'],
  ['psycopg2.connect', 'psycopg2'],
  ['psycopg.connect', 'psycopg'],
  ['psycopg.Connection.connect', 'psycopg'],
  ['pymysql.connect', 'mysql'],
  ['pymysql.Connect', 'mysql'],
  ['pymysql.connections.Connection', 'mysql'],
  ['MySQLdb.connect', 'mysql'],
  ['MySQLdb.Connect', 'mysql'],
  ['mysql.connector.connect', 'mysql'],
]);

/**
 * Constructors of sync clients that connect lazily: flagged only when the client is used in the
 * same async function (built in an async start-up hook and stored for sync code, it blocks nothing).
 */
const LAZY: ReadonlyMap<string, Db> = new Map([
  ['pymongo.MongoClient', 'mongo'],
  ['pymongo.mongo_client.MongoClient', 'mongo'],
  ['redis.Redis', 'redis'],
  ['redis.StrictRedis', 'redis'],
  ['redis.client.Redis', 'redis'],
  ['redis.client.StrictRedis', 'redis'],
  ['redis.from_url', 'redis'],
  ['redis.Redis.from_url', 'redis'],
  ['redis.StrictRedis.from_url', 'redis'],
  ['sqlalchemy.create_engine', 'sa-engine'],
  ['sqlalchemy.engine.create_engine', 'sa-engine'],
  ['sqlalchemy.orm.Session', 'sa-session'],
  ['sqlalchemy.orm.session.Session', 'sa-session'],
  ['sqlalchemy.orm.sessionmaker', 'sa-sessionmaker'],
  ['sqlalchemy.orm.session.sessionmaker', 'sa-sessionmaker'],
]);

/** Annotations naming a sync client. */
const ANNOTATIONS: ReadonlyMap<string, Db> = new Map([
  ['sqlite3.Connection', 'sqlite'],
  ['psycopg2.extensions.connection', 'psycopg2'],
  ['psycopg.Connection', 'psycopg'],
  ['pymysql.connections.Connection', 'mysql'],
  ['pymysql.Connection', 'mysql'],
  ['pymongo.MongoClient', 'mongo'],
  ['pymongo.database.Database', 'mongo-db'],
  ['pymongo.collection.Collection', 'mongo-collection'],
  ['redis.Redis', 'redis'],
  ['redis.StrictRedis', 'redis'],
  ['redis.client.Redis', 'redis'],
  ['sqlalchemy.Engine', 'sa-engine'],
  ['sqlalchemy.engine.Engine', 'sa-engine'],
  ['sqlalchemy.Connection', 'sa-connection'],
  ['sqlalchemy.engine.Connection', 'sa-connection'],
  ['sqlalchemy.orm.Session', 'sa-session'],
]);

/** DB-API calls that wait for the server. `cursor()` is not one: it builds a local object (sqlite3, psycopg, PyMySQL). */
const DBAPI = ['execute', 'executemany', 'executescript', 'commit', 'rollback'];

/** Methods that talk to the server, by client type. */
const BLOCKING_METHODS: Record<Db, ReadonlySet<string>> = {
  sqlite: new Set(DBAPI),
  psycopg2: new Set(DBAPI),
  psycopg: new Set(DBAPI),
  mysql: new Set(DBAPI),
  mongo: new Set(['list_database_names', 'server_info', 'drop_database']),
  'mongo-db': new Set(['list_collection_names', 'command', 'drop_collection', 'create_collection']),
  'mongo-collection': new Set([
    'find',
    'find_one',
    'insert_one',
    'insert_many',
    'update_one',
    'update_many',
    'replace_one',
    'delete_one',
    'delete_many',
    'count_documents',
    'estimated_document_count',
    'aggregate',
    'distinct',
    'find_one_and_update',
    'find_one_and_delete',
    'find_one_and_replace',
    'bulk_write',
    'create_index',
  ]),
  // prettier-ignore
  redis: new Set([
    'get', 'set', 'setex', 'setnx', 'getset', 'mget', 'mset', 'delete', 'exists', 'expire', 'ttl', 'incr',
    'incrby', 'decr', 'hget', 'hset', 'hmget', 'hgetall', 'hdel', 'hincrby', 'hkeys', 'lpush', 'rpush', 'lpop',
    'rpop', 'blpop', 'brpop', 'lrange', 'llen', 'sadd', 'srem', 'smembers', 'sismember', 'zadd', 'zrem',
    'zrange', 'zrangebyscore', 'zscore', 'zincrby', 'publish', 'keys', 'scan', 'ping', 'eval', 'evalsha',
    'xadd', 'xread', 'xreadgroup', 'xack',
  ]),
  'sa-engine': new Set(['connect', 'begin', 'execute', 'raw_connection']),
  'sa-connection': new Set(['execute', 'exec_driver_sql', 'scalar', 'scalars', 'commit', 'rollback']),
  'sa-session': new Set(['execute', 'scalars', 'scalar', 'get', 'commit', 'rollback', 'flush', 'refresh', 'merge', 'query']),
  'sa-sessionmaker': new Set(['begin']),
};

interface Driver {
  what: string;
  object: string;
  driver: string;
}

const SA = "SQLAlchemy's asyncio extension (`create_async_engine`, `AsyncSession`, `async_sessionmaker`)";
const MONGO = "motor's `AsyncIOMotorClient` (or PyMongo's `AsyncMongoClient`)";

const DRIVERS: Record<Db, Driver> = {
  sqlite: { what: 'SQLite', object: 'connection', driver: '`aiosqlite`' },
  psycopg2: { what: 'PostgreSQL', object: 'connection', driver: "`asyncpg` or psycopg 3's `AsyncConnection`" },
  psycopg: { what: 'PostgreSQL', object: 'connection', driver: '`await psycopg.AsyncConnection.connect(...)`' },
  mysql: { what: 'MySQL', object: 'connection', driver: '`aiomysql` (or `asyncmy`)' },
  mongo: { what: 'MongoDB', object: 'client', driver: MONGO },
  'mongo-db': { what: 'MongoDB', object: 'database', driver: MONGO },
  'mongo-collection': { what: 'MongoDB', object: 'collection', driver: MONGO },
  redis: { what: 'Redis', object: 'client', driver: '`redis.asyncio.Redis`' },
  'sa-engine': { what: 'SQLAlchemy', object: 'engine', driver: SA },
  'sa-connection': { what: 'SQLAlchemy', object: 'connection', driver: SA },
  'sa-session': { what: 'SQLAlchemy', object: 'session', driver: SA },
  'sa-sessionmaker': { what: 'SQLAlchemy', object: 'session factory', driver: SA },
};

/** The constructor type of a call, or null; a `sessionmaker(class_=AsyncSession)` is not sync. */
function constructed(ctx: RuleContext, call: SyntaxNode): { type: Db; eager: boolean } | null {
  const resolved = ctx.resolveCallee(call);
  if (resolved === null) return null;
  const eager = CONNECTORS.get(resolved);
  if (eager) return { type: eager, eager: true };
  const lazy = LAZY.get(resolved);
  if (!lazy || (lazy === 'sa-sessionmaker' && keywordArgument(call, 'class_'))) return null;
  return { type: lazy, eager: false };
}

function dbOf(ctx: RuleContext, expression: SyntaxNode, depth = 0): Db | null {
  // `conn = conn.connect()` and the like refer back to themselves: stop following after a while.
  if (depth > 16) return null;
  const classify = (value: SyntaxNode): Db | null => {
    if (value.type === 'call') {
      const made = constructed(ctx, value);
      if (made) return made.type;
      const callee = value.childForFieldName('function');
      if (!callee) return null;
      const method = methodCall(value);
      if (method) {
        const receiver = dbOf(ctx, method.receiver, depth + 1);
        if (receiver === 'sa-engine' && (method.method === 'connect' || method.method === 'begin')) return 'sa-connection';
        if (receiver === 'mongo' && method.method === 'get_database') return 'mongo-db';
        if (receiver === 'mongo-db' && method.method === 'get_collection') return 'mongo-collection';
      }
      return dbOf(ctx, callee, depth + 1) === 'sa-sessionmaker' ? 'sa-session' : null;
    }
    if (value.type === 'attribute' || value.type === 'subscript') {
      const object = value.childForFieldName(value.type === 'attribute' ? 'object' : 'value');
      const parent = object ? dbOf(ctx, object, depth + 1) : null;
      if (parent === 'mongo') return 'mongo-db';
      if (parent === 'mongo-db') return 'mongo-collection';
    }
    return null;
  };
  return inferWith(ctx, expression, classify, (resolved) => ANNOTATIONS.get(resolved) ?? null)?.type ?? null;
}

/** The name or `self` at the bottom of `a.b[c].d()`. */
function rootOf(expression: SyntaxNode): SyntaxNode {
  let node = unparenthesize(expression);
  for (;;) {
    const field = node.type === 'attribute' ? 'object' : node.type === 'subscript' ? 'value' : node.type === 'call' ? 'function' : null;
    const next = field ? node.childForFieldName(field) : null;
    if (!next) return node;
    node = unparenthesize(next);
  }
}

/** True when `name` is bound by this very function other than as a parameter. */
function boundLocally(ctx: RuleContext, name: string): boolean {
  const found = ctx.lookup(name);
  return found !== null && found.scope.node.id === ctx.scope().node.id && found.bindings.some((b) => b.kind !== 'param');
}


/** True when `name` is used as a client in `body` (not in nested defs): `name.m`, `name(...)`, `with name`. */
function usedAsClient(body: SyntaxNode, name: string): boolean {
  const cursor = body.walk();
  for (;;) {
    if (cursor.nodeType === 'identifier' && cursor.nodeText === name) {
      const node = cursor.currentNode;
      const parent = node.parent;
      if (parent?.type === 'attribute' && parent.childForFieldName('object')?.id === node.id) return true;
      if (parent?.type === 'call' && parent.childForFieldName('function')?.id === node.id) return true;
      if (parent?.type === 'with_item' || (parent?.type === 'as_pattern' && parent.parent?.type === 'with_item' && parent.namedChild(0)?.id === node.id)) return true;
    }
    if (!NESTED_SCOPES.has(cursor.nodeType) && cursor.gotoFirstChild()) continue;
    for (;;) {
      if (cursor.gotoNextSibling()) break;
      if (!cursor.gotoParent()) return false;
    }
  }
}

/** A lazy client's constructor is worth a comment when the client is used right here. */
function usedHere(ctx: RuleContext, call: SyntaxNode): boolean {
  let node = call;
  node = parenthesized(node);
  const parent = node.parent;
  if (!parent) return false;
  if (parent.type === 'attribute' || parent.type === 'subscript') return parent.childForFieldName(parent.type === 'attribute' ? 'object' : 'value')?.id === node.id;
  if (parent.type === 'with_item' || (parent.type === 'as_pattern' && parent.parent?.type === 'with_item')) return true;
  if (parent.type === 'assignment' && parent.childForFieldName('right')?.id === node.id) {
    const left = parent.childForFieldName('left');
    if (left?.type !== 'identifier' || !boundLocally(ctx, left.text)) return false;
    const body = ctx.scope().node.childForFieldName('body');
    return body !== null && usedAsClient(body, left.text);
  }
  return false;
}

/**
 * Every database the file opens is an in-memory SQLite one (`create_engine("sqlite:///:memory:")`,
 * `sqlite3.connect(":memory:")`; matridge's reaction cache): there is no disk or server to wait for,
 * each query is work on memory, like a dict lookup. Any other connect or client of the file (a URL,
 * a path, a host) counts as a real database.
 */
function inMemoryDatabasesOnly(ctx: RuleContext): boolean {
  let opened = 0;
  for (const call of ctx.file.tree.rootNode.descendantsOfType('call')) {
    const made = constructed(ctx, call);
    // Sessions and session factories open nothing themselves: the engine they are bound to does.
    if (!made || made.type === 'sa-session' || made.type === 'sa-sessionmaker') continue;
    const first = positionalArguments(call)[0];
    if (first?.type !== 'string' || !first.text.includes(':memory:')) return false;
    opened++;
  }
  return opened > 0;
}

export const syncDbDriver: Rule = {
  meta: {
    id: 'AG107',
    slug: 'sync-db-driver',
    aliases: [],
    family: 'blocking',
    severity: 'error',
    title: 'Synchronous database driver in async code',
    fix: 'Switch to the async driver (aiosqlite, asyncpg / psycopg AsyncConnection, aiomysql, motor, redis.asyncio, SQLAlchemy AsyncEngine/AsyncSession) and await its calls.',
    messages: {
      connect: '`{callee}()` opens a synchronous {what} connection: connecting and every query on it block the event loop; use {driver}',
      client: '`{callee}()` builds a synchronous {what} {object} and uses it here: every call on it blocks the event loop; use {driver}',
      method: '`.{method}()` on a synchronous {what} {object} blocks the event loop until the database answers; use {driver}',
      session: '`{callee}()` opens a synchronous SQLAlchemy session: its queries block the event loop; use {driver}',
    },
    docs: {
      what: 'Flags synchronous database drivers used in async code. A connect call is flagged wherever it runs on the loop: `sqlite3.connect`, `psycopg2.connect`, `psycopg.connect` (psycopg 3 sync), `pymysql.connect`, `MySQLdb.connect`, `mysql.connector.connect`. A lazily connecting client (`pymongo.MongoClient`, `redis.Redis` / `StrictRedis` / `from_url`, SQLAlchemy `create_engine`, `Session`, `sessionmaker`) is flagged when the async function also uses it (a method call, `with`, a call); built in an async start-up hook and only stored, it is left alone. Calls that talk to the server (`execute`, `commit`, `rollback`, Redis commands, Mongo collection methods, `engine.connect()`, `session.execute()`...) are flagged on a client bound elsewhere: a `self.x` attribute, a module global, an annotated parameter (`conn: sqlite3.Connection`), or a session made by a `sessionmaker`. The async drivers (`aiosqlite`, `asyncpg`, `psycopg.AsyncConnection`, `aiomysql`, `motor`, `redis.asyncio`, `create_async_engine`, `AsyncSession`, `sessionmaker(class_=AsyncSession)`) are never flagged, nor a client of unknown type, nor `conn.cursor()`, which only builds a local object. A file whose every database is an in-memory SQLite one (`create_engine("sqlite:///:memory:")`, `sqlite3.connect(":memory:")`) is left alone: its queries wait for no disk or server.',
      why: 'A sync driver waits for the database on the calling thread. In async code that thread runs the event loop, so every query stalls every other request of the service for one database round trip, and a slow query or a lock wait stalls it for seconds. Under load the latencies add up: the service serves one query at a time.',
      example: [
        'import sqlite3',
        '',
        '',
        'async def get_user(request):',
        '    conn = sqlite3.connect("app.db")',
        '    row = conn.execute("SELECT name FROM users WHERE id = ?", (request.user_id,)).fetchone()',
        '    return {"name": row[0]}',
      ].join('\n'),
      useInstead: [
        'import aiosqlite',
        '',
        '',
        'async def get_user(request):',
        '    async with aiosqlite.connect("app.db") as conn:',
        '        async with conn.execute("SELECT name FROM users WHERE id = ?", (request.user_id,)) as cursor:',
        '            row = await cursor.fetchone()',
        '    return {"name": row[0]}',
      ].join('\n'),
    },
    cites: [
      { guide: 'S0', section: 'Step 3 — Bridge sync ↔ async correctly' },
      { guide: 'S0', section: "Step 5 — Don't block the event loop" },
      { guide: 'S1', section: 'Common Libraries' },
    ],
  },
  create(ctx) {
    let memoryOnly: boolean | null = null;
    return {
      call(node) {
        if (!ctx.inAsyncCode()) return;
        if ((memoryOnly ??= inMemoryDatabasesOnly(ctx))) return;
        const made = constructed(ctx, node);
        if (made) {
          if (!made.eager && !usedHere(ctx, node)) return;
          const driver = DRIVERS[made.type];
          ctx.report({ node, messageId: made.eager ? 'connect' : 'client', data: { callee: calleeText(node), ...driver } });
          return;
        }
        const callee = node.childForFieldName('function');
        const method = methodCall(node);
        if (!callee) return;
        const root = rootOf(callee);
        // A client built in this function is reported where it is built, once.
        if (root.type === 'identifier' && boundLocally(ctx, root.text)) return;
        if (method) {
          const type = dbOf(ctx, method.receiver);
          if (type && BLOCKING_METHODS[type].has(method.method)) {
            ctx.report({ node, messageId: 'method', data: { method: method.method, ...DRIVERS[type] } });
            return;
          }
        }
        if (dbOf(ctx, callee) === 'sa-sessionmaker') {
          ctx.report({ node, messageId: 'session', data: { callee: calleeText(node), ...DRIVERS['sa-session'] } });
        }
      },
    };
  },
};
