import { formatNumber } from '../../components/locale';
import { Link } from 'react-router';
import type { AuditEvent } from '../../api';
import { Badge } from '../../components/Badge';
import { describeListFilter } from './filterWords';

/** The product's own records shown in sections of their own rather than as raw metadata. */
const OWN_SECTIONS = new Set(['auditlog.deleted', 'auditlog.exported']);

export function hasOwnSection(action: string): boolean {
  return OWN_SECTIONS.has(action);
}

/** "1 activity", "1,204 activities". */
function activities(n: number): string {
  return `${formatNumber(n)} ${n === 1 ? 'activity' : 'activities'}`;
}

function numbers(value: unknown): number[] {
  return Array.isArray(value) ? value.filter((v): v is number => typeof v === 'number') : [];
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() ? value : null;
}

/** A link that opens an activity's details on the activity page. */
export function ActivityLink({ id }: { id: number }) {
  return <Link to={{ pathname: '/', search: `?event=${id}` }}>#{id}</Link>;
}

/**
 * What a deletion or an export record says, in sections: the deleted activities as links and the
 * reason; the export's format, rows and filters as chips. Nothing for other activities.
 */
export function ProductRecord({ event }: { event: AuditEvent }) {
  const metadata = (event.metadata ?? {}) as Record<string, unknown>;
  if (event.action === 'auditlog.deleted') {
    const ids = numbers(metadata.ids);
    const reason = text(metadata.reason);
    return (
      <section className="section" aria-labelledby="detail-record" data-testid="deletion-record">
        <h3 id="detail-record">Deletion</h3>
        <dl className="details">
          <dt>Deleted</dt>
          <dd>
            {activities(ids.length)}
            <ul className="id-links" aria-label="Deleted activities">
              {ids.map((id) => (
                <li key={id}>
                  <ActivityLink id={id} />
                </li>
              ))}
            </ul>
          </dd>
          <dt>Reason</dt>
          <dd>{reason ?? <span className="muted">None given</span>}</dd>
        </dl>
      </section>
    );
  }
  if (event.action === 'auditlog.exported') {
    const rows = typeof metadata.rows === 'number' ? metadata.rows : null;
    const format = text(metadata.format);
    const parts = describeListFilter(text(metadata.filters) ?? '', { kind: 'record' });
    return (
      <section className="section" aria-labelledby="detail-record" data-testid="export-record">
        <h3 id="detail-record">Export</h3>
        <dl className="details">
          <dt>File</dt>
          <dd>
            {format ? format.toUpperCase() : 'Unknown format'}
            {rows !== null && <>, {activities(rows)}</>}
            {metadata.completed === false && <span className="muted"> (not completed)</span>}
          </dd>
          <dt>Filters</dt>
          <dd>
            {parts.length === 0 ? (
              <span className="muted">None: every activity the exporter could see</span>
            ) : (
              <ul className="filter-chips" aria-label="Export filters">
                {parts.map((part, index) => (
                  <li key={`${part.key}-${index}`}>
                    <Badge tone="blue">
                      {part.label}: {part.value}
                    </Badge>
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </dl>
      </section>
    );
  }
  return null;
}
