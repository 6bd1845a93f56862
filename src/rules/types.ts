import type { BlockingIndex } from '../python/call-graph.js';
import type { ParsedFile, SyntaxNode } from '../python/parser.js';
import type { Binding, ImportTable } from '../python/imports.js';
import type { SkillSection } from './skills.js';

/** `off` rules ship disabled until a team turns them on. */
export type Severity = 'error' | 'warning' | 'info' | 'off';

export type RuleFamily = 'blocking' | 'coroutines' | 'cancellation' | 'concurrency' | 'resources';

/** The text a user reads, the same in `asyncguard explain`, the PR reply and docs/rules. */
export interface RuleDocs {
  /** What it does: one paragraph. */
  what: string;
  /** Why is this bad: one paragraph, in terms of what happens to the event loop. */
  why: string;
  /** Python that fires the rule (a test proves it does). */
  example: string;
  /** The fixed Python (a test proves it is silent). */
  useInstead: string;
  /** Settings the example needs to fire (a rule that reads configuration); tests pass them. */
  settings?: Partial<RuleSettings>;
}

export interface RuleMeta {
  /** Stable id, grouped by family: AG1xx blocking, AG2xx coroutines, AG3xx cancellation, ... */
  id: string;
  /** kebab-case name, usable in config, suppressions and `/asyncguard explain`. */
  slug: string;
  /** Anchor codes of peer tools (Ruff / flake8-async / Sonar ...), e.g. ['ASYNC251', 'S7488']. */
  aliases: string[];
  family: RuleFamily;
  severity: Severity;
  title: string;
  /** The fix in one sentence, shown in every review comment under the message. */
  fix: string;
  /** Message templates by id; `{name}` placeholders are filled from the report's data. */
  messages: Record<string, string>;
  docs: RuleDocs;
  cites: SkillSection[];
}

/** A suggested replacement for exactly the lines [line, endLine] (1-based, inclusive). */
export interface Suggestion {
  line: number;
  endLine: number;
  replacement: string;
}

export interface Report {
  node: SyntaxNode;
  messageId: string;
  data?: Record<string, string>;
  suggestion?: Suggestion;
}

/** Where the traversal currently is, lexically. */
export interface ScopeState {
  /** The innermost function-like construct around the node. */
  kind: 'module' | 'class' | 'def' | 'async-def' | 'lambda';
  /** Dotted qualified name: `Client.fetch.inner`, `<module>` at top level. */
  qualifiedName: string;
  /** The function_definition / lambda / class_definition node, or the module. */
  node: SyntaxNode;
}

/** Where a name is bound, as `RuleContext.lookup` finds it. */
export interface NameLookup {
  scope: ScopeState;
  bindings: readonly Binding[];
}

/** What a team configured that rules read (`.github/asyncguard.yml`, CLI flags). Plain data. */
export interface RuleSettings {
  /** ASYNC200-style blocking calls: a dotted name or glob (`myapp.db.query`, `legacy.*`) and the fix to suggest. */
  blockingCalls: readonly { pattern: string; suggestion: string }[];
  /** The Python the code targets, `3.11`; null when unknown (rules then assume the oldest supported). */
  pythonVersion: string | null;
  /**
   * Test code (`test_paths`, globs): the App's policy relaxes blocking findings there, and rules
   * that read tests differently (a test's own handlers, a helper's timeout guard) use the same list.
   */
  testPaths: readonly string[];
}

/**
 * Test and example code: test suites, and the harnesses and examples beside them (`daphne/testing.py`,
 * `aiohttp/test_utils.py`, `examples/`), where a blocking call is harmless or deliberate.
 */
export const DEFAULT_TEST_PATHS: readonly string[] = [
  '**/tests/**',
  '**/test/**',
  '**/test_*.py',
  '**/*_test.py',
  '**/conftest.py',
  '**/testing.py',
  '**/testing/**',
  '**/examples/**',
];

export const DEFAULT_RULE_SETTINGS: RuleSettings = { blockingCalls: [], pythonVersion: null, testPaths: DEFAULT_TEST_PATHS };

export interface RuleContext {
  readonly file: ParsedFile;
  readonly imports: ImportTable;
  readonly settings: RuleSettings;
  /** Innermost scope around the node being visited. */
  scope(): ScopeState;
  /**
   * True when the node being visited is lexically inside an `async def` body and not inside a
   * nested def, lambda or class body.
   */
  inAsyncCode(): boolean;
  /** The dotted name a call's callee resolves to through the file's imports, or null. */
  resolveCallee(call: SyntaxNode): string | null;
  /** The scopes around the node being visited, the module first, the innermost last. */
  scopeChain(): readonly ScopeState[];
  /**
   * What a dotted expression (`asyncio.CancelledError`, an annotation) resolves to through the
   * imports, where the visited node is: null when a function around it binds the head name itself.
   */
  resolveName(expression: SyntaxNode): string | null;
  /**
   * The bindings of `name` in the scope Python would find it in from the visited node (class bodies
   * are not seen from their methods), or null when no scope of the file binds it.
   */
  lookup(name: string): NameLookup | null;
  /**
   * Which sync functions of this file (and of the pull request's other files, when the caller
   * passes their summaries) block the loop when called, directly or through further sync calls,
   * and by which chain, for transitive-blocking. Complete without a second pass when asked from a
   * `defer` callback (the traversal collects it); asked earlier, a pre-pass over the sync functions builds it.
   */
  blockingIndex(): BlockingIndex;
  /**
   * Runs `callback` once the traversal is over, with the scope as it is now (its reports count
   * here): for a rule that needs the whole file first, such as `blockingIndex()` at its cheapest.
   */
  defer(callback: () => void): void;
  report(report: Report): void;
}

/** Node-type keyed callbacks; `<type>:exit` runs after the node's children. */
export type RuleVisitors = Partial<Record<string, (node: SyntaxNode) => void>>;

export interface Rule {
  meta: RuleMeta;
  create(context: RuleContext): RuleVisitors;
}

/** A finding as the rules produce it, before fingerprints, suppressions and selection. */
export interface Finding {
  ruleId: string;
  slug: string;
  aliases: string[];
  severity: Exclude<Severity, 'off'>;
  title: string;
  message: string;
  path: string;
  /** 1-based, inclusive; columns count UTF-16 code units like the editors GitHub links to. */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** Qualified name of the enclosing function, `<module>` at top level. */
  scope: string;
  /** The flagged node's source with whitespace collapsed: input to the fingerprint. */
  snippet: string;
  suggestion?: Suggestion;
}
