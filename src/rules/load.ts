/**
 * Load operator rules from files and folders (every .yaml/.yml below a folder, in sorted order
 * so ids and thresholds resolve the same way everywhere). I/O happens here, at load time only.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuleSetBuilder, type CompileOptions, type CompiledRuleSet } from './compile.js';
import { RuleLoadError } from './source.js';

/** The operator rules shipped with spamgate (`rules/` at the package root). */
export function shippedRulesDir(): string {
  // This file is src/rules/load.ts, or dist/src/rules/load.js once built.
  const here = dirname(fileURLToPath(import.meta.url));
  const fromSource = resolve(here, '..', '..', 'rules');
  const fromDist = resolve(here, '..', '..', '..', 'rules');
  try {
    if (statSync(fromSource).isDirectory() && !here.includes(`${join('dist', 'src')}`)) return fromSource;
  } catch {
    // fall through to the dist layout
  }
  return fromDist;
}

/** Every rule file below the given paths, sorted. */
export function ruleFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  const seen = new Set<string>();
  const walk = (path: string, depth: number): void => {
    let st;
    try {
      st = statSync(path);
    } catch (err) {
      throw new RuleLoadError([{ file: path, line: 1, column: 1, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
    }
    if (st.isDirectory()) {
      if (depth > 16) return;
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) return; // a link back up the tree
      seen.add(key);
      for (const name of readdirSync(path).sort()) {
        if (name.startsWith('.')) continue;
        const child = join(path, name);
        if (/\.ya?ml$/i.test(name) || statSync(child).isDirectory()) walk(child, depth + 1);
      }
    } else {
      files.push(path);
    }
  };
  for (const p of paths) walk(p, 0);
  return files;
}

/** Read and compile rule files; throws RuleLoadError listing every problem with its place. */
export function loadRuleSet(paths: string | readonly string[] = shippedRulesDir(), options: CompileOptions = {}): CompiledRuleSet {
  const list = typeof paths === 'string' ? [paths] : paths;
  const builder = new RuleSetBuilder(options);
  for (const file of ruleFiles(list)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new RuleLoadError([{ file, line: 1, column: 1, message: `cannot read: ${(err as Error).message}` }]);
    }
    builder.addFile(text, file);
  }
  return builder.build();
}
