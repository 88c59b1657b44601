import { formatNumber } from './locale';
/** "1 checkpoint", "5,001 events", "2 activities": a count with its noun, plural unless it is one. */
export function countOf(n: number, noun: string, plural = `${noun}s`): string {
  return `${formatNumber(n)} ${n === 1 ? noun : plural}`;
}
