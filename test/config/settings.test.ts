import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, pathFilter, resolveConfig } from '../../src/config/settings.js';
import { RULES } from '../../src/rules/registry.js';

describe('resolveConfig', () => {
  it('uses the defaults when there is no file', () => {
    expect(resolveConfig(null)).toEqual({ ok: true, settings: DEFAULT_SETTINGS });
  });

  it('reads every key', () => {
    const result = resolveConfig({
      rules: { blocking: 'warning', AG101: 'error', ASYNC220: 'off', 'dangling-task': 'info' },
      paths: ['src/**'],
      exclude: ['src/migrations/**'],
      test_paths: ['qa/**'],
      comment_on: 'diff_context',
      max_comments: 10,
      fail_on: 'warning',
      python_version: '3.11',
      blocking_calls: { 'legacy.db.query': 'use legacy.db.aquery', 'slowlib.*': 'run it in a thread' },
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { settings } = result;
    expect(settings.commentOn).toBe('diff_context');
    expect(settings.maxComments).toBe(10);
    expect(settings.failOn).toBe('warning');
    expect(settings.paths).toEqual(['src/**']);
    expect(settings.exclude).toEqual(['src/migrations/**']);
    expect(settings.rules).toEqual({
      pythonVersion: '3.11',
      testPaths: ['qa/**'],
      blockingCalls: [
        { pattern: 'legacy.db.query', suggestion: 'use legacy.db.aquery' },
        { pattern: 'slowlib.*', suggestion: 'run it in a thread' },
      ],
    });
    // A family sets all its rules; a single rule named after it wins whatever the order.
    expect(settings.severities.AG101).toBe('error');
    expect(settings.severities.AG102).toBe('warning');
    expect(settings.severities.AG105).toBe('off');
    expect(settings.severities.AG202).toBe('info');
    // `on` keeps a rule's default; a rule that ships off comes on at info.
    const on = resolveConfig({ rules: { AG103: 'on' } });
    expect(on.ok && on.settings.severities.AG103).toBe('warning');
    for (const rule of RULES.filter((r) => r.meta.severity === 'off')) {
      const enabled = resolveConfig({ rules: { [rule.meta.slug]: 'on' } });
      expect(enabled.ok && enabled.settings.severities[rule.meta.id]).toBe('info');
    }
  });

  it('names the key, the value and what was expected, for each kind of mistake', () => {
    const result = resolveConfig({
      rules: { AG999: 'error', AG101: 'loud' },
      paths: 'src/**',
      comment_on: 'everywhere',
      max_comments: -1,
      fail_on: 'sometimes',
      python_version: 3.1,
      blocking_calls: { 'not a pattern!': 'x' },
      comment_one: 'added',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const byKey = Object.fromEntries(result.problems.map((p) => [p.key, p]));
    expect(byKey['rules.AG101']).toEqual({ key: 'rules.AG101', value: '"loud"', expected: 'one of off, on, info, warning, error' });
    expect(byKey.paths).toEqual({ key: 'paths', value: '"src/**"', expected: 'a list of glob patterns such as "src/**/*.py"' });
    expect(byKey.comment_on).toEqual({ key: 'comment_on', value: '"everywhere"', expected: 'one of added, diff_context, none' });
    expect(byKey.max_comments).toMatchObject({ value: '-1', expected: 'a whole number from 0 to 100' });
    expect(byKey.fail_on).toMatchObject({ value: '"sometimes"', expected: 'one of error, warning, info, never' });
    expect(byKey.python_version).toMatchObject({ value: '3.1' });
    expect(byKey.python_version!.expected).toContain('quoted version such as "3.11"');
    expect(byKey['blocking_calls.not a pattern!']?.expected).toContain('a dotted name');
    expect(byKey.comment_one?.expected).toContain('no such key; the keys are rules, paths');
    // The unknown rule is reported once the rest is valid (it needs the registry, not the schema).
    const unknown = resolveConfig({ rules: { 'blocking-slep': 'off' } });
    expect(unknown).toEqual({
      ok: false,
      problems: [
        {
          key: 'rules.blocking-slep',
          value: '"blocking-slep"',
          expected: expect.stringContaining('a rule id, alias, slug or family (blocking, coroutines, cancellation, concurrency, resources); closest: AG101 (blocking-sleep)'),
        },
      ],
    });
  });

  it('rejects a file that is not a mapping', () => {
    const result = resolveConfig(['rules']);
    expect(result).toEqual({ ok: false, problems: [{ key: '', value: '["rules"]', expected: expect.stringContaining('a mapping of settings') }] });
  });

  it('shortens long values', () => {
    const result = resolveConfig({ comment_on: 'x'.repeat(500) });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]!.value!.length).toBeLessThanOrEqual(60);
  });
});

describe('pathFilter', () => {
  it('keeps paths, drops exclusions, and knows test code', () => {
    const filter = pathFilter({ ...DEFAULT_SETTINGS, paths: ['src/**'], exclude: ['src/legacy/**'] });
    expect(filter.reviewed('src/app/api.py')).toBe(true);
    expect(filter.reviewed('src/legacy/old.py')).toBe(false);
    expect(filter.reviewed('scripts/run.py')).toBe(false);
    const defaults = pathFilter(DEFAULT_SETTINGS);
    expect(defaults.reviewed('anything/at/all.py')).toBe(true);
    const harnesses = ['daphne/testing.py', 'pkg/testing/server.py', 'examples/client.py', 'docs/examples/bot.py'];
    for (const path of ['tests/test_api.py', 'pkg/tests/helpers.py', 'test_x.py', 'pkg/io_test.py', 'conftest.py', 'pkg/conftest.py', ...harnesses]) {
      expect(defaults.isTest(path), path).toBe(true);
    }
    for (const path of ['src/contest.py', 'src/attest.py', 'src/testinglib.py', 'src/examples.py', 'src/my_testing.py']) expect(defaults.isTest(path), path).toBe(false);
  });
});
