import { applySuppressions } from '../findings/suppress.js';
import { parsePython } from '../python/parser.js';
import { touchedScopes, WHOLE_FILE, type TouchedScope } from '../python/scopes.js';
import type { BlockingSummary } from '../python/call-graph.js';
import { runRules, summarizeBlocking } from '../rules/engine.js';
import { RULES } from '../rules/registry.js';
import { defaultSeverity } from '../rules/preview.js';
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
  /**
   * Blocking summaries of the pull request's other files this one may import (and possibly its
   * own, reused instead of recomputed), for transitive-blocking's cross-file chains. Set by the analyzer.
   */
  related?: BlockingSummary[];
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
      severityOf: (rule) => severities[rule.meta.id] ?? defaultSeverity(rule),
      ...(input.settings ? { settings: input.settings } : {}),
      ...(input.related?.length ? { related: input.related } : {}),
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

/**
 * The file's blocking summary (which sync functions block, and what they call) for the other
 * files of a pull request. Pure and total: null when the file cannot be analysed.
 */
export function summarizeFile(input: FileInput): BlockingSummary | null {
  if (input.source.length > MAX_SOURCE_CHARS || input.source.includes('\u0000')) return null;
  try {
    const severities = input.severities ?? {};
    return summarizeBlocking(parsePython(input.path, input.source), RULES, {
      severityOf: (rule) => severities[rule.meta.id] ?? defaultSeverity(rule),
      ...(input.settings ? { settings: input.settings } : {}),
    });
  } catch {
    return null;
  }
}
