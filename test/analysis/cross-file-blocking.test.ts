// transitive-blocking (AG110) across the files of one pull request: the async caller in one file,
// the blocking helper in another, found through the analyzer (the App's and the CLI's entry).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFile, summarizeFile, type FileInput } from '../../src/analysis/analyze-file.js';
import { crossFileImports, inlineAnalyzer } from '../../src/analysis/analyzer.js';
import { main } from '../../src/cli/main.js';
import { importedModules, moduleFiles } from '../../src/python/call-graph.js';
import { previewOn } from '../../src/rules/preview.js';
import { RULES } from '../../src/rules/registry.js';

const UTILS = `import json
import time

import requests


def read_file(path):
    with open(path) as f:
        return f.read()


def load_config(path):
    return json.loads(read_file(path))


def render(payload):
    return json.dumps(payload)


class Store:
    def __init__(self, url):
        self.url = url

    def fetch(self):
        return requests.get(self.url, timeout=5).json()


def slow():
    time.sleep(1)
`;

const API_ABSOLUTE = `from aiohttp import web

from pkg.utils import load_config, render
import pkg.utils as u


async def handle(request):
    config = load_config("settings.json")
    u.slow()
    return web.Response(text=render(config))


async def handle_store(request):
    store = u.Store("https://example.com")
    return web.json_response(store.fetch())
`;

const API_RELATIVE = `import asyncio

from . import utils
from .utils import Store, load_config


async def handle(request):
    config = load_config("settings.json")
    data = Store.fetch(Store("https://example.com"))
    utils.slow()
    offloaded = await asyncio.to_thread(load_config, "settings.json")
    return config, data, offloaded, utils.render(config)
`;

// transitive-blocking is in preview (off by default): these inputs turn it on.
const all = (path: string, source: string): FileInput => ({ path, source, addedLines: 'all', severities: previewOn(RULES) });

async function findings(inputs: FileInput[]) {
  const analyses = await inlineAnalyzer().analyze(inputs);
  return analyses.flatMap((a) => a.findings.filter((f) => f.ruleId === 'AG110').map((f) => `${a.path}:${f.line} ${f.message}`));
}

describe('transitive-blocking across the files of a pull request', () => {
  it('follows an absolute import (`from pkg.utils import ...`, `import pkg.utils as u`) into the other file', async () => {
    const result = await findings([all('src/pkg/api.py', API_ABSOLUTE), all('src/pkg/utils.py', UTILS)]);
    expect(result).toEqual([
      'src/pkg/api.py:8 `load_config()` blocks the event loop: load_config() -> utils.read_file() -> open() (src/pkg/utils.py:8)',
      'src/pkg/api.py:9 `u.slow()` blocks the event loop: u.slow() -> time.sleep() (src/pkg/utils.py:29)',
    ]);
    // `u.Store(...)` runs an `__init__` that does not block; `store.fetch()` is on a value of unknown type.
  });

  it('follows a relative import (`from .utils import ...`, `from . import utils`), and methods through the class', async () => {
    const result = await findings([all('pkg/utils.py', UTILS), all('pkg/handlers.py', API_RELATIVE)]);
    expect(result).toEqual([
      'pkg/handlers.py:8 `load_config()` blocks the event loop: load_config() -> utils.read_file() -> open() (pkg/utils.py:8)',
      'pkg/handlers.py:9 `Store.fetch()` blocks the event loop: Store.fetch() -> requests.get() (pkg/utils.py:25)',
      'pkg/handlers.py:10 `utils.slow()` blocks the event loop: utils.slow() -> time.sleep() (pkg/utils.py:29)',
    ]);
  });

  it('reports nothing without the other file (it is not part of the change), and nothing in the helper file', async () => {
    expect(await findings([all('src/pkg/api.py', API_ABSOLUTE)])).toEqual([]);
    expect(await findings([all('pkg/handlers.py', API_RELATIVE)])).toEqual([]);
    expect(await findings([all('pkg/utils.py', UTILS)])).toEqual([]);
    // A file of the same name elsewhere is not the imported module.
    expect(await findings([all('pkg/handlers.py', API_RELATIVE), all('other/utils.py', UTILS)])).toEqual([]);
  });

  it('reports in the touched handler when the helpers it calls are untouched (the helper file changed elsewhere)', async () => {
    const result = await findings([
      { path: 'pkg/handlers.py', source: API_RELATIVE, addedLines: [8], severities: previewOn(RULES) },
      { path: 'pkg/utils.py', source: UTILS, addedLines: [17], severities: previewOn(RULES) },
    ]);
    expect(result.map((line) => line.split(' ')[0])).toEqual(['pkg/handlers.py:8', 'pkg/handlers.py:9', 'pkg/handlers.py:10']);
    // Not touched: nothing to say about the caller.
    expect(await findings([{ path: 'pkg/handlers.py', source: API_RELATIVE, addedLines: [1] }, all('pkg/utils.py', UTILS)])).toEqual([]);
  });

  it('follows a chain through three files', async () => {
    const io = 'def read(path):\n    with open(path) as f:\n        return f.read()\n';
    const config = 'from app.io import read\n\n\ndef load(path):\n    return read(path)\n';
    const service = 'from app import config\n\n\nasync def start():\n    return config.load("x")\n';
    const result = await findings([all('app/service.py', service), all('app/config.py', config), all('app/io.py', io)]);
    expect(result).toEqual(['app/service.py:5 `config.load()` blocks the event loop: config.load() -> io.read() -> open() (app/io.py:2)']);
  });

  it('the CLI `check` gets it through its analyzer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-xfile-'));
    mkdirSync(join(dir, 'pkg'));
    writeFileSync(join(dir, 'pkg', 'utils.py'), UTILS);
    writeFileSync(join(dir, 'pkg', 'handlers.py'), API_RELATIVE);
    // transitive-blocking is in preview: the team's settings file turns it on, as the App reads it.
    mkdirSync(join(dir, '.github'));
    writeFileSync(join(dir, '.github', 'asyncguard.yml'), 'rules:\n  transitive-blocking: on\n');
    let stdout = '';
    await main(['check', 'pkg'], { cwd: dir, stdout: (t) => (stdout += t), stderr: () => {} });
    expect(stdout).toContain('pkg/handlers.py:8:14: AG110');
    let single = '';
    await main(['check', 'pkg/handlers.py'], { cwd: dir, stdout: (t) => (single += t), stderr: () => {} });
    rmSync(dir, { recursive: true, force: true });
    expect(single).not.toContain('AG110');
  });
});

