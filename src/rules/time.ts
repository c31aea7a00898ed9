/**
 * Time windows in a time zone: days of the week and a daily window that may cross midnight.
 * Local time comes from a per-zone offset cached for the current UTC hour, so a gateway pays
 * for `Intl` once an hour per zone, not once a message.
 */

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];

export class TimeError extends Error {}

const HHMM = /^([01]?\d|2[0-4]):([0-5]\d)$/;

/** "22:00" → 1320. Accepts 24:00 as the end of the day. */
export function parseClock(text: string): number {
  const m = HHMM.exec(text.trim());
  if (!m) throw new TimeError(`invalid time '${text}': expected HH:MM from 00:00 to 24:00`);
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  if (minutes > 1440) throw new TimeError(`invalid time '${text}': expected HH:MM from 00:00 to 24:00`);
  return minutes;
}

const zoneFormatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = zoneFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    zoneFormatters.set(zone, f);
  }
  return f;
}

/** Throws TimeError for a zone that is not an IANA name the runtime knows. */
export function assertTimeZone(zone: string): string {
  try {
    return formatterFor(zone).resolvedOptions().timeZone;
  } catch {
    throw new TimeError(`unknown time zone '${zone}': expected an IANA name such as Europe/London or Africa/Nairobi`);
  }
}

const HOUR = 3_600_000;

/** A zone's offset from UTC for one UTC hour; windows hold their zone's clock directly. */
interface ZoneClock {
  readonly zone: string;
  hour: number;
  offset: number;
}

const zoneClocks = new Map<string, ZoneClock>();

function clockFor(zone: string): ZoneClock {
  let clock = zoneClocks.get(zone);
  if (clock === undefined) {
    clock = { zone, hour: Number.NaN, offset: 0 };
    zoneClocks.set(zone, clock);
  }
  return clock;
}

/** Offset of the clock's zone from UTC in milliseconds at instant `time`. */
function offsetOn(clock: ZoneClock, time: number): number {
  const hour = Math.floor(time / HOUR);
  if (clock.hour === hour) return clock.offset;
  const parts = formatterFor(clock.zone).formatToParts(new Date(hour * HOUR));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  clock.offset = wall - hour * HOUR;
  clock.hour = hour;
  return clock.offset;
}

function offsetAt(zone: string, time: number): number {
  return offsetOn(clockFor(zone), time);
}

export interface LocalTime {
  /** 0 = Monday … 6 = Sunday. */
  readonly day: number;
  /** Minutes since local midnight. */
  readonly minutes: number;
}

const DAY = 86_400_000;

/** Day of the week (0 = Monday) of a local time in milliseconds since the epoch. */
function weekday(local: number): number {
  // 1970-01-01 was a Thursday (index 3 with Monday = 0).
  return (((Math.floor(local / DAY) + 3) % 7) + 7) % 7;
}

/** Minutes since midnight of a local time in milliseconds since the epoch. */
function minuteOfDay(local: number): number {
  return Math.floor((local - Math.floor(local / DAY) * DAY) / 60_000);
}

export function localTime(zone: string, time: number): LocalTime {
  const local = time + offsetAt(zone, time);
  return { day: weekday(local), minutes: minuteOfDay(local) };
}

export interface Window {
  readonly from: number;
  readonly to: number;
  /** Bit i set: the window opens on day i (Monday = 0). */
  readonly days: number;
  readonly zone: string;
  /** As written, for verdict details. */
  readonly label: string;
  /** The zone's cached offset, shared by every window in that zone (no lookup per message). */
  readonly clock: ZoneClock;
}

export const ALL_DAYS = 0b1111111;

/** Parse day names: mon..sun, weekdays, weekend, daily. */
export function parseDays(names: readonly string[]): number {
  let mask = 0;
  for (const raw of names) {
    const name = raw.trim().toLowerCase().slice(0, 3);
    if (raw.trim().toLowerCase() === 'weekdays') mask |= 0b0011111;
    else if (raw.trim().toLowerCase() === 'weekend') mask |= 0b1100000;
    else if (raw.trim().toLowerCase() === 'daily') mask |= ALL_DAYS;
    else {
      const i = (DAYS as readonly string[]).indexOf(name);
      if (i < 0) throw new TimeError(`invalid day '${raw}': expected mon, tue, wed, thu, fri, sat, sun, weekdays, weekend or daily`);
      mask |= 1 << i;
    }
  }
  return mask;
}

export function makeWindow(from: string, to: string, zone: string, days = ALL_DAYS): Window {
  const f = parseClock(from);
  const t = parseClock(to);
  const canonical = assertTimeZone(zone);
  return { from: f, to: t, days, zone: canonical, label: `${from}–${to} ${canonical}`, clock: clockFor(canonical) };
}

/**
 * Is `time` inside the window? A window with `to` before `from` crosses midnight; its hours
 * after midnight belong to the day it opened. `from` equal to `to` means the whole day.
 */
export function inWindow(w: Window, time: number): boolean {
  const local = time + offsetOn(w.clock, time);
  const minutes = minuteOfDay(local);
  const day = weekday(local);
  if (w.from === w.to) return (w.days & (1 << day)) !== 0;
  if (w.from < w.to) return minutes >= w.from && minutes < w.to && (w.days & (1 << day)) !== 0;
  if (minutes >= w.from) return (w.days & (1 << day)) !== 0;
  if (minutes < w.to) return (w.days & (1 << ((day + 6) % 7))) !== 0;
  return false;
}
