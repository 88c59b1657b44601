import type { Flag } from '../../api';
import { flagLabel } from './flagKinds';

/**
 * A flagged event's mark in a list: short on screen, every kind named for screen readers, and
 * the server's reasons on hover. Nothing at all for an event without flags.
 */
export function FlagBadge({ flags }: { flags: readonly Flag[] }) {
  if (flags.length === 0) return null;
  const names = flags.map((f) => flagLabel(f.kind));
  return (
    <span
      className="badge badge--red flag-badge"
      data-tone="red"
      data-testid="flag-badge"
      data-flag-kinds={flags.map((f) => f.kind).join(' ')}
      title={flags.map((f) => `${flagLabel(f.kind)}: ${f.reason}`).join('\n')}
    >
      <span aria-hidden="true">⚑ {flags.length === 1 ? names[0] : `${flags.length} flags`}</span>
      <span className="visually-hidden">Flagged: {names.join(', ')}</span>
    </span>
  );
}

/** Every flag of an event with its kind and the server's reason (the details view). */
export function FlagList({ flags }: { flags: readonly Flag[] }) {
  return (
    <ul className="flag-list" data-testid="flag-list">
      {flags.map((flag) => (
        <li key={flag.kind} data-flag-kind={flag.kind}>
          <span className="badge badge--red" data-tone="red">
            {flagLabel(flag.kind)}
          </span>{' '}
          {flag.reason}
        </li>
      ))}
    </ul>
  );
}
