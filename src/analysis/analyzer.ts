import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { analyzeFile, type FileAnalysis, type FileInput } from './analyze-file.js';

/** Runs the analysis of many files without blocking the caller's event loop for long. */
export interface Analyzer {
  analyze(inputs: readonly FileInput[]): Promise<FileAnalysis[]>;
  close(): Promise<void>;
}

/**
 * In-process analysis, one file per macrotask: between files the loop is free to serve
 * webhooks. Used by the CLI, by tests, and where worker threads are switched off.
 */
export function inlineAnalyzer(): Analyzer {
  return {
    async analyze(inputs) {
      const results: FileAnalysis[] = [];
      for (const input of inputs) {
        await new Promise<void>((resolve) => setImmediate(resolve));
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
    analyze: (inputs) => Promise.all(inputs.map((input) => pool.run(input) as Promise<FileAnalysis>)),
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
