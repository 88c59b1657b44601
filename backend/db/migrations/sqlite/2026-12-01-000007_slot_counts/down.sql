DROP TRIGGER events_slots_update;
DROP TRIGGER events_slots_delete;
DROP TRIGGER events_slots_insert;
DROP TABLE slot_counts;
