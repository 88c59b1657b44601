-- PostgreSQL partitions `events` by month here; SQLite has no partitioning and keeps one table.
SELECT 1;
