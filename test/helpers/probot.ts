/**
 * The app under Probot, with GitHub played by nock. Probot 14 talks to GitHub through the native
 * fetch, which nock 14 intercepts. Every reply is recorded (method, path, parsed body) so a test
 * asserts the exact requests, in order; a request nothing matches is recorded too and fails the
 * test in `finish()`, even when the app caught the error (the review queue logs and swallows
 * them, and the pipeline would complete the check run as neutral).
 */
import { generateKeyPairSync } from 'node:crypto';
import nock from 'nock';
import { pino } from 'pino';
import { Probot, ProbotOctokit } from 'probot';
import { afterEach, beforeEach, expect } from 'vitest';
import { inlineAnalyzer } from '../../src/analysis/analyzer.js';
import { createAsyncguard, type Asyncguard } from '../../src/app.js';

export const APP_ID = 123;
export const API = 'https://api.github.com';

// One key per test process: generating RSA keys is slow, and only the JWT signature needs one.
const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'pkcs1', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
});

export interface RecordedRequest {
  method: string;
  /** Path and query string, as sent. */
  path: string;
  /** Parsed JSON body; undefined for requests without one. */
  body: unknown;
}

export interface LogRecord {
  level: number;
  msg: string;
  err?: { message?: string; type?: string };
  [key: string]: unknown;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A recording fake of api.github.com: answers only what a test declares. */
export class GitHubMock {
  readonly requests: RecordedRequest[] = [];
  readonly unmatched: string[] = [];
  readonly #scope = nock(API);
  readonly #onNoMatch = (req: Record<string, unknown>, options?: Record<string, unknown>, body?: string) => {
    const source = options ?? req;
    this.unmatched.push(`${String(source.method)} ${String(source.host ?? source.hostname)}${String(source.path)} ${body ?? ''}`.trim());
  };

  constructor() {
    nock.emitter.on('no match', this.#onNoMatch);
  }

  /**
   * Answers one request. `path` may carry the query string (matched exactly, in any order);
   * the reply is recorded with the path as the app sent it.
   */
  on(method: Method, path: string, reply: Reply = {}): this {
    const [pathname, search] = path.split('?') as [string, string | undefined];
    let interceptor = this.#scope.intercept(pathname, method);
    // Without .query(), nock only matches a request with no query string at all.
    if (search !== undefined) interceptor = interceptor.query(Object.fromEntries(new URLSearchParams(search)));
    const requests = this.requests;
    interceptor.reply(function (uri, body) {
      requests.push({ method, path: uri, body: parseBody(body) });
      return [reply.status ?? 200, reply.body ?? {}, reply.headers ?? {}];
    });
    return this;
  }

  get(path: string, reply?: Reply): this {
    return this.on('GET', path, reply);
  }

  post(path: string, reply?: Reply): this {
    return this.on('POST', path, reply);
  }

  patch(path: string, reply?: Reply): this {
    return this.on('PATCH', path, reply);
  }

  /** The installation token Probot asks for before the first API call of an installation. */
  installationToken(installationId: number): this {
    return this.post(`/app/installations/${installationId}/access_tokens`, {
      status: 201,
      body: {
        token: 'ghs_asyncguardTestToken',
        expires_at: '2099-01-01T00:00:00Z',
        permissions: { checks: 'write', pull_requests: 'write', contents: 'read', metadata: 'read' },
        repository_selection: 'selected',
      },
    });
  }

  /** `METHOD path` of every answered request, in order. */
  calls(): string[] {
    return this.requests.map((request) => `${request.method} ${request.path}`);
  }

  /** Bodies of the answered requests to `method path` (path without query), in order. */
  bodies(method: Method, pathname: string): unknown[] {
    return this.requests.filter((r) => r.method === method && r.path.split('?')[0] === pathname).map((r) => r.body);
  }

  dispose(): void {
    nock.emitter.removeListener('no match', this.#onNoMatch);
  }
}

function parseBody(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  if (body === '') return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

export interface Harness {
  probot: Probot;
  asyncguard: Asyncguard;
  github: GitHubMock;
  /** Log records at warn level and above. */
  logs: LogRecord[];
  /** Delivers a webhook, then waits for the reviews it queued (they run after the answer). */
  deliver(name: string, payload: object, id?: string): Promise<void>;
  /** Takes the error-level records out, so `finish` does not fail on expected ones. */
  takeErrors(): LogRecord[];
  /** Asserts nothing unexpected happened, then tears down. Call from afterEach. */
  finish(): Promise<void>;
}

let deliveries = 0;

/**
 * For a describe block: a fresh Probot before each test, and `finish` (nothing unexpected, no
 * pending mocks, no errors logged) after it. The returned harness stands for the current test's.
 */
export function useProbotHarness(): Harness {
  let current: Harness | undefined;
  beforeEach(async () => {
    current = await setUpProbot();
  });
  afterEach(async () => {
    try {
      await current?.finish();
    } finally {
      current = undefined;
    }
  });
  return new Proxy({} as Harness, {
    get(_target, key) {
      if (!current) throw new Error('the Probot harness is only there inside a test');
      return Reflect.get(current, key);
    },
  });
}

export async function setUpProbot(): Promise<Harness> {
  nock.disableNetConnect();
  const logs: LogRecord[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogRecord) });
  const probot = new Probot({
    appId: APP_ID,
    privateKey,
    log,
    Octokit: ProbotOctokit.defaults((options: Record<string, unknown>) => ({
      ...options,
      // Retries would turn one mocked 500 into several requests.
      retry: { enabled: false },
      // Throttling spaces writes a second apart. The object form, `defaults({ throttle: { enabled:
      // false } })`, does not switch it off: Probot passes its own `throttle` options when it
      // builds each Octokit, and those replace the object defaults wholesale. A function runs last.
      throttle: { ...(options.throttle as object), enabled: false },
    })) as typeof ProbotOctokit,
  });
  const asyncguard = createAsyncguard({ analyzer: inlineAnalyzer(), appId: APP_ID });
  await probot.load(asyncguard.app);
  const github = new GitHubMock();

  return {
    probot,
    asyncguard,
    github,
    logs,
    async deliver(name, payload, id = `delivery-${++deliveries}`) {
      await probot.receive({ id, name, payload } as Parameters<Probot['receive']>[0]);
      await asyncguard.idle();
    },
    takeErrors() {
      const errors = logs.filter((record) => record.level >= 50);
      logs.splice(0, logs.length, ...logs.filter((record) => record.level < 50));
      return errors;
    },
    async finish() {
      try {
        await asyncguard.idle();
        expect(github.unmatched, 'requests no mock answered').toEqual([]);
        expect(nock.pendingMocks(), 'mocked requests the app never made').toEqual([]);
        expect(logs.filter((record) => record.level >= 50), 'errors logged').toEqual([]);
      } finally {
        github.dispose();
        nock.cleanAll();
        nock.enableNetConnect();
        await asyncguard.close();
      }
    },
  };
}
