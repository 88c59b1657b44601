/** The checkbox that selects every activity on the page (checked, mixed or clear), for the table and the cards. */
export function SelectAllOnPage({
  ids,
  selected,
  onSelect,
}: {
  ids: number[];
  selected: ReadonlySet<number>;
  onSelect: (ids: number[], selected: boolean) => void;
}) {
  const count = ids.filter((id) => selected.has(id)).length;
  return (
    <input
      type="checkbox"
      aria-label="Select all activities on this page"
      checked={ids.length > 0 && count === ids.length}
      ref={(el) => {
        if (el) el.indeterminate = count > 0 && count < ids.length;
      }}
      disabled={ids.length === 0}
      onChange={(e) => onSelect(ids, e.target.checked)}
    />
  );
}
