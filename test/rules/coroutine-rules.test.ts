// Details of AG206, AG207, AG208, AG209 and AG304 the fixtures cannot show: advice by Python version, what makes
// a file test code (a fixture's path is its slug, never a test path), notebooks kept as scripts.
import { describe, expect, it } from 'vitest';
import { parsePython } from '../../src/python/parser.js';
import { WHOLE_FILE } from '../../src/python/scopes.js';
import { runRules } from '../../src/rules/engine.js';
import { RULES } from '../../src/rules/registry.js';
import { asyncioRunInTest } from '../../src/rules/asyncio-run-in-test.js';
import { awaitOutsideAsync } from '../../src/rules/await-outside-async.js';
import { repeatedAsyncioRun } from '../../src/rules/repeated-asyncio-run.js';
import { timeoutParameter } from '../../src/rules/timeout-parameter.js';
import { DEFAULT_RULE_SETTINGS, type Finding, type Rule } from '../../src/rules/types.js';

function run(rule: Rule, path: string, source: string, pythonVersion: string | null = null): Finding[] {
  return runRules(parsePython(path, source), [rule], {
    scopes: WHOLE_FILE,
    settings: { ...DEFAULT_RULE_SETTINGS, pythonVersion },
    // The rule under test at its catalogue severity, preview or not.
    severityOf: (r) => r.meta.severity,
    onRuleError: (_, error) => {
      throw error;
    },
  });
}

describe('AG206 repeated-asyncio-run', () => {
  const source = 'import asyncio\n\ndef main(db):\n    asyncio.run(a(db))\n    asyncio.run(b(db))\n';

  it('suggests asyncio.Runner only where the target Python has it', () => {
    const message = (version: string | null) => run(repeatedAsyncioRun, 'cli.py', source, version).map((f) => f.message)[0] ?? '';
    expect(message('3.12')).toContain('asyncio.Runner()');
    expect(message('3.11')).toContain('asyncio.Runner()');
    expect(message('3.10')).not.toContain('Runner');
    expect(message('3.9')).toContain('call `asyncio.run(main())` once');
    expect(message(null)).toContain('on Python 3.11+');
  });

  it('reports the second call, in the function that holds both', () => {
    expect(run(repeatedAsyncioRun, 'cli.py', source).map((f) => [f.line, f.scope])).toEqual([[5, 'main']]);
  });
});

describe('AG207 asyncio-run-in-test', () => {
  const test = 'import asyncio\n\ndef test_status():\n    assert asyncio.run(status()) == 200\n';

  it.each(['tests/api/test_client.py', 'test/client.py', 'pkg/test_client.py', 'pkg/client_test.py', 'conftest.py', 'tests\\win.py'])(
    'treats %s as test code even without a pytest import',
    (path) => {
      expect(run(asyncioRunInTest, path, test).map((f) => f.line)).toEqual([4]);
    },
  );

  it.each(['app/client.py', 'app/testing.py', 'contest.py', 'latest_results.py'])('leaves %s alone without a pytest or unittest import', (path) => {
    expect(run(asyncioRunInTest, path, test)).toEqual([]);
  });

  it('leaves unittest test cases alone where the project supports a Python without IsolatedAsyncioTestCase', () => {
    const source = 'import asyncio\nimport unittest\n\nclass T(unittest.TestCase):\n    def test_status(self):\n        asyncio.run(status())\n\ndef test_plain():\n    asyncio.run(status())\n';
    const lines = (version: string | null) => run(asyncioRunInTest, 'tests/test_t.py', source, version).map((f) => f.line);
    expect(lines('3.7')).toEqual([9]);
    expect(lines('3.8')).toEqual([6, 9]);
    expect(lines(null)).toEqual([6, 9]);
    // A project's own base named like a TestCase (pyzmq's BaseZMQTestCase) is a unittest test case too.
    const own = source.replace('unittest.TestCase', 'BaseZMQTestCase');
    expect(run(asyncioRunInTest, 'tests/test_t.py', own, '3.6').map((f) => f.line)).toEqual([9]);
    expect(run(asyncioRunInTest, 'tests/test_t.py', own, '3.8').map((f) => f.message)[0]).toContain('IsolatedAsyncioTestCase');
  });

  it('treats a module importing pytest or unittest as test code', () => {
    expect(run(asyncioRunInTest, 'app/checks.py', `import pytest\n${test}`).map((f) => f.line)).toEqual([5]);
    expect(run(asyncioRunInTest, 'app/checks.py', `from unittest import mock\n${test}`).map((f) => f.line)).toEqual([5]);
  });
});

