import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { importedModules, moduleFiles, type BlockingSummary } from '../python/call-graph.js';
import { analyzeFile, summarizeFile, type FileAnalysis, type FileInput } from './analyze-file.js';

/** Runs the analysis of many files without blocking the caller's event loop for long. */
export interface Analyzer {
  analyze(inputs: readonly FileInput[]): Promise<FileAnalysis[]>;
  close(): Promise<void>;
}

/** Files read between two yields to the event loop while a large batch's imports are matched. */
const IMPORT_SLICE = 64;

/**
 * Which files of a batch import another file of the batch (`importers`), and which are imported
 * (`providers`), read from the import statements as text: no parse. Empty for most pull requests,
 * which then cost nothing more. A large batch is read in slices, with the event loop free between
 * them (`yieldEvery`, awaited after each slice).
 */
export async function crossFileImports(
  inputs: readonly Pick<FileInput, 'path' | 'source'>[],
  yieldEvery: () => Promise<void> = nextMacrotask,
): Promise<{ importers: number[]; providers: number[] }> {
  const importers: number[] = [];
  const providers = new Set<number>();
  if (inputs.length < 2) return { importers, providers: [] };
  const paths = inputs.map((input) => input.path);
  const indexOf = new Map(paths.map((path, i) => [path, i]));
  for (let i = 0; i < inputs.length; i++) {
    if (i > 0 && i % IMPORT_SLICE === 0) await yieldEvery();
    const input = inputs[i]!;
    let imports = false;
    for (const module of importedModules(input.source)) {
      for (const path of moduleFiles(module, input.path, paths)) {
        providers.add(indexOf.get(path)!);
        imports = true;
      }
    }
    if (imports) importers.push(i);
  }
  return { importers, providers: [...providers].sort((a, b) => a - b) };
}

/**
 * The inputs as analyseFile should see them: a file that imports another file of the batch gets
 * the blocking summaries of every imported file (chains may run through several), an imported
 * file its own (so it is not computed twice).
 */
async function withRelated(
  inputs: readonly FileInput[],
  summarizeAll: (inputs: FileInput[]) => Promise<(BlockingSummary | null)[]>,
): Promise<readonly FileInput[]> {
  const { importers, providers } = await crossFileImports(inputs);
  if (importers.length === 0) return inputs;
  const summaries = await summarizeAll(providers.map((i) => inputs[i]!));
  const related = summaries.filter((summary): summary is BlockingSummary => summary !== null);
  const out = [...inputs];
  providers.forEach((i, k) => {
    const own = summaries[k];
    if (own) out[i] = { ...inputs[i]!, related: [own] };
  });
  for (const i of importers) out[i] = { ...inputs[i]!, related };
  return out;
}

const nextMacrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * In-process analysis, one file per macrotask: between files the loop is free to serve
 * webhooks. Used by the CLI, by tests, and where worker threads are switched off.
 */
export function inlineAnalyzer(): Analyzer {
  return {
    async analyze(inputs) {
      // One file per macrotask, in turn: started together, every summary would run in the same turn.
      const prepared = await withRelated(inputs, async (providers) => {
        const summaries: (BlockingSummary | null)[] = [];
        for (const input of providers) {
          await nextMacrotask();
          summaries.push(summarizeFile(input));
        }
        return summaries;
      });
      const results: FileAnalysis[] = [];
      for (const input of prepared) {
        await nextMacrotask();
        results.push(analyzeFile(input));
      }
      return results;
    },
    async close() {},
  };
}

/** Analysis in a pool of worker threads: tree-sitter parses never run on the webhook loop. */
export function workerAnalyzer(threads: number): Analyzer {
  const pool = new Piscina({
    filename: fileURLToPath(new URL('./worker.js', import.meta.url)),
    minThreads: 1,
    maxThreads: threads,
    idleTimeout: 60_000,
  });
  return {
    async analyze(inputs) {
      const prepared = await withRelated(inputs, (providers) =>
        Promise.all(providers.map((input) => pool.run(input, { name: 'summarize' }) as Promise<BlockingSummary | null>)),
      );
      return Promise.all(prepared.map((input) => pool.run(input) as Promise<FileAnalysis>));
    },
    close: () => pool.destroy(),
  };
}

/**
 * `ASYNCGUARD_WORKERS` threads (default: one less than the cores, at least one); 0 analyses
 * in-process. Running from TypeScript sources (tests) there is no compiled worker: in-process.
 */
export function defaultAnalyzer(env: NodeJS.ProcessEnv = process.env): Analyzer {
  const configured = env.ASYNCGUARD_WORKERS === undefined ? undefined : Number(env.ASYNCGUARD_WORKERS);
  const threads =
    configured !== undefined && Number.isInteger(configured) && configured >= 0
      ? configured
      : Math.max(1, availableParallelism() - 1);
  const compiledWorker = existsSync(fileURLToPath(new URL('./worker.js', import.meta.url)));
  return threads > 0 && compiledWorker ? workerAnalyzer(threads) : inlineAnalyzer();
}
