-- SQLite twin of the PostgreSQL migration.
-- Links into the host application: its display name and a URL template per record type, as
-- JSON (`links::RecordLinks` in the API crate); NULL: no links. Checked again when read.
ALTER TABLE tenants ADD COLUMN record_links TEXT;
