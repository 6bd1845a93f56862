import type { SyntaxNode } from './parser.js';

/**
 * Name resolution for one file: what a dotted name written in the source refers to, through the
 * file's imports (`import time as t`, `from time import sleep`), and which names each scope binds.
 * Built once per file by one pre-pass, shared by every rule: rules never re-parse imports.
 */
export interface ImportTable {
  /**
   * `t.sleep` -> `time.sleep`, `open` -> `builtins.open`, or null when unsure: an unknown head, a
   * name imported twice from different places, an import re-bound at module level, a builtin the
   * file binds itself. Relative imports resolve to a leading-dot name (`.utils.sleep`), never to a
   * stdlib module. Module-level view: the engine adds function-local shadowing on top.
   */
  resolve(dotted: string): string | null;
  /**
   * `builtins.<name>` for a builtin (`open`, `input`, `BaseException`...) that no import of the file
   * replaces and no wildcard import may; null otherwise. Unlike `resolve`, this ignores other
   * bindings: for a caller that knows, by lexical scoping, that no scope around a use binds it.
   */
  builtin(name: string): string | null;
  /** Names bound in one scope (module, class body, def, lambda) and how, for light inference. */
  bindingsIn(scope: SyntaxNode): ReadonlyMap<string, readonly Binding[]>;
  /**
   * Instance attributes a class's methods assign through their first parameter (`self.q = ...`,
   * `self.q: asyncio.Queue = ...`), in any method, for light inference of `self.q.get()`.
   */
  attributesOf(classDefinition: SyntaxNode): ReadonlyMap<string, readonly Binding[]>;
}

export type BindingKind =
  | 'import'
  | 'def'
  | 'class'
  | 'assign'
  | 'annotation'
  | 'augmented'
  | 'param'
  | 'for'
  | 'with'
  | 'except'
  | 'walrus'
  | 'global';

/** One way a scope binds a name. */
export interface Binding {
  kind: BindingKind;
  /** assign / with: the value bound (element-wise for `a, b = x, y`), when it is known. */
  value?: SyntaxNode;
  /** annotation / param: the annotation, when written. */
  annotation?: SyntaxNode;
  /** def / class: the definition node. */
  definition?: SyntaxNode;
  /** def: written `async def`. */
  async?: boolean;
  /** def / class: decorator expressions as written (`staticmethod`, `app.get('/')`). */
  decorators?: string[];
  /** import: the dotted name imported. */
  target?: string;
  /** Instance attributes: the method whose body assigns it (its scope resolves the value). */
  method?: SyntaxNode;
}

/**
 * Builtins a rule may ask about. A file that binds one of these names anywhere (def, assignment,
 * parameter, import...) gets null for it: silence beats a guess.
 */
const BUILTINS = new Set([
  'open',
  'input',
  'print',
  'breakpoint',
  'exit',
  'quit',
  'BaseException',
  'Exception',
  'KeyboardInterrupt',
  'SystemExit',
  'GeneratorExit',
  'TimeoutError',
]);

/**
 * Private submodules re-exported by their package: `from asyncio import tasks; tasks.wait(...)` is
 * `asyncio.wait`. Only applied when a name follows the submodule.
 */
const REEXPORTING_SUBMODULES: Record<string, ReadonlySet<string>> = {
  asyncio: new Set([
    'base_events',
    'coroutines',
    'events',
    'exceptions',
    'futures',
    'locks',
    'queues',
    'runners',
    'streams',
    'subprocess',
    'taskgroups',
    'tasks',
    'threads',
    'timeouts',
  ]),
  requests: new Set(['api', 'sessions']),
  urllib3: new Set(['poolmanager', 'connectionpool']),
  httpx: new Set(['_api', '_client']),
};

const CONFLICT = Symbol('conflict');
const EMPTY: ReadonlyMap<string, readonly Binding[]> = new Map();

export function buildImportTable(root: SyntaxNode): ImportTable {
  const collector = new BindingCollector(root);
  collector.run();
  return collector.table();
}

