import { countOf } from '../../components/countOf';
import { useState } from 'react';
import { Combobox, type ComboboxOption } from '../../components/Combobox';
import { useDebouncedValue } from '../../components/useDebouncedValue';
import { useActorFacets } from './queries';

export interface ActorFilterProps {
  actorId: string | null;
  /** Names already known for actor ids (from rows on screen), to label a selection from the URL. */
  knownNames: ReadonlyMap<string, string>;
  onChange: (actorId: string | null) => void;
}

/** User filter: type to search the actors facet, pick one. */
export function ActorFilter({ actorId, knownNames, onChange }: ActorFilterProps) {
  const [search, setSearch] = useState<string | null>(null);
  const [chosen, setChosen] = useState<ComboboxOption | null>(null);
  const debouncedSearch = useDebouncedValue(search ?? '', 250);
  const facets = useActorFacets(debouncedSearch.trim());

  const options: ComboboxOption[] =
    facets.data?.items.map((actor) => ({
      value: actor.id,
      label: actor.name,
      hint: actor.email ?? countOf(actor.count, 'event'),
    })) ?? [];

  const selectedLabel = actorId
    ? ((chosen?.value === actorId ? chosen.label : null) ??
      knownNames.get(actorId) ??
      options.find((o) => o.value === actorId)?.label ??
      actorId)
    : '';

  return (
    <Combobox
      label="User"
      placeholder="Any user"
      inputValue={search ?? selectedLabel}
      onInputChange={setSearch}
      onDismiss={() => setSearch(null)}
      options={options}
      loading={facets.isFetching}
      hasValue={actorId !== null}
      onSelect={(option) => {
        setChosen(option);
        setSearch(null);
        onChange(option?.value ?? null);
      }}
    />
  );
}
