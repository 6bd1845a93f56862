import { BlockingIndex, callTarget, summarisedDefinitions, targetKey, type BlockingSummary, type CallTarget, type FunctionSummary, type SummarisedDefinition, type SummarySource } from '../python/call-graph.js';
import { buildImportTable, canonicalName, foreignEventLoop, type ImportTable } from '../python/imports.js';
import type { ParsedFile, SyntaxNode } from '../python/parser.js';
import type { TouchedScopes } from '../python/scopes.js';
import { DEFAULT_RULE_SETTINGS, type Finding, type NameLookup, type Report, type Rule, type RuleContext, type RuleSettings, type ScopeState, type Severity } from './types.js';
import { dottedName } from './util.js';
import { defaultSeverity } from './preview.js';

export interface RunOptions {
  scopes: TouchedScopes;
  /** The severity a rule runs at (config); `off` rules are not run. Defaults to the rule's own. */
  severityOf?: (rule: Rule) => Severity;
  /**
   * A rule that throws is switched off for the rest of the file so the other rules still report;
   * this hears about it (tests make it fatal).
   */
  onRuleError?: (rule: Rule, error: unknown) => void;
  /** Team settings the rules read; defaults when absent. */
  settings?: RuleSettings;
  /**
   * The blocking summaries of the pull request's other files (and, when the caller already has it,
   * this file's own, matched by path): `ctx.blockingIndex()` follows calls into them.
   */
  related?: readonly BlockingSummary[];
  /**
   * Treat the body of a sync `def` as async code (`ctx.inAsyncCode()` is true there too): how the
   * blocking summary learns what a sync function would be reported for if it ran on the loop.
   * In this mode a class the touched scopes rule out (`mayContain`) is skipped like a function.
   */
  assumeAsync?: boolean;
  /** The file's import table when the caller built it already. */
  imports?: ImportTable;
}

type Handler = (node: SyntaxNode) => void;

interface Scope extends ScopeState {
  /** Qualified name of the innermost def around (Finding.scope), `<module>` outside any. */
  owner: string;
  /** Prefix for the qualified names of definitions inside (defs and classes, not lambdas). */
  prefix: string;
}

interface Frame {
  type: string;
  node: SyntaxNode | null;
  /** Scope pushed on entering this node: popped before `:exit` (lambda) or after it (body block). */
  scope: 'lambda' | 'body' | null;
  /** False for a function the touched scopes rule out: nothing inside is visited. */
  visited: boolean;
}

const MODULE = '<module>';

/**
 * Runs every enabled rule over one file in ONE traversal: each node goes to every rule's visitor
 * for its type on the way down, and to `<type>:exit` on the way up. The walk is iterative (a
 * TreeCursor), so deeply nested code cannot overflow the stack.
 */
