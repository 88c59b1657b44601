import { useEffect, useState } from 'react';

/** The current time (epoch milliseconds), refreshed every `intervalMs`, for "x min ago" texts. */
export function useNow(intervalMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
  return now;
}