describe('AG209 await-outside-async', () => {
  const topLevel = 'import asyncio\n\nresult = await asyncio.sleep(0)\n';

  it('flags top-level await in a module', () => {
    expect(run(awaitOutsideAsync, 'job.py', topLevel).map((f) => f.message)).toEqual([
      '`await` in module-level code is a SyntaxError: the module cannot be imported',
    ]);
  });

  it.each(['# %%\n', '#%% setup\n', '# In[3]:\n', '# ---\n# jupyter:\n#   jupytext:\n#     formats: ipynb,py:percent\n# ---\n'])(
    'leaves top-level await alone in a notebook kept as a script (%j)',
    (header) => {
      expect(run(awaitOutsideAsync, 'analysis.py', header + topLevel)).toEqual([]);
    },
  );

  it('reads `async def` that follows a syntax error as async (the parser may keep `async` in its error node)', () => {
    // Cut down from libcst's parser fixture native/libcst/tests/fixtures/expr.py.
    const source = '                    invariant_check=True,\n                ):\n    c = yield\nasync def f():\n    await some.call()\n\ndef h():\n    await g()\n';
    expect(run(awaitOutsideAsync, 'fixture.py', source).map((f) => f.line)).toEqual([8]);
  });

  it('still flags a sync def in a notebook script', () => {
    const source = '# %%\nimport asyncio\n\ndef load():\n    return await asyncio.sleep(0)\n';
    expect(run(awaitOutsideAsync, 'analysis.py', source).map((f) => f.line)).toEqual([5]);
  });
});

describe('AG208 and the configured Python version', () => {
  const source = 'import asyncio\n\nasync def f():\n    return asyncio.get_event_loop()\n';
  const run = (pythonVersion: string | null) =>
    runRules(parsePython('s.py', source), RULES, { scopes: WHOLE_FILE, settings: { ...DEFAULT_RULE_SETTINGS, pythonVersion } }).map((f) => f.ruleId);

  it('is silent for code that still supports Python 3.6 (no get_running_loop there)', () => {
    expect(run('3.6')).toEqual([]);
    expect(run('3.7')).toEqual(['AG208']);
    expect(run('3.12')).toEqual(['AG208']);
    expect(run(null)).toEqual(['AG208']);
  });

  // FRR's ospfclient: `_connect_locked` calls get_event_loop() plainly, and the file's other
  // functions branch on `sys.version_info[1] > 6` for Python 3.6.
  const ospf = (check: string) => `import asyncio
import sys


class Client:
    async def _connect_locked(self):
        loop = asyncio.get_event_loop()
        return await loop.create_connection(Protocol, self.host, 2607)

    async def connect(self):
        if ${check}:
            asyncio.create_task(self._msg_loop())
        else:
            asyncio.get_event_loop().create_task(self._msg_loop())
`;
  const lines = (source: string) =>
    runRules(parsePython('ospfclient.py', source), RULES, { scopes: WHOLE_FILE }).filter((f) => f.ruleId === 'AG208').map((f) => f.line);

  it('is silent in a file whose own version checks keep a branch for Python 3.6', () => {
    expect(lines(ospf('sys.version_info[1] > 6'))).toEqual([]);
    expect(lines(ospf('sys.version_info >= (3, 7)'))).toEqual([]);
    expect(lines(ospf('sys.version_info[:2] < (3, 7)'))).toEqual([]);
  });

  it('still flags the plain call when the file checks for a later Python', () => {
    expect(lines(ospf('sys.version_info >= (3, 8)'))).toEqual([7]);
    expect(lines(ospf('sys.version_info[1] >= 11'))).toEqual([7]);
  });
});

describe('AG304 timeout-parameter in test code', () => {
  // pyotgw's tests/helpers.py: a polling helper whose default timeout keeps a test from hanging.
  const source = 'import asyncio\n\nasync def called_x_times(mocked, x, timeout=10):\n    async with asyncio.timeout(timeout):\n        while mocked.call_count < x:\n            await asyncio.sleep(0)\n';

  it('leaves a test helper alone and flags the same function in library code', () => {
    expect(run(timeoutParameter, 'tests/helpers.py', source)).toEqual([]);
    expect(run(timeoutParameter, 'pyotgw/helpers.py', source).map((f) => f.line)).toEqual([3]);
  });
});

describe('test code follows the configured test_paths', () => {
  const source = 'import asyncio\n\nasync def wait_ready(event, timeout=10):\n    await asyncio.wait_for(event.wait(), timeout)\n';
  const inPaths = (path: string, testPaths: readonly string[]) =>
    runRules(parsePython(path, source), [timeoutParameter], { scopes: WHOLE_FILE, settings: { ...DEFAULT_RULE_SETTINGS, testPaths }, severityOf: (r) => r.meta.severity }).map((f) => f.line);

  it('a team that keeps its tests in qa/ gets the test-code handling there; examples/ has it only by default', () => {
    expect(inPaths('qa/helpers.py', ['qa/**'])).toEqual([]);
    expect(inPaths('qa/helpers.py', DEFAULT_RULE_SETTINGS.testPaths)).toEqual([3]);
    expect(inPaths('examples/helpers.py', DEFAULT_RULE_SETTINGS.testPaths)).toEqual([]);
    expect(inPaths('examples/helpers.py', ['qa/**'])).toEqual([3]);
    // Where a runner collects tests is test code whatever the list says.
    expect(inPaths('tests/helpers.py', ['qa/**'])).toEqual([]);
  });
});
