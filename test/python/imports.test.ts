import { describe, expect, it } from 'vitest';
import { buildImportTable } from '../../src/python/imports.js';
import { parsePython } from '../../src/python/parser.js';

const tableOf = (source: string) => buildImportTable(parsePython('m.py', source).tree.rootNode);
const resolve = (source: string, ...names: string[]) => {
  const table = tableOf(source);
  return names.map((name) => table.resolve(name));
};

describe('buildImportTable: import forms', () => {
  it('import x / import x as y / import x.y', () => {
    expect(resolve('import time\n', 'time.sleep', 'time')).toEqual(['time.sleep', 'time']);
    expect(resolve('import time as t\n', 't.sleep', 'time.sleep')).toEqual(['time.sleep', null]);
    expect(resolve('import os.path\n', 'os.path.join', 'os.system', 'path.join')).toEqual(['os.path.join', 'os.system', null]);
    expect(resolve('import os.path as osp\n', 'osp.join', 'os.path')).toEqual(['os.path.join', null]);
    expect(resolve('import asyncio, requests as rq\n', 'asyncio.run', 'rq.get')).toEqual(['asyncio.run', 'requests.get']);
  });

  it('from x import y / from x import y as z / parenthesised lists', () => {
    expect(resolve('from time import sleep\n', 'sleep', 'time.sleep')).toEqual(['time.sleep', null]);
    expect(resolve('from time import sleep as nap\n', 'nap', 'sleep')).toEqual(['time.sleep', null]);
    expect(resolve('from asyncio import create_task\n', 'create_task')).toEqual(['asyncio.create_task']);
    const source = 'from asyncio import (\n    sleep,\n    create_task as spawn,  # comment\n)\n';
    expect(resolve(source, 'sleep', 'spawn')).toEqual(['asyncio.sleep', 'asyncio.create_task']);
    expect(resolve('from urllib.request import urlopen\n', 'urlopen')).toEqual(['urllib.request.urlopen']);
    expect(resolve('from os import path\n', 'path.exists')).toEqual(['os.path.exists']);
  });

  it("resolves a package's private submodules to the public name", () => {
    const source = 'from asyncio import tasks, events\nfrom asyncio import exceptions as exceptions_mod\nimport requests.api\n';
    expect(resolve(source, 'tasks.wait', 'events.get_running_loop', 'exceptions_mod.CancelledError', 'requests.api.get', 'tasks')).toEqual([
      'asyncio.wait',
      'asyncio.get_running_loop',
      'asyncio.CancelledError',
      'requests.get',
      'asyncio.tasks',
    ]);
  });

  it('collects imports file-wide: inside functions, try blocks and if blocks', () => {
    const source = [
      'def f():',
      '    import subprocess',
      '    return subprocess.run',
      'try:',
      '    from time import monotonic',
      'except ImportError:',
      '    raise',
      'if True:',
      '    import gzip as gz',
      '',
    ].join('\n');
    expect(resolve(source, 'subprocess.run', 'monotonic', 'gz.open')).toEqual(['subprocess.run', 'time.monotonic', 'gzip.open']);
  });

  it('is silent on unknown heads, wildcards and __future__', () => {
    expect(resolve('import time\n', 'sleep', 'requests.get', 'self.sleep', '')).toEqual([null, null, null, null]);
    expect(resolve('from time import *\n', 'sleep')).toEqual([null]);
    expect(resolve('from __future__ import annotations\n', 'annotations')).toEqual([null]);
  });
});

describe('buildImportTable: relative imports', () => {
  it('resolve to a leading-dot name, never to a stdlib module', () => {
    const source = 'from . import time\nfrom .compat import sleep\nfrom ..net import requests as rq\nfrom ... import subprocess\n';
    expect(resolve(source, 'time.sleep', 'sleep', 'rq.get', 'subprocess.run')).toEqual([
      '.time.sleep',
      '.compat.sleep',
      '..net.requests.get',
      '...subprocess.run',
    ]);
  });
});

