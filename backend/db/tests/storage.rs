//! Storage guarantees checked on both backends: identical schemas, tenant-leading keys,
//! gap-free sequence numbers and an intact hash chain under concurrent writers.

use std::collections::{BTreeMap, BTreeSet};

use auditlog_db::chain::GENESIS_HASH;
use auditlog_db::connection::DbConnection;
use auditlog_db::models::{Actor, EventDraft, EventRow};
use auditlog_db::queries::ingest::store_events;
use auditlog_db::queries::tenants;
use auditlog_db::schema::events;
use auditlog_db::testing::TestDatabase;
use auditlog_db::Backend;
use chrono::{Timelike, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ColumnShape {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Integer)]
    not_null: i32,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Tables, columns and secondary indexes, leaving out what each backend builds its own way: the
/// keyword index (an FTS5 table on SQLite, a trigram GIN index on PostgreSQL) and PostgreSQL's
/// monthly partitions of `events`.
fn shape(conn: &mut DbConnection) -> (BTreeSet<(String, String, i32)>, BTreeSet<String>) {
    let (columns, indexes) = match conn.backend() {
        Backend::Sqlite => (
            "SELECT m.name AS table_name, p.name AS column_name, \
             CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN 1 ELSE 0 END AS not_null \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations' \
             AND m.name NOT LIKE 'events_search%'",
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'",
        ),
        Backend::Postgres => (
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
             CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END AS not_null \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name <> '__diesel_schema_migrations' \
             AND table_name NOT IN (SELECT relname FROM pg_class WHERE relispartition)",
            "SELECT i.relname::text AS name FROM pg_index x \
             JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = current_schema() AND NOT x.indisprimary AND i.relname <> 'events_search_trgm' \
             AND NOT t.relispartition \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
        ),
    };
    let columns: Vec<ColumnShape> = diesel::sql_query(columns).load(conn).unwrap();
    let indexes: Vec<Name> = diesel::sql_query(indexes).load(conn).unwrap();
    (
        columns.into_iter().map(|c| (c.table_name, c.column_name, c.not_null)).collect(),
        indexes.into_iter().map(|i| i.name).collect(),
    )
}

#[test]
fn both_migrations_produce_the_same_schema() {
    let (sqlite_db, pg_db) = (TestDatabase::new(Backend::Sqlite), TestDatabase::new(Backend::Postgres));
    sqlite_db.migrated_pool(1);
    pg_db.migrated_pool(1);
    // As the owner: the application's role does not even see the guard table.
    let sqlite = shape(&mut sqlite_db.owner_pool(1).get().unwrap());
    let postgres = shape(&mut pg_db.owner_pool(1).get().unwrap());
    assert!(sqlite.0.len() > 40, "columns were read: {:?}", sqlite.0);
    assert_eq!(sqlite.0, postgres.0, "tables, columns and nullability");
    assert!(sqlite.1.contains("events_tenant_time"));
    assert_eq!(sqlite.1, postgres.1, "secondary indexes");
}

#[test]
fn every_postgres_key_leads_with_the_tenant() {
    let db = TestDatabase::new(Backend::Postgres);
    let mut conn = db.migrated_pool(1).get().unwrap();
    // Primary and unique keys of every table but `tenants` itself must include tenant_id, so the
    // schema can be distributed by tenant (Citus). `login_throttle` counts per IP across tenants
    // and stays a local table on the coordinator.
    let keys: Vec<Name> = diesel::sql_query(
        "SELECT i.relname::text || ' on ' || t.relname::text || ': ' || \
         (SELECT string_agg(a.attname::text, ',') FROM pg_attribute a \
          WHERE a.attrelid = t.oid AND a.attnum = ANY(x.indkey)) AS name \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = current_schema() AND (x.indisprimary OR x.indisunique) \
         AND t.relname NOT IN ('tenants', 'login_throttle', '__diesel_schema_migrations')",
    )
    .load(&mut conn)
    .unwrap();
    assert!(keys.len() >= 6, "keys were read");
    for key in keys {
        let columns = key.name.split(": ").nth(1).unwrap_or_default();
        assert!(columns.split(',').any(|c| c == "tenant_id"), "key without tenant_id: {}", key.name);
    }
}

/// `#[test]`s `<name>::sqlite` and `<name>::postgres`, running `fn <name>(Backend)` on each.
macro_rules! on_both_backends {
    ($name:ident) => {
        mod $name {
            use super::*;

            #[test]
            fn sqlite() {
                $name(Backend::Sqlite);
            }

            #[test]
            fn postgres() {
                $name(Backend::Postgres);
            }
        }
    };
}

/// Deletes `ids` as the API does: a deletion record naming them, then their tombstones.
fn tombstone(
    conn: &mut DbConnection,
    tenant_id: auditlog_db::TenantId,
    ids: &[auditlog_db::EventId],
    by: &str,
    _now: chrono::NaiveDateTime,
) -> auditlog_db::StoreResult<usize> {
    conn.transaction(|conn| {
        let mut record = draft(0, 0);
        (record.action, record.module, record.verb) =
            ("auditlog.deleted".into(), "auditlog".into(), "deleted".into());
        record.actor.id = by.into();
        record.external_id = None;
        record.metadata.insert("ids".into(), serde_json::json!(ids));
        let (outcome, _) = store_events(conn, tenant_id, None, &[record], Utc::now().naive_utc())?;
        auditlog_db::queries::deletion::tombstone(conn, tenant_id, outcome.ids[0])
    })
}

