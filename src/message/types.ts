/**
 * The message model every room shares. Input adapters (CLI files, HTTP, SMPP, mail archives)
 * produce a `MessageInput`; `normaliseMessage` turns it into a `Message` whose addresses are in
 * canonical form, so matchers compare strings and never re-parse numbers.
 */

export type Channel = 'sms' | 'email';

/** How an address was understood. */
export type AddressKind = 'e164' | 'shortcode' | 'alphanumeric' | 'email' | 'unknown';

export interface Address {
  /** As it arrived. */
  readonly raw: string;
  /**
   * Canonical form used by every matcher: `+447700900123` (E.164), `87121` (short code),
   * `PRIZEDRAW` (alphanumeric sender ID, upper case), `user@example.com` (lower case).
   */
  readonly value: string;
  readonly kind: AddressKind;
}

export interface EmailAttachment {
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
}

/** Parts of an email that rules and the classifier look at. Produced by the mail room. */
export interface EmailFields {
  /** Header values by lower-cased header name, in order of appearance. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly subject: string;
  /** Sender address (lower case) and its domain. */
  readonly fromAddress: string;
  readonly fromDomain: string;
  readonly replyToAddress: string;
  readonly replyToDomain: string;
  /** URLs found in HTML links (href), in addition to those found in the text. */
  readonly linkUrls: readonly string[];
  readonly attachments: readonly EmailAttachment[];
  /** Size of the raw message in bytes. */
  readonly size: number;
  /** True when the body came from an HTML part. */
  readonly html: boolean;
  /**
   * Parts of the message no score reads today, filled only when the parser is asked
   * (`ParseOptions.unscored`): measured by src/mail/experiment.ts as classifier tokens and not
   * adopted (docs/mail.md). `otherText`: the part not in `text` (the HTML reduced to text when
   * the body is the text part, or the reverse); `htmlStructure`: tokens of the HTML's make-up.
   */
  readonly unscored?: { readonly otherText?: string; readonly htmlStructure?: readonly string[] };
}

/** What callers hand to the engine. Numbers may be in any format the normaliser understands. */
export interface MessageInput {
  readonly id?: string;
  readonly channel?: Channel;
  readonly from: string;
  readonly to: string;
  /** Epoch milliseconds, a Date or an ISO-8601 string. Defaults to now. */
  readonly time?: number | Date | string;
  /** For SMS the text; for email the subject and the body reduced to text. */
  readonly text: string;
  readonly email?: EmailFields;
  /** The submitting client (ESME system_id, API token name), for per-client volume rules. */
  readonly source?: string;
}

/** A normalised message. */
export interface Message {
  readonly id?: string;
  readonly channel: Channel;
  readonly from: Address;
  readonly to: Address;
  /** Epoch milliseconds. */
  readonly time: number;
  readonly text: string;
  readonly email?: EmailFields;
  /** The submitting client, trimmed, at most 64 characters; absent when not known. */
  readonly source?: string;
}
