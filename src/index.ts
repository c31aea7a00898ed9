/**
 * spamgate's embeddable API. The hot path is `createEngine(options).check(message)`:
 * synchronous, no I/O, a verdict that explains itself.
 */
export { createEngine, Engine, DEFAULT_THRESHOLDS, DEFAULT_BAYES_BANDS, type EngineOptions } from './engine/engine.js';
export type { Action, Reason, Verdict, Thresholds, SpamClassifier, ScoreBand } from './engine/types.js';
export type { Message, MessageInput, Address, AddressKind, Channel, EmailFields, EmailAttachment } from './message/types.js';
export { AddressNormaliser, type CountryCode } from './message/address.js';
export { MessageError } from './message/normalise.js';
export { readRecords, type InputRecord, type MessageRecord, type ErrorRecord, type Label } from './message/records.js';
export { analyseText, phraseWords, type TextAnalysis, type Script } from './text/analysis.js';
export type { UrlInfo } from './text/urls.js';
export { compileRules, RuleSetBuilder, CompiledRuleSet, type CompiledRule, type RuleHit, type RuleAction, type CompileOptions } from './rules/compile.js';
export { loadRuleSet, shippedRulesDir } from './rules/load.js';
export { RuleLoadError, formatProblem, type RuleProblem } from './rules/source.js';
export { compileSubscriber, parseSubscribersFile, SubscriberRuleError } from './rules/subscriber.js';
export { SUBSCRIBER_LIMITS, emptySubscriberRules, type SubscriberRules, type QuietWindow } from './rules/subscriber-types.js';
export { CONDITION_KINDS } from './rules/conditions/index.js';
export { BayesClassifier, BAYES_BANDS, loadClassifier, TokenStore, Trainer, type TrainOutcome } from './bayes/index.js';
export { createSubscriberService, SubscriberServiceImpl, SqliteSubscriberStore, parseCommand, DEFAULT_REPLIES, type SubscriberService, type SubscriberServiceOptions, type SubscriberRepository, type SpamBoxItem, type ProcessResult, type CommandResult, type Actor, type FeedbackLabel, type FeedbackResult, type RuleList, type Page, type Replies } from './service/index.js';
export { MemoryVolumeStore, type VolumeStore, type CounterSpec, type VolumeStats, type MemoryVolumeStoreOptions } from './rules/volume-store.js';
export { watchRules, type WatchRulesOptions, type RuleWatcher, type ReloadResult, type ReloadSuccess, type ReloadFailure, type ReloadLogger, type ReloadReason } from './engine/reload.js';
export { createHttpApi, DEFAULT_LIMITS, type HttpApi, type HttpApiOptions, type HttpLimits } from './server/http.js';
export { AccessTokens, loadTokens, parseTokensFile, sha256, type Principal, type TokenEntry } from './server/auth.js';
export { MetricsRegistry, Counter, Gauge, Histogram, parsePrometheusText, PROMETHEUS_CONTENT_TYPE, type Labels } from './server/metrics.js';
