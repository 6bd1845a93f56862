import { applySuppressions } from '../findings/suppress.js';
import { parsePython } from '../python/parser.js';
import { touchedScopes, WHOLE_FILE, type TouchedScope } from '../python/scopes.js';
import { runRules } from '../rules/engine.js';
import { RULES } from '../rules/registry.js';
import type { Finding, RuleSettings, Severity } from '../rules/types.js';

/** Files larger than this are not parsed: the summary says so instead of stalling a worker. */
export const MAX_SOURCE_CHARS = 2_000_000;

/** One file to analyse. Plain data, so it can cross into a worker thread. */
export interface FileInput {
  path: string;
  source: string;
  /** 1-based lines the change added, or 'all' to analyse the whole file (CLI `check`). */
  addedLines: number[] | 'all';
  /** Severity per rule id; rules not listed keep their default. */
  severities?: Record<string, Severity>;
  /** Team settings the rules read (configured blocking calls, Python version). */
  settings?: RuleSettings;
}

export interface FileAnalysis {
  path: string;
  findings: Finding[];
  touched: TouchedScope[];
  /** Findings silenced by `# noqa` / `# asyncguard: ignore` comments: counted, not reported. */
  suppressed: number;
  /** 1-based lines where the parser recovered from a syntax error. */
  syntaxErrorLines: number[];
  /** Why the file could not be analysed at all, for humans (the path is not repeated in it). */
  skipped?: string;
}

/** Parse, find the touched scopes, run the rules. Pure and total: never throws. */
export function analyzeFile(input: FileInput): FileAnalysis {
  const empty = { path: input.path, findings: [], suppressed: 0, touched: [], syntaxErrorLines: [] };
  if (input.source.length > MAX_SOURCE_CHARS) {
    return { ...empty, skipped: `larger than ${MAX_SOURCE_CHARS.toLocaleString('en')} characters; not analysed` };
  }
  if (input.source.includes('\u0000')) {
    return { ...empty, skipped: `contains NUL bytes (binary?); not analysed` };
  }
  try {
    const file = parsePython(input.path, input.source);
    const scopes = input.addedLines === 'all' ? WHOLE_FILE : touchedScopes(input.addedLines);
    const severities = input.severities ?? {};
    const reported = runRules(file, RULES, {
      scopes,
      severityOf: (rule) => severities[rule.meta.id] ?? rule.meta.severity,
      ...(input.settings ? { settings: input.settings } : {}),
    });
    const { kept, suppressed } = applySuppressions(file, reported);
    return {
      path: input.path,
      findings: kept,
      suppressed: suppressed.length,
      touched: input.addedLines === 'all' ? [] : scopes.describe(file),
      syntaxErrorLines: file.errorRows.map((row) => row + 1),
    };
  } catch (error) {
    return { ...empty, skipped: `could not be analysed: ${(error as Error).message}` };
  }
}
