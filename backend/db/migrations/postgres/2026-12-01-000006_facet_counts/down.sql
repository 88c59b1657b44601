DROP TRIGGER events_facets_delete ON events;
DROP TRIGGER events_facets_update ON events;
DROP TRIGGER events_facets_insert ON events;
DROP FUNCTION facet_counts_keep();
DROP TABLE facet_counts;
