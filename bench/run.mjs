// npm run bench: asyncguard's per-file analysis (parse + every rule, one traversal) against Ruff
// (the npm package @astral-sh/ruff-wasm-nodejs, ASYNC rules) on the same real async Python, in the
// same run, plus how long the App's event loop is blocked while a batch is analysed.
//
// Corpus: bench/corpus.mjs (the standard library's asyncio package and Debian's async libraries,
// unpacked under bench/.corpus, not committed).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Workspace } from '@astral-sh/ruff-wasm-nodejs';
import { analyzeFile } from '../dist/analysis/analyze-file.js';
import { inlineAnalyzer, workerAnalyzer } from '../dist/analysis/analyzer.js';
import { previewOn } from '../dist/rules/preview.js';
import { RULES } from '../dist/rules/registry.js';
import { loadCorpus } from './corpus.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const corpus = loadCorpus();
if (corpus.missing.length) console.error(`(skipped ${corpus.missing.join(', ')}: apt-get download failed)`);
const { roots } = corpus;
// Every rule, the preview ones included (Ruff below runs every ASYNC rule, its preview ones too).
const severities = previewOn(RULES);
const files = corpus.files.map(({ path, source }) => ({ path, source, severities }));
const lines = files.reduce((n, f) => n + f.source.split('\n').length, 0);

const ruff = new Workspace({ 'output-prefer-rule-codes': true, lint: { select: ['ASYNC'], preview: true } }, 'Utf16');

function time(fn) {
  const samples = [];
  let result;
  for (let i = 0; i < ROUNDS; i++) {
    const start = process.hrtime.bigint();
    result = fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { ms: samples[Math.floor(samples.length / 2)], result };
}

// Warm both up once (JIT, wasm instantiation, tree-sitter language load).
analyzeFile({ path: 'warm.py', source: files[0].source, addedLines: 'all' });
ruff.check(files[0].source);

const ours = time(() => files.reduce((n, f) => n + analyzeFile({ ...f, addedLines: 'all' }).findings.length, 0));
const theirs = time(() => files.reduce((n, f) => n + ruff.check(f.source).length, 0));

async function loopBlocking(analyzer) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const start = process.hrtime.bigint();
  await analyzer.analyze(files.map((f) => ({ ...f, addedLines: 'all' })));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  histogram.disable();
  await analyzer.close();
  return { ms, maxDelayMs: histogram.max / 1e6 };
}
const inline = await loopBlocking(inlineAnalyzer());
const workers = await loopBlocking(workerAnalyzer(1));

const result = {
  date: new Date().toISOString().slice(0, 10),
  node: process.version,
  corpus: { roots: roots.map((r) => r.name), files: files.length, lines },
  rounds: ROUNDS,
  asyncguard: { medianMs: Math.round(ours.ms), findings: ours.result, linesPerSecond: Math.round(lines / (ours.ms / 1000)) },
  ruff: { medianMs: Math.round(theirs.ms), findings: theirs.result, linesPerSecond: Math.round(lines / (theirs.ms / 1000)) },
  ratio: Number((ours.ms / theirs.ms).toFixed(2)),
  eventLoop: {
    inlineMaxDelayMs: Math.round(inline.maxDelayMs),
    workerMaxDelayMs: Math.round(workers.maxDelayMs),
    workerBatchMs: Math.round(workers.ms),
  },
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
console.log(
  `\nasyncguard ${result.asyncguard.medianMs} ms vs Ruff ${result.ruff.medianMs} ms on ${files.length} files / ${lines} lines: ` +
    `asyncguard takes ${result.ratio}x Ruff's time. Longest event-loop stall while reviewing the batch: ` +
    `${result.eventLoop.inlineMaxDelayMs} ms in-process, ${result.eventLoop.workerMaxDelayMs} ms with worker threads.`,
);
