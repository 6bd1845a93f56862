import Parser from 'tree-sitter';
import Python from 'tree-sitter-python';

export type SyntaxNode = Parser.SyntaxNode;
export type Tree = Parser.Tree;

/** A Python source file parsed once and shared by every stage that needs its syntax. */
export interface ParsedFile {
  path: string;
  source: string;
  tree: Tree;
  /** Source split on line breaks, for snippets and suppression comments (0-based rows). */
  lines: string[];
  /** Rows (0-based) where tree-sitter had to recover from a syntax error. */
  errorRows: number[];
}

// Node's tree-sitter binding copies the input in chunks through a callback; a chunked reader
// avoids the single-buffer size limit some bindings have for long strings.
const CHUNK = 64 * 1024;

let parser: Parser | undefined;

function sharedParser(): Parser {
  if (!parser) {
    parser = new Parser();
    parser.setLanguage(Python as unknown as Parser.Language);
  }
  return parser;
}

export function parsePython(path: string, source: string): ParsedFile {
  const text = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  const tree = sharedParser().parse((index: number) => text.slice(index, index + CHUNK));
  return { path, source: text, tree, lines: text.split(/\r\n|\r|\n/), errorRows: collectErrorRows(tree.rootNode) };
}

function collectErrorRows(root: SyntaxNode): number[] {
  if (!root.hasError) return [];
  const rows = new Set<number>();
  const stack: SyntaxNode[] = [root];
  while (stack.length) {
    const node = stack.pop()!;
    if (node.isError || node.isMissing) {
      rows.add(node.startPosition.row);
      continue;
    }
    if (!node.hasError) continue;
    for (const child of node.children) stack.push(child);
  }
  return [...rows].sort((a, b) => a - b);
}
