export interface CorpusRoot {
  name: string;
  dir: string;
  /** The oldest Python the project supports (`3.7`), from its Requires-Python; null if unknown. */
  pythonVersion?: string | null;
  /** Only these folders of the package (`azure/core`), when it is a part of a huge one. */
  only?: string[];
}
export interface CorpusFile {
  corpus: string;
  path: string;
  source: string;
  pythonVersion: string | null;
}
export const DEBIAN_PACKAGES: string[];
export function debianRoots(packages?: string[], options?: { anywhere?: boolean; wholeUsr?: boolean }): { roots: CorpusRoot[]; missing: string[] };
export function stdlibAsyncioRoot(): CorpusRoot;
export function corpusFiles(roots: CorpusRoot[]): CorpusFile[];
export const HELD_OUT_6_PACKAGES: string[];
export const HELD_OUT_7_PACKAGES: string[];
export const HELD_OUT_8_PACKAGES: string[];
export const HELD_OUT_9_PACKAGES: string[];
export const HELD_OUT_3_PACKAGES: string[];
export const HELD_OUT_4_PACKAGES: string[];
export const HELD_OUT_5_PACKAGES: string[];
export function loadCorpus(options?: { set?: 'tuned' | `held-out-${number}` }): { roots: CorpusRoot[]; files: CorpusFile[]; missing: string[] };
