import picomatch from 'picomatch';
import type { CommentOn } from '../findings/select.js';
import { findRule, RULES, suggestRules } from '../rules/registry.js';
import { DEFAULT_RULE_SETTINGS, DEFAULT_TEST_PATHS, type Rule, type RuleFamily, type RuleSettings, type Severity } from '../rules/types.js';
import { testPathMatcher } from '../rules/util.js';
import { configSchema, type ConfigFile } from './schema.js';

/** What one review runs with: the defaults, or a repository's `.github/asyncguard.yml`. */
export interface ReviewSettings {
  /** Which added lines may carry review comments (`none`: annotations only). */
  commentOn: CommentOn;
  maxComments: number;
  /** The lowest severity that fails the check run; `never` never fails it. */
  failOn: 'error' | 'warning' | 'info' | 'never';
  /** Severity per rule id where the configuration changes the rule's default. */
  severities: Record<string, Severity>;
  /** Only Python files matching one of these are reviewed (null: all). */
  paths: readonly string[] | null;
  exclude: readonly string[];
  /** Handed to the rules; `rules.testPaths` is test code, where blocking-family findings drop to info and are not commented. */
  rules: RuleSettings;
}

export const DEFAULT_SETTINGS: ReviewSettings = {
  commentOn: 'added',
  // GitHub lets one review carry many comments, but a wall of them buries the PR: we cap it.
  maxComments: 25,
  failOn: 'error',
  severities: {},
  paths: null,
  exclude: [],
  rules: DEFAULT_RULE_SETTINGS,
};

/** One thing wrong with a configuration file, as the check run reports it. */
export interface ConfigProblem {
  /** Dotted key, `rules.AG999`; empty for the file as a whole. */
  key: string;
  /** The value found, as short JSON; undefined when the key is missing. */
  value?: string;
  expected: string;
}

export type ConfigResult = { ok: true; settings: ReviewSettings } | { ok: false; problems: ConfigProblem[] };

const FAMILIES: readonly RuleFamily[] = ['blocking', 'coroutines', 'cancellation', 'concurrency', 'resources'];
const MAX_VALUE_CHARS = 60;

/**
 * Validates a parsed `.github/asyncguard.yml` (null: no file, the defaults) and turns it into
 * settings. Every problem is reported, none is papered over with a default.
 */
export function resolveConfig(raw: unknown): ConfigResult {
  if (raw === null || raw === undefined) return { ok: true, settings: DEFAULT_SETTINGS };
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue): ConfigProblem[] => {
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => ({
          key: [...issue.path, key].join('.'),
          expected: `no such key; the keys are ${Object.keys(configSchema.shape).join(', ')}`,
        }));
      }
      const key = issue.path.map(String).join('.');
      // A bad key of a mapping (`blocking_calls: {"not a pattern": ...}`): the key is the value.
      if (issue.code === 'invalid_key') {
        const name = String(issue.path[issue.path.length - 1]);
        return [{ key, value: short(name), expected: issue.issues[0]?.message ?? issue.message }];
      }
      return [{ key, ...valueAt(raw, issue.path), expected: issue.message }];
    });
    return { ok: false, problems: dedupe(problems) };
  }
  const config = parsed.data;
  const severities = ruleSeverities(config);
  if (!severities.ok) return severities;
  return {
    ok: true,
    settings: {
      commentOn: config.comment_on ?? DEFAULT_SETTINGS.commentOn,
      maxComments: config.max_comments ?? DEFAULT_SETTINGS.maxComments,
      failOn: config.fail_on ?? DEFAULT_SETTINGS.failOn,
      severities: severities.severities,
      paths: config.paths ?? null,
      exclude: config.exclude ?? [],
      rules: {
        blockingCalls: Object.entries(config.blocking_calls ?? {}).map(([pattern, suggestion]) => ({ pattern, suggestion })),
        pythonVersion: config.python_version ?? null,
        testPaths: config.test_paths ?? DEFAULT_TEST_PATHS,
      },
    },
  };
}

/** Family entries first, then single rules: `blocking: off` with `AG101: error` keeps AG101 on. */
function ruleSeverities(config: ConfigFile): { ok: true; severities: Record<string, Severity> } | { ok: false; problems: ConfigProblem[] } {
  const severities: Record<string, Severity> = {};
  const problems: ConfigProblem[] = [];
  const entries = Object.entries(config.rules ?? {});
  const level = (rule: Rule, value: string): Severity =>
    value === 'on' ? (rule.meta.severity === 'off' ? 'info' : rule.meta.severity) : (value as Severity);
  for (const [name, value] of entries) {
    const family = FAMILIES.find((f) => f === name.trim().toLowerCase());
    if (!family) continue;
    for (const rule of RULES) if (rule.meta.family === family) severities[rule.meta.id] = level(rule, value);
  }
  for (const [name, value] of entries) {
    if (FAMILIES.includes(name.trim().toLowerCase() as RuleFamily)) continue;
    const rule = findRule(name);
    if (!rule) {
      const closest = suggestRules(name, 3).map((r) => `${r.meta.id} (${r.meta.slug})`);
      problems.push({
        key: `rules.${name}`,
        value: short(name),
        expected: `a rule id, alias, slug or family (${FAMILIES.join(', ')}); closest: ${closest.join(', ')}`,
      });
      continue;
    }
    severities[rule.meta.id] = level(rule, value);
  }
  return problems.length ? { ok: false, problems } : { ok: true, severities };
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): { value?: string } {
  let current: unknown = raw;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return {};
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current === undefined ? {} : { value: short(current) };
}

function short(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.key}\u0000${p.expected}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The file filter the configuration asks for: reviewed, and whether it is test code. */
export function pathFilter(settings: ReviewSettings): { reviewed(path: string): boolean; isTest(path: string): boolean } {
  const options = { dot: true };
  const included = settings.paths ? picomatch([...settings.paths], options) : () => true;
  const excluded = settings.exclude.length ? picomatch([...settings.exclude], options) : () => false;
  return {
    reviewed: (path) => included(path) && !excluded(path),
    isTest: testPathMatcher(settings.rules.testPaths),
  };
}
