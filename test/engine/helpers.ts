import { compileRules } from '../../src/rules/compile.js';
import { createEngine, type Engine, type EngineOptions } from '../../src/engine/engine.js';

/** An engine over one inline rule file (plus options), for focused tests. */
export function engineWith(yaml: string, options: Omit<EngineOptions, 'rules'> = {}): Engine {
  return createEngine({ ...options, rules: compileRules([{ file: 'test.yaml', text: yaml }], { defaultTimeZone: options.defaultTimeZone ?? 'UTC' }) });
}

/** Ids of the rules that fired for a text. */
export function firing(engine: Engine, text: string, extra: { from?: string; to?: string; time?: string } = {}): string[] {
  return engine.check({ from: extra.from ?? '+447700900000', to: extra.to ?? '+447700900001', text, ...(extra.time ? { time: extra.time } : {}) }).reasons.map((r) => r.rule);
}
