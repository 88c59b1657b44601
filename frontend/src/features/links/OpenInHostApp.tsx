import type { EntityRef, RecordLinks } from '../../api';
import { useRecordLinks } from './queries';
import { renderLink } from './template';

/** "Open in <app>" for `entity`, when `links` has a template for its type that gives a safe link. */
export function HostAppLink({ links, entity }: { links: RecordLinks; entity: Pick<EntityRef, 'type' | 'id'> }) {
  const template = links.templates.find((t) => t.entity_type === entity.type);
  const href = template ? renderLink(template.url, entity.type, entity.id) : null;
  if (!href) return null;
  return (
    <a className="host-link" href={href} target="_blank" rel="noopener noreferrer">
      Open in {links.app_name} <span className="visually-hidden">(opens in a new tab)</span>
    </a>
  );
}

/** "Open in <app>" beside a record reference, once the tenant's links are known (nothing otherwise). */
export function OpenInHostApp({ entity }: { entity: Pick<EntityRef, 'type' | 'id'> }) {
  const links = useRecordLinks();
  return links.data ? <HostAppLink links={links.data} entity={entity} /> : null;
}
