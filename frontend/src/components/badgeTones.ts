export const BADGE_TONES = ['blue', 'green', 'red', 'amber', 'purple', 'teal', 'orange', 'pink', 'slate'] as const;
export type BadgeTone = (typeof BADGE_TONES)[number];

/** A stable tone for a value no palette names, so an unknown module keeps one colour. */
export function toneFor(value: string): BadgeTone {
  let hash = 0;
  for (const ch of value) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return BADGE_TONES[hash % BADGE_TONES.length];
}