class BindingCollector {
  private readonly imports = new Map<string, string | typeof CONFLICT>();
  private readonly scopes = new Map<number, Map<string, Binding[]>>();
  /** Names bound other than by import at module level (or declared `global` anywhere). */
  private readonly moduleRebound = new Set<string>();
  /** Every name bound anywhere in the file, by anything. */
  private readonly boundAnywhere = new Set<string>();
  private readonly decoratorsOf = new Map<number, string[]>();
  private wildcard = false;
  private readonly stack: Map<string, Binding[]>[] = [];
  /** Per stack entry: the scope node, and for a method its class and first parameter name. */
  private readonly owners: { node: SyntaxNode; classNode?: SyntaxNode; self?: string }[] = [];
  private readonly attributes = new Map<number, Map<string, Binding[]>>();

  constructor(private readonly root: SyntaxNode) {}

  run(): void {
    this.stack.push(this.scopeMap(this.root));
    this.owners.push({ node: this.root });
    // Scope nodes entered, by cursor depth, so they are left at the right time.
    const entered: number[] = [];
    const cursor = this.root.walk();
    let depth = 0;
    for (;;) {
      let descend = true;
      if (cursor.nodeIsNamed) descend = this.enter(cursor.nodeType, cursor, depth, entered);
      if (descend && cursor.gotoFirstChild()) {
        depth++;
        continue;
      }
      for (;;) {
        if (entered.length && entered[entered.length - 1] === depth) {
          entered.pop();
          this.stack.pop();
          this.owners.pop();
        }
        if (cursor.gotoNextSibling()) break;
        if (!cursor.gotoParent()) return;
        depth--;
      }
    }
  }

  table(): ImportTable {
    const { imports, moduleRebound, boundAnywhere, scopes, attributes } = this;
    const wildcard = this.wildcard;
    return {
      resolve(dotted: string): string | null {
        const dot = dotted.indexOf('.');
        const head = dot < 0 ? dotted : dotted.slice(0, dot);
        const rest = dot < 0 ? '' : dotted.slice(dot);
        if (!head) return null;
        const target = imports.get(head);
        if (target !== undefined) {
          if (target === CONFLICT || moduleRebound.has(head)) return null;
          return canonical(target + rest);
        }
        if (BUILTINS.has(head) && !boundAnywhere.has(head) && !wildcard) return `builtins.${dotted}`;
        return null;
      },
      builtin(name: string): string | null {
        return BUILTINS.has(name) && !imports.has(name) && !wildcard ? `builtins.${name}` : null;
      },
      bindingsIn(scope: SyntaxNode) {
        return scopes.get(scope.id) ?? EMPTY;
      },
      attributesOf(classDefinition: SyntaxNode) {
        return attributes.get(classDefinition.id) ?? EMPTY;
      },
    };
  }

  private scopeMap(node: SyntaxNode): Map<string, Binding[]> {
    let map = this.scopes.get(node.id);
    if (!map) {
      map = new Map();
      this.scopes.set(node.id, map);
    }
    return map;
  }

  private get current(): Map<string, Binding[]> {
    return this.stack[this.stack.length - 1]!;
  }

  private bind(name: string, binding: Binding, into = this.current): void {
    if (!name) return;
    const list = into.get(name);
    if (list) list.push(binding);
    else into.set(name, [binding]);
    this.boundAnywhere.add(name);
    if (into === this.stack[0] && binding.kind !== 'import') this.moduleRebound.add(name);
  }

