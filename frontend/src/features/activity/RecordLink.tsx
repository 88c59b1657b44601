import { Link, useLocation } from 'react-router';
import type { EntityRef } from '../../api';
import { humanize } from './badges';

export function recordPath(entity: Pick<EntityRef, 'type' | 'id'>): string {
  return `/records/${encodeURIComponent(entity.type)}/${encodeURIComponent(entity.id)}`;
}

export function recordLabel(entity: EntityRef): string {
  return entity.label ?? `${humanize(entity.type)} #${entity.id}`;
}

/** A link to a record's history page that remembers where the user came from. */
export function RecordLink({ entity, showType = false }: { entity: EntityRef; showType?: boolean }) {
  const location = useLocation();
  return (
    <Link to={recordPath(entity)} state={{ from: `${location.pathname}${location.search}` }}>
      {showType && `${humanize(entity.type)} `}
      {recordLabel(entity)}
    </Link>
  );
}
