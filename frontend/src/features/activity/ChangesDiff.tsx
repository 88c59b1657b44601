import type { Change } from '../../api';

export type DiffMode = 'initial' | 'diff' | 'snapshot';

/** created → initial values; deleted → the snapshot; anything else → previous and new side by side. */
export function diffMode(verb: string, changes: Change[]): DiffMode {
  if (verb === 'created') return 'initial';
  if (verb === 'deleted') return 'snapshot';
  const hasOld = changes.some((c) => 'old' in c && c.old !== undefined);
  const hasNew = changes.some((c) => 'new' in c && c.new !== undefined);
  if (hasNew && !hasOld) return 'initial';
  if (hasOld && !hasNew) return 'snapshot';
  return 'diff';
}

export function ChangeValue({ value }: { value: unknown }) {
  if (value === undefined) return <span className="muted">—</span>;
  if (value === null || value === '') return <em className="muted">empty</em>;
  if (typeof value === 'object') return <pre>{JSON.stringify(value, null, 2)}</pre>;
  return <>{String(value)}</>;
}

export function ChangesDiff({ verb, changes }: { verb: string; changes: Change[] }) {
  if (changes.length === 0) return <p className="muted">No field changes were recorded for this activity.</p>;
  const mode = diffMode(verb, changes);

  if (mode === 'diff') {
    return (
      <table className="diff" data-testid="changes-diff" data-mode={mode}>
        <caption className="visually-hidden">Changed fields, previous and new values</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Previous value</th>
            <th scope="col">New value</th>
          </tr>
        </thead>
        <tbody>
          {changes.map((change) => (
            <tr key={change.field}>
              <th scope="row" className="mono">
                {change.field}
              </th>
              <td className="diff__old">
                <ChangeValue value={change.old} />
              </td>
              <td className="diff__new">
                <ChangeValue value={change.new} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  }

  const initial = mode === 'initial';
  return (
    <table className="diff" data-testid="changes-diff" data-mode={mode}>
      <caption className="visually-hidden">{initial ? 'Initial values' : 'Values at deletion'}</caption>
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">{initial ? 'Initial value' : 'Value at deletion'}</th>
        </tr>
      </thead>
      <tbody>
        {changes.map((change) => (
          <tr key={change.field}>
            <th scope="row" className="mono">
              {change.field}
            </th>
            <td className={initial ? 'diff__new' : 'diff__old'}>
              <ChangeValue value={initial ? change.new : change.old} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function changesHeading(verb: string, changes: Change[]): string {
  switch (diffMode(verb, changes)) {
    case 'initial':
      return 'Initial values';
    case 'snapshot':
      return 'Snapshot at deletion';
    default:
      return 'Changes';
  }
}