/// A notary signing into a folder of its own.
fn notary() -> auditlog_db::checkpoints::Notary {
    let dir = std::env::temp_dir().join(format!(
        "auditlog-storage-checkpoints-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    auditlog_db::checkpoints::Notary::new(auditlog_tlog::note::Signer::generate("storage.test").unwrap(), dir)
}

fn rand_suffix() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn draft(i: usize, writer: usize) -> EventDraft {
    EventDraft {
        external_id: Some(format!("w{writer}-e{i}")),
        occurred_at: Utc::now().naive_utc(),
        actor: Actor {
            id: format!("w{writer}"),
            name: format!("Writer {writer}"),
            email: None,
            role: None,
            actor_type: "system".into(),
        },
        action: "booking.created".into(),
        module: "booking".into(),
        verb: "created".into(),
        entity: None,
        related: Vec::new(),
        description: format!("event {i} of writer {writer}"),
        changes: Vec::new(),
        ip: None,
        user_agent: None,
        metadata: Default::default(),
    }
}

fn concurrent_writers_keep_the_chain_intact(backend: Backend) {
    const WRITERS: usize = 4;
    const BATCHES: usize = 8;
    const PER_BATCH: usize = 25;
    let db = TestDatabase::new(backend);
    let pool = db.migrated_pool(WRITERS as u32);
    let tenant = tenants::ensure(
        &mut pool.get().unwrap(),
        &auditlog_db::TenantSlug::parse("acme").unwrap(),
        "Acme",
        "UTC",
    )
    .unwrap();
    let other = tenants::ensure(
        &mut pool.get().unwrap(),
        &auditlog_db::TenantSlug::parse("other").unwrap(),
        "Other",
        "UTC",
    )
    .unwrap();
    std::thread::scope(|scope| {
        for writer in 0..WRITERS {
            let pool = pool.clone();
            scope.spawn(move || {
                for batch in 0..BATCHES {
                    let drafts: Vec<EventDraft> =
                        (0..PER_BATCH).map(|i| draft(batch * PER_BATCH + i, writer)).collect();
                    let tenant_id = if writer == 0 { other.id } else { tenant.id };
                    let mut conn = pool.get().unwrap();
                    store_events(&mut conn, tenant_id, None, &drafts, Utc::now().naive_utc()).unwrap();
                }
            });
        }
    });
    let mut conn = pool.get().unwrap();
    for (tenant_id, writers) in [(tenant.id, WRITERS - 1), (other.id, 1)] {
        let rows: Vec<EventRow> = events::table
            .filter(events::tenant_id.eq(tenant_id))
            .order(events::seq.asc())
            .select(EventRow::as_select())
            .load(&mut conn)
            .unwrap();
        let expected = writers * BATCHES * PER_BATCH;
        assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), (1..=expected as i64).collect::<Vec<_>>());
        let mut prev = GENESIS_HASH.to_string();
        let mut tree = auditlog_tlog::merkle::MemoryTree::new();
        for row in &rows {
            assert_eq!(row.prev_hash, prev, "seq {} links to its predecessor", row.seq);
            let leaf = row.leaf_bytes().unwrap().unwrap();
            assert_eq!(
                row.hash,
                hex::encode(auditlog_tlog::merkle::leaf_hash(&leaf)),
                "seq {} hash recomputes",
                row.seq
            );
            tree.push(row.tree_leaf().unwrap());
            prev = row.hash.clone();
        }
        let head = tenants::get(&mut conn, tenant_id).unwrap();
        assert_eq!((head.head_seq, head.head_hash, head.tree_size), (expected as i64, prev, expected as i64));
        // The stored tree is the tree of the stored events, and the events check on their own.
        let stored = auditlog_db::queries::tree::root(&mut conn, tenant_id, expected as u64).unwrap();
        assert_eq!(stored, tree.root(expected as u64));
        // Levels 1 and 2 are hashed from leaves, never stored; every root, inclusion and
        // consistency proof read from the store is the one of the tree in memory.
        let low: i64 = auditlog_db::schema::merkle_nodes::table
            .filter(auditlog_db::schema::merkle_nodes::tenant_id.eq(tenant_id))
            .filter(auditlog_db::schema::merkle_nodes::level.lt(3))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(low, 0);
        let in_memory = |ids: &[auditlog_tlog::merkle::NodeId]| Ok::<_, ()>(tree.nodes(ids));
        for size in 1..=expected as u64 {
            assert_eq!(
                auditlog_db::queries::tree::root(&mut conn, tenant_id, size).unwrap(),
                tree.root(size)
            );
            for index in [0, size / 3, size / 2, size - 1] {
                let proof =
                    auditlog_db::queries::tree::inclusion_proof(&mut conn, tenant_id, index, size).unwrap();
                assert_eq!(
                    Ok(proof),
                    auditlog_tlog::merkle::inclusion_proof(index, size, in_memory),
                    "{index} in {size}"
                );
                let proof =
                    auditlog_db::queries::tree::consistency_proof(&mut conn, tenant_id, index + 1, size)
                        .unwrap();
                assert_eq!(Ok(proof), auditlog_tlog::merkle::consistency_proof(index + 1, size, in_memory));
            }
        }
        let check = auditlog_db::integrity::verify_chain(&mut conn, tenant_id, |_, _| {}).unwrap();
        assert!(check.ok, "{check:?}");
    }
}

on_both_backends!(concurrent_writers_keep_the_chain_intact);

/// Tenant "acme" with 300 events from three writers, every third (100) an invoice, and a
/// connection to its database.
struct Acme300 {
    // Fields drop in this order: the connection before its pool, the pool before its database.
    conn: auditlog_db::connection::PooledConnection,
    tenant_id: auditlog_db::TenantId,
    _pool: auditlog_db::DbPool,
    _db: TestDatabase,
}

fn acme_with_300_events(backend: Backend) -> Acme300 {
    let db = TestDatabase::new(backend);
    let pool = db.migrated_pool(1);
    let mut conn = pool.get().unwrap();
    let tenant_id =
        tenants::ensure(&mut conn, &auditlog_db::TenantSlug::parse("acme").unwrap(), "Acme", "UTC")
            .unwrap()
            .id;
    let drafts: Vec<EventDraft> = (0..300)
        .map(|i| {
            let mut d = draft(i, i % 3);
            if i % 3 == 0 {
                (d.action, d.module) = ("invoice.sent".into(), "invoice".into());
            }
            d
        })
        .collect();
    store_events(&mut conn, tenant_id, None, &drafts, Utc::now().naive_utc()).unwrap();
    Acme300 { conn, tenant_id, _pool: pool, _db: db }
}