  /** Returns false to skip the node's children. */
  private enter(type: string, cursor: ReturnType<SyntaxNode['walk']>, depth: number, entered: number[]): boolean {
    switch (type) {
      case 'import_statement':
        this.importStatement(cursor.currentNode);
        return false;
      case 'import_from_statement':
        this.importFrom(cursor.currentNode);
        return false;
      case 'future_import_statement':
        return false;
      case 'decorated_definition': {
        const node = cursor.currentNode;
        const definition = node.childForFieldName('definition');
        if (definition) {
          const decorators = node.namedChildren
            .filter((c) => c.type === 'decorator')
            .map((c) => c.text.replace(/^@\s*/, '').replace(/\s+/g, ''));
          this.decoratorsOf.set(definition.id, decorators);
        }
        return true;
      }
      case 'function_definition':
      case 'class_definition': {
        const node = cursor.currentNode;
        const name = node.childForFieldName('name')?.text ?? '';
        const decorators = this.decoratorsOf.get(node.id) ?? [];
        if (type === 'function_definition') {
          this.bind(name, { kind: 'def', definition: node, async: node.child(0)?.type === 'async', decorators });
        } else {
          this.bind(name, { kind: 'class', definition: node, decorators });
        }
        const parent = this.owners[this.owners.length - 1]!;
        this.stack.push(this.scopeMap(node));
        this.owners.push(
          type === 'function_definition' && parent.node.type === 'class_definition'
            ? { node, classNode: parent.node, self: firstParameter(node, decorators) }
            : { node },
        );
        entered.push(depth);
        if (type === 'function_definition') this.parameters(node.childForFieldName('parameters'));
        return true;
      }
      case 'lambda': {
        const node = cursor.currentNode;
        this.stack.push(this.scopeMap(node));
        this.owners.push({ node });
        entered.push(depth);
        this.parameters(node.childForFieldName('parameters'));
        return true;
      }
      case 'assignment': {
        const node = cursor.currentNode;
        const left = node.childForFieldName('left');
        let right = node.childForFieldName('right');
        // `a = b = f()`: the inner assignment is visited on its own; `a` gets the innermost value.
        while (right?.type === 'assignment') right = right.childForFieldName('right');
        const annotation = node.childForFieldName('type') ?? undefined;
        if (left) this.targets(left, right ?? undefined, annotation ? 'annotation' : 'assign', annotation);
        return true;
      }
      case 'augmented_assignment': {
        const left = cursor.currentNode.childForFieldName('left');
        if (left) this.targets(left, undefined, 'augmented');
        return true;
      }
      case 'for_statement':
      case 'for_in_clause': {
        const left = cursor.currentNode.childForFieldName('left');
        if (left) this.targets(left, undefined, 'for');
        return true;
      }
      case 'with_item': {
        const value = cursor.currentNode.childForFieldName('value');
        if (value?.type === 'as_pattern') this.asPattern(value, 'with');
        return true;
      }
      case 'except_clause': {
        for (const child of cursor.currentNode.namedChildren) {
          if (child.type === 'as_pattern') this.asPattern(child, 'except');
        }
        return true;
      }
      case 'named_expression': {
        const name = cursor.currentNode.childForFieldName('name');
        const value = cursor.currentNode.childForFieldName('value') ?? undefined;
        if (name?.type === 'identifier') this.bind(name.text, { kind: 'walrus', value });
        return true;
      }
      case 'global_statement':
        for (const child of cursor.currentNode.namedChildren) {
          if (child.type === 'identifier') this.bind(child.text, { kind: 'global' }, this.stack[0]);
        }
        return false;
      default:
        return true;
    }
  }

  private importStatement(node: SyntaxNode): void {
    for (const child of node.namedChildren) {
      if (child.type === 'dotted_name') {
        // `import os.path` binds `os`, the package.
        const head = child.namedChild(0)?.text;
        if (head) this.addImport(head, head);
      } else if (child.type === 'aliased_import') {
        const name = dotted(child.childForFieldName('name'));
        const alias = child.childForFieldName('alias')?.text;
        if (name && alias) this.addImport(alias, name);
      }
    }
  }

  private importFrom(node: SyntaxNode): void {
    const moduleNode = node.childForFieldName('module_name');
    if (!moduleNode) return;
    let module: string | null;
    if (moduleNode.type === 'relative_import') {
      const prefix = moduleNode.namedChildren.find((c) => c.type === 'import_prefix')?.text.replace(/\s+/g, '') ?? '.';
      const rest = dotted(moduleNode.namedChildren.find((c) => c.type === 'dotted_name') ?? null);
      module = rest ? `${prefix}${rest}` : prefix;
    } else {
      module = dotted(moduleNode);
    }
    if (!module || module === '__future__') return;
    const join = (name: string) => (module!.endsWith('.') ? `${module}${name}` : `${module}.${name}`);
    for (const child of node.namedChildren) {
      if (child.id === moduleNode.id) continue;
      if (child.type === 'wildcard_import') {
        this.wildcard = true;
      } else if (child.type === 'dotted_name') {
        const name = dotted(child);
        if (name) this.addImport(name, join(name));
      } else if (child.type === 'aliased_import') {
        const name = dotted(child.childForFieldName('name'));
        const alias = child.childForFieldName('alias')?.text;
        if (name && alias) this.addImport(alias, join(name));
      }
    }
  }

