DROP TRIGGER events_counts_update;
DROP TRIGGER events_counts_delete;
DROP TRIGGER events_counts_insert;
DROP TABLE slot_counts;
DROP TABLE facet_counts;
