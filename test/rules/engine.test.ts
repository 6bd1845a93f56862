import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parsePython } from '../../src/python/parser.js';
import { touchedScopes, WHOLE_FILE, type TouchedScopes } from '../../src/python/scopes.js';
import { runRules } from '../../src/rules/engine.js';
import { findRule, RULES } from '../../src/rules/registry.js';
import type { Finding, Rule, RuleContext, RuleVisitors, Severity } from '../../src/rules/types.js';

const fatal = (rule: Rule, error: unknown) => {
  throw new Error(`${rule.meta.id}: ${String(error)}`);
};

function run(source: string, scopes: TouchedScopes = WHOLE_FILE, rules: readonly Rule[] = RULES): Finding[] {
  // Every rule at its catalogue severity, the ones in preview included.
  return runRules(parsePython('svc.py', source), rules, { scopes, onRuleError: fatal, severityOf: (rule) => rule.meta.severity });
}

const at = (findings: Finding[]) => findings.map((f) => `${f.line}:${f.ruleId}`);

/** A test rule: `create` gets the context and returns the given visitors. */
function probe(visitors: (ctx: RuleContext) => RuleVisitors, severity: Severity = 'info'): Rule {
  const base = findRule('AG101')!.meta;
  return {
    meta: { ...base, id: 'AG999', slug: 'probe', aliases: [], severity, messages: { hit: 'hit {what}' } },
    create: visitors,
  };
}

const SERVICE = `import asyncio
import time


async def untouched():
    time.sleep(1)


class Client:
    async def fetch(self, url):
        async def attempt():
            time.sleep(2)
        time.sleep(3)
        return await attempt()

    def sync_method(self):
        time.sleep(4)


async def touched_sibling():
    time.sleep(5)
`;

describe('touched scopes', () => {
  it('keeps findings in touched functions (a nested one, the function around it) and drops the rest', () => {
    // Line 12 is inside Client.fetch.attempt, hence inside Client.fetch too.
    const findings = run(SERVICE, touchedScopes([12]));
    expect(findings.map((f) => [f.line, f.scope])).toEqual([
      [12, 'Client.fetch.attempt'],
      [13, 'Client.fetch'],
    ]);
  });

  it('does not enter functions no touched line lies in', () => {
    const entered: string[] = [];
    const spy = probe((ctx) => ({
      function_definition: (node) => entered.push(node.childForFieldName('name')!.text),
      call: (node) => {
        if (node.text.startsWith('time.sleep')) entered.push(`call in ${ctx.scope().qualifiedName}`);
      },
    }));
    run(SERVICE, touchedScopes([21]), [spy]);
    expect(entered).toEqual(['touched_sibling', 'call in touched_sibling']);
  });

  it('reports module-level findings only when their statement is touched', () => {
    const source = 'import nest_asyncio\n\nnest_asyncio.apply()\n\n\ndef f():\n    pass\n';
    expect(at(run(source, touchedScopes([3])))).toEqual(['3:AG205']);
    expect(at(run(source, touchedScopes([7])))).toEqual([]);
  });
});

describe('scopes and qualified names', () => {
  it('names the innermost def; lambdas and class bodies belong to what is around them', () => {
    const seen: string[] = [];
    const spy = probe((ctx) => ({
      call: (node) => {
        const s = ctx.scope();
        seen.push(`${node.text.split('(')[0]} ${s.kind} ${s.qualifiedName} async=${ctx.inAsyncCode()}`);
      },
    }));
    const source = [
      'a()',
      'class C:',
      '    b()',
      '    async def m(self, d=d()):',
      '        e()',
      '        f = lambda: g()',
      '        def inner():',
      '            h()',
      '        class K:',
      '            async def n(self):',
      '                i()',
      '',
    ].join('\n');
    run(source, WHOLE_FILE, [spy]);
    expect(seen).toEqual([
      'a module <module> async=false',
      'b class C async=false',
      // A default value is evaluated where the def statement runs, not in the function.
      'd class C async=false',
      'e async-def C.m async=true',
      'g lambda C.m.<lambda> async=false',
      'h def C.m.inner async=false',
      'i async-def C.m.K.n async=true',
    ]);
  });

  it('sets Finding.scope to the innermost def, `<module>` outside any', () => {
    const source = 'import time\nimport nest_asyncio\n\nnest_asyncio.apply()\n\nclass C:\n    async def m(self):\n        f = lambda: 1\n        time.sleep(f())\n';
    expect(run(source).map((f) => [f.ruleId, f.scope])).toEqual([
      ['AG205', '<module>'],
      ['AG101', 'C.m'],
    ]);
  });

  it('runs `<type>:exit` after the children, in document order, once per node per rule', () => {
    const events: string[] = [];
    const spy = probe(() => ({
      function_definition: (n) => events.push(`enter ${n.childForFieldName('name')!.text}`),
      'function_definition:exit': (n) => events.push(`exit ${n.childForFieldName('name')!.text}`),
      call: (n) => events.push(`call ${n.text}`),
    }));
    run('async def a():\n    x()\n    async def b():\n        y()\n    z()\n', WHOLE_FILE, [spy, spy]);
    const once = ['enter a', 'call x()', 'enter b', 'call y()', 'exit b', 'call z()', 'exit a'];
    // Two rules, one traversal: each event appears for both, interleaved node by node.
    expect(events).toEqual(once.flatMap((e) => [e, e]));
  });
});

