/** The HTTP API's metrics: what was decided, which rules fired, how long checks and requests took. */
import type { Verdict } from '../engine/types.js';
import { MetricsRegistry, type Counter, type Gauge, type Histogram } from './metrics.js';

/** Seconds: a check takes tens of microseconds; a quarantine writes to SQLite (a millisecond or so). */
const CHECK_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25];
const REQUEST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

export class ApiMetrics {
  readonly messages: Counter;
  readonly ruleHits: Counter;
  readonly checkSeconds: Histogram;
  readonly requests: Counter;
  readonly requestSeconds: Histogram;
  readonly inFlight: Gauge;

  constructor(readonly registry: MetricsRegistry = new MetricsRegistry()) {
    this.messages = registry.counter('spamgate_messages_total', 'Messages checked, by the action decided and what was done with them', ['action', 'outcome']);
    this.ruleHits = registry.counter('spamgate_rule_hits_total', 'Rules that fired, by rule id (operator rules, SUBSCRIBER_*, BAYES_*)', ['rule']);
    this.checkSeconds = registry.histogram('spamgate_check_duration_seconds', 'Time to decide one message (and store it when quarantined)', [], { buckets: CHECK_BUCKETS });
    this.requests = registry.counter('spamgate_http_requests_total', 'HTTP requests by route, method and status', ['route', 'method', 'status']);
    this.requestSeconds = registry.histogram('spamgate_http_request_duration_seconds', 'HTTP request time from the first byte read to the response written, by route', ['route'], {
      buckets: REQUEST_BUCKETS,
    });
    this.inFlight = registry.gauge('spamgate_http_requests_in_flight', 'HTTP requests being handled');
  }

  decision(verdict: Verdict, outcome: string, seconds: number): void {
    this.messages.inc({ action: verdict.action, outcome });
    for (const r of verdict.reasons) this.ruleHits.inc({ rule: r.rule });
    this.checkSeconds.observe(undefined, seconds);
  }

  request(route: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ route, method, status });
    this.requestSeconds.observe({ route }, seconds);
  }
}
