import type { SyntaxNode } from '../python/parser.js';
import type { Rule, RuleContext, ScopeState } from './types.js';
import { calleeText, decoratorsOf, dottedName, isTestModule, pythonAtLeast, methodCall, methodsOf, underVersionGuard } from './util.js';

/** unittest's per-test hooks, treated like the tests they prepare. */
const UNITTEST_HOOKS = new Set(['setUp', 'tearDown', 'setUpClass', 'tearDownClass']);

type TestKind = 'pytest' | 'unittest';

/**
 * Async test frameworks whose `TestCase` runs the test methods on a loop of their own and hands it
 * over as `self.loop` (asynctest, aiounittest, aiohttp's `AioHTTPTestCase`, Tornado's
 * `AsyncTestCase`): `self.loop.run_until_complete(...)` there drives the framework's loop, the
 * one `setUp` built the fixtures on, not a private one.
 */
const ASYNC_TEST_FRAMEWORKS = /^(asynctest|aiounittest|aiohttp\.test_utils|tornado\.testing)(\.|$)/;

function onFrameworkLoop(ctx: RuleContext, call: SyntaxNode, owner: SyntaxNode): boolean {
  if (!/^(self|cls)\.(_?loop|io_loop)$/.test(methodCall(call)?.receiver?.text ?? '')) return false;
  const bases = owner.childForFieldName('superclasses')?.namedChildren ?? [];
  return bases.some((base) => {
    const resolved = ctx.resolveName(base) ?? dottedName(base) ?? '';
    // A project's own harness (websockets' `AsyncioTestCase`, asyncpg's `tb.ConnectedTestCase`,
    // motor's `AsyncIOTestCase`) holds the loop every test of the class runs on, like a framework's.
    return ASYNC_TEST_FRAMEWORKS.test(resolved) || (/TestCase$/.test(resolved) && !/^unittest\./.test(resolved));
  });
}

/** What kind of test the innermost scope is, or null when it is not a test function. */
function testKind(ctx: RuleContext): TestKind | null {
  const chain = ctx.scopeChain();
  const fn: ScopeState | undefined = chain[chain.length - 1];
  const owner = chain[chain.length - 2];
  if (fn?.kind !== 'def' || !owner) return null;
  const name = fn.node.childForFieldName('name')?.text ?? '';
  // A fixture prepares a test; it is not one, even when named test_*.
  if (decoratorsOf(ctx, fn.node).some((d) => d === 'pytest.fixture' || d.endsWith('.fixture') || d === 'fixture')) return null;
  if (owner.kind === 'module') return name.startsWith('test') ? 'pytest' : null;
  if (owner.kind !== 'class' || !(name.startsWith('test') || UNITTEST_HOOKS.has(name))) return null;
  const classNode = owner.node;
  const className = classNode.childForFieldName('name')?.text ?? '';
  const bases = classNode.childForFieldName('superclasses')?.namedChildren ?? [];
  // `unittest.TestCase`, or a project's base named like one (pyzmq's `BaseZMQTestCase`).
  const unittestBase = bases.some((base) => /TestCase$/.test(dottedName(base) ?? ''));
  if (unittestBase) return 'unittest';
  return className.startsWith('Test') && !UNITTEST_HOOKS.has(name) ? 'pytest' : null;
}

/**
 * `setUp` / `tearDown` of a class that defines `asyncSetUp` / `asyncTearDown`: the class follows
 * `IsolatedAsyncioTestCase`'s protocol (a harness like aiohttp's `AioHTTPTestCase`), and the sync
 * hook is its bridge for the Pythons or bases that do not run the async hooks.
 */
function bridgesAsyncHooks(fn: SyntaxNode, owner: SyntaxNode): boolean {
  const name = fn.childForFieldName('name')?.text ?? '';
  if (name !== 'setUp' && name !== 'tearDown') return false;
  return methodsOf(owner).some((member) => {
    const memberName = member.childForFieldName('name')?.text;
    return memberName === 'asyncSetUp' || memberName === 'asyncTearDown';
  });
}

