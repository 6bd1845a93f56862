/**
 * `/asyncguard ...` commands in a comment body: pure, bounded, no regex over unbounded user text.
 *
 * A command is a line that starts with `/asyncguard` (after optional spaces or tabs), any case,
 * followed by whitespace or the end of the line. Lines inside fenced code blocks (``` or ~~~),
 * quoted lines (`> ...`, what GitHub's "Quote reply" produces) and lines inside HTML comments
 * (`<!-- ... -->`, as in templates) are not commands. `/asyncguard` in the middle of a sentence
 * is not a command either.
 */

/** Only this much of a comment is read for commands; a command further down is ignored. */
export const MAX_SCANNED_CHARS = 8_192;

/** At most this many commands are collected from one comment (only the first is answered). */
export const MAX_COMMANDS = 10;

/** A rule name or sub-command longer than this is cut: nothing we know is longer than 32. */
export const MAX_ARGUMENT_CHARS = 64;

export type Command =
  /** `rule` is null for a bare `/asyncguard explain` (the thread's rule, in a bot thread). */
  | { kind: 'explain'; rule: string | null }
  | { kind: 'help' }
  | { kind: 'recheck' }
  /** A sub-command asyncguard does not have; `name` is the user's text, cut, never trusted. */
  | { kind: 'unknown'; name: string };

const PREFIX = '/asyncguard';

/** Every command of `body` in order (at most MAX_COMMANDS), read from its first MAX_SCANNED_CHARS. */
export function parseCommands(body: string | null | undefined): Command[] {
  if (!body) return [];
  const commands: Command[] = [];
  let fence: { char: string; length: number } | null = null;
  let inHtmlComment = false;
  const lines = body.slice(0, MAX_SCANNED_CHARS).split('\n');
  // A line cut by the limit is not read: `/asyncguard help` cut to `/asyncguard hel` is no command.
  if (body.length > MAX_SCANNED_CHARS && body[MAX_SCANNED_CHARS] !== '\n' && body[MAX_SCANNED_CHARS] !== '\r') lines.pop();
  for (const line of lines) {
    if (fence) {
      if (closesFence(line, fence)) fence = null;
      continue;
    }
    if (inHtmlComment) {
      if (line.includes('-->')) inHtmlComment = line.lastIndexOf('<!--') > line.lastIndexOf('-->');
      continue;
    }
    const opening = openingFence(line);
    if (opening) {
      fence = opening;
      continue;
    }
    const command = commandOf(line);
    if (command) {
      commands.push(command);
      if (commands.length >= MAX_COMMANDS) break;
    }
    // An HTML comment left open on this line hides the lines after it.
    const open = line.lastIndexOf('<!--');
    if (open >= 0 && line.indexOf('-->', open + 4) < 0) inHtmlComment = true;
  }
  return commands;
}

/** The command asyncguard answers: the first one. At most one reply per comment. */
export function firstCommand(body: string | null | undefined): Command | null {
  return parseCommands(body)[0] ?? null;
}

/** The command on this line, or null. Linear: index arithmetic and one split on whitespace. */
function commandOf(rawLine: string): Command | null {
  const line = rawLine.replace(/\r$/, '');
  let start = 0;
  while (start < line.length && (line[start] === ' ' || line[start] === '\t')) start++;
  if (line.slice(start, start + PREFIX.length).toLowerCase() !== PREFIX) return null;
  const after = line[start + PREFIX.length];
  if (after !== undefined && after !== ' ' && after !== '\t') return null;
  const words = line
    .slice(start + PREFIX.length)
    .trim()
    .split(/[ \t]+/)
    .filter(Boolean)
    .map((word) => word.slice(0, MAX_ARGUMENT_CHARS));
  const [sub, arg] = words;
  if (sub === undefined) return { kind: 'help' };
  switch (sub.toLowerCase()) {
    case 'explain':
      return { kind: 'explain', rule: arg ?? null };
    case 'help':
      return { kind: 'help' };
    case 'recheck':
      return { kind: 'recheck' };
    default:
      return { kind: 'unknown', name: sub };
  }
}

/** A fence opener: up to three spaces, then three or more backticks or tildes. */
function openingFence(line: string): { char: string; length: number } | null {
  let i = 0;
  while (i < 3 && line[i] === ' ') i++;
  const char = line[i];
  if (char !== '`' && char !== '~') return null;
  let length = 0;
  while (line[i + length] === char) length++;
  if (length < 3) return null;
  // A backtick fence's info string may not contain backticks (then it is inline code).
  if (char === '`' && line.indexOf('`', i + length) >= 0) return null;
  return { char, length };
}

/** The closing fence: the same character, at least as long, nothing but spaces after it. */
function closesFence(line: string, fence: { char: string; length: number }): boolean {
  const trimmed = line.trim();
  if (trimmed.length < fence.length) return false;
  for (const c of trimmed) if (c !== fence.char) return false;
  return true;
}
