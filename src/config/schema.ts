import { z } from 'zod';

/** Where a repository's configuration lives, read from its default branch. */
export const CONFIG_PATH = '.github/asyncguard.yml';

/** GitHub accepts large reviews, but past this a review stops being read. */
export const MAX_COMMENTS_LIMIT = 100;

/** What each key accepts, in the words the check run shows when a value is wrong. */
export const EXPECTED = {
  rules: 'a mapping of rule (id, alias, slug or family) to off, on, info, warning or error',
  ruleLevel: 'one of off, on, info, warning, error',
  globs: 'a list of glob patterns such as "src/**/*.py"',
  commentOn: 'one of added, diff_context, none',
  maxComments: `a whole number from 0 to ${MAX_COMMENTS_LIMIT}`,
  failOn: 'one of error, warning, info, never',
  pythonVersion: 'a quoted version such as "3.11" (unquoted, YAML reads 3.10 as the number 3.1)',
  blockingCalls: 'a mapping of dotted call pattern (`mypkg.db.query`, `legacy.*`) to the suggestion to show',
  blockingPattern: 'a dotted name, optionally ending in `.*`, such as `mypkg.db.query`',
} as const;

const glob = z.string({ error: EXPECTED.globs }).min(1, { error: EXPECTED.globs });
const globs = z.array(glob, { error: EXPECTED.globs });

/** `mypkg.db.query`, `mypkg.*`, `requests.Session.get`. */
export const BLOCKING_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(\.\*)?$/;

/**
 * `.github/asyncguard.yml`. Strict: an unknown key is an error (a typo must not be silently
 * ignored), and every value says what it expected when it is wrong.
 */
export const configSchema = z.strictObject(
  {
    rules: z
      .record(z.string(), z.enum(['off', 'on', 'info', 'warning', 'error'], { error: EXPECTED.ruleLevel }), {
        error: EXPECTED.rules,
      })
      .optional(),
    paths: globs.optional(),
    exclude: globs.optional(),
    test_paths: globs.optional(),
    comment_on: z.enum(['added', 'diff_context', 'none'], { error: EXPECTED.commentOn }).optional(),
    max_comments: z
      .number({ error: EXPECTED.maxComments })
      .int({ error: EXPECTED.maxComments })
      .min(0, { error: EXPECTED.maxComments })
      .max(MAX_COMMENTS_LIMIT, { error: EXPECTED.maxComments })
      .optional(),
    fail_on: z.enum(['error', 'warning', 'info', 'never'], { error: EXPECTED.failOn }).optional(),
    python_version: z.string({ error: EXPECTED.pythonVersion }).regex(/^3\.\d{1,2}$/, { error: EXPECTED.pythonVersion }).optional(),
    blocking_calls: z
      .record(
        z.string().regex(BLOCKING_PATTERN, { error: EXPECTED.blockingPattern }),
        z.string({ error: 'a suggestion text' }).min(1, { error: 'a suggestion text' }),
        { error: EXPECTED.blockingCalls },
      )
      .optional(),
  },
  { error: 'a mapping of settings (rules, paths, exclude, test_paths, comment_on, max_comments, fail_on, python_version, blocking_calls)' },
);

export type ConfigFile = z.infer<typeof configSchema>;