describe('name resolution where the call is (lexical scoping over the import table)', () => {
  const resolved = (source: string) => {
    const out: string[] = [];
    const spy = probe((ctx) => ({ call: (node) => out.push(`${node.text.split('(')[0]}=${ctx.resolveCallee(node)}`) }));
    run(source, WHOLE_FILE, [spy]);
    return out;
  };

  it('a local def, parameter or assignment shadows an import, in nested functions too', () => {
    const source = [
      'from time import sleep',
      'import time',
      'async def a():',
      '    def sleep(s): pass',
      '    sleep(1)',
      '    def inner():',
      '        sleep(2)',
      'async def b(time):',
      '    time.sleep(3)',
      'async def c():',
      '    sleep(4)',
      '    time.sleep(5)',
      '',
    ].join('\n');
    expect(resolved(source)).toEqual(['sleep=null', 'sleep=null', 'time.sleep=null', 'sleep=time.sleep', 'time.sleep=time.sleep']);
  });

  it('class-body names are not visible from methods; a builtin bound elsewhere is still the builtin here', () => {
    const source = [
      'class File:',
      '    def open(self): pass',
      '    x = open("a")',
      '    async def read(self):',
      '        return open("b")',
      'def other():',
      '    open = None',
      '',
    ].join('\n');
    expect(resolved(source)).toEqual(['open=null', 'open=builtins.open']);
  });
});

describe('findings', () => {
  it('counts columns in UTF-16 code units, 1-based, end exclusive', () => {
    const line = '    label = "héllo 😀 wörld"; time.sleep(1)';
    const source = `import time\n\nasync def f():\n${line}\n`;
    const [finding] = run(source);
    const start = line.indexOf('time.sleep') + 1;
    expect(finding).toMatchObject({ line: 4, column: start, endLine: 4, endColumn: start + 'time.sleep(1)'.length });
  });

  it('fills message placeholders, collapses whitespace in the snippet and sorts by line, column, rule', () => {
    const source = [
      'import asyncio, time, requests',
      '',
      'async def f(url):',
      '    requests.get(url,',
      '                 timeout=time.sleep(1))',
      '    asyncio.sleep(0)',
      '',
    ].join('\n');
    const findings = run(source);
    expect(findings.map((f) => `${f.line}:${f.column}:${f.ruleId}`)).toEqual(['4:5:AG102', '5:26:AG101', '6:5:AG201']);
    expect(findings[0]!.snippet).toBe('requests.get(url, timeout=time.sleep(1))');
    expect(findings[0]!.message).toBe('`requests.get()` is a blocking HTTP request: the event loop stalls until the server answers');
    expect(findings[0]).toMatchObject({ slug: 'blocking-http', severity: 'error', path: 'svc.py', endLine: 5, scope: 'f' });
  });

  it('applies severityOf and does not run rules that are off', () => {
    const source = 'import time\n\nasync def f():\n    time.sleep(1)\n';
    let created = 0;
    const counted = { ...findRule('AG101')!, create: (ctx: RuleContext) => (created++, findRule('AG101')!.create(ctx)) };
    const off = runRules(parsePython('a.py', source), [counted], { scopes: WHOLE_FILE, severityOf: () => 'off' });
    expect(off).toEqual([]);
    expect(created).toBe(0);
    const info = runRules(parsePython('a.py', source), [counted], { scopes: WHOLE_FILE, severityOf: () => 'info' });
    expect(info.map((f) => f.severity)).toEqual(['info']);
  });

  it('switches off a rule that throws, for this file, and keeps the others', () => {
    const broken = probe(() => ({
      call: () => {
        throw new Error('boom');
      },
    }));
    const errors: string[] = [];
    const findings = runRules(parsePython('a.py', 'import time\n\nasync def f():\n    time.sleep(1)\n    time.sleep(2)\n'), [broken, ...RULES], {
      scopes: WHOLE_FILE,
      onRuleError: (rule, error) => errors.push(`${rule.meta.id}: ${(error as Error).message}`),
    });
    expect(errors).toEqual(['AG999: boom']);
    expect(at(findings)).toEqual(['4:AG101', '5:AG101']);
  });
});

