import type { RuleContext } from '../rules/types.js';
import type { SyntaxNode } from './parser.js';

// The call graph of a file's sync functions, and which of them block: what the transitive-blocking
// rule (AG110) reads. A file's BlockingSummary is plain data (it crosses into worker threads and is
// handed to the other files of a pull request); a BlockingIndex answers "does calling this block,
// and through which chain?" over one file's summary and those of the files it may import.

/** A call to a function the file itself, or another file of the pull request, may define. */
export type CallTarget =
  /** A function or method of the same file by qualified name: `load`, `Store.load`, `Config.__init__`. */
  | { kind: 'local'; name: string }
  /** A name reached through an import, resolved: `pkg.utils.load`, `.utils.load` (relative). */
  | { kind: 'import'; dotted: string };

/** The first blocking call in a function's own body (not in a nested def or lambda). */
export interface DirectBlock {
  /** The call as written, `open()`, `self.session.get()`. */
  call: string;
  /** 1-based line. */
  line: number;
  /** The blocking-family rule that reports it where it written in async code. */
  ruleId: string;
}

export interface FunctionSummary {
  blocks?: DirectBlock;
  /** Calls from its own body to functions that may be summarised (here or in another file). */
  calls: CallTarget[];
}

/** One file's sync functions that may block: module-level defs and methods of module-level classes. */
export interface BlockingSummary {
  path: string;
  /** By qualified name. Only sync, non-generator functions without unknown decorators. */
  functions: Record<string, FunctionSummary>;
}

/** A chain of calls from the called function down to the blocking call. */
export interface BlockingChain {
  /** The functions called, the first one the call site's, e.g. `['load_config', 'read_file']`. */
  hops: { path: string; name: string }[];
  blocks: DirectBlock;
  /** The file the blocking call is in. */
  path: string;
}

/** How many functions a chain may pass through, the called one included. */
export const MAX_CHAIN_FUNCTIONS = 4;

/**
 * Decorators after which a call still runs the function's body as written. Anything else may wrap
 * it (a cache, a retry, a thread offload such as `@run_in_executor`-style helpers): not summarised.
 */
const TRANSPARENT_DECORATORS = new Set(['staticmethod', 'classmethod', 'override', 'typing.override', 'typing_extensions.override']);

// ---------------------------------------------------------------------------------------------
// Which definitions are summarised.

/** A function a summary covers: its qualified name, and the class (node id) it is a method of. */
export interface SummarisedDefinition {
  name: string;
  classId: number | null;
}

/**
 * The sync functions a summary covers, by node id with their qualified names: undecorated (or
 * `staticmethod`/`classmethod`) `def`s (generators are dropped later, when their `yield` is seen) at module level and in the body of a
 * module-level class, whose name is bound once in that scope (a redefinition, a conditional def, a
 * `name = wrap(name)` make it ambiguous: left out).
 */
export function summarisedDefinitions(
  root: SyntaxNode,
  bindingCount: (scope: SyntaxNode, name: string) => number,
): Map<number, SummarisedDefinition> {
  const out = new Map<number, SummarisedDefinition>();
  const visit = (container: SyntaxNode, scope: SyntaxNode, prefix: string, classLevel: boolean) => {
    for (const child of container.namedChildren) {
      const decorated = child.type === 'decorated_definition';
      const definition = decorated ? child.childForFieldName('definition') : child;
      if (!definition) continue;
      const name = definition.childForFieldName('name')?.text;
      if (!name) continue;
      if (definition.type === 'class_definition') {
        const body = definition.childForFieldName('body');
        if (!classLevel && body && bindingCount(scope, name) === 1) visit(body, definition, name, true);
        continue;
      }
      if (definition.type !== 'function_definition' || definition.child(0)?.type === 'async') continue;
      if (decorated && !child.namedChildren.every((c) => c.type !== 'decorator' || TRANSPARENT_DECORATORS.has(decoratorText(c)))) continue;
      if (bindingCount(scope, name) !== 1) continue;
      out.set(definition.id, { name: prefix ? `${prefix}.${name}` : name, classId: classLevel ? scope.id : null });
    }
  };
  visit(root, root, '', false);
  return out;
}