export function runRules(file: ParsedFile, rules: readonly Rule[], options: RunOptions): Finding[] {
  const root = file.tree.rootNode;
  const { scopes } = options;
  const imports = options.imports ?? buildImportTable(root);
  const moduleScope: Scope = { kind: 'module', qualifiedName: MODULE, node: root, owner: MODULE, prefix: '' };
  const chain: Scope[] = [moduleScope];
  const findings: Finding[] = [];
  const seen = new Set<string>();

  const top = () => chain[chain.length - 1]!;
  const inAsyncCode = options.assumeAsync
    ? () => top().kind === 'async-def' || top().kind === 'def'
    : () => top().kind === 'async-def';

  // ---- the blocking summary (transitive-blocking) ----
  // Built on first use, and then only for the sync functions a chain may pass through: the
  // reader names its call targets (BlockingIndex.prepare), each level of the search is one pass
  // over just those functions' bodies.
  let builtIndex: BlockingIndex | undefined;
  const blockingIndex = (): BlockingIndex => {
    if (!builtIndex) {
      const related = options.related ?? [];
      const own = related.find((summary) => summary.path === file.path) ?? lazySummary(file, rules, { ...pick(options), imports });
      builtIndex = new BlockingIndex(own, related);
    }
    return builtIndex;
  };

  function lookup(name: string): NameLookup | null {
    const innermost = chain.length - 1;
    for (let i = innermost; i >= 0; i--) {
      const scope = chain[i]!;
      // A class body's names are not visible from the functions inside it.
      if (scope.kind === 'class' && i !== innermost) continue;
      const bindings = imports.bindingsIn(scope.node).get(name);
      if (bindings?.length) return { scope, bindings };
    }
    return null;
  }

  function resolveName(expression: SyntaxNode | null): string | null {
    const dotted = dottedName(expression);
    if (!dotted) return null;
    const dot = dotted.indexOf('.');
    const head = dot < 0 ? dotted : dotted.slice(0, dot);
    const found = lookup(head);
    if (!found) {
      // No scope around binds the name: a builtin, even if some other function or class of the
      // file binds the same name for itself (`def open(self)`), which the file-wide table can't tell.
      const builtin = imports.builtin(head);
      if (builtin) return dot < 0 ? builtin : `${builtin}${dotted.slice(dot)}`;
      return imports.resolve(dotted);
    }
    // A function-local binding (parameter, assignment, local def) shadows the import.
    if (found.scope.kind !== 'module' && found.bindings.some((b) => b.kind !== 'import')) return null;
    // The import Python finds from here decides, not the file-wide table: `from trio import Path`
    // inside one function must not make the module's `from pathlib import Path` ambiguous.
    const targets = new Set(found.bindings.map((b) => (b.kind === 'import' ? b.target : undefined)));
    const [target] = targets;
    if (targets.size === 1 && target !== undefined) return canonicalName(dot < 0 ? target : `${target}${dotted.slice(dot)}`);
    return imports.resolve(dotted);
  }

  // ---- rules, their contexts and the dispatch tables ----
  const enterHandlers = new Map<string, { rule: number; fn: Handler }[]>();
  const exitHandlers = new Map<string, { rule: number; fn: Handler }[]>();
  const active: { rule: Rule; severity: Exclude<Severity, 'off'>; enabled: boolean }[] = [];
  const deferred: { rule: number; callback: () => void; chain: Scope[] }[] = [];

  const fail = (index: number, error: unknown) => {
    const entry = active[index]!;
    entry.enabled = false;
    options.onRuleError?.(entry.rule, error);
  };

  // Twisted and trio code (autobahn's GUI after `txaio.use_twisted()`, s3ql's block cache): the
  // blocking and concurrency rules' advice (`asyncio.to_thread`, aiofiles, `asyncio.gather`) is
  // asyncio's, and another loop is not ours to judge (buildbot's `@async_to_deferred` tests await
  // Deferreds). A Flask module's async views each run on a loop of their own (Perfetto's CI front
  // end): a blocking call there stalls only its own request, as it would in a sync view; gathering a
  // view's awaits still pays off.
  const loop = foreignEventLoop(root);
  const familiesOff = new Set<string>(loop === 'twisted' || loop === 'trio' ? ['blocking', 'concurrency'] : loop === 'flask' ? ['blocking'] : []);
  for (const rule of rules) {
    const severity = options.severityOf?.(rule) ?? defaultSeverity(rule);
    if (severity === 'off' || familiesOff.has(rule.meta.family)) continue;
    const index = active.length;
    active.push({ rule, severity, enabled: true });
    const context: RuleContext = {
      file,
      imports,
      settings: options.settings ?? DEFAULT_RULE_SETTINGS,
      scope: top,
      scopeChain: () => chain,
      inAsyncCode,
      resolveCallee: (call) => resolveName(call.childForFieldName('function')),
      resolveName,
      lookup,
      blockingIndex,
      defer: (callback) => {
        deferred.push({ rule: index, callback, chain: [...chain] });
      },
      report: (report) => record(index, report),
    };
    let visitors;
    try {
      visitors = rule.create(context);
    } catch (error) {
      fail(index, error);
      continue;
    }
    for (const [key, fn] of Object.entries(visitors)) {
      if (!fn) continue;
      const exit = key.endsWith(':exit');
      const table = exit ? exitHandlers : enterHandlers;
      const type = exit ? key.slice(0, -':exit'.length) : key;
      const list = table.get(type);
      if (list) list.push({ rule: index, fn });
      else table.set(type, [{ rule: index, fn }]);
    }
  }

  function record(index: number, report: Report): void {
    const { rule, severity } = active[index]!;
    const { node } = report;
    if (!scopes.includes(node)) return;
    const key = `${rule.meta.id}:${node.startIndex}:${node.endIndex}:${report.messageId}`;
    if (seen.has(key)) return;
    seen.add(key);
    const template = rule.meta.messages[report.messageId] ?? report.messageId;
    const message = template.replace(/\{(\w+)\}/g, (whole, name: string) => report.data?.[name] ?? whole);
    findings.push({
      ruleId: rule.meta.id,
      slug: rule.meta.slug,
      aliases: [...rule.meta.aliases],
      severity,
      title: rule.meta.title,
      message,
      path: file.path,
      line: node.startPosition.row + 1,
      column: node.startPosition.column + 1,
      endLine: node.endPosition.row + 1,
      endColumn: node.endPosition.column + 1,
      scope: top().owner,
      snippet: node.text.replace(/\s+/g, ' ').trim(),
      ...(report.suggestion ? { suggestion: report.suggestion } : {}),
    });
  }

  function dispatch(handlers: { rule: number; fn: Handler }[] | undefined, node: SyntaxNode): void {
    if (!handlers) return;
    for (const { rule, fn } of handlers) {
      if (!active[rule]!.enabled) continue;
      try {
        fn(node);
      } catch (error) {
        fail(rule, error);
      }
    }
  }

  // ---- scopes ----
  function pushDefinitionScope(definition: SyntaxNode): void {
    const parent = top();
    const name = definition.childForFieldName('name')?.text ?? '?';
    const qualifiedName = parent.prefix ? `${parent.prefix}.${name}` : name;
    if (definition.type === 'class_definition') {
      chain.push({ kind: 'class', qualifiedName, node: definition, owner: parent.owner, prefix: qualifiedName });
    } else {
      const kind = definition.child(0)?.type === 'async' ? 'async-def' : 'def';
      chain.push({ kind, qualifiedName, node: definition, owner: qualifiedName, prefix: qualifiedName });
    }
  }

  function pushLambdaScope(lambda: SyntaxNode): void {
    const parent = top();
    const qualifiedName = parent.kind === 'module' ? '<lambda>' : `${parent.qualifiedName}.<lambda>`;
    chain.push({ kind: 'lambda', qualifiedName, node: lambda, owner: parent.owner, prefix: parent.prefix });
  }

  // ---- the traversal ----
  const frames: Frame[] = [];
  const cursor = root.walk();

  /** Enters the cursor's node; returns whether to descend into it. */
  function enter(): boolean {
    if (!cursor.nodeIsNamed) {
      frames.push({ type: cursor.nodeType, node: null, scope: null, visited: false });
      return true;
    }
    const type = cursor.nodeType;
    const parent = frames[frames.length - 1];
    let node: SyntaxNode | null = null;
    const materialize = () => (node ??= cursor.currentNode);

    if (type === 'function_definition' || type === 'decorated_definition' || (type === 'class_definition' && options.assumeAsync)) {
      const definition = type === 'decorated_definition' ? materialize().childForFieldName('definition') : materialize();
      // Classes are skipped only by the blocking summary, which knows where its functions are.
      const skippable = definition?.type === 'function_definition' || (definition?.type === 'class_definition' && options.assumeAsync);
      if (definition && skippable && !scopes.mayContain(definition)) {
        frames.push({ type, node: null, scope: null, visited: false });
        return false;
      }
    }

    let scope: Frame['scope'] = null;
    if (
      type === 'block' &&
      parent?.node &&
      (parent.type === 'function_definition' || parent.type === 'class_definition') &&
      cursor.currentFieldName === 'body'
    ) {
      pushDefinitionScope(parent.node);
      scope = 'body';
    }
    const onEnter = enterHandlers.get(type);
    const needsNode = onEnter || exitHandlers.has(type) || type === 'lambda' || type === 'function_definition' || type === 'class_definition';
    if (needsNode) materialize();
    frames.push({ type, node, scope, visited: true });
    if (onEnter) dispatch(onEnter, node!);
    if (type === 'lambda') {
      pushLambdaScope(node!);
      frames[frames.length - 1]!.scope = 'lambda';
    }
    return true;
  }

  function leave(): void {
    const frame = frames.pop();
    if (!frame?.visited) return;
    if (frame.scope === 'lambda') chain.pop();
    const onExit = exitHandlers.get(frame.type);
    if (onExit && frame.node) dispatch(onExit, frame.node);
    if (frame.scope === 'body') chain.pop();
  }

  let descend = enter();
  for (;;) {
    if (descend && cursor.gotoFirstChild()) {
      descend = enter();
      continue;
    }
    let done = false;
    for (;;) {
      leave();
      if (cursor.gotoNextSibling()) {
        descend = enter();
        break;
      }
      if (!cursor.gotoParent()) {
        done = true;
        break;
      }
    }
    if (done) break;
  }

  // Deferred reports, each with the scope chain it was deferred from.
  for (const { rule, callback, chain: saved } of deferred) {
    if (!active[rule]!.enabled) continue;
    chain.splice(0, chain.length, ...saved);
    try {
      callback();
    } catch (error) {
      fail(rule, error);
    }
  }

  return findings.sort((a, b) => a.line - b.line || a.column - b.column || compare(a.ruleId, b.ruleId));
}

