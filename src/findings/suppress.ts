import type { ParsedFile, SyntaxNode } from '../python/parser.js';
import type { Finding } from '../rules/types.js';

/**
 * Suppression comments, as teams already write them for Ruff and flake8-async plus our own:
 *   `# noqa`                         every finding on the line
 *   `# noqa: ASYNC251, AG101`        findings whose rule has that alias or id (other codes ignored)
 *   `# asyncguard: ignore[AG101, blocking-sleep]`   by id, alias or slug; bare `ignore`: all
 *   `# asyncguard: ignore-file`      in the first lines of the file: nothing in it is reported
 * A directive applies to the finding's line, or to the first line of the statement around it
 * (where a formatter leaves comments of a statement split over several lines).
 */
// Matched against each `#`-separated part of a comment (`# type: ignore  # noqa`), from its start.
const NOQA = /^noqa(?::\s*([A-Za-z][A-Za-z0-9]*(?:[\s,]+[A-Za-z][A-Za-z0-9]*)*))?(?=\s|$)/i;
const IGNORE = /^asyncguard:\s*ignore(?:\[([^\]\n]{0,500})\])?(?=\s|$)/i;
const IGNORE_FILE = /^asyncguard:\s*ignore-file(?=\s|$)/i;
/** How far down `ignore-file` counts: the header of a file, where licence and encoding lines go. */
export const IGNORE_FILE_LINES = 10;

/** Per line: the rule names it silences, or 'all'. */
type Directive = 'all' | Set<string>;

export interface Suppressed {
  kept: Finding[];
  suppressed: Finding[];
}

export function applySuppressions(file: ParsedFile, findings: readonly Finding[]): Suppressed {
  if (findings.length === 0) return { kept: [], suppressed: [] };
  const directives = readDirectives(file);
  if (directives === 'file') return { kept: [], suppressed: [...findings] };
  if (directives.size === 0) return { kept: [...findings], suppressed: [] };
  const kept: Finding[] = [];
  const suppressed: Finding[] = [];
  for (const finding of findings) {
    const lines = [finding.line, statementLine(file, finding)];
    const silenced = lines.some((line) => silences(directives.get(line), finding));
    (silenced ? suppressed : kept).push(finding);
  }
  return { kept, suppressed };
}

/** The directives of the file by 1-based line, or 'file' when the whole file is ignored. */
function readDirectives(file: ParsedFile): Map<number, Directive> | 'file' {
  const directives = new Map<number, Directive>();
  file.lines.forEach((text, row) => {
    const hash = text.indexOf('#');
    if (hash < 0) return;
    const comment = commentAt(file, row, text);
    if (comment === null) return;
    const parts = comment.split('#').map((part) => part.trim());
    if (row < IGNORE_FILE_LINES && parts.some((part) => IGNORE_FILE.test(part))) {
      directives.set(-1, 'all');
      return;
    }
    const names = new Set<string>();
    let all = false;
    let found = false;
    for (const part of parts) {
      const match = NOQA.exec(part) ?? IGNORE.exec(part);
      if (!match) continue;
      found = true;
      if (match[1] === undefined) all = true;
      else for (const name of match[1].split(/[\s,]+/)) if (name) names.add(name.toLowerCase());
    }
    if (found) directives.set(row + 1, all ? 'all' : names);
  });
  return directives.has(-1) ? 'file' : directives;
}

/** The text of the comment on this line (from its `#`), or null when the `#` is inside a string. */
function commentAt(file: ParsedFile, row: number, text: string): string | null {
  let from = text.indexOf('#');
  while (from >= 0) {
    const node = file.tree.rootNode.descendantForPosition({ row, column: from });
    if (node.type === 'comment' && node.startPosition.row === row) return node.text;
    from = text.indexOf('#', from + 1);
  }
  return null;
}

function silences(directive: Directive | undefined, finding: Finding): boolean {
  if (!directive) return false;
  if (directive === 'all') return true;
  return [finding.ruleId, finding.slug, ...finding.aliases].some((name) => directive.has(name.toLowerCase()));
}

/** The 1-based first line of the simple statement around the finding. */
function statementLine(file: ParsedFile, finding: Finding): number {
  let node: SyntaxNode | null = file.tree.rootNode.descendantForPosition({ row: finding.line - 1, column: finding.column - 1 });
  while (node && !isStatement(node)) node = node.parent;
  return node ? node.startPosition.row + 1 : finding.line;
}

function isStatement(node: SyntaxNode): boolean {
  const parent = node.parent;
  return parent !== null && (parent.type === 'block' || parent.type === 'module');
}
