// Family 5 (resources): what the fixtures cannot show line by line — suggestions, and that one
// mistake is reported once, by the rule that names it best.
import { describe, expect, it } from 'vitest';
import { parsePython } from '../../src/python/parser.js';
import { WHOLE_FILE } from '../../src/python/scopes.js';
import { runRules } from '../../src/rules/engine.js';
import { RULES } from '../../src/rules/registry.js';
import type { Finding } from '../../src/rules/types.js';

function analyse(source: string): Finding[] {
  return runRules(parsePython('r.py', source), RULES, {
    scopes: WHOLE_FILE,
    onRuleError: (rule, error) => {
      throw new Error(`${rule.meta.id}: ${String(error)}`);
    },
  });
}

describe('AG504 sync-with-on-async-resource suggestions', () => {
  const source = [
    'import asyncio',
    'import aiofiles',
    '',
    'lock = asyncio.Lock()',
    '',
    'async def f(path):',
    '    with lock:  # guard',
    '        pass',
    '    with asyncio.Semaphore(2), asyncio.Lock() as inner:',
    '        pass',
    '    with lock, open(path) as fh:',
    '        pass',
    '    with (',
    '        aiofiles.open(path) as f,',
    '    ):',
    '        pass',
    '',
  ].join('\n');
  const ours = analyse(source).filter((f) => f.ruleId === 'AG504');

  it('prefixes `async` when every item of the `with` is async-only, once per statement', () => {
    expect(ours.map((f) => [f.line, f.suggestion ?? null])).toEqual([
      [7, { line: 7, endLine: 7, replacement: '    async with lock:  # guard' }],
      [9, { line: 9, endLine: 9, replacement: '    async with asyncio.Semaphore(2), asyncio.Lock() as inner:' }],
      [9, null],
      // `open()` cannot go in an `async with`: no suggestion.
      [11, null],
      // The item is not on the `with` line: no suggestion.
      [14, null],
    ]);
  });
});

describe('AG501 / AG502: a client per iteration that is never closed', () => {
  it('is reported once, as unclosed', () => {
    const source = [
      'import httpx',
      '',
      'async def leak(cursor):',
      '    while cursor:',
      '        client = httpx.AsyncClient()',
      '        cursor = (await client.get("/", params={"c": cursor})).json()["next"]',
      '',
      'async def closed(cursor):',
      '    while cursor:',
      '        client = httpx.AsyncClient()',
      '        try:',
      '            cursor = (await client.get("/", params={"c": cursor})).json()["next"]',
      '        finally:',
      '            await client.aclose()',
      '',
    ].join('\n');
    expect(analyse(source).map((f) => `${f.line}:${f.ruleId}`)).toEqual(['5:AG502', '10:AG501']);
  });
});
