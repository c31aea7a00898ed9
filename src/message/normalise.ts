import type { AddressNormaliser } from './address.js';
import type { Message, MessageInput } from './types.js';

export class MessageError extends Error {
  constructor(message: string, readonly field: string) {
    super(message);
    this.name = 'MessageError';
  }
}

function toEpoch(time: MessageInput['time']): number {
  if (time === undefined) return Date.now();
  if (typeof time === 'number') {
    if (!Number.isFinite(time)) throw new MessageError(`time ${time} is not a finite number of milliseconds`, 'time');
    return time;
  }
  if (time instanceof Date) {
    const t = time.getTime();
    if (!Number.isFinite(t)) throw new MessageError('time is an invalid Date', 'time');
    return t;
  }
  const t = Date.parse(time);
  if (!Number.isFinite(t)) throw new MessageError(`time '${time}' is not ISO-8601 (e.g. 2026-11-24T22:30:00Z)`, 'time');
  return t;
}

function sourceOf(source: unknown): string {
  if (typeof source !== 'string' || source.trim() === '' || source.length > 64) {
    throw new MessageError("field 'source' must be a non-empty string of at most 64 characters (the submitting client)", 'source');
  }
  return source.trim();
}

/** Canonical addresses and an epoch time; throws MessageError naming the bad field. */
export function normaliseMessage(input: MessageInput, normaliser: AddressNormaliser): Message {
  if (typeof input.text !== 'string') throw new MessageError("field 'text' must be a string", 'text');
  if (typeof input.from !== 'string') throw new MessageError("field 'from' must be a string", 'from');
  if (typeof input.to !== 'string') throw new MessageError("field 'to' must be a string", 'to');
  const channel = input.channel ?? (input.email ? 'email' : 'sms');
  // Optional fields are assigned, not spread: spreading allocates an object per field per message.
  const message: { -readonly [K in keyof Message]: Message[K] } = {
    channel,
    from: normaliser.normalise(input.from),
    to: normaliser.normalise(input.to),
    time: toEpoch(input.time),
    text: input.text,
  };
  if (input.id !== undefined) message.id = input.id;
  if (input.email) message.email = input.email;
  if (input.source !== undefined) message.source = sourceOf(input.source);
  return message;
}
