DROP TABLE idempotency_keys;
DROP TABLE event_related;
DROP TABLE events;
DROP TABLE users;
DROP TABLE tenants;
