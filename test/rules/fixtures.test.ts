import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parsePython } from '../../src/python/parser.js';
import { WHOLE_FILE } from '../../src/python/scopes.js';
import { runRules } from '../../src/rules/engine.js';
import { findRule, RULES } from '../../src/rules/registry.js';
import { DEFAULT_RULE_SETTINGS, type Finding, type RuleSettings } from '../../src/rules/types.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const PEERS = fileURLToPath(new URL('../../../shared/peer-suites/ruff-flake8-async/', import.meta.url));

/**
 * Rules shipped `off` do not run by default. A fixture turns them on for itself with a comment
 * line `# fixture-enable: AG210, AG2xx` (anywhere in the file, usually the first line): those rules
 * then run at `info`, every other rule at its default severity.
 */
function enabledByFixture(source: string): Set<string> {
  const ids = new Set<string>();
  for (const match of source.matchAll(/^#\s*fixture-enable:\s*([A-Z0-9, ]+?)\s*$/gm)) {
    for (const id of match[1]!.split(',')) ids.add(id.trim());
  }
  return ids;
}

/**
 * A fixture of a rule that reads configuration gives its settings as JSON on a comment line
 * `# fixture-settings: {"blockingCalls": [...]}`; the other fixtures run with the defaults.
 */
function settingsOfFixture(source: string): RuleSettings {
  const match = /^#\s*fixture-settings:\s*(\{.*\})\s*$/m.exec(source);
  return { ...DEFAULT_RULE_SETTINGS, ...(match ? (JSON.parse(match[1]!) as Partial<RuleSettings>) : {}) };
}

function analyse(path: string, source: string): Finding[] {
  const enabled = enabledByFixture(source);
  return runRules(parsePython(path, source), RULES, {
    scopes: WHOLE_FILE,
    settings: settingsOfFixture(source),
    severityOf: (rule) => (rule.meta.severity === 'off' && enabled.has(rule.meta.id) ? 'info' : rule.meta.severity),
    onRuleError: (rule, error) => {
      throw new Error(`${rule.meta.id} threw on ${path}: ${String(error)}`);
    },
  });
}

/** `line:ID` for every `# expect: ID, ID` annotation. */
function expectations(source: string): string[] {
  const out: string[] = [];
  source.split('\n').forEach((text, i) => {
    const match = /#\s*expect:\s*([A-Z0-9, ]+?)\s*$/.exec(text);
    if (!match) return;
    for (const id of match[1]!.split(',')) out.push(`${i + 1}:${id.trim()}`);
  });
  return [...new Set(out)].sort(byLine);
}

function byLine(a: string, b: string): number {
  const [la, ia] = a.split(':');
  const [lb, ib] = b.split(':');
  return Number(la) - Number(lb) || ia!.localeCompare(ib!);
}

const fixtures = readdirSync(FIXTURES).filter((name) => name.endsWith('.py')).sort();

describe('rule fixtures (inline `# expect:` annotations; unmarked lines must be clean)', () => {
  it('has a fixture for every rule and a rule for every fixture', () => {
    expect(fixtures).toEqual(RULES.map((rule) => `${rule.meta.slug}.py`).sort());
  });

  it.each(fixtures)('%s', (name) => {
    const source = readFileSync(`${FIXTURES}${name}`, 'utf8');
    const expected = expectations(source);
    const found = [...new Set(analyse(name, source).map((f) => `${f.line}:${f.ruleId}`))].sort(byLine);
    expect(found).toEqual(expected);
    // A fixture proves its own rule: it has true positives.
    const own = findRule(name.replace(/\.py$/, ''))!;
    expect(expected.some((e) => e.endsWith(`:${own.meta.id}`))).toBe(true);
  });
});

describe('the "strip async" transform (flake8-async): no async code, no async findings', () => {
  // Without `async def` nothing is async code: what is left is what a rule may report anywhere,
  // a dropped task (a sync callback drops it just the same) and nest_asyncio.apply(), and the
  // asyncio.run rules, which are about sync code (repeated asyncio.run, asyncio.run in a test).
  const ANYWHERE = new Set(['AG202', 'AG206', 'AG207']);

  it.each(fixtures)('%s', (name) => {
    const source = readFileSync(`${FIXTURES}${name}`, 'utf8')
      .replace(/\basync (def|with|for)\b/g, '$1')
      .replace(/\bawait /g, '');
    const left = analyse(name, source).filter((f) => !ANYWHERE.has(f.ruleId) && !f.snippet.startsWith('nest_asyncio.apply'));
    expect(left.map((f) => `${f.line}:${f.ruleId} ${f.snippet}`)).toEqual([]);
  });
});

describe('suggestions', () => {
  const suggestionsOf = (source: string) =>
    analyse('s.py', source)
      .filter((f) => f.suggestion)
      .map((f) => ({ id: f.ruleId, ...f.suggestion! }));

  it('AG101 rewrites a one-line time.sleep statement, keeping indentation, arguments and the trailing comment', () => {
    const source = [
      'import asyncio',
      'import time',
      '',
      'async def poll(job):',
      '    while not job.done():',
      '        time.sleep(0.5 * 2 ** job.attempt)  # back off',
      '',
    ].join('\n');
    expect(suggestionsOf(source)).toEqual([
      { id: 'AG101', line: 6, endLine: 6, replacement: '        await asyncio.sleep(0.5 * 2 ** job.attempt)  # back off' },
    ]);
  });

  it('AG101 suggests nothing without `import asyncio`, or when the call is not a statement of its own', () => {
    const noAsyncio = 'import time\n\nasync def f():\n    time.sleep(1)\n';
    expect(analyse('a.py', noAsyncio).map((f) => [f.ruleId, f.suggestion])).toEqual([['AG101', undefined]]);
    const aliased = 'import asyncio as aio\nimport time\n\nasync def f():\n    time.sleep(1)\n';
    expect(suggestionsOf(aliased)).toEqual([]);
    const shared = 'import asyncio\nimport time\n\nasync def f():\n    time.sleep(1); print(1)\n    x = time.sleep(1)\n    time.sleep(\n        1)\n';
    expect(suggestionsOf(shared)).toEqual([]);
  });

  it('AG201 prepends await in async code, in statements and tests; never in sync code', () => {
    const source = [
      'import asyncio',
      '',
      'async def flush():',
      '    await asyncio.sleep(0)',
      '',
      'class Conn:',
      '    async def ready(self):',
      '        return True',
      '',
      '    async def close(self):',
      '        flush()  # drain first',
      '        if not self.ready():',
      '            return',
      '',
      'def sync_close():',
      '    flush()',
      '',
    ].join('\n');
    expect(suggestionsOf(source)).toEqual([
      { id: 'AG201', line: 11, endLine: 11, replacement: '        await flush()  # drain first' },
      { id: 'AG201', line: 12, endLine: 12, replacement: '        if not await self.ready():' },
    ]);
    expect(analyse('s.py', source).map((f) => `${f.line}:${f.ruleId}`)).toEqual(['11:AG201', '12:AG201', '16:AG201']);
  });

  it('AG208 renames get_event_loop to get_running_loop on the flagged line only when the rewrite is exact', () => {
    const source = [
      'import asyncio',
      'import asyncio as aio',
      'from asyncio import get_event_loop',
      '',
      'async def f(fn):',
      '    loop = asyncio.get_event_loop()  # the loop',
      '    aio.get_event_loop().call_soon(fn)',
      '    other = get_event_loop()',
      '    return await loop.run_in_executor(',
      '        None, fn, asyncio.get_event_loop().time())',
      '',
    ].join('\n');
    expect(analyse('s.py', source).map((f) => `${f.line}:${f.ruleId}`)).toEqual(['6:AG208', '7:AG208', '8:AG208', '10:AG208']);
    expect(suggestionsOf(source)).toEqual([
      { id: 'AG208', line: 6, endLine: 6, replacement: '    loop = asyncio.get_running_loop()  # the loop' },
      { id: 'AG208', line: 7, endLine: 7, replacement: '    aio.get_running_loop().call_soon(fn)' },
      { id: 'AG208', line: 10, endLine: 10, replacement: '        None, fn, asyncio.get_running_loop().time())' },
    ]);
    // `from asyncio import get_event_loop` is rewritten only where `get_running_loop` is imported too.
    const both = 'from asyncio import get_event_loop, get_running_loop\n\nasync def f():\n    return get_event_loop()\n';
    expect(suggestionsOf(both)).toEqual([{ id: 'AG208', line: 4, endLine: 4, replacement: '    return get_running_loop()' }]);
  });

  it('AG204 merges `t = create_task(coro)` and the `await t` on the next line into one await', () => {
    const source = [
      'import asyncio',
      '',
      'async def f(client):',
      '    task = asyncio.create_task(client.get("/me"))',
      '    me = (await task).json()  # the profile',
      '    other = asyncio.create_task(client.get("/x"), name="x")',
      '    await other',
      '',
    ].join('\n');
    expect(suggestionsOf(source)).toEqual([
      { id: 'AG204', line: 4, endLine: 5, replacement: '    me = (await client.get("/me")).json()  # the profile' },
    ]);
  });
});

// Ruff 0.17.3 on its own flake8-async fixtures (shared/peer-suites), for the rules that are twins.
// Where the two disagree on asyncio code the difference is listed and explained: a decision, kept
// as a test either way.
interface Observed {
  diagnostics: Record<string, { code: string; row: number }[]>;
}

describe("Ruff's flake8-async fixtures, against Ruff 0.17.3's observed diagnostics", () => {
  const observed = JSON.parse(readFileSync(`${PEERS}ruff-0.17.3-observed.json`, 'utf8')) as Observed;

  const twinCases: { file: string; codes: string[]; rule: string; onlyRuff: number[]; onlyUs: number[]; why: string }[] = [
    { file: 'ASYNC251.py', codes: ['ASYNC251'], rule: 'AG101', onlyRuff: [], onlyUs: [], why: '' },
    {
      file: 'ASYNC22x.py',
      codes: ['ASYNC220', 'ASYNC221', 'ASYNC222'],
      rule: 'AG105',
      onlyRuff: [],
      onlyUs: [],
      why: '',
    },
    {
      file: 'ASYNC210.py',
      codes: ['ASYNC210', 'ASYNC211'],
      rule: 'AG102',
      onlyRuff: [],
      onlyUs: [],
      why: '',
    },
    {
      file: 'ASYNC212.py',
      codes: ['ASYNC212'],
      rule: 'AG102',
      onlyRuff: [],
      onlyUs: [26],
      why: '`client = httpx.Client()` in async def: asyncguard also reports building the sync client, Ruff only its calls',
    },
    {
      file: 'ASYNC230.py',
      // Ruff files Path.read_text/read_bytes/write_text/write_bytes under ASYNC240; AG103 covers them.
      codes: ['ASYNC230', 'ASYNC240'],
      rule: 'AG103',
      onlyRuff: [77],
      onlyUs: [],
      why: '`Path("foo").touch()` is filesystem metadata, not file I/O: AG104 blocking-fs-metadata reports it',
    },
    { file: 'ASYNC230.py', codes: ['ASYNC240'], rule: 'AG104', onlyRuff: [63, 67, 70, 74], onlyUs: [], why: 'Path.read_text & co. are file I/O: AG103 reports them' },
    { file: 'ASYNC250.py', codes: ['ASYNC250'], rule: 'AG106', onlyRuff: [], onlyUs: [], why: '' },
    {
      file: 'ASYNC240.py',
      codes: ['ASYNC240'],
      rule: 'AG104',
      onlyRuff: [67],
      onlyUs: [],
      why: '`os.path.abspath` is path arithmetic on the cwd, no filesystem access',
    },
    {
      file: 'ASYNC100.py',
      codes: ['ASYNC100'],
      rule: 'AG302',
      onlyRuff: [8, 18, 40, 45, 50, 55, 60],
      onlyUs: [],
      why: 'trio/anyio cancel scopes: asyncguard reviews asyncio code',
    },
    {
      file: 'ASYNC109_0.py',
      codes: ['ASYNC109'],
      rule: 'AG304',
      onlyRuff: [10, 14, 20],
      onlyUs: [],
      why: '`...` stubs and an abstract method: signatures the code does not own (precision rules)',
    },
    {
      file: 'ASYNC110.py',
      codes: ['ASYNC110'],
      rule: 'AG305',
      onlyRuff: [7, 12, 22, 27, 37],
      onlyUs: [],
      why: 'trio/anyio sleeps (7-27); `while True: await asyncio.sleep(10)` runs forever, it waits on nothing (37)',
    },
  ];

  it.each(twinCases)('$file: $rule agrees with $codes except where listed', ({ file, codes, rule, onlyRuff, onlyUs }) => {
    const ruff = new Set((observed.diagnostics[file] ?? []).filter((d) => codes.includes(d.code)).map((d) => d.row));
    const ours = new Set(analyse(file, readFileSync(`${PEERS}${file}`, 'utf8')).filter((f) => f.ruleId === rule).map((f) => f.line));
    expect([...ruff].filter((row) => !ours.has(row)).sort((a, b) => a - b)).toEqual(onlyRuff);
    expect([...ours].filter((row) => !ruff.has(row)).sort((a, b) => a - b)).toEqual(onlyUs);
  });
});
