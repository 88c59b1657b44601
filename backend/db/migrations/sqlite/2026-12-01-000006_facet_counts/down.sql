DROP TRIGGER events_facets_update;
DROP TRIGGER events_facets_delete;
DROP TRIGGER events_facets_insert;
DROP TABLE facet_counts;