/// The invoices, with a date bound that matches them all but that the kept facet counts cannot
/// answer: their total is counted (or estimated) from the events.
fn dated_invoices() -> auditlog_db::queries::events::EventFilter {
    let since = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
    auditlog_db::queries::events::EventFilter {
        module: Some("invoice".into()),
        from: Some(since),
        ..Default::default()
    }
}

/// Count exactly up to `limit` matches, with all the time needed.
fn counting(limit: i64) -> auditlog_db::queries::events::Counting {
    auditlog_db::queries::events::Counting { limit, time: std::time::Duration::from_secs(60), at_least: 0 }
}

fn totals_are_exact_when_cheap_and_estimated_beyond(backend: Backend) {
    use auditlog_db::models::Role;
    use auditlog_db::queries::events::{count_or_estimate, EventFilter};
    use auditlog_db::visibility::Viewer;
    let Acme300 { ref mut conn, tenant_id, .. } = acme_with_300_events(backend);
    let admin = Viewer { tenant_id, role: Role::Admin, actor_id: "x".into(), fields: Default::default() };
    let manager = Viewer { role: Role::Manager, ..admin.clone() };
    let invoices = dated_invoices();
    // Few matches: counted exactly.
    assert_eq!(count_or_estimate(conn, &admin, &invoices, counting(500)).unwrap(), (100, false));
    // Many matches, nothing narrowing an admin's view: the chain head is the exact count.
    assert_eq!(count_or_estimate(conn, &admin, &EventFilter::default(), counting(50)).unwrap(), (300, false));
    // Many matches of what the kept facet counts hold: they say exactly how many.
    let undated = EventFilter { from: None, ..invoices.clone() };
    assert_eq!(count_or_estimate(conn, &manager, &undated, counting(50)).unwrap(), (100, false));
    let writer_1 = EventFilter { actor_ids: vec!["w1".into()], ..Default::default() };
    assert_eq!(count_or_estimate(conn, &manager, &writer_1, counting(50)).unwrap(), (100, false));
    // Many matches otherwise, in a tenant no bigger than an estimate's sample: counted whole.
    assert_eq!(count_or_estimate(conn, &manager, &invoices, counting(50)).unwrap(), (100, false));
    assert_eq!(
        count_or_estimate(conn, &manager, &EventFilter::default(), counting(50)).unwrap(),
        (300, false)
    );
}

on_both_backends!(totals_are_exact_when_cheap_and_estimated_beyond);

/// The facet and slot counts kept by triggers equal a count of the events themselves after every
/// kind of write: ingest (batches with admin-private events and e-mails), tombstones (which blank
/// the actor) and retention (which removes a prefix of the chain), per tenant.
fn kept_counts_follow_every_write(backend: Backend) {
    use auditlog_db::archive::archive_next;
    use auditlog_db::schema::{facet_counts, slot_counts};
    type Key = (auditlog_db::TenantId, String, String, String, String, String, String, bool, bool);
    let db = TestDatabase::new(backend);
    let pool = db.migrated_pool(1);
    let mut conn = pool.get().unwrap();
    let acme = tenants::ensure(&mut conn, &auditlog_db::TenantSlug::parse("acme").unwrap(), "Acme", "UTC")
        .unwrap()
        .id;
    let globex =
        tenants::ensure(&mut conn, &auditlog_db::TenantSlug::parse("globex").unwrap(), "Globex", "UTC")
            .unwrap()
            .id;
    let drafts = |n: usize| -> Vec<EventDraft> {
        (0..n)
            .map(|i| {
                let mut d = draft(i, i % 4);
                let (module, verb) =
                    [("booking", "created"), ("invoice", "sent"), ("customer", "deleted")][i % 3];
                (d.module, d.verb, d.action) = (module.into(), verb.into(), format!("{module}.{verb}"));
                d.actor.role = (i % 4 == 0).then(|| "admin".into());
                d.actor.email = (i % 4 == 1).then(|| "one@acme.test".into());
                d.external_id = None;
                d.occurred_at -= chrono::TimeDelta::minutes(7 * i as i64);
                d
            })
            .collect()
    };
    let check = |conn: &mut DbConnection, when: &str| {
        let kept: BTreeMap<Key, i64> = facet_counts::table
            .select((
                (
                    facet_counts::tenant_id,
                    facet_counts::action,
                    facet_counts::module,
                    facet_counts::verb,
                    facet_counts::actor_id,
                    facet_counts::actor_name,
                    facet_counts::actor_email,
                    facet_counts::admin_private,
                    facet_counts::deleted,
                ),
                facet_counts::event_count,
            ))
            .load::<(Key, i64)>(conn)
            .unwrap()
            .into_iter()
            .collect();
        let mut counted: BTreeMap<Key, i64> = BTreeMap::new();
        for row in events::table.select(EventRow::as_select()).load::<EventRow>(conn).unwrap() {
            let key = (
                row.tenant_id,
                row.action,
                row.module,
                row.verb,
                row.actor_id,
                row.actor_name,
                row.actor_email.unwrap_or_default(),
                row.admin_private,
                row.deleted_at.is_some(),
            );
            *counted.entry(key).or_default() += 1;
        }
        assert_eq!(kept, counted, "{when}");
        let slots: BTreeMap<(i64, i64, bool, bool), i64> = slot_counts::table
            .select((
                (slot_counts::tenant_id, slot_counts::slot, slot_counts::admin_private, slot_counts::deleted),
                slot_counts::event_count,
            ))
            .load::<((i64, i64, bool, bool), i64)>(conn)
            .unwrap()
            .into_iter()
            .collect();
        let mut counted: BTreeMap<(i64, i64, bool, bool), i64> = BTreeMap::new();
        for row in events::table.select(EventRow::as_select()).load::<EventRow>(conn).unwrap() {
            let slot = row.occurred_at.and_utc().timestamp().div_euclid(900);
            *counted
                .entry((row.tenant_id.get(), slot, row.admin_private, row.deleted_at.is_some()))
                .or_default() += 1;
        }
        assert_eq!(slots, counted, "slots {when}");
        kept
    };
    let now = Utc::now().naive_utc();
    store_events(&mut conn, acme, None, &drafts(60), now).unwrap();
    store_events(&mut conn, acme, None, &drafts(30), now).unwrap();
    store_events(&mut conn, globex, None, &drafts(7), now).unwrap();
    let kept = check(&mut conn, "after ingest");
    assert!(kept.keys().any(|k| k.7) && kept.keys().any(|k| k.6 == "one@acme.test"), "{kept:?}");
    assert_eq!(kept.values().sum::<i64>(), 97);
    assert!(
        slot_counts::table.count().get_result::<i64>(&mut conn).unwrap() > 20,
        "events spread over many slots"
    );

    let ids: Vec<auditlog_db::EventId> = events::table
        .filter(events::tenant_id.eq(acme))
        .order(events::seq)
        .select(events::id)
        .load(&mut conn)
        .unwrap();
    tombstone(&mut conn, acme, &ids[10..30], "test", now).unwrap();
    let kept = check(&mut conn, "after tombstones");
    assert_eq!(kept.iter().filter(|(k, _)| k.8).map(|(_, n)| n).sum::<i64>(), 20);

    let dir = std::env::temp_dir().join(format!("auditlog-kept-counts-{backend:?}-{}", std::process::id()));
    let cutoff = now + chrono::TimeDelta::days(1);
    let notary = notary();
    archive_next(&mut conn, &notary, acme, cutoff, &dir, 50, &mut |_, _, _| Ok(()))
        .unwrap()
        .expect("an archive");
    let kept = check(&mut conn, "after retention");
    // 90 events and the deletion record, less the 50 archived.
    assert_eq!(kept.iter().filter(|(k, _)| k.0 == acme).map(|(_, n)| n).sum::<i64>(), 41);
    archive_next(&mut conn, &notary, acme, cutoff, &dir, 50, &mut |_, _, _| Ok(()))
        .unwrap()
        .expect("an archive");
    let kept = check(&mut conn, "after retention of the rest");
    assert!(kept.keys().all(|k| k.0 == globex), "no zero counts are left behind: {kept:?}");
    let left: Vec<auditlog_db::TenantId> =
        slot_counts::table.select(slot_counts::tenant_id).distinct().load(&mut conn).unwrap();
    assert_eq!(left, vec![globex], "no zero slot counts are left behind");
    std::fs::remove_dir_all(&dir).ok();
}

