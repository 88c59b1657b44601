-- Tree node rows are written by every ingest, about one per event, under the tenant's row lock:
-- the tenant is there, and tenants are never deleted. The foreign key's check ran once per row
-- and doubled the cost of writing them, so it goes. (Levels 1 and 2 are no longer written at
-- all: they are hashed again from their leaves when read; see `queries::tree`.)
ALTER TABLE merkle_nodes DROP CONSTRAINT merkle_nodes_tenant_id_fkey;
