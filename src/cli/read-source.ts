import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';

const PYTHON_FILE = /\.pyi?$/;
/** Folders that hold someone else's code or build output, never the project's. */
const SKIPPED_DIRS = new Set(['.git', '.hg', 'node_modules', '__pycache__', '.venv', 'venv', '.tox', '.nox', '.mypy_cache', 'site-packages', 'build', 'dist']);

/** Python files under the given files and folders, in a stable order. */
export async function collectPythonFiles(paths: readonly string[], cwd: string): Promise<string[]> {
  const found: string[] = [];
  for (const path of paths) {
    const absolute = resolve(cwd, path);
    const info = await stat(absolute).catch(() => null);
    if (!info) throw new UsageError(`no such file or folder: ${path}`);
    if (info.isFile()) found.push(relative(cwd, absolute) || path);
    else if (info.isDirectory()) await walk(absolute, cwd, found);
  }
  return [...new Set(found)].sort();
}

async function walk(dir: string, cwd: string, out: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name) && !entry.name.startsWith('.')) await walk(join(dir, entry.name), cwd, out);
    } else if (entry.isFile() && PYTHON_FILE.test(entry.name)) {
      out.push(relative(cwd, join(dir, entry.name)));
    }
  }
}

export async function readPythonFile(path: string): Promise<string> {
  return decodePython(await readFile(path));
}

/**
 * Python source bytes to text: UTF-8 (the default since PEP 3120), else the PEP 263 coding
 * cookie of the first two lines, else Latin-1, which decodes any byte: analysis goes on and the
 * positions stay right for ASCII code.
 */
export function decodePython(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const head = new TextDecoder('latin1').decode(bytes.subarray(0, 400)).split(/\r?\n/).slice(0, 2).join('\n');
    const cookie = /^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)/m.exec(head)?.[1];
    if (cookie) {
      try {
        return new TextDecoder(cookie).decode(bytes);
      } catch {
        // Unknown to the platform: fall through to Latin-1.
      }
    }
    return new TextDecoder('latin1').decode(bytes);
  }
}

export class UsageError extends Error {}