  private addImport(local: string, target: string): void {
    const known = this.imports.get(local);
    if (known === undefined) this.imports.set(local, target);
    else if (known !== target) this.imports.set(local, CONFLICT);
    this.bind(local, { kind: 'import', target });
  }

  private parameters(parameters: SyntaxNode | null): void {
    if (!parameters) return;
    for (const parameter of parameters.namedChildren) {
      switch (parameter.type) {
        case 'identifier':
          this.bind(parameter.text, { kind: 'param' });
          break;
        case 'default_parameter':
        case 'typed_default_parameter': {
          const name = parameter.childForFieldName('name');
          const annotation = parameter.childForFieldName('type') ?? undefined;
          if (name) this.targets(name, undefined, 'param', annotation);
          break;
        }
        case 'typed_parameter': {
          const annotation = parameter.childForFieldName('type') ?? undefined;
          const name = parameter.namedChildren.find((c) => c.type !== 'type');
          if (name) this.targets(name, undefined, 'param', annotation);
          break;
        }
        case 'list_splat_pattern':
        case 'dictionary_splat_pattern':
        case 'tuple_pattern':
          this.targets(parameter, undefined, 'param');
          break;
        default:
          break;
      }
    }
  }

  /** `self.x = value` in a method: an attribute binding of the method's class. */
  private instanceAttribute(target: SyntaxNode, value: SyntaxNode | undefined, kind: BindingKind, annotation?: SyntaxNode): void {
    const owner = this.owners[this.owners.length - 1]!;
    if (!owner.classNode || !owner.self) return;
    const object = target.childForFieldName('object');
    const attribute = target.childForFieldName('attribute');
    if (object?.type !== 'identifier' || object.text !== owner.self || attribute?.type !== 'identifier') return;
    let map = this.attributes.get(owner.classNode.id);
    if (!map) {
      map = new Map();
      this.attributes.set(owner.classNode.id, map);
    }
    const binding: Binding = { kind, method: owner.node, ...(value ? { value } : {}), ...(annotation ? { annotation } : {}) };
    const list = map.get(attribute.text);
    if (list) list.push(binding);
    else map.set(attribute.text, [binding]);
  }

  private asPattern(pattern: SyntaxNode, kind: 'with' | 'except'): void {
    const alias = pattern.childForFieldName('alias');
    const value = pattern.namedChild(0) ?? undefined;
    if (!alias) return;
    for (const target of alias.namedChildren) this.targets(target, kind === 'with' ? value : undefined, kind);
  }

  /** Binds every name in an assignment target, pairing `a, b = x, y` element-wise. */
  private targets(target: SyntaxNode, value: SyntaxNode | undefined, kind: BindingKind, annotation?: SyntaxNode): void {
    const work: [SyntaxNode, SyntaxNode | undefined][] = [[target, value]];
    while (work.length) {
      const [node, bound] = work.pop()!;
      switch (node.type) {
        case 'identifier':
          this.bind(node.text, { kind, value: bound, annotation });
          break;
        case 'pattern_list':
        case 'tuple_pattern':
        case 'list_pattern':
        case 'tuple':
        case 'list':
        case 'expression_list':
        case 'parenthesized_expression': {
          const items = node.namedChildren.filter((c) => c.type !== 'comment');
          const values = bound ? sequenceItems(bound) : null;
          const paired = values && values.length === items.length && !items.some(isStarred);
          items.forEach((item, i) => work.push([item, paired ? values[i] : undefined]));
          break;
        }
        case 'list_splat_pattern':
        case 'list_splat':
        case 'dictionary_splat_pattern':
        case 'as_pattern_target':
          for (const child of node.namedChildren) work.push([child, undefined]);
          break;
        case 'attribute':
          this.instanceAttribute(node, bound, kind, annotation);
          break;
        default:
          // subscript targets bind no name.
          break;
      }
    }
  }
}

