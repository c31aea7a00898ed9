/**
 * V8 tiering for batch mail jobs (`spamgate scan` and `spamgate train` over archives).
 *
 * Every scan worker is a fresh V8 isolate that compiles the whole parse-and-score path again,
 * and V8's defaults are tuned for long-lived pages: it optimises early and inlines deeply, then
 * recompiles when a rarely taken branch (a charset, an HTML part) deoptimises the big functions
 * (word spans, feature collection). On the 6,046-message corpus that optimising work, done on
 * V8's background threads, was about a third of the scan's CPU on a 2-core machine. Letting a
 * function run longer before it is optimised (interrupt budget 600 KB instead of 132 KB) and
 * inlining less (300 bytes of bytecode instead of 920) took about 15 % off the CPU of a corpus
 * scan and left a long scan's steady speed alone (docs/mail.md, "Third round").
 *
 * The flags are process-wide and apply to isolates created afterwards, so this is called by
 * the commands before the worker pool starts, never by the library functions: a server that
 * embeds spamgate keeps V8's defaults.
 */
import { setFlagsFromString } from 'node:v8';

export const BATCH_JIT_FLAGS = ['--interrupt-budget=600000', '--max-inlined-bytecode-size-cumulative=300'] as const;

let tuned = false;

/** Set BATCH_JIT_FLAGS once for this process; later isolates (the scan workers) get them. */
export function tuneJitForBatch(): void {
  if (tuned) return;
  tuned = true;
  for (const flag of BATCH_JIT_FLAGS) setFlagsFromString(flag);
}
