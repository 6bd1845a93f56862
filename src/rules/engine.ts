import { buildImportTable } from '../python/imports.js';
import type { ParsedFile, SyntaxNode } from '../python/parser.js';
import type { TouchedScopes } from '../python/scopes.js';
import { DEFAULT_RULE_SETTINGS, type Finding, type NameLookup, type Report, type Rule, type RuleContext, type RuleSettings, type ScopeState, type Severity } from './types.js';
import { dottedName } from './util.js';

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
  const imports = buildImportTable(root);
  const moduleScope: Scope = { kind: 'module', qualifiedName: MODULE, node: root, owner: MODULE, prefix: '' };
  const chain: Scope[] = [moduleScope];
  const findings: Finding[] = [];
  const seen = new Set<string>();

  const top = () => chain[chain.length - 1]!;

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
    return imports.resolve(dotted);
  }

  // ---- rules, their contexts and the dispatch tables ----
  const enterHandlers = new Map<string, { rule: number; fn: Handler }[]>();
  const exitHandlers = new Map<string, { rule: number; fn: Handler }[]>();
  const active: { rule: Rule; severity: Exclude<Severity, 'off'>; enabled: boolean }[] = [];

  const fail = (index: number, error: unknown) => {
    const entry = active[index]!;
    entry.enabled = false;
    options.onRuleError?.(entry.rule, error);
  };

  for (const rule of rules) {
    const severity = options.severityOf?.(rule) ?? rule.meta.severity;
    if (severity === 'off') continue;
    const index = active.length;
    active.push({ rule, severity, enabled: true });
    const context: RuleContext = {
      file,
      imports,
      settings: options.settings ?? DEFAULT_RULE_SETTINGS,
      scope: top,
      scopeChain: () => chain,
      inAsyncCode: () => top().kind === 'async-def',
      resolveCallee: (call) => resolveName(call.childForFieldName('function')),
      resolveName,
      lookup,
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

    if (type === 'function_definition' || type === 'decorated_definition') {
      const definition = type === 'function_definition' ? materialize() : materialize().childForFieldName('definition');
      if (definition?.type === 'function_definition' && !scopes.mayContain(definition)) {
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

  return findings.sort((a, b) => a.line - b.line || a.column - b.column || compare(a.ruleId, b.ruleId));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
