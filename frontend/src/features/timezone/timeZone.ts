import { userLocales } from '../../components/locale';
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

type Shape = 'dateTime' | 'dateTimeZone' | 'date' | 'month' | 'time';

const SHAPES: Record<Shape, Intl.DateTimeFormatOptions> = {
  dateTime: { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' },
  dateTimeZone: {
    year: 'numeric',
    month: 'short',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  },
  date: { year: 'numeric', month: 'short', day: '2-digit' },
  month: { year: 'numeric', month: 'long' },
  time: { hour: '2-digit', minute: '2-digit' },
};

/** One formatter per zone and shape, in the browser's locale (one date format everywhere). */
function formatter(zone: string, shape: Shape): Intl.DateTimeFormat {
  const locales = userLocales();
  const key = `${locales.join(',')}|${zone}|${shape}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat([...locales], { timeZone: zone, ...SHAPES[shape] });
    formatters.set(key, f);
  }
  return f;
}

function format(iso: string, zone: string, shape: Shape): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return formatter(zone, shape).format(date);
}

/** "21 Nov 2026, 14:03:22" (as the browser's locale writes it) in the given zone, with its abbreviation when asked. */
export function formatDateTime(iso: string, zone: string, withZoneName = false): string {
  return format(iso, zone, withZoneName ? 'dateTimeZone' : 'dateTime');
}

/** "21 Nov 2026" in the given zone. */
export function formatDate(iso: string, zone: string): string {
  return format(iso, zone, 'date');
}

/** "November 2026" in the given zone. */
export function formatMonth(iso: string, zone: string): string {
  return format(iso, zone, 'month');
}

/** "14:00" in the given zone. */
export function formatTime(iso: string, zone: string): string {
  return format(iso, zone, 'time');
}
