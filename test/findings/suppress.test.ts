import { describe, expect, it } from 'vitest';
import { applySuppressions } from '../../src/findings/suppress.js';
import { parsePython } from '../../src/python/parser.js';
import { WHOLE_FILE } from '../../src/python/scopes.js';
import { runRules } from '../../src/rules/engine.js';
import { RULES } from '../../src/rules/registry.js';

function check(source: string) {
  const file = parsePython('svc.py', source);
  const findings = runRules(file, RULES, { scopes: WHOLE_FILE });
  const { kept, suppressed } = applySuppressions(file, findings);
  const at = (list: typeof kept) => list.map((f) => `${f.line}:${f.ruleId}`);
  return { kept: at(kept), suppressed: at(suppressed) };
}

const HEADER = ['import asyncio', 'import subprocess', 'import time', '', '', 'async def handler(cmd):'];

describe('suppressions', () => {
  it('every form on the flagged line', () => {
    const source = [
      ...HEADER,
      '    time.sleep(1)  # noqa',
      '    time.sleep(2)  # noqa: ASYNC251',
      '    time.sleep(3)  # noqa: AG101',
      '    time.sleep(4)  # NOQA:E501,async251',
      '    time.sleep(5)  # asyncguard: ignore[AG101]',
      '    time.sleep(6)  # asyncguard: ignore[blocking-sleep]',
      '    time.sleep(7)  # asyncguard: ignore',
      '    time.sleep(8)  # noqa: E501',
      '    time.sleep(9)  # asyncguard: ignore[AG102]',
      '    time.sleep(10)',
      '    time.sleep(11)  # see "# noqa" in the docs',
      '',
    ].join('\n');
    expect(check(source)).toEqual({
      kept: ['14:AG101', '15:AG101', '16:AG101', '17:AG101'],
      suppressed: ['7:AG101', '8:AG101', '9:AG101', '10:AG101', '11:AG101', '12:AG101', '13:AG101'],
    });
  });

  it('names one rule of two on a line; other rules stay', () => {
    const source = [...HEADER, '    subprocess.run(cmd); time.sleep(1)  # noqa: ASYNC251', ''].join('\n');
    expect(check(source)).toEqual({ kept: ['7:AG105'], suppressed: ['7:AG101'] });
  });

  it('on the first line of a statement split over lines', () => {
    const source = [
      ...HEADER,
      '    result = subprocess.run(  # noqa: ASYNC221',
      '        cmd,',
      '        check=True,',
      '    )',
      '    await asyncio.sleep(0)',
      '    return [',
      '        time.sleep(1),',
      '    ]  # noqa',
      '',
    ].join('\n');
    // The `# noqa` on the closing line is neither the flagged line nor the statement's first.
    expect(check(source)).toEqual({ kept: ['13:AG101'], suppressed: ['7:AG105'] });
  });

  it('a `#` inside a string is not a comment', () => {
    const source = [...HEADER, "    time.sleep(1); print('# noqa')", ''].join('\n');
    expect(check(source)).toEqual({ kept: ['7:AG101'], suppressed: [] });
  });

  it('ignore-file in the first lines silences the file; further down it does nothing', () => {
    const top = ['# asyncguard: ignore-file', ...HEADER, '    time.sleep(1)', ''].join('\n');
    expect(check(top)).toEqual({ kept: [], suppressed: ['8:AG101'] });
    const late = [...HEADER, '    time.sleep(1)', ...Array(10).fill(''), '# asyncguard: ignore-file', ''].join('\n');
    expect(check(late)).toEqual({ kept: ['7:AG101'], suppressed: [] });
  });
});
