import { createContext, useContext } from 'react';

export type TimeZoneMode = 'business' | 'local';

export interface TimeZoneContextValue {
  mode: TimeZoneMode;
  setMode: (mode: TimeZoneMode) => void;
  /** The IANA zone dates are shown in and date presets are resolved in. */
  zone: string;
  businessZone: string;
  localZone: string;
}

export const TimeZoneContext = createContext<TimeZoneContextValue | null>(null);

export function useTimeZone(): TimeZoneContextValue {
  const value = useContext(TimeZoneContext);
  if (!value) throw new Error('useTimeZone must be used inside <TimeZoneProvider>');
  return value;
}

export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string, withZoneName: boolean): Intl.DateTimeFormat {
  const key = `${zone}|${withZoneName}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      year: 'numeric',
      month: 'short',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      ...(withZoneName ? { timeZoneName: 'short' } : {}),
    });
    formatters.set(key, f);
  }
  return f;
}

/** "21 Nov 2026, 14:03:22" in the given zone (with its abbreviation when asked). */
export function formatDateTime(iso: string, zone: string, withZoneName = false): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return formatter(zone, withZoneName).format(date);
}
