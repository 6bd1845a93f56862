export interface CorpusRoot {
  name: string;
  dir: string;
}
export interface CorpusFile {
  corpus: string;
  path: string;
  source: string;
}
export const DEBIAN_PACKAGES: string[];
export function debianRoots(packages?: string[]): { roots: CorpusRoot[]; missing: string[] };
export function stdlibAsyncioRoot(): CorpusRoot;
export function corpusFiles(roots: CorpusRoot[]): CorpusFile[];
