import { mkdtempSync, rmSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { watchRules, type ReloadFailure, type ReloadLogger, type ReloadSuccess, type RuleWatcher } from '../../src/engine/reload.js';
import { loadRuleSet } from '../../src/rules/load.js';

const ruleFile = (id: string, keyword: string): string =>
  `rules:\n  - id: ${id}\n    description: test rule ${id}\n    keywords: [${keyword}]\n    action: block\n`;

function fired(engine: Engine, text: string): string[] {
  return engine.check({ from: '+447700900000', to: '+447700900001', text }).reasons.map((r) => r.rule);
}

/** Resolve with the next value pushed, or reject after `ms` (bounded waits only). */
function nextEvent<T>(queue: T[], ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      const v = queue.shift();
      if (v !== undefined) resolve(v);
      else if (Date.now() > deadline) reject(new Error(`no reload within ${ms} ms`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

class MemoryLogger implements ReloadLogger {
  readonly lines: Array<{ level: string; msg: string; obj: object }> = [];
  info(obj: object, msg = ''): void { this.lines.push({ level: 'info', msg, obj }); }
  warn(obj: object, msg = ''): void { this.lines.push({ level: 'warn', msg, obj }); }
  error(obj: object, msg = ''): void { this.lines.push({ level: 'error', msg, obj }); }
}

describe('hot reload of rule files', () => {
  let dir: string;
  let file: string;
  let engine: Engine;
  let watcher: RuleWatcher | undefined;
  const reloads: ReloadSuccess[] = [];
  const errors: ReloadFailure[] = [];
  const logger = new MemoryLogger();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spamgate-reload-'));
    file = join(dir, 'main.yaml');
    writeFileSync(file, ruleFile('OLD_RULE', 'oldword'));
    engine = createEngine({ rules: loadRuleSet(dir) });
    reloads.length = 0;
    errors.length = 0;
    logger.lines.length = 0;
  });

  afterEach(() => {
    watcher?.close();
    watcher = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (extra: { pollMs?: number; debounceMs?: number; paths?: string[] } = {}): RuleWatcher => {
    watcher = watchRules({
      engine, paths: extra.paths ?? [dir], logger, sighup: false,
      pollMs: extra.pollMs ?? 0, debounceMs: extra.debounceMs ?? 50,
      onReload: (r) => reloads.push(r), onError: (e) => errors.push(e),
    });
    expect(reloads).toEqual([]); // the files on disk are compiled at once, but that is no reload
    expect(logger.lines.at(-1)?.msg).toBe('rules loaded');
    return watcher;
  };

  it('picks up an edited rule file within a second through fs.watch', async () => {
    start();
    expect(fired(engine, 'oldword')).toEqual(['OLD_RULE']);
    writeFileSync(file, ruleFile('NEW_RULE', 'newword'));
    const r = await nextEvent(reloads, 1000);
    expect(r.reason).toBe('watch');
    expect(fired(engine, 'newword')).toEqual(['NEW_RULE']);
    expect(fired(engine, 'oldword')).toEqual([]);
  });

  it('picks up a file replaced by rename (how editors save) and a new file in a subfolder', async () => {
    start();
    const tmp = join(dir, '.main.yaml.swp');
    writeFileSync(tmp, ruleFile('RENAMED', 'renamedword'));
    renameSync(tmp, file);
    await nextEvent(reloads, 1000);
    expect(fired(engine, 'renamedword')).toEqual(['RENAMED']);
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'extra.yaml'), ruleFile('EXTRA', 'extraword'));
    await nextEvent(reloads, 1000);
    expect(fired(engine, 'extraword')).toEqual(['EXTRA']);
  });

  it('falls back to polling mtimes when no watch event arrives', async () => {
    // As on a network mount, where fs.watch is silent: only the poll can see the change.
    watcher = watchRules({
      engine, paths: [file], logger, sighup: false, pollMs: 100, watch: false,
      onReload: (r) => reloads.push(r), onError: (e) => errors.push(e),
    });
    writeFileSync(file, ruleFile('POLLED', 'polledword'));
    const r = await nextEvent(reloads, 1000);
    expect(r.reason).toBe('poll');
    expect(fired(engine, 'polledword')).toEqual(['POLLED']);
  });

  it('refuses a broken rule file, logs every problem with file:line:column, and keeps the running set', async () => {
    start();
    const before = engine.rules;
    writeFileSync(file, 'rules:\n  - id: BROKEN\n    description: bad\n    keywords: [x]\n    score: lots\n  - id: lower_case\n    description: bad id\n    score: 1\n    keywords: [y]\n');
    const e = await nextEvent(errors, 1000);
    expect(e.problems.length).toBe(2);
    expect(e.problems.map((p) => `${p.line}:${p.column}`)).toEqual(['5:12', '6:9']);
    expect(engine.rules).toBe(before);
    expect(fired(engine, 'oldword')).toEqual(['OLD_RULE']);
    const logged = logger.lines.filter((l) => l.level === 'error').map((l) => l.msg);
    expect(logged.some((m) => m.startsWith(`${file}:5:12: `))).toBe(true);
    expect(logged.some((m) => m.startsWith(`${file}:6:9: `))).toBe(true);
    // Fixing the file brings the new rules in.
    writeFileSync(file, ruleFile('FIXED', 'fixedword'));
    await nextEvent(reloads, 1000);
    expect(fired(engine, 'fixedword')).toEqual(['FIXED']);
  });

  it('refuses to start on broken files, naming the problem', () => {
    writeFileSync(file, 'rules:\n  - id: X\n');
    expect(() => watchRules({ engine, paths: [dir], sighup: false, pollMs: 0 })).toThrow(/main\.yaml:2:9: /);
  });

  it('a deleted rules folder is refused like any broken set', () => {
    const w = start();
    rmSync(dir, { recursive: true, force: true });
    const r = w.reloadNow();
    expect(r.ok).toBe(false);
    expect(fired(engine, 'oldword')).toEqual(['OLD_RULE']);
  });

  it('reloadNow swaps nothing when the contents did not change', () => {
    const w = start();
    const before = engine.rules;
    const r = w.reloadNow();
    expect(r.ok && r.changed).toBe(false);
    expect(engine.rules).toBe(before);
    writeFileSync(file, ruleFile('MANUAL', 'manualword'));
    const r2 = w.reloadNow();
    expect(r2.ok && r2.changed).toBe(true);
    expect(engine.rules).not.toBe(before);
    expect(reloads.map((x) => x.reason)).toEqual(['manual']);
  });

  it('volume counters survive a reload that keeps their counter, whatever the rule ids', () => {
    const rate = (id: string, min: number) => `rules:\n  - id: ${id}\n    description: rate\n    score: 1\n    rate: { per: sender, min: ${min}, window: 1m }\n`;
    writeFileSync(file, rate('RATE_V1', 3));
    const w = start(); // compiles the files on disk at once
    const send = () => engine.check({ from: '+447700900000', to: '+447700900001', text: 'hi', time: 1_780_000_000_000 }).reasons.map((r) => r.rule);
    expect(send()).toEqual([]);
    expect(send()).toEqual([]);
    writeFileSync(file, rate('RATE_V2', 3));
    w.reloadNow();
    expect(send()).toEqual(['RATE_V2']); // the third message, counted across the reload
  });

  it('SIGHUP reloads the rules', () => {
    watcher = watchRules({ engine, paths: [dir], logger, pollMs: 0, onReload: (r) => reloads.push(r) });
    writeFileSync(file, ruleFile('HUPPED', 'hupword'));
    // The handler is a process listener: emit the event to it instead of signalling the
    // process, which would also reach any other SIGHUP listener in the test runner.
    process.emit('SIGHUP', 'SIGHUP');
    expect(reloads.map((r) => r.reason)).toEqual(['signal']);
    expect(fired(engine, 'hupword')).toEqual(['HUPPED']);
    watcher.close();
    watcher = undefined;
    writeFileSync(file, ruleFile('AFTER_CLOSE', 'closeword'));
    process.emit('SIGHUP', 'SIGHUP');
    expect(reloads.length).toBe(1);
  });
});
