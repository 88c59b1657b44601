DROP TRIGGER events_slots_delete ON events;
DROP TRIGGER events_slots_update ON events;
DROP TRIGGER events_slots_insert ON events;
DROP FUNCTION slot_counts_keep();
DROP TABLE slot_counts;
