-- Keyword search (`q`) is a substring match on search_text; a trigram index answers it without
-- reading every row. pg_trgm is a trusted extension: the database's owner may create it. It lives
-- in `public` so every schema of the database shares one copy.
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
CREATE INDEX events_search_trgm ON events USING gin (search_text public.gin_trgm_ops);
