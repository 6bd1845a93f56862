// npm run bench: asyncguard's per-file analysis (parse + every rule, one traversal) against Ruff
// (the npm package @astral-sh/ruff-wasm-nodejs, ASYNC rules) on the same real async Python, in the
// same run, plus how long the App's event loop is blocked while a batch is analysed.
//
// Corpus: the Python standard library's asyncio package of this machine's python3, and, where
// `apt-get download` works, the Debian packages python3-aiohttp, python3-httpx, python3-starlette
// (unpacked under bench/.corpus, not committed).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Workspace } from '@astral-sh/ruff-wasm-nodejs';
import { analyzeFile } from '../dist/analysis/analyze-file.js';
import { inlineAnalyzer, workerAnalyzer } from '../dist/analysis/analyzer.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

function pythonFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== '__pycache__' && entry.name !== 'tests') out.push(...pythonFiles(path));
    else if (entry.isFile() && entry.name.endsWith('.py')) out.push(path);
  }
  return out;
}

function debianCorpus() {
  const root = join(here, '.corpus');
  const packages = ['python3-aiohttp', 'python3-httpx', 'python3-starlette'];
  const dirs = [];
  for (const pkg of packages) {
    const target = join(root, pkg);
    if (!existsSync(target)) {
      try {
        mkdirSync(target, { recursive: true });
        execFileSync('apt-get', ['download', pkg], { cwd: target, stdio: 'ignore' });
        const deb = readdirSync(target).find((f) => f.endsWith('.deb'));
        execFileSync('dpkg', ['-x', deb, join(target, 'root')], { stdio: 'ignore' });
      } catch {
        console.error(`(skipped ${pkg}: apt-get download failed; run 'apt-get update' first)`);
        continue;
      }
    }
    const site = join(target, 'root/usr/lib/python3/dist-packages');
    if (existsSync(site)) dirs.push(site);
  }
  return dirs;
}

const stdlib = execFileSync('python3', ['-c', 'import asyncio, os; print(os.path.dirname(asyncio.__file__))'], { encoding: 'utf8' }).trim();
const roots = [stdlib, ...debianCorpus()];
const files = roots.flatMap((root) =>
  pythonFiles(root).map((path) => ({ path: relative(dirname(root), path), source: readFileSync(path, 'utf8') })),
);
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
  corpus: { roots: roots.map((r) => relative(process.cwd(), r) || r), files: files.length, lines },
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
