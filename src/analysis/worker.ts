// Entry of the analysis worker threads: parsing and rule runs stay off the event loop that
// answers webhooks.
import { analyzeFile, type FileInput } from './analyze-file.js';

export default function analyze(input: FileInput) {
  return analyzeFile(input);
}