describe('the pieces', () => {
  it('summarizeFile keeps only functions that block or call something that might, as plain data', () => {
    const summary = summarizeFile(all('pkg/utils.py', UTILS))!;
    expect(JSON.parse(JSON.stringify(summary))).toEqual({
      path: 'pkg/utils.py',
      functions: {
        read_file: { blocks: { call: 'open()', line: 8, ruleId: 'AG103' }, calls: [] },
        load_config: { calls: [{ kind: 'import', dotted: 'json.loads' }, { kind: 'local', name: 'read_file' }] },
        render: { calls: [{ kind: 'import', dotted: 'json.dumps' }] },
        // Calls through imports are kept: another file of the PR may define them.
        'Store.fetch': { blocks: { call: 'requests.get()', line: 25, ruleId: 'AG102' }, calls: [{ kind: 'import', dotted: 'requests.get' }] },
        slow: { blocks: { call: 'time.sleep()', line: 29, ruleId: 'AG101' }, calls: [{ kind: 'import', dotted: 'time.sleep' }] },
      },
    });
    expect(summarizeFile({ ...all('x.py', 'x'), source: 'a\u0000b' })).toBeNull();
  });

  it('a rule switched off does not count as blocking', async () => {
    const inputs = [all('pkg/utils.py', UTILS), all('pkg/handlers.py', API_RELATIVE)].map((input) => ({
      ...input,
      severities: { ...input.severities, AG103: 'off' as const },
    }));
    const analyses = await inlineAnalyzer().analyze(inputs);
    const lines = analyses.flatMap((a) => a.findings.filter((f) => f.ruleId === 'AG110').map((f) => `${a.path}:${f.line}`));
    expect(lines).toEqual(['pkg/handlers.py:9', 'pkg/handlers.py:10']);
  });

  it('importedModules reads import statements as text', () => {
    const source = [
      'import os, pkg.utils as u',
      'from . import utils, models as m',
      'from ..core.db import (',
      '    connect,',
      '    Session,',
      ')',
      'from __future__ import annotations',
      '    import json  # indented, in a function',
    ].join('\n');
    expect(importedModules(source).sort()).toEqual(
      ['..core.db', '..core.db.Session', '..core.db.connect', '.', '.models', '.utils', 'json', 'os', 'pkg.utils'].sort(),
    );
  });

  it('moduleFiles maps a module to the files of the batch', () => {
    const paths = ['src/pkg/utils.py', 'src/pkg/db/__init__.py', 'src/pkg/api.py', 'tools/json.py', 'src/helpers.py', 'scripts/common.py', 'scripts/run.py'];
    expect(moduleFiles('pkg.utils', 'src/pkg/api.py', paths)).toEqual(['src/pkg/utils.py']);
    expect(moduleFiles('.utils', 'src/pkg/api.py', paths)).toEqual(['src/pkg/utils.py']);
    expect(moduleFiles('.db', 'src/pkg/api.py', paths)).toEqual(['src/pkg/db/__init__.py']);
    expect(moduleFiles('..pkg.db', 'src/pkg/api.py', paths)).toEqual(['src/pkg/db/__init__.py']);
    expect(moduleFiles('...', 'src/pkg/api.py', paths)).toEqual([]);
    // One-part names: only at the root, under src/ or lib/, or next to the importer.
    expect(moduleFiles('json', 'src/pkg/api.py', paths)).toEqual([]);
    expect(moduleFiles('helpers', 'src/pkg/api.py', paths)).toEqual(['src/helpers.py']);
    expect(moduleFiles('common', 'scripts/run.py', paths)).toEqual(['scripts/common.py']);
    expect(moduleFiles('common', 'src/pkg/api.py', paths)).toEqual([]);
  });

  it('crossFileImports is empty when no file imports another (no summaries are computed)', async () => {
    expect(await crossFileImports([all('a.py', 'import os\n'), all('b.py', 'import json\n')])).toEqual({ importers: [], providers: [] });
    expect(await crossFileImports([all('pkg/a.py', 'from .b import f\n'), all('pkg/b.py', 'import os\n')])).toEqual({ importers: [0], providers: [1] });
    expect(analyzeFile(all('pkg/a.py', 'from .b import f\n\nasync def g():\n    f()\n')).findings).toEqual([]);
  });

  it('crossFileImports reads a large batch in slices, giving the event loop back between them', async () => {
    // 200 modules, each importing the next: every file but the last imports, every file but the first is imported.
    const inputs = Array.from({ length: 200 }, (_, i) => all(`pkg/m${i}.py`, i < 199 ? `from .m${i + 1} import f\n` : 'def f():\n    pass\n'));
    let yields = 0;
    const found = await crossFileImports(inputs, async () => {
      yields++;
    });
    expect(yields).toBe(3);
    expect(found.importers).toEqual(Array.from({ length: 199 }, (_, i) => i));
    expect(found.providers).toEqual(Array.from({ length: 199 }, (_, i) => i + 1));
  });
});