/**
 * Rules a blocking summary does not run: transitive-blocking itself (it reads the summary) and the
 * configured blocking calls (a team's list speaks about the call sites it names, not their callers).
 */
const NOT_SUMMARISED = new Set(['AG110', 'AG111']);

/** A blocking-family rule whose reports, in a sync function, say that the function blocks. */
function isSummaryRule(rule: Rule): boolean {
  return rule.meta.family === 'blocking' && !NOT_SUMMARISED.has(rule.meta.id);
}

function bindingCounter(imports: ImportTable) {
  return (scope: SyntaxNode, name: string) => imports.bindingsIn(scope).get(name)?.length ?? 0;
}

function pick(options: Pick<RunOptions, 'severityOf' | 'onRuleError' | 'settings'>): Pick<RunOptions, 'severityOf' | 'onRuleError' | 'settings'> {
  return {
    ...(options.severityOf ? { severityOf: options.severityOf } : {}),
    ...(options.onRuleError ? { onRuleError: options.onRuleError } : {}),
    ...(options.settings ? { settings: options.settings } : {}),
  };
}

/** A file's blocking summary as a traversal fills it in. */
class SummaryBuilder {
  private readonly functions = new Map<string, FunctionSummary>();
  private readonly calls = new Map<string, Set<string>>();
  private readonly generators = new Set<string>();

