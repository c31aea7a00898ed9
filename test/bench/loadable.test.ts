/**
 * The benchmarks run through tsx (`npx tsx bench/mail.ts`) and import the compiled modules from
 * dist/; tsx scans every such module for imports with its own lexer, which refuses some valid
 * code (`i < dof / 2; …` read as a regex). This loads the modules the benchmarks load, through
 * tsx, in a child process, so such code fails here and not in a benchmark run.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIST = resolve(__dirname, '../../dist/src');
const MODULES = ['index.js', 'mail/scan.js', 'mail/corpus.js', 'mail/readers.js', 'mail/jit.js', 'mail/engine-setup.js', 'bayes/index.js', 'rules/load.js', 'text/analysis.js'];

describe('compiled modules under tsx', () => {
  it('load through tsx, as the benchmarks load them', () => {
    const script = MODULES.map((m) => `await import(${JSON.stringify(pathToFileURL(resolve(DIST, m)).href)});`).join('\n') + '\nconsole.log("loaded");';
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: resolve(__dirname, '../..') });
    expect(r.stderr).not.toMatch(/Parse error/);
    expect(r.stdout.trim()).toBe('loaded');
    expect(r.status).toBe(0);
  });
});
