import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { loadRuleSet, shippedRulesDir } from '../../src/rules/load.js';
import type { CompiledRuleSet } from '../../src/rules/compile.js';
import { createSubscriberService, type SubscriberServiceImpl, type SubscriberServiceOptions } from '../../src/service/index.js';
import { gsmLength } from '../../src/service/gsm.js';

let shipped: CompiledRuleSet | undefined;

/** The shipped rules, compiled once per test file. */
export function engine(): Engine {
  shipped ??= loadRuleSet(shippedRulesDir());
  return createEngine({ rules: shipped });
}

export const tmp = (): string => mkdtempSync(join(tmpdir(), 'spamgate-service-'));

export const SERVICE = '+447700900000';
export const ALICE = '+447700900001';
export const BOB = '+447700900002';
export const operator = { kind: 'operator', name: 'test' } as const;

/** A service on a fresh database (or `dbPath`), with the service number set and no model unless asked. */
export function service(options: Partial<SubscriberServiceOptions> & { dir?: string } = {}): SubscriberServiceImpl & { dbPath: string } {
  const { dir = tmp(), ...rest } = options;
  const dbPath = rest.dbPath ?? join(dir, 'spamgate.db');
  const svc = createSubscriberService({ engine: rest.engine ?? engine(), serviceNumber: SERVICE, modelPath: false, ...rest, dbPath });
  return Object.assign(svc, { dbPath });
}

/** A message that the subscriber's block rule on 0900* holds. */
export const held = (to: string, i: number, extra: Record<string, unknown> = {}) => ({
  from: `0900${String(1000000 + i)}`,
  to,
  text: `Held message number ${i}`,
  time: Date.UTC(2026, 0, 1, 12, 0, i % 60),
  ...extra,
});

/** Septets as one GSM SMS; fails the test when a character is outside GSM 03.38. */
export function septets(reply: string): number {
  const n = gsmLength(reply);
  if (n === undefined) throw new Error(`reply has characters outside GSM 03.38: ${reply}`);
  return n;
}
