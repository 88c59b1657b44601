-- Flags: the server's opinion that an event deserves a security review (odd hours, a new network
-- or browser for the actor, a burst of failed sign-ins, bulk deletions and exports, privilege
-- changes). Kept beside the event, outside its Merkle leaf: they are not the host application's
-- record and may be computed again. `flags` is a bit set (`flags::FlagKind::bit`), `flag_reasons`
-- a JSON object of each flag's reason. The partial index serves the "Flagged" filter and the
-- security review at any size, as few events are flagged.
ALTER TABLE events ADD COLUMN flags INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN flag_reasons TEXT;
CREATE INDEX events_flagged_idx ON events (tenant_id, occurred_at, id) WHERE flags <> 0;

-- The thresholds of the flags, as JSON (`flags::ReviewSettings`); NULL: the defaults.
ALTER TABLE tenants ADD COLUMN review_settings TEXT;

-- Where each actor was seen from (networks and browser families, each with when it was last
-- seen, as JSON), for `new_ip` and `new_user_agent`: one row per actor, read by key at ingest.
-- An actor with no row is new altogether, and its first event is not flagged.
CREATE TABLE actor_sightings (
    tenant_id BIGINT NOT NULL,
    actor_id TEXT NOT NULL,
    seen TEXT NOT NULL,
    PRIMARY KEY (tenant_id, actor_id)
);
