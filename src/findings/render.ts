/**
 * The one place markdown (and the terminal form of the same documents) is built: review
 * comments, the review body, the check-run output, rule explanations and the docs pages.
 */
import { SKILL_GUIDES, type SkillSection } from '../rules/skills.js';
import { previewNote, severityLabel } from '../rules/preview.js';
import type { Rule, Severity } from '../rules/types.js';
import { fingerprintMarker, type FingerprintedFinding } from './fingerprint.js';

/** Where docs/rules/<slug>.md is published; links in comments point here. */
export const RULE_DOCS_BASE_URL =
  process.env.ASYNCGUARD_DOCS_URL ?? 'https://github.com/asyncguard/asyncguard/blob/main/docs/rules';

/** GitHub rejects check-run summaries and text longer than this (65,535 characters). */
export const CHECK_OUTPUT_MAX_CHARS = 65_535;

const SEVERITY_BADGE: Record<Exclude<Severity, 'off'>, string> = {
  error: '🛑 error',
  warning: '⚠️ warning',
  info: 'ℹ️ info',
};

export function ruleDocsUrl(rule: Rule): string {
  return `${RULE_DOCS_BASE_URL}/${rule.meta.slug}.md`;
}

/** `code` that stays code whatever backticks the text holds. */
export function inlineCode(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** Plain text for a markdown context: no HTML, no @-mentions, no link or emphasis syntax. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_{}[\]()#+!|<>~]/g, (c) => `\\${c}`)
    .replace(/@/g, '@\u200b')
    .replace(/\r?\n/g, ' ');
}

