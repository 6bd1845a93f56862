import { describe, expect, it } from 'vitest';
import { firstCommand, MAX_ARGUMENT_CHARS, MAX_COMMANDS, MAX_SCANNED_CHARS, parseCommands } from '../../src/commands/parse.js';

describe('parseCommands', () => {
  it.each([
    ['/asyncguard explain AG101', { kind: 'explain', rule: 'AG101' }],
    ['/asyncguard explain', { kind: 'explain', rule: null }],
    ['/asyncguard explain   ', { kind: 'explain', rule: null }],
    ['/asyncguard explain ASYNC251 please, thanks', { kind: 'explain', rule: 'ASYNC251' }],
    ['/asyncguard help', { kind: 'help' }],
    ['/asyncguard', { kind: 'help' }],
    ['/asyncguard recheck', { kind: 'recheck' }],
    ['/asyncguard frobnicate now', { kind: 'unknown', name: 'frobnicate' }],
    ['/ASYNCGUARD EXPLAIN blocking-sleep', { kind: 'explain', rule: 'blocking-sleep' }],
    ['/AsyncGuard ReCheck', { kind: 'recheck' }],
    ['   /asyncguard help', { kind: 'help' }],
    ['\t/asyncguard\thelp', { kind: 'help' }],
    ['/asyncguard help\r', { kind: 'help' }],
  ])('%j', (body, expected) => {
    expect(parseCommands(body)).toEqual([expected]);
  });

  it('finds commands on any line, in order', () => {
    expect(parseCommands('Thanks for the review!\r\n\r\n/asyncguard explain AG101\nand\n/asyncguard recheck\n')).toEqual([
      { kind: 'explain', rule: 'AG101' },
      { kind: 'recheck' },
    ]);
    expect(firstCommand('hi\n/asyncguard recheck\n/asyncguard help')).toEqual({ kind: 'recheck' });
  });

  it.each([
    ['mid-sentence', 'please /asyncguard help'],
    ['in a list item', '- /asyncguard help'],
    ['quoted', '> /asyncguard help'],
    ['quoted after spaces', '  > /asyncguard recheck'],
    ['glued', '/asyncguardhelp'],
    ['another prefix', '/asyncguard-bot help'],
    ['inline code', '`/asyncguard help`'],
    ['a fenced block', '```\n/asyncguard help\n```'],
    ['a fenced block with an info string', '```text\n/asyncguard help\n```'],
    ['a tilde fence', '~~~\n/asyncguard help\n~~~'],
    ['a longer fence holding a shorter one', '````md\n```\n/asyncguard help\n```\n````'],
    ['an unclosed fence', 'look:\n```\n/asyncguard help'],
    ['an HTML comment', '<!-- /asyncguard help -->'],
    ['a multi-line HTML comment', '<!--\n/asyncguard help\n-->'],
    ['empty', ''],
    ['null', null],
  ])('ignores a command %s', (_name, body) => {
    expect(parseCommands(body)).toEqual([]);
  });

  it('reads commands again after a fence or an HTML comment closes', () => {
    expect(parseCommands('```\n/asyncguard help\n```\n/asyncguard recheck')).toEqual([{ kind: 'recheck' }]);
    expect(parseCommands('<!--\n/asyncguard help\n-->\n/asyncguard recheck')).toEqual([{ kind: 'recheck' }]);
    // Inline code with three backticks on one line is not a fence.
    expect(parseCommands('```x``` is code\n/asyncguard help')).toEqual([{ kind: 'help' }]);
  });

  it('reads only the first MAX_SCANNED_CHARS characters', () => {
    const filler = 'x'.repeat(MAX_SCANNED_CHARS - '/asyncguard help'.length - 1);
    expect(parseCommands(`${filler}\n/asyncguard help`)).toEqual([{ kind: 'help' }]);
    expect(parseCommands(`${filler}x\n/asyncguard help`)).toEqual([]);
    // A command line the limit cuts is not read at all, not even its first words.
    expect(parseCommands(`/asyncguard explain ${'q'.repeat(MAX_SCANNED_CHARS)}`)).toEqual([]);
    expect(parseCommands(`${'x'.repeat(MAX_SCANNED_CHARS - 15)}\n/asyncguard help`)).toEqual([]);
  });

  it('cuts arguments and sub-commands to MAX_ARGUMENT_CHARS', () => {
    const long = 'q'.repeat(MAX_SCANNED_CHARS - 100);
    expect(parseCommands(`/asyncguard explain ${long}`)).toEqual([{ kind: 'explain', rule: 'q'.repeat(MAX_ARGUMENT_CHARS) }]);
    expect(parseCommands(`/asyncguard ${long}`)).toEqual([{ kind: 'unknown', name: 'q'.repeat(MAX_ARGUMENT_CHARS) }]);
  });

  it('collects at most MAX_COMMANDS commands', () => {
    expect(parseCommands('/asyncguard help\n'.repeat(100))).toHaveLength(MAX_COMMANDS);
  });

  it('is fast on adversarial input (no backtracking over user text)', () => {
    const inputs = [
      `/asyncguard explain ${' '.repeat(100_000)}x`,
      `/asyncguard${'\t '.repeat(50_000)}`,
      '```\n'.repeat(30_000),
      '<!--'.repeat(30_000),
      ` ${'/asyncguard '.repeat(10_000)}`,
    ];
    const started = performance.now();
    for (const input of inputs) parseCommands(input);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
