DROP TRIGGER events_counts_delete ON events;
DROP TRIGGER events_counts_update ON events;
DROP TRIGGER events_counts_insert ON events;
DROP FUNCTION kept_counts_keep();
DROP TABLE slot_counts;
DROP TABLE facet_counts;