on_both_backends!(kept_counts_follow_every_write);

/// Totals and per-slot counts of date ranges, added up from the kept slot counts with only the
/// partial slots at the ends read from the events, equal the events in the range as each role
/// sees them: aligned, unaligned and open ranges, admin-private and deleted events included.
fn date_ranges_add_up_from_slots(backend: Backend) {
    use auditlog_db::models::Role;
    use auditlog_db::queries::events::{count_or_estimate, count_per_slot, EventFilter};
    use auditlog_db::visibility::Viewer;
    use chrono::TimeDelta;
    let db = TestDatabase::new(backend);
    let pool = db.migrated_pool(1);
    let mut conn = pool.get().unwrap();
    let tenant_id =
        tenants::ensure(&mut conn, &auditlog_db::TenantSlug::parse("acme").unwrap(), "Acme", "UTC")
            .unwrap()
            .id;
    // 400 events 3 min 7 s apart, back from the start of the current slot: several per slot,
    // some exactly on a slot's start; every fifth by an admin, ten deleted.
    let now = Utc::now().naive_utc();
    let base = now.with_second(0).unwrap().with_nanosecond(0).unwrap()
        - TimeDelta::minutes(i64::from(now.minute() % 15));
    let drafts: Vec<EventDraft> = (0..400)
        .map(|i| {
            let mut d = draft(i, i % 3);
            d.occurred_at = base - TimeDelta::seconds(187 * i as i64);
            d.actor.role = (i % 5 == 0).then(|| "admin".into());
            d
        })
        .collect();
    store_events(&mut conn, tenant_id, None, &drafts, now).unwrap();
    let ids: Vec<auditlog_db::EventId> =
        events::table.select(events::id).order(events::id).load(&mut conn).unwrap();
    tombstone(&mut conn, tenant_id, &ids[40..50], "test", now).unwrap();
    let rows: Vec<EventRow> = events::table.select(EventRow::as_select()).load(&mut conn).unwrap();

    for role in [Role::Admin, Role::Manager, Role::Member] {
        let viewer = Viewer { tenant_id, role, actor_id: "w1".into(), fields: Default::default() };
        let sees = |r: &EventRow| match role {
            Role::Admin => true,
            Role::Manager => r.deleted_at.is_none() && !r.admin_private,
            Role::Member => r.deleted_at.is_none() && r.actor_id == "w1",
        };
        let at = |minutes: i64, seconds: i64| {
            Some(base - TimeDelta::minutes(minutes) + TimeDelta::seconds(seconds))
        };
        let ranges = [
            (at(60, 0), at(15, 0)),
            (at(61, 7), at(14, 59)),
            (at(600, 1), None),
            (None, at(300, 0)),
            (at(30, 0), at(29, 0)),
            (at(1300, 0), at(5, 3)),
        ];
        for (from, until) in ranges {
            let filter = EventFilter { from, until, ..Default::default() };
            let inside = |r: &&EventRow| {
                sees(r) && from.is_none_or(|f| r.occurred_at >= f) && until.is_none_or(|u| r.occurred_at < u)
            };
            let expected: Vec<&EventRow> = rows.iter().filter(inside).collect();
            let total = count_or_estimate(&mut conn, &viewer, &filter, counting(0)).unwrap();
            assert_eq!(total, (expected.len() as i64, false), "{role:?} {from:?}..{until:?}");
            let mut per_slot: BTreeMap<i64, i64> = BTreeMap::new();
            for (slot, n) in count_per_slot(&mut conn, &viewer, &filter).unwrap() {
                *per_slot.entry(slot).or_default() += n;
            }
            let mut wanted: BTreeMap<i64, i64> = BTreeMap::new();
            for r in expected {
                *wanted.entry(r.occurred_at.and_utc().timestamp().div_euclid(900)).or_default() += 1;
            }
            assert_eq!(per_slot, wanted, "{role:?} {from:?}..{until:?}");
        }
    }
    // The totals above came from the slot counts, not from counting (which is exact on a tenant
    // this small too): inflating every kept count shows in an admin's and a manager's total.
    use auditlog_db::schema::slot_counts;
    // (As the owner: the application's role reads the kept counts, only the triggers write them.)
    diesel::update(slot_counts::table)
        .set(slot_counts::event_count.eq(slot_counts::event_count + 1000))
        .execute(&mut db.owner_pool(1).get().unwrap())
        .unwrap();
    let last_hours = EventFilter { from: Some(base - TimeDelta::hours(5)), ..Default::default() };
    for role in [Role::Admin, Role::Manager] {
        let viewer = Viewer { tenant_id, role, actor_id: "w1".into(), fields: Default::default() };
        let (total, _) = count_or_estimate(&mut conn, &viewer, &last_hours, counting(0)).unwrap();
        assert!(total > 1000, "{role:?}: {total}");
    }
}