/**
 * `loop.run_until_complete(...)` on a loop the test is given as a parameter: a pytest fixture's
 * loop (`event_loop`, aiosmtpd's `temp_event_loop`), the one the other fixtures were built on. The
 * test does not start a private loop; the mismatch the rule is about cannot happen.
 */
function onFixtureLoop(call: SyntaxNode, fn: SyntaxNode): boolean {
  const receiver = methodCall(call)?.receiver;
  if (receiver?.type !== 'identifier') return false;
  return (fn.childForFieldName('parameters')?.namedChildren ?? []).some((param) => {
    const name = param.type === 'identifier' ? param : (param.childForFieldName('name') ?? param.namedChildren.find((c) => c.type === 'identifier'));
    return name?.text === receiver.text;
  });
}

/**
 * Whether the test runs a coroutine it defines itself: a nested `async def` called in the argument
 * (`asyncio.run(f())`), or through a local built from one (`coro = _wrapper(test_coro, ...)`,
 * cylc's main-loop tests). Such a coroutine is test machinery made for this one call (a forked
 * child's server, the loop object a sync helper is then tested with); nothing outside the test is
 * bound to a loop, and rewriting the test as `async def` would only restyle it, or break it.
 */
function runsOwnCoroutine(call: SyntaxNode, fn: SyntaxNode): boolean {
  const own = new Set<string>();
  for (const def of fn.childForFieldName('body')?.descendantsOfType('function_definition') ?? []) {
    const name = def.childForFieldName('name')?.text;
    if (name && def.child(0)?.type === 'async') own.add(name);
  }
  if (own.size === 0) return false;
  // Locals bound from one of them count too, in the order the test binds them.
  for (const assignment of fn.descendantsOfType('assignment')) {
    const left = assignment.childForFieldName('left');
    const right = assignment.childForFieldName('right');
    if (left?.type === 'identifier' && right?.descendantsOfType('identifier').some((id) => own.has(id.text))) own.add(left.text);
  }
  const first = call.childForFieldName('arguments')?.namedChildren[0];
  return first !== undefined && [first, ...first.descendantsOfType('identifier')].some((id) => id.type === 'identifier' && own.has(id.text));
}