describe('odd and broken input', () => {
  it('reports findings in other functions of a file with a syntax error', () => {
    const source = [
      'import time',
      '',
      'async def before():',
      '    time.sleep(1)',
      '',
      'async def broken(x):',
      '    if x',
      '        return x +',
      '    time.sleep(2) = 3',
      '',
      'async def after():',
      '    time.sleep(3)',
      '',
    ].join('\n');
    const file = parsePython('b.py', source);
    expect(file.errorRows.length).toBeGreaterThan(0);
    expect(at(run(source)).filter((f) => f !== '9:AG101')).toEqual(['4:AG101', '12:AG101']);
  });

  it('survives ERROR nodes, missing fields and half-written statements', () => {
    const sources = [
      'async def f(\n',
      'async def f():\n    await\n    time.sleep(\n',
      'from . import\nimport\nexcept:\n    pass\n',
      'async def f():\n    try:\n        pass\n    except asyncio.CancelledError as:\n        pass\n',
      'with open( as f:\n  x = [\n',
      'lambda: (yield)\nclass :\n  def (self): pass\n',
      '\uFEFFasync def f():\n\tx = time.sleep(1)\n',
      '',
    ];
    for (const source of sources) expect(() => run(source)).not.toThrow();
  });

  it('no rule throws on mangled versions of the fixtures (seeded fuzzing)', () => {
    const dir = fileURLToPath(new URL('./fixtures/', import.meta.url));
    let seed = 20240611;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % Math.max(1, n);
    };
    const mutations: ((s: string) => string)[] = [
      (s) => s.slice(0, random(s.length)),
      (s) => {
        const at = random(s.length);
        return s.slice(0, at) + s.slice(at + 1 + random(40));
      },
      (s) => {
        const at = random(s.length);
        return `${s.slice(0, at)}${'([{:'[random(4)]}${s.slice(at)}`;
      },
      (s) => s.split('\n').map((line) => (random(7) === 0 ? line.trimStart() : line)).join('\n'),
      (s) => s.replace(/async def/g, () => (random(2) ? 'def' : 'async def')),
    ];
    let runs = 0;
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.py'))) {
      const source = readFileSync(`${dir}${name}`, 'utf8');
      // Ten mutations of each of the ~40 fixtures: every mutation kind twice per fixture.
      for (let i = 0; i < 10; i++) {
        const mangled = mutations[i % mutations.length]!(source);
        expect(() => run(mangled), `${name} mutation ${i}`).not.toThrow();
        runs++;
      }
    }
    expect(runs).toBeGreaterThanOrEqual(160);
  }, 120_000);

  it('follows names bound to a call on themselves (`conn = conn.connect()`) without looping', () => {
    // Found by the fuzzing above: AG107 and AG109 followed such a binding back to itself forever.
    const source = ['import sqlite3', 'from PIL import Image', '', 'async def f():', '    conn = conn.connect()', '    conn.execute("select 1")', '    img = img.convert("L")', '    img.resize((10, 10))', ''].join('\n');
    expect(() => run(source)).not.toThrow();
    expect(at(run(source))).toEqual([]);
  });

  it('walks a 5,000-level nested expression without overflowing', () => {
    const depth = 5000;
    const source = `import time\n\nasync def f():\n    x = ${'('.repeat(depth)}time.sleep(1)${')'.repeat(depth)}\n    y = ${'['.repeat(depth)}1${']'.repeat(depth)}\n`;
    expect(at(run(source))).toEqual(['4:AG101']);
  });

  it('walks 2,000 nested blocks without overflowing', () => {
    let source = 'import time\n\nasync def f():\n';
    let indent = '    ';
    for (let i = 0; i < 2000; i++) {
      source += `${indent}if x:\n`;
      indent += ' ';
    }
    source += `${indent}time.sleep(1)\n`;
    expect(() => run(source)).not.toThrow();
  });

  it('walks 2,000 nested functions without overflowing', () => {
    let source = 'import time\n\n';
    let indent = '';
    for (let i = 0; i < 2000; i++) {
      source += `${indent}${i % 2 ? 'def' : 'async def'} f${i}():\n`;
      indent += ' ';
    }
    source += `${indent}time.sleep(1)\n`;
    expect(() => run(source)).not.toThrow();
  });
});