  constructor(readonly definitions: ReadonlyMap<number, SummarisedDefinition>) {
    for (const { name } of definitions.values()) this.functions.set(name, { calls: [] });
  }

  /** True when `scope` is the body of a summarised function (not a nested def or lambda in it). */
  covers(scope: ScopeState): boolean {
    return scope.kind === 'def' && this.definitions.has(scope.node.id);
  }

  block(scope: ScopeState, node: SyntaxNode, ruleId: string): void {
    const summary = this.functions.get(scope.qualifiedName);
    if (!summary || (summary.blocks && summary.blocks.line <= node.startPosition.row + 1)) return;
    summary.blocks = { call: blockingCallText(node), line: node.startPosition.row + 1, ruleId };
  }

  call(scope: ScopeState, target: CallTarget): void {
    const summary = this.functions.get(scope.qualifiedName);
    if (!summary) return;
    const key = targetKey(target);
    let seen = this.calls.get(scope.qualifiedName);
    if (!seen) this.calls.set(scope.qualifiedName, (seen = new Set()));
    if (seen.has(key)) return;
    seen.add(key);
    summary.calls.push(target);
  }

  generator(scope: ScopeState): void {
    this.generators.add(scope.qualifiedName);
  }

  /** Only what can matter to a caller: functions that block or call something that might; no generators. */
  result(path: string): BlockingSummary {
    const functions: Record<string, FunctionSummary> = {};
    for (const [name, summary] of this.functions) {
      if (this.generators.has(name) || (!summary.blocks && summary.calls.length === 0)) continue;
      functions[name] = summary;
    }
    return { path, functions };
  }
}

/** Records, in the summarised functions, the calls that may reach another one, and `yield`s. */
function edgeCollector(summary: SummaryBuilder): Rule {
  return {
    meta: EDGE_COLLECTOR_META,
    create(ctx) {
      return {
        call(node) {
          const scope = ctx.scope();
          if (!summary.covers(scope)) return;
          const target = callTarget(ctx, node);
          if (target) summary.call(scope, target);
        },
        yield() {
          const scope = ctx.scope();
          if (summary.covers(scope)) summary.generator(scope);
        },
      };
    },
  };
}

/**
 * What each sync function of the file would be reported for if it ran on the event loop: the
 * blocking-family rules of `rules` (at the severities `options` gives them; `info` findings such as
 * filesystem metadata do not count) run over the bodies of the summarised functions as if they were
 * async code, in one traversal that skips every other function; plus the calls between them. For
 * the other files of a pull request, and where the main traversal skipped a summarised function.
 */
