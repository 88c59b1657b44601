-- Which event fields each role may not see (`visibility::FieldVisibility`), as JSON; NULL: the
-- defaults (IP address and user agent hidden from members). Admins always see every field.
ALTER TABLE tenants ADD COLUMN field_visibility TEXT;