function decoratorText(decorator: SyntaxNode): string {
  return decorator.text.replace(/^@\s*/, '').replace(/\s+/g, '');
}

// ---------------------------------------------------------------------------------------------
// Call edges.

/**
 * What a call in a function body may run of this file or of another file of the pull request:
 * `helper()` (a module-level def, as Python finds the name from here: a local or parameter of the
 * same name shadows it), `Config()` (its `__init__`), `self.helper()` / `cls.helper()` (a method of
 * the enclosing class, not of a subclass), `Store.helper()`, and imported names (`load()`,
 * `utils.load()`, `pkg.utils.Store.load()`). Null for anything else: the caller stays silent.
 */
export function callTarget(ctx: RuleContext, call: SyntaxNode): CallTarget | null {
  const callee = call.childForFieldName('function');
  if (!callee) return null;
  if (callee.type === 'identifier') {
    const found = ctx.lookup(callee.text);
    if (!found || found.scope.kind !== 'module' || found.bindings.length !== 1) return null;
    const binding = found.bindings[0]!;
    if (binding.kind === 'def') return binding.async ? null : { kind: 'local', name: callee.text };
    if (binding.kind === 'class') return { kind: 'local', name: `${callee.text}.__init__` };
    return binding.kind === 'import' ? importTarget(ctx, call) : null;
  }
  if (callee.type !== 'attribute') return null;
  const object = callee.childForFieldName('object');
  const attribute = callee.childForFieldName('attribute');
  if (!object || attribute?.type !== 'identifier') return null;
  if (object.type === 'identifier') {
    const owner = enclosingClassOf(ctx, object.text);
    if (owner) return { kind: 'local', name: `${owner}.${attribute.text}` };
    const found = ctx.lookup(object.text);
    if (!found || found.scope.kind !== 'module' || found.bindings.length !== 1) return null;
    const binding = found.bindings[0]!;
    if (binding.kind === 'class') return { kind: 'local', name: `${object.text}.${attribute.text}` };
    return binding.kind === 'import' ? importTarget(ctx, call) : null;
  }
  // `pkg.utils.load()` after `import pkg.utils`: the head must be an import.
  let head: SyntaxNode = object;
  while (head.type === 'attribute') head = head.childForFieldName('object')!;
  if (head?.type !== 'identifier') return null;
  const found = ctx.lookup(head.text);
  if (!found || found.scope.kind !== 'module' || !found.bindings.every((b) => b.kind === 'import')) return null;
  return importTarget(ctx, call);
}

function importTarget(ctx: RuleContext, call: SyntaxNode): CallTarget | null {
  const dotted = ctx.resolveCallee(call);
  return dotted && dotted.includes('.') ? { kind: 'import', dotted } : null;
}

/**
 * The enclosing module-level class's name when `receiver` is the `self`/`cls` of the method the
 * visited node is directly in (not rebound in it, not a staticmethod's first parameter).
 */
function enclosingClassOf(ctx: RuleContext, receiver: string): string | null {
  const chain = ctx.scopeChain();
  const method = chain[chain.length - 1]!;
  const owner = chain[chain.length - 2];
  if (chain.length !== 3 || (method.kind !== 'def' && method.kind !== 'async-def') || owner?.kind !== 'class') return null;
  const definition = method.node;
  const parameter = definition.childForFieldName('parameters')?.namedChildren[0];
  const first =
    parameter?.type === 'identifier' ? parameter.text : parameter?.type === 'typed_parameter' ? parameter.namedChildren.find((c) => c.type === 'identifier')?.text : undefined;
  if (first !== receiver) return null;
  const decorated = definition.parent?.type === 'decorated_definition' ? definition.parent : null;
  if (decorated?.namedChildren.some((c) => c.type === 'decorator' && decoratorText(c) === 'staticmethod')) return null;
  if ((ctx.imports.bindingsIn(definition).get(receiver) ?? []).some((b) => b.kind !== 'param')) return null;
  return owner.qualifiedName;
}

