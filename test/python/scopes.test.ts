import { describe, expect, it } from 'vitest';
import { parsePython } from '../../src/python/parser.js';
import { touchedScopes } from '../../src/python/scopes.js';

const SOURCE = `import asyncio
import time

TIMEOUT = 5


def helper():
    return 1


class Client:
    retries = 3

    @property
    def name(self):
        return "c"

    async def fetch(self, url,
                    timeout=None):
        async def attempt():
            await asyncio.sleep(0)
        return await attempt()


@decorator(
    option=True,
)
async def handler(request):
    time.sleep(1)
`;

const file = parsePython('client.py', SOURCE);
const touched = (...lines: number[]) => touchedScopes(lines).describe(file).map((s) => `${s.kind}:${s.name}`);
const nodeAt = (line: number, text: string) => {
  const col = SOURCE.split('\n')[line - 1]!.indexOf(text);
  return file.tree.rootNode.descendantForPosition({ row: line - 1, column: col });
};

describe('touchedScopes', () => {
  it('finds a plain function from a line of its body', () => {
    expect(touched(8)).toEqual(['function:helper']);
  });

  it('counts decorators as part of the function', () => {
    expect(touched(15)).toEqual(['function:Client.name']);
    expect(touched(26)).toEqual(['function:handler']);
  });

  it('counts a change in a multi-line signature', () => {
    expect(touched(19)).toEqual(['function:Client.fetch']);
  });

  it('reports a nested function and every function around it', () => {
    expect(touched(21)).toEqual(['function:Client.fetch', 'function:Client.fetch.attempt']);
  });

  it('treats module-level and class-body statements as scopes of their own', () => {
    expect(touched(4)).toEqual(['statement:<module>']);
    expect(touched(12)).toEqual(['statement:Client']);
  });

  it('touches nothing for lines between scopes or outside the file', () => {
    expect(touched(5, 9, 200)).toEqual([]);
  });

  it('includes findings only in touched scopes', () => {
    const sleep = nodeAt(29, 'time.sleep');
    expect(sleep.text).toBe('time');
    expect(touchedScopes([29]).includes(sleep)).toBe(true);
    expect(touchedScopes([26]).includes(sleep)).toBe(true); // decorator line belongs to handler
    expect(touchedScopes([21]).includes(sleep)).toBe(false);
    const inner = nodeAt(21, 'asyncio.sleep');
    expect(inner.text).toBe('asyncio');
    expect(touchedScopes([21]).includes(inner)).toBe(true);
    // fetch is touched (line 19) but the finding sits in the nested attempt(), which is not.
    expect(touchedScopes([19]).includes(inner)).toBe(false);
  });
});

describe('touchedScopes on comment lines', () => {
  it('does not count an added module-level comment as a touched statement', () => {
    const commented = parsePython('c.py', 'import os\n# a new comment\nX = 1\n');
    expect(touchedScopes([2]).describe(commented)).toEqual([]);
    expect(touchedScopes([3]).describe(commented).map((s) => s.kind)).toEqual(['statement']);
  });
});
