import { Badge } from '../../components/Badge';
import { toneFor, type BadgeTone } from '../../components/badgeTones';

const MODULE_TONES: Record<string, BadgeTone> = {
  booking: 'blue',
  invoice: 'green',
  quote: 'purple',
  customer: 'teal',
  user: 'orange',
  auth: 'slate',
  settings: 'amber',
  auditlog: 'pink',
};

/** Verbs grouped by meaning: creation is green, change blue, removal red, access grey. */
const VERB_TONES: Record<string, BadgeTone> = {
  created: 'green',
  restored: 'teal',
  updated: 'blue',
  status_changed: 'blue',
  assigned: 'purple',
  transferred: 'purple',
  role_changed: 'purple',
  sent: 'teal',
  exported: 'amber',
  deleted: 'red',
  login_failed: 'red',
  login: 'slate',
  logout: 'slate',
  password_changed: 'orange',
};

export function moduleTone(module: string): BadgeTone {
  return MODULE_TONES[module] ?? toneFor(module);
}

export function verbTone(verb: string): BadgeTone {
  return VERB_TONES[verb] ?? toneFor(verb);
}

/** "status_changed" → "Status changed". */
export function humanize(key: string): string {
  const words = key.replace(/[_.]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function ModuleBadge({ module }: { module: string }) {
  return <Badge tone={moduleTone(module)}>{humanize(module)}</Badge>;
}

export function VerbBadge({ verb }: { verb: string }) {
  return <Badge tone={verbTone(verb)}>{humanize(verb)}</Badge>;
}
