ALTER TABLE tenants DROP COLUMN record_links;
