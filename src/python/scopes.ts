import type { ParsedFile, SyntaxNode } from './parser.js';

/**
 * The parts of a file a pull request touched. A function (def, async def, method, nested def) is
 * touched when an added line falls inside its span, decorators and signature included; outside
 * any function, the enclosing module-level (or class-body) statement is the scope.
 */
export interface TouchedScopes {
  /** True when a finding at `node` lies in a touched scope. */
  includes(node: SyntaxNode): boolean;
  /** True when the traversal must enter `node` because some touched line lies inside it. */
  mayContain(node: SyntaxNode): boolean;
  /** The touched functions and statements, outermost first, for summaries and logs. */
  describe(file: ParsedFile): TouchedScope[];
}

export interface TouchedScope {
  kind: 'function' | 'statement';
  /** Dotted qualified name for functions (`Client.fetch.inner`), `<module>` for statements. */
  name: string;
  startLine: number;
  endLine: number;
}

/** Whole-file analysis (`asyncguard check`): every scope counts. */
export const WHOLE_FILE: TouchedScopes = {
  includes: () => true,
  mayContain: () => true,
  describe: () => [],
};

export function touchedScopes(addedLines: Iterable<number>): TouchedScopes {
  const sorted = [...new Set(addedLines)].sort((a, b) => a - b);
  const touches = (node: SyntaxNode) => hasLineIn(sorted, node.startPosition.row + 1, node.endPosition.row + 1);
  return {
    includes: (node) => touches(scopeSpan(node)),
    mayContain: (node) => touches(spanOf(node)),
    describe: (file) => describeTouched(file.tree.rootNode, touches),
  };
}

/** The span a function counts as: its decorators belong to it. */
function spanOf(node: SyntaxNode): SyntaxNode {
  return node.parent?.type === 'decorated_definition' ? node.parent : node;
}

/** The innermost function around `node`, or else its module-level / class-body statement. */
function scopeSpan(node: SyntaxNode): SyntaxNode {
  let statement = node;
  for (let current: SyntaxNode | null = node; current; current = current.parent) {
    if (current.type === 'function_definition') return spanOf(current);
    const parent = current.parent;
    if (!parent) break;
    if (parent.type === 'module' || (parent.type === 'block' && parent.parent?.type === 'class_definition')) {
      statement = current;
      // Keep walking: a function further out would own this statement.
    }
  }
  return statement;
}

function hasLineIn(sorted: number[], start: number, end: number): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < start) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo]! <= end;
}

/** `Outer.method.inner` for a function or class definition node. */
export function qualifiedName(definition: SyntaxNode): string {
  const parts: string[] = [];
  for (let current: SyntaxNode | null = definition; current; current = current.parent) {
    if (current.type === 'function_definition' || current.type === 'class_definition') {
      parts.push(current.childForFieldName('name')?.text ?? '?');
    }
  }
  return parts.reverse().join('.');
}

function describeTouched(root: SyntaxNode, touches: (n: SyntaxNode) => boolean): TouchedScope[] {
  const out: TouchedScope[] = [];
  const line = (n: SyntaxNode) => ({ startLine: n.startPosition.row + 1, endLine: n.endPosition.row + 1 });
  for (const definition of root.descendantsOfType('function_definition')) {
    const span = spanOf(definition);
    if (touches(span)) out.push({ kind: 'function', name: qualifiedName(definition), ...line(span) });
  }
  const statements = (container: SyntaxNode, owner: string) => {
    for (const child of container.namedChildren) {
      if (child.type === 'comment') continue; // a comment is not a statement to review
      const definition = child.type === 'decorated_definition' ? child.childForFieldName('definition') : child;
      if (definition?.type === 'function_definition') continue;
      if (definition?.type === 'class_definition') {
        const body = definition.childForFieldName('body');
        if (body) statements(body, qualifiedName(definition));
        continue;
      }
      if (touches(child)) out.push({ kind: 'statement', name: owner, ...line(child) });
    }
  };
  statements(root, '<module>');
  return out.sort((a, b) => a.startLine - b.startLine);
}