describe('code on another event loop', () => {
  // Shaped like autobahn's XBR GUI: the Twisted reactor is installed and selected through txaio.
  const twisted = (head: string) => `${head}
import os
import time

from autobahn.twisted.wamp import ApplicationRunner


class Application:
    async def start(self, reactor, config_path):
        if not os.path.isfile(config_path):
            os.mkdir(os.path.dirname(config_path))
        time.sleep(1)
        return self.load()

    def load(self):
        with open('/etc/xbr.conf') as f:
            return f.read()

    async def reload(self):
        return self.load()
`;

  it('leaves the blocking rules out of a Twisted module', () => {
    expect(at(run(twisted('import txaio\ntxaio.use_twisted()\n')))).toEqual([]);
    expect(at(run(twisted('from twisted.internet import reactor\n')))).toEqual([]);
  });

  it('keeps them for a module that also imports asyncio, or only imports txaio', () => {
    const both = at(run(twisted('import asyncio\nfrom twisted.internet import asyncioreactor\n')));
    expect(both).toEqual(['12:AG104', '13:AG104', '14:AG101', '15:AG110', '22:AG110']);
    const generic = at(run(twisted('import txaio\n')));
    expect(generic).toEqual(['11:AG104', '12:AG104', '13:AG101', '14:AG110', '21:AG110']);
  });

  // Shaped like Perfetto's CI front end (Chromium's third_party/perfetto/infra/ci/frontend).
  const flask = (head: string) => `${head}
import requests

app = flask.Flask(__name__)


def gh_req(url):
    resp = requests.get(url, timeout=30)
    return resp.json()


@app.route('/gh/pulls')
async def gh_pulls():
    return gh_req('https://api.github.com/repos/x/y/pulls')


async def get_jobs(run_id):
    with open('/tmp/jobs.json') as f:
        return gh_req(f.read() + run_id)
`;

  it('leaves the blocking rules out of a Flask module: each async view runs on a loop of its own', () => {
    expect(at(run(flask('import flask\n')))).toEqual([]);
  });

  it('keeps them for a Flask module that also imports asyncio or an asyncio framework', () => {
    expect(at(run(flask('import flask\nimport asyncio\n')))).toEqual(['16:AG110', '20:AG103', '21:AG110']);
    expect(at(run(flask('import flask\nfrom quart import Quart\n')))).toEqual(['16:AG110', '20:AG103', '21:AG110']);
    // Quart's own modules import Flask's internals, not `flask`.
    expect(at(run(flask('from flask.sessions import SessionMixin\n')))).toEqual(['15:AG110', '19:AG103', '20:AG110']);
  });

  it('keeps the other families in a Flask module', () => {
    const source = 'import flask\n\nasync def f(session):\n    session.close()\n\nasync def g():\n    f(None)\n';
    expect(at(run(source))).toContain('7:AG201');
  });

  it('leaves the concurrency rules out of a Twisted module: their advice is asyncio.gather', () => {
    // buildbot's integration tests: `@async_to_deferred` coroutines awaiting Deferreds one by one.
    const source = (head: string) =>
      `${head}from buildbot.util.twisted import async_to_deferred\n\n@async_to_deferred\nasync def enrich(master, steps):\n    for step in steps:\n        step['logs'] = await master.data.get(('steps', step['stepid'], 'logs'))\n`;
    expect(at(run(source('from twisted.internet import defer\n')))).toEqual([]);
    expect(at(run(source('')))).toEqual(['6:AG401']);
  });

  it('leaves the blocking and concurrency rules out of a trio module too', () => {
    // s3ql's block cache: trio code writing its cache files.
    const source = (head: string) =>
      `${head}import os\n\nasync def get_entry(path, backend, keys):\n    blocks = []\n    with open(path + '.tmp', 'wb') as fh:\n        fh.write(b'')\n    for key in keys:\n        blocks.append(await backend.fetch_object(key))\n    return blocks\n`;
    expect(at(run(source('import trio\n')))).toEqual([]);
    expect(at(run(source('import trio\nimport asyncio\n')))).toEqual(['7:AG103', '10:AG401']);
  });

  it('keeps the other families in a Twisted module', () => {
    const source = 'from twisted.internet import reactor\n\nasync def f(session):\n    session.close()\n\nasync def g():\n    f(None)\n';
    expect(at(run(source))).toContain('7:AG201');
  });
});
