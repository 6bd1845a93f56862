// Entry of the analysis worker threads: parsing and rule runs stay off the event loop that
// answers webhooks.
import { analyzeFile, summarizeFile, type FileInput } from './analyze-file.js';

export default function analyze(input: FileInput) {
  return analyzeFile(input);
}

/** The file's blocking summary, for the other files of the pull request that import it. */
export function summarize(input: FileInput) {
  return summarizeFile(input);
}