function fencedBlock(language: string, code: string): string {
  const longest = Math.max(2, ...[...code.matchAll(/`{3,}/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${code.replace(/\n+$/, '')}\n${fence}`;
}

export function citationLinks(sections: readonly SkillSection[]): string {
  return sections
    .map(({ guide, section }) => {
      const skill = SKILL_GUIDES[guide];
      const name = `${skill.name}: ${section}`;
      return skill.url ? `[${name}](${skill.url})` : name;
    })
    .join(' · ');
}

/** The body of one inline review comment. */
export function renderComment(finding: FingerprintedFinding, rule: Rule, withSuggestion: boolean): string {
  const parts = [
    `**${SEVERITY_BADGE[finding.severity]} · [${rule.meta.id} ${rule.meta.slug}](${ruleDocsUrl(rule)})**: ${rule.meta.title}`,
    '',
    finding.message,
    '',
    `**Fix:** ${rule.meta.fix}`,
  ];
  if (withSuggestion && finding.suggestion) {
    parts.push('', fencedBlock('suggestion', finding.suggestion.replacement));
  }
  parts.push(
    '',
    `📖 ${citationLinks(rule.meta.cites)}`,
    '',
    `<sub>Reply \`/asyncguard explain\` for the full explanation. Silence it with \`# noqa: ${rule.meta.aliases[0] ?? rule.meta.id}\` or \`# asyncguard: ignore[${rule.meta.slug}]\`.</sub>`,
    fingerprintMarker(finding.fingerprint, finding.ruleId),
  );
  return parts.join('\n');
}

/** The short body of the one review a push gets; the details live in the comments and check run. */
export function renderReviewBody(posted: number, total: number, checkRunUrl?: string): string {
  const rest = total - posted;
  const more = rest > 0 ? ` ${rest} more ${rest === 1 ? 'is' : 'are'} listed in the check run.` : '';
  const link = checkRunUrl ? ` ([check run](${checkRunUrl}))` : '';
  return `asyncguard found ${plural(total, 'asyncio problem')} in the functions this push touched; ${posted} ${posted === 1 ? 'is' : 'are'} commented inline.${more}${link}`;
}

/** Something about one file the reader of the check run should know (not read, partly parsed). */
export interface FileNote {
  path: string;
  text: string;
}

export interface CheckSummaryInput {
  findings: readonly FingerprintedFinding[];
  rulesById: ReadonlyMap<string, Rule>;
  filesAnalysed: number;
  touchedScopes: number;
  newComments: number;
  overflow: readonly FingerprintedFinding[];
  notes: readonly FileNote[];
  /** Findings against the bot's review threads: without a thread, with one, and threads now fixed. */
  conversation: { new: number; open: number; fixed: number; resolveRefused: number; resolveFailed: number };
  /** Findings silenced by suppression comments. */
  suppressed: number;
  /** Blocking-family findings in test code (info, not commented). */
  inTests: number;
  /** Changed Python files the configuration's `paths` / `exclude` leave out. */
  excludedFiles: number;
}

export interface CheckOutput {
  title: string;
  summary: string;
}

export function renderCheckOutput(input: CheckSummaryInput): CheckOutput {
  const { findings } = input;
  const title =
    findings.length === 0
      ? `No asyncio problems in ${plural(input.touchedScopes, 'touched scope')}`
      : `${plural(findings.length, 'asyncio problem')} in ${plural(input.touchedScopes, 'touched scope')}`;
  const lines = [
    `asyncguard analysed ${plural(input.filesAnalysed, 'changed Python file')} and ${plural(input.touchedScopes, 'touched function or statement', 'touched functions and statements')}.`,
  ];
  if (findings.length > 0) {
    lines.push('', '| rule | severity | findings |', '| --- | --- | ---: |');
    const counts = new Map<string, number>();
    for (const finding of findings) counts.set(finding.ruleId, (counts.get(finding.ruleId) ?? 0) + 1);
    for (const [ruleId, count] of [...counts].sort()) {
      const rule = input.rulesById.get(ruleId)!;
      const severity = findings.find((f) => f.ruleId === ruleId)!.severity;
      lines.push(`| [${rule.meta.id} ${rule.meta.slug}](${ruleDocsUrl(rule)}) | ${severity} | ${count} |`);
    }
    lines.push('', `Inline comments posted by this run: ${input.newComments}.`);
    if (input.inTests > 0) {
      lines.push('', `${plural(input.inTests, 'blocking call')} in test code ${input.inTests === 1 ? 'is' : 'are'} reported as info, not commented.`);
    }
    if (input.overflow.length > 0) {
      lines.push('', `Not commented inline (comment limit reached), see the annotations:`);
      for (const f of input.overflow) lines.push(`- ${inlineCode(`${f.path}:${f.line}`)} ${f.ruleId} ${escapeMarkdown(f.message)}`);
    }
    const cited = new Map<string, SkillSection>();
    for (const finding of findings) {
      for (const section of input.rulesById.get(finding.ruleId)!.meta.cites) {
        cited.set(`${section.guide}/${section.section}`, section);
      }
    }
    lines.push('', `Skill sections behind these findings: ${citationLinks([...cited.values()])}`);
  }
  const { conversation } = input;
  lines.push('', `Since the last review: **${conversation.new} new, ${conversation.open} still open, ${conversation.fixed} fixed**.`);
  if (conversation.resolveFailed > 0) {
    lines.push('', `${plural(conversation.resolveFailed, 'fixed thread')} could not be resolved: GitHub answered with an error; the next review tries again.`);
  }
  if (conversation.resolveRefused > 0) {
    lines.push(
      '',
      `${plural(conversation.resolveRefused, 'fixed thread')} could not be resolved: GitHub refused (the app needs the "contents: write" permission to resolve review threads).`,
    );
  }
  if (input.suppressed > 0) lines.push('', `Suppressed by \`# noqa\` / \`# asyncguard: ignore\` comments: ${input.suppressed}.`);
  if (input.excludedFiles > 0) lines.push('', `Left out by the configuration's \`paths\` / \`exclude\`: ${plural(input.excludedFiles, 'changed Python file')}.`);
  for (const note of input.notes) lines.push('', `> ${inlineCode(note.path)}: ${escapeMarkdown(note.text)}`);
  return { title: truncate(title, 255), summary: truncate(lines.join('\n'), CHECK_OUTPUT_MAX_CHARS) };
}

/** The output of a check run for a push with no Python change. */
export function renderNoPythonOutput(excludedFiles = 0): CheckOutput {
  if (excludedFiles > 0) {
    return {
      title: 'No Python changes to review',
      summary: `The configuration's \`paths\` / \`exclude\` leave out every changed Python file (${excludedFiles}), so there is nothing for asyncguard to review.`,
    };
  }
  return { title: 'No Python changes', summary: 'This push changes no Python files, so there is nothing for asyncguard to review.' };
}

/** An invalid `.github/asyncguard.yml`: what is wrong, key by key. Nothing was reviewed. */
export function renderConfigErrorOutput(location: string, problems: readonly { key: string; value?: string; expected: string }[]): CheckOutput {
  const lines = [
    `asyncguard did not review this push: its configuration${location ? ` (${inlineCode(location)})` : ''} is invalid, and a review with settings other than the ones the team wrote would mislead.`,
    '',
    '| key | found | expected |',
    '| --- | --- | --- |',
    ...problems.map((p) => `| ${p.key ? cellCode(p.key) : '(the file)'} | ${p.value !== undefined ? cellCode(p.value) : '(missing)'} | ${escapeMarkdown(p.expected)} |`),
    '',
    'Fix the file on the default branch, then re-run this check.',
  ];
  return { title: `Invalid configuration: ${plural(problems.length, 'problem')}`, summary: truncate(lines.join('\n'), CHECK_OUTPUT_MAX_CHARS) };
}

/** The review of an older head, overtaken by a newer push before it published anything. */
export function renderSupersededOutput(newerSha: string): CheckOutput {
  return {
    title: 'Superseded by a newer push',
    summary: `A newer commit (${inlineCode(newerSha.slice(0, 7))}) was pushed while this review ran; its check run has the review. Nothing was posted for this commit.`,
  };
}

/** Code in a table cell: GFM splits cells at any `|`, even in code, unless it is escaped. */
function cellCode(text: string): string {
  return inlineCode(text).replace(/\|/g, '\\|');
}

export function renderFailureOutput(reason: string): CheckOutput {
  return {
    title: 'asyncguard could not finish this review',
    summary: truncate(`The review stopped before it completed: ${escapeMarkdown(reason)}\n\nRe-run the check to try again.`, CHECK_OUTPUT_MAX_CHARS),
  };
}

/** A rule's full documentation: `asyncguard explain`, the `/asyncguard explain` reply, docs/rules. */
export function renderRuleDoc(rule: Rule, format: 'markdown' | 'text'): string {
  const { meta } = rule;
  const aliases = meta.aliases.length ? meta.aliases.join(', ') : 'none';
  const preview = previewNote(rule);
  if (format === 'text') {
    return [
      `${meta.id} ${meta.slug}: ${meta.title}`,
      `severity: ${severityLabel(rule)}   family: ${meta.family}   aliases: ${aliases}`,
      ...(preview ? ['', preview] : []),
      '',
      'What it does',
      indent(meta.docs.what),
      '',
      'Why is this bad',
      indent(meta.docs.why),
      '',
      'Example',
      indent(meta.docs.example),
      '',
      'Use instead',
      indent(meta.docs.useInstead),
      '',
      'Skill guides',
      ...meta.cites.map(({ guide, section }) => {
        const skill = SKILL_GUIDES[guide];
        return `  - ${skill.name}: ${section}${skill.url ? ` <${skill.url}>` : ''}`;
      }),
      '',
    ].join('\n');
  }
  return [
    `# ${meta.id} ${meta.slug}: ${meta.title}`,
    '',
    `Severity: **${severityLabel(rule)}** · Family: ${meta.family} · Aliases: ${meta.aliases.length ? meta.aliases.map((a) => `\`${a}\``).join(', ') : 'none'}`,
    ...(preview ? ['', `> ${preview}`] : []),
    '',
    '## What it does',
    '',
    meta.docs.what,
    '',
    '## Why is this bad',
    '',
    meta.docs.why,
    '',
    '## Example',
    '',
    fencedBlock('python', meta.docs.example),
    '',
    '## Use instead',
    '',
    fencedBlock('python', meta.docs.useInstead),
    '',
    '## Skill guides',
    '',
    ...meta.cites.map((section) => `- ${citationLinks([section])}`),
    '',
  ].join('\n');
}

/** docs/rules/README.md, and the rule table of the project README. */
export function renderRuleIndex(rules: readonly Rule[]): string {
  return [
    '# asyncguard rules',
    '',
    'Generated from the rule metadata by `npm run docs`; `npx asyncguard explain <rule>` prints the same text.',
    '',
    renderRuleTable(rules),
    '',
  ].join('\n');
}

/** The rule table; each slug links to `link(rule)` (the page next to it in docs/rules by default). */
export function renderRuleTable(rules: readonly Rule[], link: (rule: Rule) => string = (rule) => `${rule.meta.slug}.md`): string {
  return [
    '| id | slug | aliases | severity | title |',
    '| --- | --- | --- | --- | --- |',
    ...rules.map(
      (rule) =>
        `| ${rule.meta.id} | [${rule.meta.slug}](${link(rule)}) | ${rule.meta.aliases.join(', ') || '-'} | ${severityLabel(rule)} | ${rule.meta.title.replace(/\|/g, '\\|')} |`,
    ),
  ].join('\n');
}

function indent(text: string): string {
  return text
    .replace(/\n+$/, '')
    .split('\n')
    .map((line) => (line ? `    ${line}` : ''))
    .join('\n');
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 20)}\n\n…(truncated)`;
}

// ---------------------------------------------------------------------------------------------
// Command replies: the answers to `/asyncguard ...` comments (src/commands).

/** GitHub rejects issue and review comment bodies longer than this (65,536 characters). */
export const COMMENT_BODY_MAX_CHARS = 65_536;

/** `/asyncguard explain RULE`: the rule's documentation, the markdown of `asyncguard explain RULE`. */
export function renderExplainReply(rule: Rule): string {
  return truncate(renderRuleDoc(rule, 'markdown'), COMMENT_BODY_MAX_CHARS);
}

/** `/asyncguard help`: the commands and every rule, linked to its docs page. */
export function renderHelpReply(rules: readonly Rule[]): string {
  const lines = [
    '**asyncguard commands**: write one at the start of a line of a comment on the pull request.',
    '',
    ...commandTable(rules),
    '',
    `**Rules** (${rules.length})`,
    '',
    // In a comment, relative links would point into the pull request: link the published pages.
    renderRuleTable(rules, ruleDocsUrl),
  ];
  return truncate(lines.join('\n'), COMMENT_BODY_MAX_CHARS);
}

/**
 * An unknown sub-command, or `/asyncguard explain` with no rule outside one of asyncguard's
 * review threads: what to write instead. `name` (user text) is shown only when it looks like a name.
 */
export function renderCommandHint(rules: readonly Rule[], unknown?: { command: string }): string {
  const shown = unknown ? echoName(unknown.command) : null;
  const lead = !unknown
    ? '`/asyncguard explain` needs a rule, unless it is a reply in one of asyncguard\'s review threads (then it explains that thread\'s rule).'
    : shown
      ? `asyncguard has no command ${shown}.`
      : 'asyncguard has no such command.';
  return truncate([lead, '', ...commandTable(rules)].join('\n'), COMMENT_BODY_MAX_CHARS);
}

/** `/asyncguard explain NAME` where no rule has that id, alias or slug: the closest ones. */
export function renderUnknownRuleReply(name: string, closest: readonly Rule[]): string {
  const shown = echoName(name);
  const lines = [shown ? `asyncguard has no rule ${shown}.` : 'asyncguard has no rule by that name.'];
  if (closest.length > 0) {
    lines.push('', 'Closest matches:', '');
    for (const rule of closest) {
      const aliases = rule.meta.aliases.length ? ` (${rule.meta.aliases.map((a) => `\`${a}\``).join(', ')})` : '';
      lines.push(`- [${rule.meta.id} ${rule.meta.slug}](${ruleDocsUrl(rule)})${aliases}: ${rule.meta.title}`);
    }
    lines.push('', `Reply \`/asyncguard explain ${closest[0]!.meta.id}\` for one of them, or \`/asyncguard help\` for every rule.`);
  } else {
    lines.push('', '`/asyncguard help` lists every rule.');
  }
  return truncate(lines.join('\n'), COMMENT_BODY_MAX_CHARS);
}