on_both_backends!(date_ranges_add_up_from_slots);

/// A page tells what it shows of the total: exact on the last page, else at least the events up
/// to and on it (the next one included); the rest is counted apart, with the page's plan.
fn pages_tell_what_they_show_of_the_total(backend: Backend) {
    use auditlog_db::models::Role;
    use auditlog_db::queries::events::{
        keyword_plan, list_planned, page_total, EventFilter, ListRequest, PageTotal, Paging, Sort,
    };
    use auditlog_db::visibility::Viewer;
    let Acme300 { ref mut conn, tenant_id, .. } = acme_with_300_events(backend);
    let manager = Viewer { tenant_id, role: Role::Manager, actor_id: "x".into(), fields: Default::default() };
    let invoices = EventFilter { module: Some("invoice".into()), ..Default::default() };
    let plan = keyword_plan(conn, &invoices).unwrap();
    let mut page = |page: u32| {
        let request = ListRequest {
            filter: invoices.clone(),
            sort: Sort::default(),
            per_page: 10,
            paging: Paging::Page(page),
        };
        let page = list_planned(conn, &manager, &request, &plan).unwrap();
        (page.items.len(), page.total)
    };
    assert_eq!(page(1), (10, PageTotal::AtLeast(11)));
    assert_eq!(page(6), (10, PageTotal::AtLeast(61)), "the 61st is known to exist");
    assert_eq!(page(10), (10, PageTotal::Exact(100)), "the last page counts itself");
    assert_eq!(page(11), (0, PageTotal::AtLeast(0)), "past the end says nothing of the end");
    assert_eq!(page_total(conn, &manager, &invoices, &plan, 11, 10_000).unwrap(), (100, false));
}

on_both_backends!(pages_tell_what_they_show_of_the_total);

/// A count that would take too long is not made: the total is estimated, flagged, and never
/// below what the page has already shown (or the limit, when the probe saw that many).
fn slow_counts_are_estimated(backend: Backend) {
    use auditlog_db::models::Role;
    use auditlog_db::queries::events::{count_or_estimate, Counting, EventFilter};
    use auditlog_db::visibility::Viewer;
    let Acme300 { ref mut conn, tenant_id, .. } = acme_with_300_events(backend);
    let manager = Viewer { tenant_id, role: Role::Manager, actor_id: "x".into(), fields: Default::default() };
    let invoices = dated_invoices();
    let no_time = |at_least| Counting { limit: 10_000, time: std::time::Duration::ZERO, at_least };
    // 300 events are fewer than a sample: counted whole, so exact after all.
    assert_eq!(count_or_estimate(conn, &manager, &invoices, no_time(150)).unwrap(), (100, false));
    assert_eq!(count_or_estimate(conn, &manager, &invoices, counting(10_000)).unwrap(), (100, false));
    // Beyond a sample's size, an estimate, flagged, no lower than what the page showed.
    let more: Vec<EventDraft> = (0..10_200).map(|i| draft(i, 7)).collect();
    for batch in more.chunks(1_000) {
        store_events(conn, tenant_id, None, batch, Utc::now().naive_utc()).unwrap();
    }
    let (estimate, flagged) = count_or_estimate(conn, &manager, &invoices, no_time(0)).unwrap();
    assert!(flagged);
    assert!((50..=300).contains(&estimate), "{estimate}");
    // What the kept facet counts hold needs no time and no estimate.
    let undated = EventFilter { from: None, ..invoices.clone() };
    assert_eq!(count_or_estimate(conn, &manager, &undated, no_time(0)).unwrap(), (100, false));
    assert_eq!(count_or_estimate(conn, &manager, &invoices, no_time(5_000)).unwrap(), (5_000, true));
    // A filter on a column these events leave empty matches none of the sample.
    let records = EventFilter { entity_type: Some("booking".into()), ..Default::default() };
    assert_eq!(count_or_estimate(conn, &manager, &records, no_time(0)).unwrap(), (0, true));
    // More matches than the limit: an estimate too, never below the limit.
    let (estimate, flagged) = count_or_estimate(conn, &manager, &invoices, counting(50)).unwrap();
    assert!(flagged);
    assert!((51..=300).contains(&estimate), "{estimate}");
    let (estimate, flagged) = count_or_estimate(conn, &manager, &invoices, counting(99)).unwrap();
    assert!(flagged && estimate >= 100, "{estimate}");
    // A keyword in more events than the limit (SQLite's index says so before anything is
    // counted): estimated from the sample's own text, 10 200 in truth.
    let common = EventFilter { q: Some("of writer 7".into()), ..Default::default() };
    let (estimate, flagged) = count_or_estimate(conn, &manager, &common, counting(1_000)).unwrap();
    assert!(flagged);
    assert!((9_500..=10_900).contains(&estimate), "{estimate}");
    let rare = EventFilter { q: Some("event 17 of writer 7".into()), ..Default::default() };
    assert_eq!(count_or_estimate(conn, &manager, &rare, counting(1_000)).unwrap(), (1, false));
    assert_eq!(count_or_estimate(conn, &manager, &invoices, counting(10_000)).unwrap(), (100, false));
}

