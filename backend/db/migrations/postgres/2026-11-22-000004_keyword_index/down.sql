DROP INDEX events_search_trgm;