describe('buildImportTable: shadowing and ambiguity', () => {
  it('a name imported and re-bound at module level resolves to null', () => {
    for (const rebinding of [
      'sleep = my_sleep',
      'def sleep(s):\n    pass',
      'class sleep:\n    pass',
      'for sleep in []:\n    pass',
      'with ctx() as sleep:\n    pass',
      'sleep: object = None',
      'sleep += 1',
      '(sleep := 1)',
      'def f():\n    global sleep\n    sleep = 1',
    ]) {
      expect(resolve(`from time import sleep\n${rebinding}\n`, 'sleep'), rebinding).toEqual([null]);
    }
    expect(resolve('try:\n    import requests\nexcept ImportError:\n    requests = None\n', 'requests.get')).toEqual([null]);
  });

  it('a name imported from two different places resolves to null; the same import twice is fine', () => {
    expect(resolve('try:\n    import ujson as json\nexcept ImportError:\n    import json\n', 'json.loads')).toEqual([null]);
    expect(resolve('import time\nfrom time import time\n', 'time')).toEqual([null]);
    expect(resolve('import os\nimport os.path\ndef f():\n    import os\n', 'os.system')).toEqual(['os.system']);
  });

  it('function-local re-bindings do not change the module-level view (the engine handles them)', () => {
    expect(resolve('from time import sleep\ndef f(sleep):\n    pass\n', 'sleep')).toEqual(['time.sleep']);
  });
});

describe('buildImportTable: builtins', () => {
  it('open and input resolve to builtins when the file never binds them', () => {
    expect(resolve('x = 1\n', 'open', 'input', 'BaseException', 'len')).toEqual(['builtins.open', 'builtins.input', 'builtins.BaseException', null]);
  });

  it('stay silent when the file binds the name anywhere, in any way', () => {
    for (const binding of [
      'def open(path):\n    pass',
      'class C:\n    def open(self):\n        pass',
      'def f(open=None):\n    pass',
      'def f(*, open):\n    pass',
      'def f(*open):\n    pass',
      'def f(x: int, open: str):\n    pass',
      'f = lambda open: open',
      'for open in []:\n    pass',
      'with ctx() as (a, open):\n    pass',
      'a, *open = x',
      'try:\n    pass\nexcept E as open:\n    pass',
      '[1 for open in x]',
      'from io import open',
      'import open',
      'from os import *',
    ]) {
      expect(resolve(`${binding}\n`, 'open')[0], binding).not.toBe('builtins.open');
    }
    expect(resolve('from io import open\n', 'open')).toEqual(['io.open']);
  });

  it('builtin() ignores local bindings but not imports or wildcards', () => {
    expect(tableOf('class C:\n    def open(self):\n        pass\n').builtin('open')).toBe('builtins.open');
    expect(tableOf('from aiofiles import open\n').builtin('open')).toBeNull();
    expect(tableOf('from os import *\n').builtin('open')).toBeNull();
    expect(tableOf('').builtin('sleep')).toBeNull();
  });
});

describe('buildImportTable: bindings per scope', () => {
  it('records what each scope binds and how', () => {
    const file = parsePython(
      'm.py',
      [
        'import asyncio',
        'from pathlib import Path',
        '',
        '@decorator',
        'async def f(a, b: Path, *args, c=1, **kw):',
        '    p = Path(a)',
        '    x, (y, z) = 1, (2, 3)',
        '    async with asyncio.TaskGroup() as tg:',
        '        pass',
        '',
        'class C:',
        '    def m(self):',
        '        pass',
        '',
      ].join('\n'),
    );
    const table = buildImportTable(file.tree.rootNode);
    const root = file.tree.rootNode;
    const module = table.bindingsIn(root);
    expect([...module.keys()].sort()).toEqual(['C', 'Path', 'asyncio', 'f']);
    expect(module.get('asyncio')).toEqual([{ kind: 'import', target: 'asyncio' }]);
    expect(module.get('f')![0]).toMatchObject({ kind: 'def', async: true, decorators: ['decorator'] });

    const f = root.descendantsOfType('function_definition')[0]!;
    const local = table.bindingsIn(f);
    expect([...local.keys()].sort()).toEqual(['a', 'args', 'b', 'c', 'kw', 'p', 'tg', 'x', 'y', 'z']);
    expect(local.get('b')![0]!.annotation?.text).toBe('Path');
    expect(local.get('p')![0]!.value?.text).toBe('Path(a)');
    expect(local.get('z')![0]!.value?.text).toBe('3');
    expect(local.get('tg')![0]).toMatchObject({ kind: 'with' });
    expect(local.get('tg')![0]!.value?.text).toBe('asyncio.TaskGroup()');

    const c = root.descendantsOfType('class_definition')[0]!;
    expect([...table.bindingsIn(c).keys()]).toEqual(['m']);
  });
});
