/**
 * Messages between the scan pool (main thread) and its workers. Kept in one file so both
 * sides agree; everything here survives structured cloning.
 */
import type { Action } from '../engine/types.js';
import type { EngineFlags } from '../cli/common.js';
import type { MessageInput } from '../message/types.js';
import type { ParseOptions } from './parse.js';

export type WorkerMode = 'score' | 'parse';

export interface WorkerInit {
  readonly mode: WorkerMode;
  readonly engine: EngineFlags;
  readonly parse: ParseOptions;
  /**
   * Whether this worker parses the messages the direct decoder cannot read, loading mailparser
   * for them (default true). The pool gives that job to one worker; the others hand such
   * messages back (`deferred`), so only one pays for loading mailparser.
   */
  readonly fullParser?: boolean;
  /** A WorkerSetup message comes first, before any batch: wait for it before starting. */
  readonly awaitsSetup?: boolean;
}

/** What the scanning thread prepares once for every worker, sent before any batch. */
export interface WorkerSetup {
  readonly type: 'setup';
  /** The classifier's model in shared memory (ClassifierSource.share); workers load their own when absent. */
  readonly sharedModel?: unknown;
}

export interface WorkItem {
  readonly seq: number;
  readonly id: string;
  readonly raw: Uint8Array;
}

export interface WorkBatch {
  readonly type: 'batch';
  readonly batch: number;
  readonly items: readonly WorkItem[];
}

/** What the scan writes for one scored message. */
export interface ScoredFields {
  readonly action: Action;
  readonly score: number;
  readonly rules: readonly string[];
  readonly spamProbability?: number;
  readonly from: string;
  readonly subject: string;
  readonly date?: string;
  readonly defects?: readonly string[];
}

export type WorkResult =
  | { readonly seq: number; readonly id: string; readonly scored: ScoredFields }
  | { readonly seq: number; readonly id: string; readonly input: MessageInput; readonly defects?: readonly string[] }
  | { readonly seq: number; readonly id: string; readonly error: string }
  /** Needs mailparser, and this worker leaves that to the one that has it. */
  | { readonly seq: number; readonly id: string; readonly deferred: true };

export type WorkerReply =
  | { readonly type: 'ready' }
  | { readonly type: 'fatal'; readonly error: string }
  | { readonly type: 'results'; readonly batch: number; readonly results: readonly WorkResult[] };
