/**
 * A subscriber's own rules (ITU-T X.1242): the shape stored, sent over HTTP and written in
 * `--subscribers` files. Subscribers never get regular expressions.
 */

/** A daily window during which everything not on the allow list is held. */
export interface QuietWindow {
  /** "HH:MM", 24-hour. A window whose `to` is earlier than `from` crosses midnight. */
  readonly from: string;
  readonly to: string;
  /** IANA time zone; defaults to the engine's default time zone. */
  readonly tz?: string;
}

export interface SubscriberRules {
  /** Senders to block: exact numbers in any format, prefixes (`0900*`), globs (`*BANK*`), sender IDs. */
  readonly block: readonly string[];
  /** Senders always delivered (except for operator rules marked `enforce`). */
  readonly allow: readonly string[];
  /** Words or phrases that hold a message, matched with the same normalisation as operator keywords. */
  readonly keywords: readonly string[];
  readonly quiet: readonly QuietWindow[];
  /** Filtering on or off for this subscriber. */
  readonly enabled: boolean;
}

/** Bounds that keep one subscriber's rules cheap to compile and check. */
export const SUBSCRIBER_LIMITS = {
  /** Entries in block + allow + keywords + quiet together. */
  maxRules: 200,
  maxPatternLength: 64,
  maxKeywordLength: 64,
  maxQuietWindows: 8,
} as const;

export function emptySubscriberRules(): SubscriberRules {
  return { block: [], allow: [], keywords: [], quiet: [], enabled: true };
}
