import type { Rule } from './types.js';
import { calleeText, HTTPX_CLIENT, methodCall, REQUESTS_SESSION, typeOf, unparenthesize, URLLIB3_POOL } from './util.js';

const VERBS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'request'];

/** Module-level functions that send a request and wait for the answer. */
const REQUEST_FUNCTIONS = new Set([
  ...VERBS.map((verb) => `requests.${verb}`),
  ...[...VERBS, 'stream'].map((verb) => `httpx.${verb}`),
  'urllib.request.urlopen',
  'urllib.request.urlretrieve',
  'urllib3.request',
]);

/** Constructing one of these in async code means its blocking methods are about to be used. */
const SYNC_CLIENTS = new Set(['requests.Session', 'requests.session', 'httpx.Client']);

/** The blocking methods of each synchronous client type. */
const CLIENT_METHODS: Record<string, ReadonlySet<string>> = {
  [REQUESTS_SESSION]: new Set([...VERBS, 'send']),
  [HTTPX_CLIENT]: new Set([...VERBS, 'stream', 'send', 'close']),
  [URLLIB3_POOL]: new Set(['request', 'urlopen', 'request_encode_url', 'request_encode_body']),
};

const ANY_CLIENT_METHOD = new Set(Object.values(CLIENT_METHODS).flatMap((methods) => [...methods]));

const TYPE_NAMES: Record<string, string> = {
  [REQUESTS_SESSION]: 'requests.Session',
  [HTTPX_CLIENT]: 'httpx.Client',
  [URLLIB3_POOL]: 'urllib3 pool',
};

export const blockingHttp: Rule = {
  meta: {
    id: 'AG102',
    slug: 'blocking-http',
    aliases: ['ASYNC210', 'ASYNC211', 'ASYNC212', 'S7499'],
    family: 'blocking',
    severity: 'error',
    title: 'Blocking HTTP call in async code',
    fix: 'Use an async client (`httpx.AsyncClient`, `aiohttp.ClientSession`) with `await`, or `await asyncio.to_thread(...)` for a one-off call.',
    messages: {
      request: '`{callee}()` is a blocking HTTP request: the event loop stalls until the server answers',
      client: '`{callee}()` creates a synchronous HTTP client in async code: each request it sends blocks the event loop',
      clientMethod: '`{callee}()` on a synchronous {type} blocks the event loop until the server answers',
    },
    docs: {
      what: 'Flags synchronous HTTP in async code: `requests.get/post/put/patch/delete/head/options/request`, `requests.Session()` and the requests a Session sends, `urllib.request.urlopen`, `urllib3.request` and `PoolManager().request`, `httpx.get/post/.../request/stream`, and `httpx.Client()` with the requests it sends. A client is recognised when it is built in the same expression, or bound to a name by assignment, `with ... as` or an annotation (`client: httpx.Client`).',
      why: 'A synchronous HTTP call waits for DNS, the TCP and TLS handshakes and the whole response without ever yielding to the event loop. For that time, which is as long as the slowest server and its timeout, no other request handler, heartbeat or timer on the loop runs: one slow upstream freezes the service.',
      example: [
        'import requests',
        '',
        '',
        'async def resolve(registry_url, name):',
        "    response = requests.get(f'{registry_url}/services/{name}', timeout=5)",
        '    response.raise_for_status()',
        '    return response.json()',
      ].join('\n'),
      useInstead: [
        'import httpx',
        '',
        '',
        'async def resolve(client: httpx.AsyncClient, registry_url, name):',
        "    response = await client.get(f'{registry_url}/services/{name}', timeout=5)",
        '    response.raise_for_status()',
        '    return response.json()',
      ].join('\n'),
    },
    cites: [
      { guide: 'S0', section: "Step 5 — Don't block the event loop" },
      { guide: 'S0', section: 'Step 3 — Bridge sync ↔ async correctly' },
      { guide: 'S1', section: 'Pitfall 1: Blocking the Event Loop' },
      { guide: 'S2', section: 'Critical Warnings' },
    ],
  },
  create(ctx) {
    return {
      call(node) {
        if (!ctx.inAsyncCode()) return;
        const resolved = ctx.resolveCallee(node);
        const callee = calleeText(node);
        if (resolved && REQUEST_FUNCTIONS.has(resolved)) {
          ctx.report({ node, messageId: 'request', data: { callee } });
          return;
        }
        if (resolved && SYNC_CLIENTS.has(resolved)) {
          ctx.report({ node, messageId: 'client', data: { callee } });
          return;
        }
        const method = methodCall(node);
        if (!method || !ANY_CLIENT_METHOD.has(method.method)) return;
        const receiver = unparenthesize(method.receiver);
        // `requests.Session().get(...)`: the construction is already reported.
        if (receiver.type === 'call' && SYNC_CLIENTS.has(ctx.resolveCallee(receiver) ?? '')) return;
        const type = typeOf(ctx, receiver);
        if (!type || !CLIENT_METHODS[type]?.has(method.method)) return;
        ctx.report({ node, messageId: 'clientMethod', data: { callee, type: TYPE_NAMES[type] ?? type } });
      },
    };
  },
};
