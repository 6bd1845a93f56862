#!/usr/bin/env node
/**
 * asyncguard CLI: the App's engine on local files.
 *   asyncguard check PATH...                 whole files and folders
 *   asyncguard review --base REF [--head REF] the touched scopes of the local diff, as the App decides
 *   asyncguard rules | explain RULE
 * Exit 1 when a finding is at `error` severity, 0 otherwise, 2 on usage errors.
 */
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { inlineAnalyzer } from '../analysis/analyzer.js';
import type { FileAnalysis, FileInput } from '../analysis/analyze-file.js';
import { parseUnifiedDiff } from '../diff/patch.js';
import { renderRuleDoc } from '../findings/render.js';
import { findRule, RULES, suggestRules } from '../rules/registry.js';
import type { Rule } from '../rules/types.js';
import { jsonFinding, rulesTable, textReport } from './format.js';
import { localDiff, showFile } from './git.js';
import { collectPythonFiles, decodePython, readPythonFile, UsageError } from './read-source.js';

export interface Io {
  cwd: string;
  stdout(text: string): void;
  stderr(text: string): void;
}

const USAGE = `usage: asyncguard <command> [options]

commands:
  check PATH...                   analyse whole Python files and folders
  review --base REF [--head REF]  analyse the functions the diff from REF touches (as the GitHub App does);
                                  without --head, the working tree is compared
  rules                           list the rules
  explain RULE                    explain a rule (id, alias such as ASYNC251, or slug)

options:
  --format text|json              output format (default text)
  -h, --help                      show this help
`;

const RULES_BY_ID: ReadonlyMap<string, Rule> = new Map(RULES.map((rule) => [rule.meta.id, rule]));

export async function main(argv: readonly string[], io: Io): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`asyncguard: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

async function dispatch(argv: readonly string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        format: { type: 'string', default: 'text' },
        base: { type: 'string' },
        head: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  if (values.help || !command) {
    (values.help ? io.stdout : io.stderr)(USAGE);
    return values.help ? 0 : 2;
  }
  const format = values.format;
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, not ${JSON.stringify(format)}`);

  switch (command) {
    case 'check': {
      if (args.length === 0) throw new UsageError('check needs at least one file or folder');
      const paths = await collectPythonFiles(args, io.cwd);
      const inputs: FileInput[] = [];
      for (const path of paths) {
        inputs.push({ path, source: await readPythonFile(join(io.cwd, path)), addedLines: 'all' });
      }
      return report(await inlineAnalyzer().analyze(inputs), format, io);
    }
    case 'review': {
      if (!values.base) throw new UsageError('review needs --base REF');
      if (args.length > 0) throw new UsageError(`review takes no paths (got ${args.join(' ')})`);
      const diffs = parseUnifiedDiff(await localDiff(io.cwd, values.base, values.head));
      const inputs: FileInput[] = [];
      for (const [path, diff] of diffs) {
        if (!/\.pyi?$/.test(path) || diff.addedLines.length === 0) continue;
        const source = values.head ? decodePython(await showFile(io.cwd, values.head, path)) : await readPythonFile(join(io.cwd, path));
        inputs.push({ path, source, addedLines: diff.addedLines });
      }
      return report(await inlineAnalyzer().analyze(inputs), format, io);
    }
    case 'rules':
      if (format === 'json') io.stdout(`${JSON.stringify(RULES.map((rule) => rule.meta), null, 2)}\n`);
      else io.stdout(rulesTable(RULES));
      return 0;
    case 'explain': {
      if (args.length !== 1) throw new UsageError('explain needs exactly one rule: an id, an alias such as ASYNC251, or a slug');
      const rule = findRule(args[0]!);
      if (!rule) {
        const close = suggestRules(args[0]!).map((r) => `${r.meta.id} ${r.meta.slug}`);
        throw new UsageError(`unknown rule ${JSON.stringify(args[0])}${close.length ? `; did you mean: ${close.join(', ')}?` : ''}`);
      }
      io.stdout(format === 'json' ? `${JSON.stringify(rule.meta, null, 2)}\n` : renderRuleDoc(rule, 'text'));
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
  }
}

function report(analyses: FileAnalysis[], format: 'text' | 'json', io: Io): number {
  const findings = analyses.flatMap((analysis) => analysis.findings);
  if (format === 'json') io.stdout(`${JSON.stringify(findings.map(jsonFinding), null, 2)}\n`);
  else io.stdout(textReport(analyses, RULES_BY_ID));
  for (const analysis of analyses) if (analysis.skipped && format === 'json') io.stderr(`asyncguard: ${analysis.path}: skipped: ${analysis.skipped}\n`);
  return findings.some((finding) => finding.severity === 'error') ? 1 : 0;
}

// Run when executed (bin, `node dist/cli/main.js`), not when imported by tests.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2), {
    cwd: process.cwd(),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`asyncguard: internal error: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 3;
    },
  );
}
