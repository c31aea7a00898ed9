/**
 * Every condition kind the rule language knows, by YAML key. A new family of kinds is a file
 * in this folder exporting a list, added here.
 */
import type { ConditionKind } from './types.js';
import { EMAIL_CONDITIONS } from './email.js';
import { MESSAGE_CONDITIONS } from './sms.js';
import { VOLUME_CONDITIONS } from './volume.js';

const FAMILIES: ReadonlyArray<readonly ConditionKind[]> = [MESSAGE_CONDITIONS, EMAIL_CONDITIONS, VOLUME_CONDITIONS];

function byKey(kinds: readonly ConditionKind[]): Map<string, ConditionKind> {
  const map = new Map<string, ConditionKind>();
  for (const k of kinds) {
    if (map.has(k.key)) throw new Error(`condition kind '${k.key}' is defined twice`);
    map.set(k.key, k);
  }
  return map;
}

export const CONDITION_KINDS: ReadonlyMap<string, ConditionKind> = byKey(FAMILIES.flat());

export type { ConditionKind, Condition, CompileContext, MatchContext } from './types.js';