on_both_backends!(slow_counts_are_estimated);

/// `budget::within` stops a query that runs past its time, and leaves the connection as it was:
/// usable, and with no time limit on what follows.
fn budgets_stop_slow_queries(backend: Backend) {
    use auditlog_db::budget::{within, WITHIN_BUDGET};
    use diesel::dsl::sql;
    use diesel::sql_types::Bool;
    use std::time::Duration;
    let db = TestDatabase::new(backend);
    let pool = db.migrated_pool(1);
    let mut conn = pool.get().unwrap();
    let tenant =
        tenants::ensure(&mut conn, &auditlog_db::TenantSlug::parse("acme").unwrap(), "Acme", "UTC").unwrap();
    let drafts: Vec<EventDraft> = (0..200).map(|i| draft(i, 0)).collect();
    store_events(&mut conn, tenant.id, None, &drafts, Utc::now().naive_utc()).unwrap();
    // Slow: on SQLite any query that examines rows once its time is up (a full scan for a
    // missing text here); on PostgreSQL a query that sleeps past the limit.
    let slow = |conn: &mut DbConnection| -> QueryResult<usize> {
        match backend {
            Backend::Sqlite => events::table
                .filter(sql::<Bool>(WITHIN_BUDGET))
                .filter(events::search_text.like("%no such text%"))
                .select(events::id)
                .load::<i64>(conn)
                .map(|ids| ids.len()),
            Backend::Postgres => diesel::sql_query("SELECT pg_sleep(0.8)").execute(conn),
        }
    };
    let limit = match backend {
        Backend::Sqlite => Duration::from_nanos(1),
        Backend::Postgres => Duration::from_millis(20),
    };
    assert_eq!(within(&mut conn, limit, slow).unwrap(), None, "stopped");
    let all =
        within(&mut conn, Duration::from_secs(60), |conn| events::table.count().get_result::<i64>(conn));
    assert_eq!(all.unwrap(), Some(200), "the connection still answers, in time");
    assert!(slow(&mut conn).is_ok(), "no limit remains outside `within`");
    // Inside a caller's transaction (a savepoint), the limit ends with `within` too: a short one
    // that a quick count keeps within, then the slow query outside it.
    conn.transaction(|conn| {
        let all =
            within(conn, Duration::from_millis(300), |conn| events::table.count().get_result::<i64>(conn));
        assert_eq!(all.unwrap(), Some(200));
        assert!(slow(conn).is_ok(), "the limit ended with `within`");
        QueryResult::Ok(())
    })
    .unwrap();
}

on_both_backends!(budgets_stop_slow_queries);

/// A keyword list is sorted like any list, whichever way the keyword is looked up (on SQLite a
/// rare word's rows are fetched and sorted apart from the index order).
fn keyword_lists_keep_every_sort_order(backend: Backend) {
    use auditlog_db::models::Role;
    use auditlog_db::queries::events::{list, EventFilter, ListRequest, Paging, Sort, SortKey, SortOrder};
    use auditlog_db::visibility::Viewer;
    let db = TestDatabase::new(backend);
    let pool = db.migrated_pool(1);
    let mut conn = pool.get().unwrap();
    let tenant =
        tenants::ensure(&mut conn, &auditlog_db::TenantSlug::parse("acme").unwrap(), "Acme", "UTC").unwrap();
    let drafts: Vec<EventDraft> = (0..40)
        .map(|i| {
            let mut d = draft(i, i % 4);
            d.module = ["invoice", "booking", "customer"][i % 3].into();
            d.occurred_at -= chrono::Duration::minutes((i * 7 % 11) as i64);
            d
        })
        .collect();
    store_events(&mut conn, tenant.id, None, &drafts, Utc::now().naive_utc()).unwrap();
    let admin =
        Viewer { tenant_id: tenant.id, role: Role::Admin, actor_id: "x".into(), fields: Default::default() };
    for key in
        [SortKey::OccurredAt, SortKey::Actor, SortKey::Module, SortKey::Verb, SortKey::Action, SortKey::Ip]
    {
        for order in [SortOrder::Asc, SortOrder::Desc] {
            let request = |q: Option<&str>| ListRequest {
                filter: EventFilter { q: q.map(String::from), ..Default::default() },
                sort: Sort { key, order },
                per_page: 100,
                paging: Paging::Page(1),
            };
            let ids = |page: auditlog_db::queries::events::EventPage| -> Vec<auditlog_db::EventId> {
                page.items.iter().map(|e| e.id).collect()
            };
            let all = list(&mut conn, &admin, &request(None)).unwrap();
            let expected: Vec<auditlog_db::EventId> = all
                .items
                .iter()
                .filter(|e| e.draft.description.contains("of writer 1"))
                .map(|e| e.id)
                .collect();
            let found = list(&mut conn, &admin, &request(Some("of writer 1"))).unwrap();
            assert_eq!(found.total, auditlog_db::queries::events::PageTotal::Exact(10));
            assert_eq!(ids(found), expected, "{key:?} {order:?}");
        }
    }
}

on_both_backends!(keyword_lists_keep_every_sort_order);

