/**
 * The subscriber service (ITU-T X.1242): rules, spam box, SMS commands, feedback. Adapters
 * (HTTP, SMPP, CLI) use `createSubscriberService` and the `SubscriberService` contract.
 */
export * from './types.js';
export { createSubscriberService, SubscriberServiceImpl, type SubscriberServiceOptions, type FeedbackRate } from './service.js';
export { parseCommand, parseQuietRange, MAX_COMMAND_LENGTH, type Command, type CommandError, type ParsedCommand } from './commands.js';
export { DEFAULT_REPLIES, toSms, type Replies } from './replies.js';
export { gsmLength, toGsm, SMS_SEPTETS } from './gsm.js';
export { SPAMBOX_PAGE, type LastDelivered } from './sms.js';
export { SqliteSubscriberStore, CorruptRulesError, type SubscriberRepository, type AuditEntry, type AuditRecord } from '../store/subscribers.js';
export { MemorySubscriberRepository } from '../store/memory-subscribers.js';
