/** "1 checkpoint", "5,001 events": a count with its noun, plural unless it is one. */
export function countOf(n: number, noun: string): string {
  return `${n.toLocaleString('en-GB')} ${noun}${n === 1 ? '' : 's'}`;
}