/// A date filter's estimate: events arrive in time order, so a sample of only the newest would
/// count a recent range as everything; the spread sample finds its real share.
fn estimated_totals_follow_a_date_filter(backend: Backend) {
    use auditlog_db::models::Role;
    use auditlog_db::queries::events::{count_or_estimate, EventFilter};
    use auditlog_db::visibility::Viewer;
    let db = TestDatabase::new(backend);
    let pool = db.migrated_pool(1);
    let mut conn = pool.get().unwrap();
    let tenant =
        tenants::ensure(&mut conn, &auditlog_db::TenantSlug::parse("acme").unwrap(), "Acme", "UTC").unwrap();
    // 40 days of 600 events, oldest first, as a host application sends them (whole seconds: the
    // stored times keep microseconds, a bound with nanoseconds would miss the first one).
    let start = Utc::now().naive_utc().with_nanosecond(0).unwrap() - chrono::Duration::days(40);
    for day in 0..40 {
        let drafts: Vec<EventDraft> = (0..600)
            .map(|i| EventDraft {
                external_id: None,
                occurred_at: start + chrono::Duration::days(day) + chrono::Duration::seconds(i as i64 * 60),
                ..draft(i, 0)
            })
            .collect();
        store_events(&mut conn, tenant.id, None, &drafts, Utc::now().naive_utc()).unwrap();
    }
    let manager = Viewer {
        tenant_id: tenant.id,
        role: Role::Manager,
        actor_id: "x".into(),
        fields: Default::default(),
    };
    // Dates alone are added up from the kept slot counts, exactly; with a module (every event's)
    // beside them the total is estimated from the sample.
    let from = Some(start + chrono::Duration::days(30));
    let last_ten_days = EventFilter { from, ..Default::default() };
    assert_eq!(
        count_or_estimate(&mut conn, &manager, &last_ten_days, counting(1_000)).unwrap(),
        (6_000, false)
    );
    let bookings = |filter: EventFilter| EventFilter { module: Some("booking".into()), ..filter };
    let (estimate, flagged) =
        count_or_estimate(&mut conn, &manager, &bookings(last_ten_days), counting(1_000)).unwrap();
    assert!(flagged);
    // The truth is 6 000 of 24 000; the newest 10 000 alone would have said 14 400.
    assert!((4_800..=7_200).contains(&estimate), "{estimate}");
    let first_ten_days =
        EventFilter { until: Some(start + chrono::Duration::days(10)), ..Default::default() };
    let (estimate, _) =
        count_or_estimate(&mut conn, &manager, &bookings(first_ten_days), counting(1_000)).unwrap();
    assert!((4_800..=7_200).contains(&estimate), "{estimate}");
}

on_both_backends!(estimated_totals_follow_a_date_filter);

/// The keyword filter through each backend's index (FTS5 trigram on SQLite, pg_trgm on
/// PostgreSQL): substrings, short needles (a scan), quotes and wildcards as plain text, and a
/// tombstoned event's text gone from the index.
fn keyword_search_matches_substrings_and_forgets_tombstones(backend: Backend) {
    use auditlog_db::models::Role;
    use auditlog_db::queries::events::{count_or_estimate, EventFilter};
    use auditlog_db::visibility::Viewer;
    let db = TestDatabase::new(backend);
    let pool = db.migrated_pool(1);
    let mut conn = pool.get().unwrap();
    let tenant =
        tenants::ensure(&mut conn, &auditlog_db::TenantSlug::parse("acme").unwrap(), "Acme", "UTC").unwrap();
    let mut drafts: Vec<EventDraft> = (0..30).map(|i| draft(i, i % 3)).collect();
    for (i, text) in ["Quote \"this\" please", "Café Ünïcode", "100% done", "it's o'clock"].iter().enumerate()
    {
        drafts[i].description = text.to_string();
    }
    let outcome = store_events(&mut conn, tenant.id, None, &drafts, Utc::now().naive_utc()).unwrap().0;
    let admin =
        Viewer { tenant_id: tenant.id, role: Role::Admin, actor_id: "x".into(), fields: Default::default() };
    let count = |conn: &mut DbConnection, q: &str| {
        let filter = EventFilter { q: Some(q.to_lowercase()), ..Default::default() };
        count_or_estimate(conn, &admin, &filter, counting(10_000)).unwrap().0
    };
    assert_eq!(count(&mut conn, "of writer 1"), 9, "a phrase inside the text");
    assert_eq!(count(&mut conn, "of"), 26, "two characters: a scan, same answer");
    assert_eq!(count(&mut conn, "\"this\""), 1, "double quotes are text");
    assert_eq!(count(&mut conn, "CAFÉ ÜN"), 1, "case-insensitive beyond ASCII");
    assert_eq!(count(&mut conn, "100%"), 1, "% is text");
    assert_eq!(count(&mut conn, "10_%"), 0, "_ is text");
    assert_eq!(count(&mut conn, "'s o'c"), 1, "single quotes are text");
    assert_eq!(count(&mut conn, "writer 9"), 0);
    tombstone(&mut conn, tenant.id, &outcome.ids[..1], "test", Utc::now().naive_utc()).unwrap();
    assert_eq!(count(&mut conn, "\"this\""), 0, "a tombstone's text is gone from the index");
    assert_eq!(count(&mut conn, "of writer 1"), 9);
}