export function summarizeBlocking(
  file: ParsedFile,
  rules: readonly Rule[],
  options: SummaryOptions = {},
  definitions?: ReadonlyMap<number, SummarisedDefinition>,
): BlockingSummary {
  const imports = options.imports ?? buildImportTable(file.tree.rootNode);
  const summary = new SummaryBuilder(definitions ?? summarisedDefinitions(file.tree.rootNode, bindingCounter(imports)));
  if (summary.definitions.size === 0) return summary.result(file.path);
  // Only the summarised functions' bodies are walked, and the classes that hold some of them.
  const classes = new Set<number>();
  for (const { classId } of summary.definitions.values()) if (classId !== null) classes.add(classId);
  const scopes: TouchedScopes = {
    includes: () => true,
    mayContain: (definition) => (definition.type === 'class_definition' ? classes.has(definition.id) : summary.definitions.has(definition.id)),
    describe: () => [],
  };
  const findings = runRules(file, [...rules.filter(isSummaryRule), edgeCollector(summary)], {
    ...pick(options),
    scopes,
    imports,
    assumeAsync: true,
  });
  const root = file.tree.rootNode;
  for (const finding of findings) {
    if (finding.severity === 'info') continue;
    const node = root.descendantForPosition(
      { row: finding.line - 1, column: finding.column - 1 },
      { row: finding.endLine - 1, column: finding.endColumn - 1 },
    );
    const definition = enclosingFunction(node);
    if (!definition || !summary.definitions.has(definition.id)) continue;
    const scope: ScopeState = { kind: 'def', qualifiedName: summary.definitions.get(definition.id)!.name, node: definition };
    summary.block(scope, node, finding.ruleId);
  }
  return summary.result(file.path);
}

type SummaryOptions = Pick<RunOptions, 'severityOf' | 'onRuleError' | 'settings' | 'imports'>;

/**
 * This file's summary, filled in on demand: `prepare(names)` summarises the named functions not
 * seen yet in one pass over their bodies (every other function skipped).
 */
function lazySummary(file: ParsedFile, rules: readonly Rule[], options: SummaryOptions): SummarySource {
  let byName: Map<string, [number, SummarisedDefinition]> | undefined;
  const known = new Map<string, FunctionSummary | undefined>();
  const candidates = () => {
    if (!byName) {
      const imports = options.imports ?? buildImportTable(file.tree.rootNode);
      byName = new Map([...summarisedDefinitions(file.tree.rootNode, bindingCounter(imports))].map(([id, d]) => [d.name, [id, d]]));
    }
    return byName;
  };
  return {
    path: file.path,
    has: (name) => candidates().has(name),
    get: (name) => known.get(name),
    prepare(names) {
      const wanted = new Map<number, SummarisedDefinition>();
      for (const name of names) {
        const entry = candidates().get(name);
        if (entry && !known.has(name)) wanted.set(entry[0], entry[1]);
      }
      if (wanted.size === 0) return;
      const { functions } = summarizeBlocking(file, rules, options, wanted);
      for (const { name } of wanted.values()) known.set(name, functions[name]);
    },
  };
}

function enclosingFunction(node: SyntaxNode): SyntaxNode | null {
  for (let current = node.parent; current; current = current.parent) {
    if (current.type === 'function_definition') return current;
    if (current.type === 'lambda') return null;
  }
  return null;
}

const EDGE_COLLECTOR_META: Rule['meta'] = {
  id: 'AG000',
  slug: 'call-edges',
  aliases: [],
  family: 'blocking',
  severity: 'info',
  title: 'call edges (internal)',
  fix: '',
  messages: {},
  docs: { what: '', why: '', example: '', useInstead: '' },
  cites: [],
};

/** `open()`, `requests.get()`, `self._session.get()` for a call; the node's text otherwise. */
function blockingCallText(node: SyntaxNode): string {
  if (node.type === 'call') {
    const callee = node.childForFieldName('function')?.text.replace(/\s+/g, '');
    if (callee && callee.length <= 60) return `${callee}()`;
  }
  const text = node.text.replace(/\s+/g, ' ').trim();
  return text.length <= 60 ? text : `${text.slice(0, 57)}...`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
