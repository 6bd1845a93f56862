import type { FileAnalysis } from '../analysis/analyze-file.js';
import { SKILL_GUIDES } from '../rules/skills.js';
import { severityLabel } from '../rules/preview.js';
import type { Finding, Rule } from '../rules/types.js';

/** The `--format json` record: exactly these fields, in this order. */
export function jsonFinding(finding: Finding) {
  return {
    path: finding.path,
    line: finding.line,
    column: finding.column,
    endLine: finding.endLine,
    endColumn: finding.endColumn,
    ruleId: finding.ruleId,
    slug: finding.slug,
    aliases: finding.aliases,
    severity: finding.severity,
    message: finding.message,
  };
}

/** `path:line:col: ID [severity] message (slug)`, the fix and the skill sections behind it. */
export function textReport(analyses: readonly FileAnalysis[], rulesById: ReadonlyMap<string, Rule>): string {
  const out: string[] = [];
  let total = 0;
  for (const analysis of analyses) {
    if (analysis.skipped) out.push(`${analysis.path}: skipped: ${analysis.skipped}`);
    else if (analysis.syntaxErrorLines.length > 0) {
      out.push(`${analysis.path}: note: syntax errors at line ${analysis.syntaxErrorLines.slice(0, 5).join(', ')}; the rest was analysed`);
    }
    for (const finding of analysis.findings) {
      total++;
      const rule = rulesById.get(finding.ruleId)!;
      out.push(`${finding.path}:${finding.line}:${finding.column}: ${finding.ruleId} [${finding.severity}] ${finding.message} (${finding.slug})`);
      out.push(`    fix: ${rule.meta.fix}`);
      for (const { guide, section } of rule.meta.cites) {
        const skill = SKILL_GUIDES[guide];
        out.push(`    see: ${skill.name}: ${section}${skill.url ? ` <${skill.url}>` : ''}`);
      }
    }
  }
  out.push(total === 0 ? `No asyncio problems found in ${count(analyses.length, 'file')}.` : `Found ${count(total, 'problem')} in ${count(analyses.length, 'file')}.`);
  return `${out.join('\n')}\n`;
}

export function rulesTable(rules: readonly Rule[]): string {
  const rows = rules.map((r) => [r.meta.id, r.meta.slug, severityLabel(r), r.meta.aliases.join(',') || '-', r.meta.title]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length), ['id', 'slug', 'severity', 'aliases'][i]!.length));
  const line = (cells: string[]) => cells.map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c)).join('  ');
  return `${[line(['id', 'slug', 'severity', 'aliases', 'title']), ...rows.map(line)].join('\n')}\n`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