on_both_backends!(keyword_search_matches_substrings_and_forgets_tombstones);
/// A bulk load into an empty `events` on PostgreSQL builds the secondary indexes once at the end
/// (every one of them, each usable, partitions included), also when the load fails.
#[test]
fn postgres_bulk_load_rebuilds_every_index() {
    use auditlog_db::queries::ingest::bulk_load;
    use auditlog_db::StoreError;
    #[derive(QueryableByName, PartialEq, Debug)]
    struct Index {
        #[diesel(sql_type = Text)]
        definition: String,
    }
    let indexes = |conn: &mut DbConnection| -> Vec<Index> {
        diesel::sql_query(
            "SELECT pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END \
               || ' on ' || (SELECT count(*) FROM pg_inherits p WHERE p.inhparent = i.indexrelid) \
               || ' partitions' AS definition \
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE i.indrelid = 'events'::regclass ORDER BY c.relname",
        )
        .load(conn)
        .unwrap()
    };
    let db = TestDatabase::new(Backend::Postgres);
    db.migrated_pool(1);
    // Bulk loads and partition upkeep are the schema owner's work.
    let pool = db.owner_pool(1);
    let mut conn = pool.get().unwrap();
    let tenant =
        tenants::ensure(&mut conn, &auditlog_db::TenantSlug::parse("acme").unwrap(), "Acme", "UTC").unwrap();
    let before = indexes(&mut conn);
    assert!(before.iter().any(|i| i.definition.contains("gin_trgm_ops")), "{before:?}");

    let failed: Result<(), StoreError> = bulk_load(&mut conn, |conn| {
        store_events(conn, tenant.id, None, &[draft(0, 0)], Utc::now().naive_utc())?;
        Err(StoreError::Conflict("stop".into()))
    });
    assert!(failed.is_err());
    assert_eq!(indexes(&mut conn), before, "a failed load gets its indexes back");
    // What it stored before failing stays (it commits as it goes); the table is no longer empty.
    assert_eq!(events::table.count().get_result::<i64>(&mut conn).unwrap(), 1);

    // A fresh database: the bulk path again.
    let db = TestDatabase::new(Backend::Postgres);
    db.migrated_pool(1);
    // Bulk loads and partition upkeep are the schema owner's work.
    let pool = db.owner_pool(1);
    let mut conn = pool.get().unwrap();
    let tenant =
        tenants::ensure(&mut conn, &auditlog_db::TenantSlug::parse("acme").unwrap(), "Acme", "UTC").unwrap();
    let before = indexes(&mut conn);

    let drafts: Vec<EventDraft> = (0..500).map(|i| draft(i, i % 3)).collect();
    bulk_load(&mut conn, |conn| {
        let during = indexes(conn);
        // The unique keys, and the two the flags read as events are stored (by verb, by action).
        let kept: Vec<bool> = during
            .iter()
            .map(|i| {
                i.definition.contains("UNIQUE")
                    || i.definition.contains("(tenant_id, verb, ")
                    || i.definition.contains("(tenant_id, action, ")
            })
            .collect();
        assert_eq!(
            (during.len(), kept.iter().all(|k| *k)),
            (4, true),
            "only these stay while loading: {during:?}"
        );
        store_events(conn, tenant.id, None, &drafts, Utc::now().naive_utc())
    })
    .unwrap();
    assert_eq!(indexes(&mut conn), before, "the same indexes, valid, on every partition");
    assert_eq!(events::table.count().get_result::<i64>(&mut conn).unwrap(), 500);
}

/// PostgreSQL's monthly partitions: the current month and three ahead exist after migrating,
/// events land in their month, a partition refuses TRUNCATE and UPDATE like the table, and only
/// closed months without events are dropped.
#[test]
fn postgres_partitions_events_by_month() {
    use auditlog_db::partitions;
    use chrono::{Datelike, NaiveDate};
    #[derive(QueryableByName)]
    struct Home {
        #[diesel(sql_type = Text)]
        partition: String,
    }
    let db = TestDatabase::new(Backend::Postgres);
    db.migrated_pool(1);
    // Bulk loads and partition upkeep are the schema owner's work.
    let pool = db.owner_pool(1);
    let mut conn = pool.get().unwrap();
    let today = Utc::now().date_naive();
    let month = |offset: u32| {
        let m0 = today.month0() + offset;
        format!("events_{}_{:02}", today.year() + (m0 / 12) as i32, m0 % 12 + 1)
    };
    let names: Vec<String> = partitions::list(&mut conn).unwrap().into_iter().map(|p| p.name).collect();
    for expected in [month(0), month(1), month(2), month(3), "events_default".into()] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    assert_eq!(partitions::prepare(&mut conn).unwrap(), 0, "nothing more to create");

    let tenant =
        tenants::ensure(&mut conn, &auditlog_db::TenantSlug::parse("acme").unwrap(), "Acme", "UTC").unwrap();
    let old = NaiveDate::from_ymd_opt(2020, 1, 15).unwrap().and_hms_opt(12, 0, 0).unwrap();
    diesel::sql_query("SELECT events_add_partition('2020-01-01')").execute(&mut conn).unwrap();
    diesel::sql_query("SELECT events_add_partition('2020-02-01')").execute(&mut conn).unwrap();
    store_events(&mut conn, tenant.id, None, &[draft(0, 0)], old).unwrap();
    store_events(&mut conn, tenant.id, None, &[draft(1, 0)], Utc::now().naive_utc()).unwrap();
    let homes: Vec<Home> =
        diesel::sql_query("SELECT tableoid::regclass::text AS partition FROM events ORDER BY seq")
            .load(&mut conn)
            .unwrap();
    let homes: Vec<String> = homes.into_iter().map(|h| h.partition).collect();
    assert_eq!(homes, ["events_2020_01".to_string(), month(0)]);

    for forbidden in [
        format!("TRUNCATE {}", month(0)),
        "TRUNCATE events_2020_01".into(),
        format!("UPDATE {} SET description = 'x'", month(0)),
        "DELETE FROM events_2020_01".into(),
    ] {
        let error = diesel::sql_query(&forbidden).execute(&mut conn).unwrap_err().to_string();
        assert!(error.contains("immutable"), "{forbidden}: {error}");
    }

    // 2020-02 is closed and empty: dropped. 2020-01 still holds an event; this month is open.
    assert_eq!(partitions::drop_emptied(&mut conn).unwrap(), ["events_2020_02"]);
    let names: Vec<String> = partitions::list(&mut conn).unwrap().into_iter().map(|p| p.name).collect();
    assert!(names.contains(&"events_2020_01".to_string()) && names.contains(&month(0)), "{names:?}");
    assert!(!names.contains(&"events_2020_02".to_string()));
}
