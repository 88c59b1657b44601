DROP TABLE actor_sightings;
ALTER TABLE tenants DROP COLUMN review_settings;
DROP INDEX events_flagged_idx;
ALTER TABLE events DROP COLUMN flag_reasons;
ALTER TABLE events DROP COLUMN flags;