export function targetKey(target: CallTarget): string {
  return target.kind === 'local' ? `L:${target.name}` : `I:${target.dotted}`;
}

// ---------------------------------------------------------------------------------------------
// Modules and files.

/** `src/pkg/utils.py` -> `['src', 'pkg', 'utils']`; `pkg/__init__.py` -> `['pkg']`. */
function moduleParts(path: string): string[] {
  const parts = path.replace(/\\/g, '/').replace(/^\.\//, '').replace(/\.pyi?$/, '').split('/').filter(Boolean);
  if (parts[parts.length - 1] === '__init__') parts.pop();
  return parts;
}

function directoryParts(path: string): string[] {
  const parts = path.replace(/\\/g, '/').replace(/^\.\//, '').split('/').filter(Boolean);
  parts.pop();
  return parts;
}

/** Directories a top-level module may sit in besides the repository root. */
const SOURCE_ROOTS = new Set(['src', 'lib']);

/**
 * The files among `paths` that module `module` (absolute `pkg.utils`, or relative `.utils`, `..`)
 * imported from `importer` may be. Relative: resolved against the importer's package directory.
 * Absolute: a file whose path ends in `pkg/utils.py` or `pkg/utils/__init__.py`; for a one-part
 * name (`utils`) only at the repository root, under `src/` or `lib/`, or next to the importer
 * (a script's directory is on sys.path): `import json` must not find `myapp/json.py`.
 */
export function moduleFiles(module: string, importer: string, paths: readonly string[]): string[] {
  const index = indexOf(paths);
  const dots = /^\.*/.exec(module)![0].length;
  const parts = module.slice(dots).split('.').filter(Boolean);
  if (dots > 0) {
    const base = directoryParts(importer);
    if (dots - 1 > base.length) return [];
    const want = [...base.slice(0, base.length - (dots - 1)), ...parts].join('/');
    return (index.byModule.get(want) ?? []).filter((p) => p !== importer && (want !== '' || /(^|\/)__init__\.pyi?$/.test(p)));
  }
  if (parts.length === 0) return [];
  const importerDir = directoryParts(importer).join('/');
  return (index.byName.get(parts[parts.length - 1]!) ?? []).filter((path) => {
    if (path === importer) return false;
    const candidate = index.parts.get(path)!;
    if (candidate.length < parts.length) return false;
    const prefix = candidate.slice(0, candidate.length - parts.length);
    if (!parts.every((part, i) => candidate[prefix.length + i] === part)) return false;
    if (parts.length > 1) return true;
    return prefix.length === 0 || (prefix.length === 1 && SOURCE_ROOTS.has(prefix[0]!)) || prefix.join('/') === importerDir;
  });
}

interface ModuleIndex {
  /** Each path's module parts (`pkg/utils/__init__.py` -> pkg, utils). */
  parts: Map<string, string[]>;
  /** Paths by their whole module path (`pkg/utils`). */
  byModule: Map<string, string[]>;
  /** Paths by their module's last part (`utils`). */
  byName: Map<string, string[]>;
}

const indexes = new WeakMap<readonly string[], ModuleIndex>();

/**
 * The paths of a batch indexed by module, built once per batch: looking a module up is then a
 * map read, not a scan of every path (a batch of 2,000 files imports some 40,000 modules).
 */
function indexOf(paths: readonly string[]): ModuleIndex {
  let index = indexes.get(paths);
  if (index) return index;
  index = { parts: new Map(), byModule: new Map(), byName: new Map() };
  const add = (map: Map<string, string[]>, key: string, path: string) => {
    const list = map.get(key);
    if (list) list.push(path);
    else map.set(key, [path]);
  };
  for (const path of paths) {
    const parts = moduleParts(path);
    index.parts.set(path, parts);
    add(index.byModule, parts.join('/'), path);
    if (parts.length > 0) add(index.byName, parts[parts.length - 1]!, path);
  }
  indexes.set(paths, index);
  return index;
}

/**
 * Modules a source may import, read from its import statements as text (no parse): for the
 * analyzer to decide cheaply whether any file of a pull request imports another one.
 * `from pkg import a, b` yields `pkg`, `pkg.a`, `pkg.b` (a name may be a submodule).
 */
export function importedModules(source: string): string[] {
  const out = new Set<string>();
  const fromImport = /^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*(?:\\\n[^\n#;]*)*)/gm;
  for (const match of source.matchAll(fromImport)) {
    const module = match[1]!;
    if (!module || module === '__future__') continue;
    out.add(module);
    for (const item of match[2]!.replace(/[()\\]/g, ' ').split(',')) {
      const name = item.trim().split(/\s+/)[0];
      if (name && /^\w+$/.test(name)) out.add(module.endsWith('.') ? `${module}${name}` : `${module}.${name}`);
    }
  }
  const plainImport = /^[ \t]*import[ \t]+([^\n#;]*)/gm;
  for (const match of source.matchAll(plainImport)) {
    for (const item of match[1]!.split(',')) {
      const name = item.trim().split(/\s+/)[0];
      if (name && /^[\w.]+$/.test(name)) out.add(name);
    }
  }
  return [...out];
}

// ---------------------------------------------------------------------------------------------
// The transitive closure.

/**
 * A file's summary as the index reads it: complete (another file's BlockingSummary) or filled in on
 * demand (the analysed file's own, where `prepare` summarises just the functions a search reaches).
 */
export interface SummarySource {
  path: string;
  /** True when `name` is a summarised function of the file (it may not be summarised yet). */
  has(name: string): boolean;
  /** Its summary once known; undefined for a function that neither blocks nor calls anything. */
  get(name: string): FunctionSummary | undefined;
  /** Summarise these functions now, in one go. */
  prepare?(names: readonly string[]): void;
}

function staticSource(summary: BlockingSummary): SummarySource {
  return { path: summary.path, has: (name) => name in summary.functions, get: (name) => summary.functions[name] };
}

interface Step {
  path: string;
  name: string;
  previous: Step | null;
  depth: number;
}

/** Answers "does this call block, and through which chain?" for one file of a pull request. */
export class BlockingIndex {
  private readonly files = new Map<string, SummarySource>();
  private readonly own: SummarySource;
  private readonly paths: string[];
  private readonly memo = new Map<string, BlockingChain | null>();
  private readonly modules = new Map<string, string[]>();

  constructor(own: BlockingSummary | SummarySource, related: readonly BlockingSummary[] = []) {
    this.own = 'functions' in own ? staticSource(own) : own;
    for (const summary of related) if (summary.path !== this.own.path) this.files.set(summary.path, staticSource(summary));
    this.files.set(this.own.path, this.own);
    this.paths = [...this.files.keys()];
  }

  /**
   * Summarises, level by level, every function a chain from `targets` may pass through: one pass
   * per level for the whole batch instead of one per call site.
   */
  prepare(targets: readonly CallTarget[]): void {
    const seen = new Set<string>();
    let level: { path: string; name: string }[] = [];
    for (const target of targets) {
      const start = this.resolve(this.own.path, target);
      if (start && !seen.has(`${start.path}\0${start.name}`)) {
        seen.add(`${start.path}\0${start.name}`);
        level.push(start);
      }
    }
    for (let depth = 1; level.length && depth <= MAX_CHAIN_FUNCTIONS; depth++) {
      this.load(level);
      if (depth === MAX_CHAIN_FUNCTIONS) break;
      const next: { path: string; name: string }[] = [];
      for (const fn of level) {
        const summary = this.files.get(fn.path)!.get(fn.name);
        if (!summary || summary.blocks) continue;
        for (const call of summary.calls) {
          const callee = this.resolve(fn.path, call);
          const id = callee && `${callee.path}\0${callee.name}`;
          if (!callee || seen.has(id!)) continue;
          seen.add(id!);
          next.push(callee);
        }
      }
      level = next;
    }
  }

  /** The shortest chain (at most MAX_CHAIN_FUNCTIONS functions) from calling `target` in this file to a blocking call. */
  chain(target: CallTarget): BlockingChain | null {
    const key = targetKey(target);
    const known = this.memo.get(key);
    if (known !== undefined) return known;
    const found = this.search(target);
    this.memo.set(key, found);
    return found;
  }

  private load(functions: readonly { path: string; name: string }[]): void {
    const byFile = new Map<string, string[]>();
    for (const { path, name } of functions) {
      const names = byFile.get(path);
      if (names) names.push(name);
      else byFile.set(path, [name]);
    }
    for (const [path, names] of byFile) this.files.get(path)!.prepare?.(names);
  }

  private search(target: CallTarget): BlockingChain | null {
    const start = this.resolve(this.own.path, target);
    if (!start) return null;
    const seen = new Set([`${start.path}\0${start.name}`]);
    let level: Step[] = [{ ...start, previous: null, depth: 1 }];
    while (level.length) {
      this.load(level);
      const next: Step[] = [];
      for (const step of level) {
        const summary = this.files.get(step.path)!.get(step.name);
        if (!summary) continue;
        if (summary.blocks) {
          const hops: { path: string; name: string }[] = [];
          for (let s: Step | null = step; s; s = s.previous) hops.unshift({ path: s.path, name: s.name });
          return { hops, blocks: summary.blocks, path: step.path };
        }
        if (step.depth >= MAX_CHAIN_FUNCTIONS) continue;
        for (const call of summary.calls) {
          const callee = this.resolve(step.path, call);
          if (!callee) continue;
          const id = `${callee.path}\0${callee.name}`;
          if (seen.has(id)) continue;
          seen.add(id);
          next.push({ ...callee, previous: step, depth: step.depth + 1 });
        }
      }
      level = next;
    }
    return null;
  }

  /** The summarised function a call in file `from` runs, or null. */
  private resolve(from: string, target: CallTarget): { path: string; name: string } | null {
    if (target.kind === 'local') {
      return this.files.get(from)?.has(target.name) ? { path: from, name: target.name } : null;
    }
    if (this.files.size < 2) return null;
    const dots = /^\.*/.exec(target.dotted)![0].length;
    const parts = target.dotted.slice(dots).split('.');
    // `pkg.utils.Store.load`: try the longest module first (`pkg.utils.Store`, then `pkg.utils`...).
    for (let k = parts.length - 1; k >= (dots > 0 ? 0 : 1); k--) {
      const module = '.'.repeat(dots) + parts.slice(0, k).join('.');
      const files = this.moduleFilesCached(module, from);
      if (files.length !== 1) continue;
      const name = parts.slice(k).join('.');
      const source = this.files.get(files[0]!)!;
      if (source.has(name)) return { path: files[0]!, name };
      if (source.has(`${name}.__init__`)) return { path: files[0]!, name: `${name}.__init__` };
    }
    return null;
  }

  private moduleFilesCached(module: string, from: string): string[] {
    const key = `${from}\0${module}`;
    let files = this.modules.get(key);
    if (!files) {
      files = moduleFiles(module, from, this.paths);
      this.modules.set(key, files);
    }
    return files;
  }
}

/** `Store.load` in `src/pkg/utils.py` -> `utils.Store.load` when it is another file's, else `Store.load`. */
export function hopLabel(hop: { path: string; name: string }, ownPath: string): string {
  if (hop.path === ownPath) return hop.name;
  const parts = moduleParts(hop.path);
  const stem = parts[parts.length - 1];
  return stem ? `${stem}.${hop.name}` : hop.name;
}