/** The first parameter's name of a method that has a `self`/`cls` (not a staticmethod). */
function firstParameter(definition: SyntaxNode, decorators: readonly string[]): string | undefined {
  if (decorators.includes('staticmethod')) return undefined;
  const first = definition.childForFieldName('parameters')?.namedChildren[0];
  if (first?.type === 'identifier') return first.text;
  if (first?.type === 'typed_parameter') return first.namedChildren.find((c) => c.type === 'identifier')?.text;
  return undefined;
}

function isStarred(node: SyntaxNode): boolean {
  return node.type === 'list_splat_pattern' || node.type === 'list_splat';
}

/** The items of a literal sequence value, or null when it is not one. */
function sequenceItems(node: SyntaxNode): SyntaxNode[] | null {
  let current = node;
  while (current.type === 'parenthesized_expression' && current.namedChildCount === 1) current = current.namedChild(0)!;
  if (current.type === 'tuple' || current.type === 'list' || current.type === 'expression_list') {
    const items = current.namedChildren.filter((c) => c.type !== 'comment');
    return items.some(isStarred) ? null : items;
  }
  return null;
}

/** `a . b` written with spaces is still `a.b`. */
function dotted(node: SyntaxNode | null): string | null {
  if (!node) return null;
  if (node.type === 'identifier') return node.text;
  if (node.type !== 'dotted_name') return null;
  const parts = node.namedChildren.filter((c) => c.type === 'identifier').map((c) => c.text);
  return parts.length ? parts.join('.') : null;
}

/** `asyncio.tasks.wait` -> `asyncio.wait`: the public spelling rules match on. */
/** `asyncio.tasks.create_task` -> `asyncio.create_task`: the public name of a re-exported one. */
export function canonicalName(name: string): string {
  return canonical(name);
}

function canonical(name: string): string {
  const parts = name.split('.');
  if (parts.length < 3) return name;
  const submodules = REEXPORTING_SUBMODULES[parts[0]!];
  if (submodules?.has(parts[1]!)) return [parts[0], ...parts.slice(2)].join('.');
  return name;
}

/** The modules a file imports anywhere (`import a.b`, `from a.b import c` -> `a.b`), as written. */
function modulesImported(root: SyntaxNode): string[] {
  const modules: string[] = [];
  for (const statement of root.descendantsOfType(['import_statement', 'import_from_statement'])) {
    if (statement.type === 'import_from_statement') {
      modules.push(statement.childForFieldName('module_name')?.text ?? '');
    } else {
      for (const name of statement.namedChildren) modules.push((name.type === 'aliased_import' ? name.childForFieldName('name') : name)?.text ?? '');
    }
  }
  return modules;
}

/** Async frameworks whose code shares one asyncio loop between requests. */
const SHARED_LOOP_FRAMEWORKS = ['asyncio', 'quart', 'aiohttp', 'starlette', 'fastapi', 'sanic', 'anyio', 'uvicorn', 'tornado'];

/**
 * The event loop a file runs on when it is not one shared asyncio loop: `trio` for a module that
 * imports trio and neither asyncio nor an asyncio framework (anyio runs on both); `twisted` for one
 * that imports Twisted (or selects it with `txaio.use_twisted()`) and not asyncio; `flask` for a
 * Flask module (importing `flask` itself and none of asyncio or an asyncio framework): Flask runs each
 * async view on a private loop of its own, in the request's worker thread, so a blocking call holds
 * up only that request. Null otherwise, including code that runs on both.
 */
export function foreignEventLoop(root: SyntaxNode): 'trio' | 'twisted' | 'flask' | null {
  const modules = modulesImported(root);
  const has = (top: string) => modules.some((m) => m === top || m.startsWith(`${top}.`));
  if (has('asyncio')) return null;
  if (has('trio') && !SHARED_LOOP_FRAMEWORKS.some(has)) return 'trio';
  if (has('twisted') || /\btxaio\s*\.\s*use_twisted\s*\(/.test(root.text)) return 'twisted';
  // `flask` itself, not its internals: Quart's own modules import `flask.sessions`, `flask.sansio`.
  if (modules.includes('flask') && !SHARED_LOOP_FRAMEWORKS.some(has)) return 'flask';
  return null;
}
