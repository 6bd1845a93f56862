#!/usr/bin/env node
/**
 * asyncguard CLI: the App's engine on local files.
 *   asyncguard check PATH...                 whole files and folders
 *   asyncguard review --base REF [--head REF] the touched scopes of the local diff, as the App decides
 *   asyncguard rules | explain RULE
 * Exit 1 when a finding reaches `fail_on` (default: error), 0 otherwise, 2 on usage errors.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { inlineAnalyzer } from '../analysis/analyzer.js';
import type { FileAnalysis, FileInput } from '../analysis/analyze-file.js';
import { parse as parseYaml } from 'yaml';
import { BLOCKING_PATTERN, CONFIG_PATH } from '../config/schema.js';
import { DEFAULT_SETTINGS, pathFilter, resolveConfig, type ReviewSettings } from '../config/settings.js';
import { parseUnifiedDiff } from '../diff/patch.js';
import { applyTestPolicy, reachesFailOn } from '../findings/policy.js';
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
  --config FILE                   settings file (default: .github/asyncguard.yml when present), as the App reads it
  --blocking-call PATTERN=FIX     a call to flag in async code (repeatable): \`mypkg.db.query=use mypkg.db.aquery\`
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
        config: { type: 'string' },
        'blocking-call': { type: 'string', multiple: true },
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
      const settings = loadSettings(values.config, values['blocking-call'] ?? [], io.cwd);
      const filter = pathFilter(settings);
      const paths = (await collectPythonFiles(args, io.cwd)).filter((path) => filter.reviewed(path));
      const inputs: FileInput[] = [];
      for (const path of paths) {
        inputs.push({ path, source: await readPythonFile(join(io.cwd, path)), addedLines: 'all', ...analysisSettings(settings) });
      }
      return report(await inlineAnalyzer().analyze(inputs), settings, format, io);
    }
    case 'review': {
      if (!values.base) throw new UsageError('review needs --base REF');
      if (args.length > 0) throw new UsageError(`review takes no paths (got ${args.join(' ')})`);
      const settings = loadSettings(values.config, values['blocking-call'] ?? [], io.cwd);
      const filter = pathFilter(settings);
      const diffs = parseUnifiedDiff(await localDiff(io.cwd, values.base, values.head));
      const inputs: FileInput[] = [];
      for (const [path, diff] of diffs) {
        if (!/\.pyi?$/.test(path) || diff.addedLines.length === 0 || !filter.reviewed(path)) continue;
        const source = values.head ? decodePython(await showFile(io.cwd, values.head, path)) : await readPythonFile(join(io.cwd, path));
        inputs.push({ path, source, addedLines: diff.addedLines, ...analysisSettings(settings) });
      }
      return report(await inlineAnalyzer().analyze(inputs), settings, format, io);
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

/**
 * The settings the App would use: `--config FILE`, else `.github/asyncguard.yml` of the working
 * directory when there is one, else the defaults; `--blocking-call` adds to the file's list.
 */
function loadSettings(configPath: string | undefined, blockingCalls: readonly string[], cwd: string): ReviewSettings {
  const path = configPath ? resolve(cwd, configPath) : join(cwd, CONFIG_PATH);
  let settings = DEFAULT_SETTINGS;
  if (configPath || existsSync(path)) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read the configuration ${path}: ${(error as Error).message}`);
    }
    let raw: unknown;
    try {
      raw = parseYaml(text) ?? null;
    } catch (error) {
      throw new UsageError(`${path} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
    }
    const resolved = resolveConfig(raw);
    if (!resolved.ok) {
      const lines = resolved.problems.map((p) => `  ${p.key || '(the file)'}: ${p.value === undefined ? '' : `found ${p.value}, `}expected ${p.expected}`);
      throw new UsageError(`invalid configuration ${path}:\n${lines.join('\n')}`);
    }
    settings = resolved.settings;
  }
  if (blockingCalls.length === 0) return settings;
  const extra = blockingCalls.map((entry) => {
    const [pattern = '', ...rest] = entry.split('=');
    if (!BLOCKING_PATTERN.test(pattern.trim())) throw new UsageError(`--blocking-call ${JSON.stringify(entry)}: expected PATTERN=SUGGESTION, PATTERN a dotted name optionally ending in .*`);
    return { pattern: pattern.trim(), suggestion: rest.join('=').trim() || 'this call blocks the event loop' };
  });
  return { ...settings, rules: { ...settings.rules, blockingCalls: [...settings.rules.blockingCalls, ...extra] } };
}

function analysisSettings(settings: ReviewSettings): Pick<FileInput, 'severities' | 'settings'> {
  return { severities: settings.severities, settings: settings.rules };
}

function report(raw: FileAnalysis[], settings: ReviewSettings, format: 'text' | 'json', io: Io): number {
  const isTest = pathFilter(settings).isTest;
  const analyses = raw.map((analysis) => ({ ...analysis, findings: applyTestPolicy(analysis.findings, isTest) }));
  const findings = analyses.flatMap((analysis) => analysis.findings);
  if (format === 'json') io.stdout(`${JSON.stringify(findings.map(jsonFinding), null, 2)}\n`);
  else io.stdout(textReport(analyses, RULES_BY_ID));
  for (const analysis of analyses) if (analysis.skipped && format === 'json') io.stderr(`asyncguard: ${analysis.path}: skipped: ${analysis.skipped}\n`);
  return reachesFailOn(findings, settings.failOn) ? 1 : 0;
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
