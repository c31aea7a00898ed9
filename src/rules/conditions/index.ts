/**
 * Every condition kind the rule language knows, by YAML key. A new family of kinds is a file
 * in this folder exporting a list, added here.
 */
import type { ConditionKind } from './types.js';
import { MESSAGE_CONDITIONS } from './sms.js';

const FAMILIES: ReadonlyArray<readonly ConditionKind[]> = [MESSAGE_CONDITIONS];

export const CONDITION_KINDS: ReadonlyMap<string, ConditionKind> = new Map(
  FAMILIES.flat().map((k) => [k.key, k] as const),
);

export type { ConditionKind, Condition, CompileContext, MatchContext } from './types.js';
