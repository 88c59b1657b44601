ALTER TABLE tenants DROP COLUMN field_visibility;
