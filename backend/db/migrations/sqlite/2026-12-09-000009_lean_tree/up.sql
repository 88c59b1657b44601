-- PostgreSQL drops the foreign key of `merkle_nodes` here (its per-row check doubled the cost of
-- writing tree nodes). SQLite's check is a cheap lookup and would need the table rebuilt: kept.
SELECT 1;
