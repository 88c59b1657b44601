-- Keyword search (`q`) is a substring match on search_text; an FTS5 trigram index answers it
-- without reading every row. External content: the text is stored once, in `events`; triggers
-- keep the index in step with inserts, tombstones (which blank the text) and retention.
CREATE VIRTUAL TABLE events_search USING fts5(
    search_text, content = 'events', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO events_search (events_search) VALUES ('rebuild');

CREATE TRIGGER events_search_insert AFTER INSERT ON events BEGIN
    INSERT INTO events_search (rowid, search_text) VALUES (NEW.id, NEW.search_text);
END;

CREATE TRIGGER events_search_delete AFTER DELETE ON events BEGIN
    INSERT INTO events_search (events_search, rowid, search_text) VALUES ('delete', OLD.id, OLD.search_text);
END;

CREATE TRIGGER events_search_update AFTER UPDATE OF search_text ON events BEGIN
    INSERT INTO events_search (events_search, rowid, search_text) VALUES ('delete', OLD.id, OLD.search_text);
    INSERT INTO events_search (rowid, search_text) VALUES (NEW.id, NEW.search_text);
END;