/** `/asyncguard recheck` by someone without write access (author_association not OWNER/MEMBER/COLLABORATOR). */
export function renderRecheckRefusal(): string {
  return 'Sorry, only people with write access to this repository can ask asyncguard to review again. The next push to this pull request is reviewed as usual.';
}

/** `/asyncguard recheck` on a closed pull request. */
export function renderRecheckClosed(): string {
  return 'This pull request is closed, so asyncguard did not review it again. Reopening it starts a review.';
}

function commandTable(rules: readonly Rule[]): string[] {
  const first = rules[0]?.meta;
  const examples = first
    ? ` (${[first.id, first.aliases[0], first.slug].filter((name): name is string => Boolean(name)).map((name) => `\`${name}\``).join(', ')})`
    : '';
  return [
    '| command | what it does |',
    '| --- | --- |',
    `| \`/asyncguard explain RULE\` | the rule's documentation: what it flags, why, an example, the fix and the skill guide sections. RULE is an id, an alias or a slug${examples}, in any case |`,
    "| `/asyncguard explain` | as a reply in one of asyncguard's review threads: explains that thread's rule |",
    '| `/asyncguard recheck` | reviews the pull request again (people with write access) |',
    '| `/asyncguard help` | the commands and the rules |',
  ];
}

/**
 * User text named back in a reply: only a plain name (letters, digits, `.`, `_`, `-`, at most 64),
 * as inline code. Anything else (mentions, HTML, links, emphasis) is not shown at all.
 */
function echoName(text: string): string | null {
  return /^[A-Za-z0-9._-]{1,64}$/.test(text) ? inlineCode(text) : null;
}