export const asyncioRunInTest: Rule = {
  meta: {
    id: 'AG207',
    slug: 'asyncio-run-in-test',
    aliases: [],
    family: 'coroutines',
    severity: 'info',
    title: '`asyncio.run` inside a test',
    fix: 'Make the test `async def` and let the test runner drive the loop: `@pytest.mark.asyncio` (pytest-asyncio), `@pytest.mark.anyio` (anyio), or `unittest.IsolatedAsyncioTestCase`.',
    messages: {
      pytest: '`{callee}()` inside the test `{test}` runs the coroutine on a private event loop: make the test `async def` with `@pytest.mark.asyncio` (pytest-asyncio) or `@pytest.mark.anyio`, and `await` it',
      unittest: '`{callee}()` inside `{test}` runs the coroutine on a private event loop: derive the class from `unittest.IsolatedAsyncioTestCase` and make the method `async def` (`asyncSetUp` for set-up), then `await` it',
    },
    docs: {
      what: 'Flags `asyncio.run(...)` and `loop.run_until_complete(...)` written directly in a test: a `test*` function of a test module, or a `test*` method (or `setUp`/`tearDown`) of a `Test*` class or of a `unittest.TestCase` subclass (a base class whose name ends in `TestCase`, such as a project\'s `BaseZMQTestCase`, counts as one). A file is a test module when its path is one test runners collect (`tests/`, `test/`, `test_*.py`, `*_test.py`, `conftest.py`) or it imports pytest or unittest. Not flagged: helpers that are not tests, pytest fixtures (`@pytest.fixture`, which prepare rather than test), lambdas and nested functions inside a test (a server thread running its own loop is a legitimate set-up), `async def` tests (AG205 reports `asyncio.run` there), calls under a Python-version guard (an `if` whose test mentions `sys.version_info` or a flag like `PY_38`, `PY3`, `PYTHON_VERSION`: a fallback for Pythons without `IsolatedAsyncioTestCase`), `run_until_complete` on a loop the test receives as a parameter (a pytest fixture such as `event_loop`, the loop the other fixtures were built on), a coroutine the test defines itself (a nested `async def` called in the argument, or a local built from one: test machinery made for this one call, such as the server of a forked child, or a loop object a sync helper is then tested with), `setUp`/`tearDown` of a class that defines `asyncSetUp`/`asyncTearDown` (a harness following `IsolatedAsyncioTestCase`\'s protocol, whose sync hooks only bridge to the async ones), `self.loop.run_until_complete(...)` in a test case of an async test framework (asynctest, aiounittest, aiohttp\'s `AioHTTPTestCase`, Tornado\'s `AsyncTestCase`) or of a project\'s own harness (a base class named `...TestCase` other than unittest\'s: the loop is the harness\'s, the one every test of the class and its fixtures run on), and unittest test cases of a project whose `python_version` is older than 3.8 (no `IsolatedAsyncioTestCase` there, so running the loop by hand is the only way).',
      why: 'A test that starts its own loop tests the code under conditions it never meets in production: a fresh loop per call, nothing shared with fixtures (an async client fixture created on the runner\'s loop fails with "attached to a different loop" when used from it), and no help from the plugin\'s loop management, timeouts and debug mode. With the test itself `async def`, pytest-asyncio or anyio runs it on a managed loop, fixtures and test share that loop, and the test reads like the production code it checks.',
      example: [
        'import asyncio',
        '',
        'import pytest',
        '',
        'from app.client import fetch_status',
        '',
        '',
        'def test_fetch_status():',
        '    status = asyncio.run(fetch_status("https://api.example.com"))',
        '    assert status == 200',
      ].join('\n'),
      useInstead: [
        'import asyncio',
        '',
        'import pytest',
        '',
        'from app.client import fetch_status',
        '',
        '',
        '@pytest.mark.asyncio',
        'async def test_fetch_status():',
        '    status = await fetch_status("https://api.example.com")',
        '    assert status == 200',
      ].join('\n'),
    },
    cites: [
      { guide: 'S0', section: 'Step 3 — Bridge sync ↔ async correctly' },
      { guide: 'S1', section: 'Testing Async Code' },
    ],
  },
  create(ctx) {
    let testFile: boolean | null = null;
    return {
      call(node) {
        if (ctx.scope().kind !== 'def') return;
        const isRun = ctx.resolveCallee(node) === 'asyncio.run';
        if (!isRun && methodCall(node)?.method !== 'run_until_complete') return;
        testFile ??= isTestModule(ctx);
        if (!testFile) return;
        const kind = testKind(ctx);
        if (!kind) return;
        const chain = ctx.scopeChain();
        const fn = chain[chain.length - 1]!.node;
        if (underVersionGuard(node, fn)) return;
        if (kind === 'unittest' && bridgesAsyncHooks(fn, chain[chain.length - 2]!.node)) return;
        // unittest's own async test case needs Python 3.8; before that a TestCase runs its loop by hand.
        if (kind === 'unittest' && pythonAtLeast(ctx.settings.pythonVersion, 3, 8) === false) return;
        if (kind === 'unittest' && onFrameworkLoop(ctx, node, chain[chain.length - 2]!.node)) return;
        if (runsOwnCoroutine(node, fn)) return;
        if (!isRun && onFixtureLoop(node, fn)) return;
        ctx.report({ node, messageId: kind, data: { callee: calleeText(node), test: ctx.scope().qualifiedName } });
      },
    };
  },
};
