import { describe, expect, it } from 'vitest';
import { inWindow, localTime, makeWindow, parseClock, parseDays } from '../../src/rules/time.js';

describe('time windows', () => {
  it('computes local time and weekday in a zone, across daylight saving', () => {
    // 2026-07-01 is a Wednesday; London is UTC+1 in summer.
    expect(localTime('Europe/London', Date.parse('2026-07-01T21:30:00Z'))).toEqual({ day: 2, minutes: 22 * 60 + 30 });
    // Winter: UTC+0.
    expect(localTime('Europe/London', Date.parse('2026-01-07T21:30:00Z'))).toEqual({ day: 2, minutes: 21 * 60 + 30 });
    // Nairobi is UTC+3 all year: 22:30Z Tuesday is 01:30 Wednesday.
    expect(localTime('Africa/Nairobi', Date.parse('2026-06-30T22:30:00Z'))).toEqual({ day: 2, minutes: 90 });
  });

  it('handles windows that cross midnight, and attributes the small hours to the day the window opened', () => {
    const w = makeWindow('22:00', '07:00', 'Europe/London', parseDays(['fri']));
    expect(inWindow(w, Date.parse('2026-01-09T23:00:00Z'))).toBe(true); // Friday 23:00
    expect(inWindow(w, Date.parse('2026-01-10T06:59:00Z'))).toBe(true); // Saturday 06:59, window opened Friday
    expect(inWindow(w, Date.parse('2026-01-10T07:00:00Z'))).toBe(false);
    expect(inWindow(w, Date.parse('2026-01-10T23:00:00Z'))).toBe(false); // Saturday night: not listed
    expect(inWindow(w, Date.parse('2026-01-09T06:00:00Z'))).toBe(false); // Friday 06:00 belongs to Thursday's window
  });

  it('treats from == to as the whole day and accepts 24:00 as the end', () => {
    expect(inWindow(makeWindow('00:00', '00:00', 'UTC', parseDays(['weekend'])), Date.parse('2026-01-10T12:00:00Z'))).toBe(true);
    expect(parseClock('24:00')).toBe(1440);
  });

  it('refuses bad clocks, days and zones with a clear message', () => {
    expect(() => parseClock('25:00')).toThrow(/invalid time '25:00'/);
    expect(() => parseClock('7pm')).toThrow(/HH:MM/);
    expect(() => parseDays(['funday'])).toThrow(/invalid day 'funday'/);
    expect(() => makeWindow('22:00', '07:00', 'Mars/Olympus')).toThrow(/unknown time zone 'Mars\/Olympus'/);
  });
});
