//! Tamper evidence against the database's own administrators (docs/INTEGRITY.md), on SQLite and
//! PostgreSQL: every attack of the threat model, as an insider would make it, is detected by a
//! verification against the signed checkpoint log (T2: superuser), or refused by the database
//! (T1: the application's own role, PostgreSQL); receipts and proofs check with an RFC 9162
//! verifier written apart from the server's code, and the public key alone.

mod common;

#[path = "../../tlog/tests/support/rfc9162.rs"]
mod rfc9162;

use actix_web::test::{self, TestRequest};
use auditlog_db::archive::{archive_next, checksum, verify_file};
use auditlog_db::chain::GENESIS_HASH;
use auditlog_db::connection::DbConnection;
use auditlog_db::models::{EventDraft, EventRow, NewEventRow};
use auditlog_db::queries::ingest::{related_rows, store_events};
use auditlog_db::schema::{event_related, events, tenants};
use auditlog_db::Backend;
use auditlog_tlog::merkle::{leaf_hash, Frontier};
use auditlog_tlog::note::{Signer, Verifier};
use auditlog_tlog::Checkpoint;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::{TimeDelta, Utc};
use common::*;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::{json, Value};

/// Runs SQL as a superuser would, triggers out of the way.
fn tamper(conn: &mut DbConnection, sql: &str) {
    let script = match conn.backend() {
        Backend::Postgres => format!("SET session_replication_role = replica; {sql}; SET session_replication_role = DEFAULT;"),
        Backend::Sqlite => format!(
            "DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete; \
             DROP TRIGGER IF EXISTS merkle_nodes_no_update; DROP TRIGGER IF EXISTS merkle_nodes_no_delete; {sql};"
        ),
    };
    conn.batch_execute(&script).unwrap_or_else(|e| panic!("tampering failed: {e}\n{sql}"));
}

const TABLES: [&str; 4] = ["events", "event_related", "merkle_nodes", "tenants"];

/// Saves the tables an attacker rewrites, to put them back after each attack.
fn snapshot(conn: &mut DbConnection) {
    for table in TABLES {
        conn.batch_execute(&format!(
            "DROP TABLE IF EXISTS saved_{table}; CREATE TABLE saved_{table} AS SELECT * FROM {table}"
        ))
        .unwrap();
    }
}

fn restore(conn: &mut DbConnection) {
    // Children first out, parents first in (SQLite keeps the foreign keys).
    let sql = [
        "DELETE FROM event_related",
        "DELETE FROM merkle_nodes",
        "DELETE FROM events",
        "INSERT INTO events SELECT * FROM saved_events",
        "INSERT INTO event_related SELECT * FROM saved_event_related",
        "INSERT INTO merkle_nodes SELECT * FROM saved_merkle_nodes",
    ];
    let head = ["head_seq", "head_hash", "tree_size", "chain_base_seq", "chain_base_hash"]
        .map(|c| format!("{c} = (SELECT s.{c} FROM saved_tenants s WHERE s.id = tenants.id)"))
        .join(", ");
    tamper(conn, &format!("{}; UPDATE tenants SET {head}", sql.join("; ")));
}

/// Posts `count` events in one request (one checkpoint each); returns the response.
async fn ingest<S, B>(app: &S, token: &str, from: usize, count: usize) -> Value
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let events: Vec<Value> = (from..from + count)
        .map(|i| {
            json!({"action": "booking.updated", "actor": {"id": format!("u{}", i % 3), "name": "Ann Example", "email": "ann@example.com"},
                   "entity": {"type": "booking", "id": i, "label": format!("BOK-{i}")}, "related": [{"type": "customer", "id": "c1", "label": "Amelia Hughes"}],
                   "changes": [{"field": "status", "old": "open", "new": "closed"}], "ip": "203.0.113.7", "user_agent": "Mozilla/5.0",
                   "metadata": {"n": i}})
        })
        .collect();
    post(app, token, "/api/v1/events", &json!({"events": events})).await.expect(201).body
}

fn new_row(row: &EventRow) -> NewEventRow {
    NewEventRow {
        id: row.id,
        tenant_id: row.tenant_id,
        seq: row.seq,
        external_id: row.external_id.clone(),
        occurred_at: row.occurred_at,
        recorded_at: row.recorded_at,
        actor_id: row.actor_id.clone(),
        actor_type: row.actor_type.clone(),
        actor_name: row.actor_name.clone(),
        actor_email: row.actor_email.clone(),
        actor_role: row.actor_role.clone(),
        admin_private: row.admin_private,
        action: row.action.clone(),
        module: row.module.clone(),
        verb: row.verb.clone(),
        entity_type: row.entity_type.clone(),
        entity_id: row.entity_id.clone(),
        entity_label: row.entity_label.clone(),
        description: row.description.clone(),
        changes: row.changes.clone(),
        related: row.related.clone(),
        metadata: row.metadata.clone(),
        ip: row.ip.clone(),
        user_agent: row.user_agent.clone(),
        search_text: auditlog_db::derived::row_search_text(row),
        ip_key: auditlog_db::derived::row_ip_key(row),
        prev_hash: row.prev_hash.clone(),
        hash: row.hash.clone(),
        leaf_version: row.leaf_version,
        submitted_by: row.submitted_by.clone(),
        salt: row.salt.clone(),
        flags: row.flags,
        flag_reasons: row.flag_reasons.clone(),
    }
}

/// A superuser who knows every algorithm but not the signing key rewrites acme's history with
/// `edit`, then recomputes everything the database holds — seq, links, leaf hashes, derived
/// columns, tree nodes and head — so that it is consistent in itself.
fn forge(ctx: &Ctx, edit: impl FnOnce(&mut Vec<EventRow>)) {
    let owner = ctx.db.owner_pool(1);
    let mut conn = owner.get().unwrap();
    let mut rows: Vec<EventRow> = events::table
        .filter(events::tenant_id.eq(ctx.acme_id))
        .order(events::seq.asc())
        .select(EventRow::as_select())
        .load(&mut conn)
        .unwrap();
    edit(&mut rows);
    let (mut prev, mut frontier, mut nodes) = (GENESIS_HASH.to_string(), Frontier::default(), Vec::new());
    for (i, row) in rows.iter_mut().enumerate() {
        row.seq = i as i64 + 1;
        row.prev_hash = prev.clone();
        if let Ok(Some(leaf)) = row.leaf_bytes() {
            row.hash = hex::encode(leaf_hash(&leaf));
        }
        nodes.extend(frontier.push(row.tree_leaf().unwrap()));
        prev = row.hash.clone();
    }
    let t = ctx.acme_id;
    tamper(&mut conn, &format!("DELETE FROM event_related WHERE tenant_id = {t}; DELETE FROM events WHERE tenant_id = {t}; DELETE FROM merkle_nodes WHERE tenant_id = {t}"));
    let new_rows: Vec<NewEventRow> = rows.iter().map(new_row).collect();
    let related: Vec<_> = rows
        .iter()
        .filter(|r| r.deleted_at.is_none())
        .flat_map(|r| related_rows(t, r.id, &r.related))
        .collect();
    match &mut *conn {
        DbConnection::Pg(pg) => {
            pg.batch_execute("SET session_replication_role = replica").unwrap();
            diesel::insert_into(events::table).values(&new_rows).execute(pg).unwrap();
            diesel::insert_into(event_related::table).values(&related).execute(pg).unwrap();
        }
        DbConnection::Sqlite(lite) => {
            for row in &new_rows {
                diesel::insert_into(events::table).values(row).execute(lite).unwrap();
            }
            for row in &related {
                diesel::insert_into(event_related::table).values(row).execute(lite).unwrap();
            }
        }
    }
    for row in rows.iter().filter(|r| r.deleted_at.is_some()) {
        diesel::update(events::table.filter(events::tenant_id.eq(t)).filter(events::id.eq(row.id)))
            .set((events::deleted_at.eq(row.deleted_at), events::deleted_by.eq(&row.deleted_by)))
            .execute(&mut conn)
            .unwrap();
    }
    auditlog_db::queries::tree::store(&mut conn, t, &nodes).unwrap();
    let size = rows.len() as i64;
    diesel::update(tenants::table.find(t))
        .set((tenants::head_seq.eq(size), tenants::head_hash.eq(&prev), tenants::tree_size.eq(size)))
        .execute(&mut conn)
        .unwrap();
    if conn.backend() == Backend::Postgres {
        conn.batch_execute("SET session_replication_role = DEFAULT").unwrap();
    }
}

/// A copy of `row` as another event (a forged insertion).
fn forged_copy(row: &EventRow, id: i64, description: &str) -> EventRow {
    let mut copy = row.clone();
    copy.id = auditlog_db::EventId(id);
    copy.description = description.into();
    copy
}

fn log_path(ctx: &Ctx) -> std::path::PathBuf {
    ctx.state.notary.log_path("acme")
}

/// In an attack's expectation: the seq of the head at the time.
const AT_HEAD: i64 = i64::MAX;

both_backends! {
    async fn every_attack_of_a_superuser_is_detected(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        // Three requests, three checkpoints: 10, 20 and 25 events.
        for (from, count) in [(0, 10), (10, 10), (20, 5)] {
            ingest(&app, &admin, from, count).await;
        }
        let clean = get(&app, &admin, "/api/v1/integrity/verify").await.expect(200).body;
        assert_eq!((clean["ok"].as_bool(), clean["events_checked"].as_i64(), clean["checkpoints_checked"].as_i64()), (Some(true), Some(25), Some(3)), "{clean}");
        get(&app, &ctx.token(&ctx.manager), "/api/v1/integrity/verify").await.problem(403);

        let owner = ctx.db.owner_pool(1);
        let mut conn = owner.get().unwrap();
        snapshot(&mut conn);
        let t = ctx.acme_id;
        let id_of = |seq: i64| -> i64 {
            events::table.filter(events::tenant_id.eq(t)).filter(events::seq.eq(seq)).select(events::id).first(&mut ctx.pool.get().unwrap()).unwrap()
        };
        let (id2, id8) = (id_of(2), id_of(8));
        type Attack<'a> = Box<dyn Fn(&mut DbConnection) + 'a>;
        let sql = |text: String| -> Attack { Box::new(move |conn: &mut DbConnection| tamper(conn, &text)) };
        let cases: Vec<(&str, Attack, Option<i64>, &str)> = vec![
            ("an edited field", sql(format!("UPDATE events SET description = 'nothing happened' WHERE tenant_id = {t} AND seq = 5")), Some(5), "content does not match"),
            ("an edited IP", sql(format!("UPDATE events SET ip = '10.6.6.6' WHERE tenant_id = {t} AND seq = 6")), Some(6), "content does not match"),
            ("an edited module", sql(format!("UPDATE events SET module = 'invoice' WHERE tenant_id = {t} AND seq = 6")), Some(6), "module or verb"),
            ("an edited verb", sql(format!("UPDATE events SET verb = 'deleted' WHERE tenant_id = {t} AND seq = 9")), Some(9), "module or verb"),
            ("edited keyword text", sql(format!("UPDATE events SET search_text = 'innocent' WHERE tenant_id = {t} AND seq = 7")), Some(7), "keyword text"),
            ("edited IP key", sql(format!("UPDATE events SET ip_key = '4ffffffff' WHERE tenant_id = {t} AND seq = 7")), Some(7), "IP sort key"),
            ("a removed related record", sql(format!("DELETE FROM event_related WHERE tenant_id = {t} AND event_id = {id8}")), Some(8), "related-record rows"),
            ("an added related record", sql(format!("INSERT INTO event_related (tenant_id, entity_type, entity_id, event_id) VALUES ({t}, 'customer', 'c666', {id2})")), Some(2), "related-record rows"),
            ("a changed tree node", sql(format!("UPDATE merkle_nodes SET hash = (SELECT hash FROM merkle_nodes WHERE tenant_id = {t} AND level = 3 AND idx = 1) WHERE tenant_id = {t} AND level = 3 AND idx = 0")), Some(1), "tree node"),
            // Levels 1 and 2 are hashed from leaves, but a row of theirs that is there must be right.
            ("a wrong low tree node added", sql(format!("INSERT INTO merkle_nodes (tenant_id, level, idx, hash) SELECT {t}, 2, 1, hash FROM merkle_nodes WHERE tenant_id = {t} AND level = 3 AND idx = 0")), Some(5), "tree node"),
            // At the head, whatever it is by then (each passing verification is itself recorded).
            ("a moved head", sql(format!("UPDATE tenants SET head_hash = 'x' WHERE id = {t}")), Some(AT_HEAD), "recorded head"),
            ("a tombstone without its record", Box::new(|conn: &mut DbConnection| {
                // Blanked as the product blanks, digests kept, so that the leaf still recomputes.
                let row: EventRow = events::table.filter(events::tenant_id.eq(t)).filter(events::seq.eq(3)).select(EventRow::as_select()).first(conn).unwrap();
                let kept = auditlog_db::leaf::digests_json(&row.leaf_input()).unwrap();
                tamper(conn, &format!(
                    "UPDATE events SET external_id = NULL, actor_id = '', actor_name = '', actor_email = NULL, entity_id = NULL, entity_label = NULL, description = '', changes = '[]', related = '[]', metadata = '{{}}', ip = '', user_agent = NULL, search_text = '', ip_key = 'z', salt = '{kept}', deleted_at = recorded_at, deleted_by = 'a1' WHERE tenant_id = {t} AND seq = 3; DELETE FROM event_related WHERE tenant_id = {t} AND event_id = {}", row.id));
            }), Some(3), "without a deletion record"),
            ("a tombstone that lost its digests", sql(format!(
                "UPDATE events SET external_id = NULL, actor_id = '', actor_name = '', actor_email = NULL, entity_id = NULL, entity_label = NULL, description = '', changes = '[]', related = '[]', metadata = '{{}}', ip = '', user_agent = NULL, search_text = '', ip_key = 'z', salt = NULL, deleted_at = recorded_at, deleted_by = 'a1' WHERE tenant_id = {t} AND seq = 3; DELETE FROM event_related WHERE tenant_id = {t} AND event_id = (SELECT id FROM events WHERE tenant_id = {t} AND seq = 3)")), Some(3), "lost the digests"),
            ("a tombstone's kept field changed", Box::new(|conn: &mut DbConnection| {
                let row: EventRow = events::table.filter(events::tenant_id.eq(t)).filter(events::seq.eq(4)).select(EventRow::as_select()).first(conn).unwrap();
                let kept = auditlog_db::leaf::digests_json(&row.leaf_input()).unwrap();
                tamper(conn, &format!(
                    "UPDATE events SET external_id = NULL, actor_id = '', actor_name = '', actor_email = NULL, entity_id = NULL, entity_label = NULL, description = '', changes = '[]', related = '[]', metadata = '{{}}', ip = '', user_agent = NULL, search_text = '', ip_key = 'z', salt = '{kept}', deleted_at = recorded_at, deleted_by = 'a1', action = 'booking.viewed', verb = 'viewed' WHERE tenant_id = {t} AND seq = 4; DELETE FROM event_related WHERE tenant_id = {t} AND event_id = {}", row.id));
            }), Some(4), "content does not match"),
            ("a tombstone that rewrites instead of blanking", sql(format!(
                "UPDATE events SET actor_name = 'Someone Else', deleted_at = recorded_at, deleted_by = 'a1' WHERE tenant_id = {t} AND seq = 4")), Some(4), "carries content"),
            ("a removed prefix with the base moved", sql(format!(
                "DELETE FROM event_related WHERE tenant_id = {t} AND event_id IN (SELECT id FROM events WHERE tenant_id = {t} AND seq <= 5); DELETE FROM events WHERE tenant_id = {t} AND seq <= 5; UPDATE tenants SET chain_base_seq = 5, chain_base_hash = (SELECT prev_hash FROM events WHERE tenant_id = {t} AND seq = 6) WHERE id = {t}")), Some(1), "no signed retention boundary"),
            ("an edit with everything recomputed", Box::new(|_: &mut DbConnection| forge(&ctx, |rows| rows[14].description = "nothing to see".into())), Some(11), "do not match the checkpoint"),
            ("a deletion with everything renumbered and recomputed", Box::new(|_: &mut DbConnection| forge(&ctx, |rows| { rows.remove(12); })), Some(11), "do not match the checkpoint"),
            ("an insertion with everything recomputed", Box::new(|_: &mut DbConnection| forge(&ctx, |rows| { let copy = forged_copy(&rows[2], 900_000, "forged"); rows.insert(3, copy); })), Some(1), "do not match the checkpoint"),
            ("a reordering with everything recomputed", Box::new(|_: &mut DbConnection| forge(&ctx, |rows| rows.swap(21, 22))), Some(21), "do not match the checkpoint"),
            ("a truncated tail with the head recomputed", Box::new(|_: &mut DbConnection| forge(&ctx, |rows| rows.truncate(22))), Some(23), "database ends at seq 22"),
            ("a forged deletion record inside the signed history", Box::new(|_: &mut DbConnection| forge(&ctx, |rows| {
                let victim_id = rows[1].id;
                let record = &mut rows[9];
                record.action = "auditlog.deleted".into();
                record.module = "auditlog".into();
                record.verb = "deleted".into();
                record.metadata = format!("{{\"ids\":[{victim_id}]}}");
                let (at, by) = (rows[9].recorded_at, rows[9].actor_id.clone());
                let victim = &mut rows[1];
                let kept = auditlog_db::leaf::digests_json(&victim.leaf_input()).unwrap();
                victim.deleted_at = Some(at);
                victim.deleted_by = Some(by);
                (victim.actor_id, victim.actor_name, victim.actor_email, victim.entity_id, victim.entity_label) = (String::new(), String::new(), None, None, None);
                (victim.description, victim.changes, victim.related, victim.metadata, victim.ip, victim.user_agent, victim.salt) = (String::new(), "[]".into(), "[]".into(), "{}".into(), String::new(), None, Some(kept));
            })), Some(1), "do not match the checkpoint"),
        ];
        for (name, attack, bad_seq, why) in cases {
            let head: i64 = tenants::table.find(t).select(tenants::head_seq).first(&mut conn).unwrap();
            let bad_seq = bad_seq.map(|seq| if seq == AT_HEAD { head } else { seq });
            attack(&mut conn);
            let result = get(&app, &admin, "/api/v1/integrity/verify").await.expect(200).body;
            assert_eq!(result["ok"], false, "{name}: {result}");
            assert_eq!(result["first_bad_seq"].as_i64(), bad_seq, "{name}: {result}");
            assert!(result["reason"].as_str().unwrap().contains(why), "{name}: {result}");
            restore(&mut conn);
            let again = get(&app, &admin, "/api/v1/integrity/verify").await.expect(200).body;
            assert_eq!(again["ok"], true, "restored after {name}: {again}");
        }

        // The log itself: a line edited, or the whole log replaced by one signed with another
        // key (a database rebuilt by a server of the attacker's), does not verify.
        let log = std::fs::read_to_string(log_path(&ctx)).unwrap();
        let edited = log.replacen("\\n20\\n", "\\n19\\n", 1);
        assert_ne!(edited, log);
        let other = Signer::generate(LOG_NAME).unwrap();
        let resigned: String = log
            .lines()
            .map(|line| {
                let mut entry: Value = serde_json::from_str(line).unwrap();
                let text = auditlog_tlog::note::split(entry["note"].as_str().unwrap()).unwrap().0.to_string();
                entry["note"] = other.sign(&text).unwrap().into();
                format!("{entry}\n")
            })
            .collect();
        for (name, forged) in [("an edited checkpoint", edited), ("a log signed with another key", resigned)] {
            std::fs::write(log_path(&ctx), forged).unwrap();
            let result = get(&app, &admin, "/api/v1/integrity/verify").await.expect(200).body;
            assert_eq!(result["ok"], false, "{name}: {result}");
            assert!(result["reason"].as_str().unwrap().contains("checkpoint log does not verify"), "{name}: {result}");
        }
        std::fs::write(log_path(&ctx), &log).unwrap();

        // Every run is stored, and a failure is recorded as an integrity.failed event (those of
        // the database attacks went with the restored tables; the log attacks' two remain).
        let status = get(&app, &admin, "/api/v1/integrity/status").await.expect(200).body;
        assert_eq!(status["last_verification"]["ok"], false, "{status}");
        assert_eq!(get(&app, &admin, "/api/v1/integrity/verify").await.body["ok"], true);
        let status = get(&app, &admin, "/api/v1/integrity/status").await.expect(200).body;
        assert_eq!((status["last_verification"]["ok"].as_bool(), status["last_verification"]["trigger"].as_str()), (Some(true), Some("request")), "{status}");
        assert_eq!(status["latest_checkpoint"]["tree_size"], 25, "{status}");
        let failures = get(&app, &admin, "/api/v1/events?action=integrity.failed&per_page=100").await.body;
        assert_eq!(failures["total"], 2, "{failures}");
        assert!(failures["items"][0]["metadata"]["reason"].as_str().unwrap().contains("checkpoint log"), "{failures}");
    }

    async fn planted_low_tree_rows_change_no_proof_and_fail_verification(ctx: Ctx) {
        // Levels 1 and 2 are no longer written by ingest, so the application's own role (T1) may
        // insert rows there, at positions that exist and at ones still to come. Proofs hash those
        // levels from the leaves, ingest goes on, and verification names the first planted row.
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let key = ctx.state.notary.verifier().clone();
        let first = ingest(&app, &admin, 0, 10).await;
        let t = ctx.acme_id;
        let mut conn = ctx.pool.get().unwrap();
        conn.batch_execute(&format!(
            "INSERT INTO merkle_nodes (tenant_id, level, idx, hash) SELECT {t}, 1, 1, hash FROM merkle_nodes WHERE tenant_id = {t} AND level = 3 AND idx = 0; \
             INSERT INTO merkle_nodes (tenant_id, level, idx, hash) SELECT {t}, 2, 5, hash FROM merkle_nodes WHERE tenant_id = {t} AND level = 3 AND idx = 0"
        ))
        .unwrap();
        let latest = get(&app, &admin, "/api/v1/integrity/checkpoint").await.expect(200).body;
        let signed = Checkpoint::open(latest["note"].as_str().unwrap(), &key).unwrap();
        for (index, id) in first["ids"].as_array().unwrap().iter().enumerate() {
            let proof = get(&app, &admin, &format!("/api/v1/events/{id}/proof?tree_size=10")).await.expect(200).body;
            let leaf_hash: [u8; 32] = BASE64.decode(proof["leaf_hash"].as_str().unwrap()).unwrap().try_into().unwrap();
            let path: Vec<[u8; 32]> = proof["proof"].as_array().unwrap().iter().map(|h| BASE64.decode(h.as_str().unwrap()).unwrap().try_into().unwrap()).collect();
            assert!(rfc9162::verify_inclusion(index as u64, 10, &leaf_hash, &path, &signed.root), "event {index}");
        }
        // Leaves 20-23 arrive after the row planted for them: ingest is neither blocked nor misled.
        let later = ingest(&app, &admin, 10, 15).await;
        assert_eq!(later["receipt"]["checkpoint"]["tree_size"], 25, "{later}");
        let result = get(&app, &admin, "/api/v1/integrity/verify").await.expect(200).body;
        assert_eq!((result["ok"].as_bool(), result["first_bad_seq"].as_i64()), (Some(false), Some(3)), "{result}");
        assert!(result["reason"].as_str().unwrap().contains("tree node"), "{result}");
    }

    async fn the_applications_own_role_cannot_rewrite_history(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        ingest(&app, &admin, 0, 10).await;
        let t = ctx.acme_id;
        let id: i64 = events::table.filter(events::tenant_id.eq(t)).filter(events::seq.eq(3)).select(events::id).first(&mut ctx.pool.get().unwrap()).unwrap();
        let mut conn = ctx.pool.get().unwrap();
        if conn.backend() == Backend::Postgres {
            // With the application's credentials the doors are closed, not only watched.
            for (sql, refusal) in [
                ("INSERT INTO mutation_guard (mode) VALUES ('tombstone')".to_string(), "permission denied"),
                (format!("UPDATE events SET description = 'x' WHERE tenant_id = {t} AND seq = 3"), "permission denied"),
                (format!("UPDATE events SET deleted_at = recorded_at WHERE tenant_id = {t} AND seq = 3"), "permission denied"),
                (format!("DELETE FROM events WHERE tenant_id = {t} AND seq <= 5"), "permission denied"),
                ("TRUNCATE events".to_string(), "permission denied"),
                ("UPDATE merkle_nodes SET hash = hash".to_string(), "permission denied"),
                ("DELETE FROM merkle_nodes".to_string(), "permission denied"),
                (format!("UPDATE tenants SET chain_base_seq = 5 WHERE id = {t}"), "permission denied"),
                ("ALTER TABLE events DISABLE TRIGGER USER".to_string(), "must be owner"),
                (format!("SELECT auditlog_tombstone({t}, {id}, '[]')"), "is not a deletion record"),
                (format!("SELECT auditlog_retain({t}, 5, 'x')"), "no archive"),
            ] {
                let error = conn.batch_execute(&sql).expect_err(&sql).to_string();
                assert!(error.contains(refusal), "{sql}: {error}");
            }
        } else {
            // SQLite has no roles: whoever can write the file opens the door, and verification
            // is the defence. The attack of the threat model: rewrite an event inside the door.
            conn.batch_execute(&format!(
                "INSERT INTO mutation_guard (mode) VALUES ('tombstone'); \
                 UPDATE events SET actor_name = 'Someone Else', description = 'rewritten', deleted_at = recorded_at, deleted_by = 'a1' WHERE tenant_id = {t} AND seq = 3; \
                 DELETE FROM mutation_guard"
            ))
            .unwrap();
            let result = get(&app, &admin, "/api/v1/integrity/verify").await.expect(200).body;
            assert_eq!((result["ok"].as_bool(), result["first_bad_seq"].as_i64()), (Some(false), Some(3)), "{result}");
            return;
        }
        let result = get(&app, &admin, "/api/v1/integrity/verify").await.expect(200).body;
        assert_eq!(result["ok"], true, "{result}");
    }

    async fn a_verification_during_ingest_reads_one_moment_and_passes(ctx: Ctx) {
        // Events committed while a check runs are neither "beyond the recorded head" nor missing:
        // the check reads the head and the rows after it from one snapshot.
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        ingest(&app, &token, 0, 50).await;
        let server = ctx.serve().await;
        let (url, done) = (server.url.clone(), std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0)));
        let caller = token.clone();
        let results = at_once(4, move |i| {
            let token = caller.as_str();
            let mut seen = Vec::new();
            if i < 2 {
                for batch in 0..15 {
                    let events: Vec<Value> = (0..20)
                        .map(|n| json!({"action": "booking.updated", "actor": {"id": format!("w{i}")}, "description": format!("{i}-{batch}-{n}")}))
                        .collect();
                    let (status, body) = call("POST", &format!("{url}/api/v1/events"), Some(token), Some(&json!({"events": events})));
                    assert_eq!(status, 201, "{body}");
                }
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                return seen;
            }
            // Verify at least three times, and on until both writers are done.
            while seen.len() < 3 || done.load(std::sync::atomic::Ordering::SeqCst) < 2 {
                let (status, body) = call("GET", &format!("{url}/api/v1/integrity/verify"), Some(token), None);
                assert_eq!(status, 200, "{body}");
                seen.push(body);
            }
            seen
        })
        .await;
        let runs: Vec<&Value> = results.iter().flatten().collect();
        assert!(runs.len() >= 6, "{runs:?}");
        for run in &runs {
            assert_eq!(run["ok"], true, "a run during ingest failed: {run}");
        }
        let last = get(&app, &token, "/api/v1/integrity/verify").await.expect(200).body;
        assert_eq!(last["ok"], true, "{last}");
        assert!(last["events_checked"].as_i64().unwrap() >= 650, "{last}");
    }

    async fn receipts_and_proofs_check_with_the_public_key_alone(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let key = send(&app, TestRequest::get().uri("/api/v1/integrity/public-key")).await.expect(200);
        let key = Verifier::parse(key.body.as_str().unwrap()).unwrap();
        assert_eq!(key.to_string(), ctx.state.notary.verifier().to_string());

        let first = ingest(&app, &admin, 0, 7).await;
        let receipt = &first["receipt"];
        assert_eq!(receipt["leaf_indexes"], json!([0, 1, 2, 3, 4, 5, 6]));
        let signed = Checkpoint::open(receipt["checkpoint"]["note"].as_str().unwrap(), &key).unwrap();
        assert_eq!((signed.origin.as_str(), signed.size), ("activity-log.test/acme", 7));
        assert_eq!(receipt["checkpoint"]["root_hash"], BASE64.encode(signed.root));
        // Another tenant's key name does not verify it.
        assert!(Checkpoint::open(receipt["checkpoint"]["note"].as_str().unwrap(), &Signer::generate(LOG_NAME).unwrap().verifier()).is_err());

        for n in 0..6 {
            ingest(&app, &admin, 100 + n * 3, 1 + n).await;
        }
        let latest = get(&app, &admin, "/api/v1/integrity/checkpoint").await.expect(200).body;
        let latest_cp = Checkpoint::open(latest["note"].as_str().unwrap(), &key).unwrap();
        assert_eq!(latest_cp.size, 7 + 21);

        // Inclusion: every event of the first receipt, at the receipt's size and the latest, with
        // the server's verifier and an independent one written from the RFC.
        let ids = first["ids"].as_array().unwrap().clone();
        for (index, id) in ids.iter().enumerate() {
            for (size, root) in [(7u64, signed.root), (latest_cp.size, latest_cp.root)] {
                let proof = get(&app, &admin, &format!("/api/v1/events/{id}/proof?tree_size={size}")).await.expect(200).body;
                assert_eq!(proof["leaf_index"], index);
                let leaf: Vec<u8> = proof["leaf"].as_str().unwrap().as_bytes().to_vec();
                let leaf_hash: [u8; 32] = BASE64.decode(proof["leaf_hash"].as_str().unwrap()).unwrap().try_into().unwrap();
                assert_eq!(rfc9162::leaf_hash(&leaf), leaf_hash);
                let path: Vec<[u8; 32]> = proof["proof"].as_array().unwrap().iter().map(|h| BASE64.decode(h.as_str().unwrap()).unwrap().try_into().unwrap()).collect();
                assert!(rfc9162::verify_inclusion(index as u64, size, &leaf_hash, &path, &root));
                auditlog_tlog::merkle::verify_inclusion(index as u64, size, &leaf_hash, &path, &root).unwrap();
                assert!(!rfc9162::verify_inclusion(index as u64 + 1, size, &leaf_hash, &path, &root), "a wrong index fails");
                let served = Checkpoint::open(proof["checkpoint"]["note"].as_str().unwrap(), &key).unwrap();
                assert_eq!((served.size, served.root), (size, root));
                let content: Value = serde_json::from_slice(&leaf).unwrap();
                assert_eq!((content["id"].clone(), content["seq"].as_i64(), content["submitter"].clone()), (id.clone(), Some(index as i64 + 1), json!(format!("user:{}", ctx.admin.id))));
                assert!(!proof["leaf"].as_str().unwrap().contains("Ann Example"), "personal data is only a salted digest in the leaf");
            }
        }
        // Consistency: the receipt's tree is a prefix of every later signed one.
        let list = get(&app, &admin, "/api/v1/integrity/checkpoints?after=7").await.expect(200).body;
        let sizes: Vec<i64> = list["items"].as_array().unwrap().iter().map(|c| c["tree_size"].as_i64().unwrap()).collect();
        assert_eq!(sizes, [8, 10, 13, 17, 22, 28]);
        for item in list["items"].as_array().unwrap() {
            let later = Checkpoint::open(item["note"].as_str().unwrap(), &key).unwrap();
            let body = get(&app, &admin, &format!("/api/v1/integrity/consistency?first=7&second={}", later.size)).await.expect(200).body;
            let proof: Vec<[u8; 32]> = body["proof"].as_array().unwrap().iter().map(|h| BASE64.decode(h.as_str().unwrap()).unwrap().try_into().unwrap()).collect();
            assert!(rfc9162::verify_consistency(7, later.size, &signed.root, &later.root, &proof), "7 → {}", later.size);
            assert!(!rfc9162::verify_consistency(6, later.size, &signed.root, &later.root, &proof));
        }
        // Bad requests: a size nobody signed, an event beyond it, another tenant's event.
        get(&app, &admin, &format!("/api/v1/events/{}/proof?tree_size=9", ids[0])).await.problem(404);
        get(&app, &admin, "/api/v1/integrity/consistency?first=9&second=8").await.problem(404);
        get(&app, &admin, "/api/v1/integrity/consistency?first=0").await.problem(400);
        get(&app, &admin, &format!("/api/v1/events/{}/proof?tree_size=abc", ids[0])).await.problem(400);
        let newest = ingest(&app, &admin, 500, 1).await["ids"][0].clone();
        get(&app, &admin, &format!("/api/v1/events/{newest}/proof?tree_size=7")).await.problem(404);
        get(&app, &ctx.token(&ctx.other_admin), &format!("/api/v1/events/{}/proof", ids[0])).await.problem(404);
        send(&app, TestRequest::get().uri("/api/v1/integrity/checkpoint")).await.problem(401);

        // A replayed request answers a receipt that still covers its events.
        let body = json!({"action": "invoice.sent", "external_id": "inv-1"});
        let once = post(&app, &admin, "/api/v1/events", &body).await.expect(201).body;
        let twice = post(&app, &admin, "/api/v1/events", &body).await.expect(201).body;
        assert_eq!(once["receipt"]["leaf_indexes"], twice["receipt"]["leaf_indexes"]);
        assert!(twice["receipt"]["checkpoint"]["tree_size"].as_i64() >= once["receipt"]["checkpoint"]["tree_size"].as_i64());
    }

    async fn clients_cannot_post_the_products_own_records(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let created = post(&app, &admin, "/api/v1/tokens", &json!({"name": "crm", "scopes": ["events:write"]})).await.expect(201).body;
        let token = created["secret"].as_str().unwrap().to_string();
        for action in ["auditlog.deleted", "auth.login", "integrity.failed", "user.role_changed", "token.created", "alert_rule.disabled"] {
            let reply = post(&app, &token, "/api/v1/events", &json!({"action": action, "actor": {"id": "a1", "name": "Ada Admin"}})).await.problem(422);
            assert_eq!(reply.pointers(), ["/action"], "{action}");
            post(&app, &admin, "/api/v1/events", &json!({"action": action})).await.problem(422);
        }
        // What a token posts records the token as its submitter, inside the leaf.
        let posted = post(&app, &token, "/api/v1/events", &json!({"action": "auditing.deleted", "actor": {"id": "a1", "name": "Ada Admin"}})).await.expect(201).body;
        let proof = get(&app, &admin, &format!("/api/v1/events/{}/proof", posted["ids"][0])).await.expect(200).body;
        let leaf: Value = serde_json::from_str(proof["leaf"].as_str().unwrap()).unwrap();
        assert_eq!(leaf["submitter"], format!("token:{}", created["token"]["id"]));
        // The product's own records are never deleted.
        let login = ingest(&app, &admin, 0, 1).await;
        let own = get(&app, &admin, "/api/v1/events?action=token.created").await.ids();
        let delete = TestRequest::delete().uri("/api/v1/events").insert_header(("authorization", format!("Bearer {admin}")))
            .set_json(json!({"ids": [own[0], login["ids"][0]], "reason": "cover tracks"}));
        assert_eq!(send(&app, delete).await.problem(422).pointers(), ["/ids"]);
        assert_eq!(get(&app, &admin, &format!("/api/v1/events/{}", login["ids"][0])).await.body["deleted_at"], Value::Null);
        // Nor is a deletion record: its reason and ids stay.
        let delete = |ids: Value| TestRequest::delete().uri("/api/v1/events").insert_header(("authorization", format!("Bearer {admin}")))
            .set_json(json!({"ids": ids, "reason": "data-subject request"}));
        send(&app, delete(json!([posted["ids"][0]]))).await.expect(200);
        let record = get(&app, &admin, "/api/v1/events?action=auditlog.deleted").await.ids();
        assert_eq!(record.len(), 1);
        assert_eq!(send(&app, delete(json!([record[0]]))).await.problem(422).pointers(), ["/ids"]);
        let kept = get(&app, &admin, &format!("/api/v1/events/{}", record[0])).await.expect(200).body;
        assert_eq!(kept["deleted_at"], Value::Null);
        assert_eq!(kept["metadata"]["reason"], "data-subject request", "{kept}");
    }

    async fn a_tampered_right_edge_is_never_signed(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        // Each request's receipt is signed for the tree it grew from the latest checkpoint.
        for (from, count) in [(0, 10), (10, 10), (20, 5)] {
            let receipt = ingest(&app, &admin, from, count).await;
            assert_eq!(receipt["receipt"]["checkpoint"]["tree_size"], (from + count) as i64, "{receipt}");
        }
        // The stored right edge of the 25-leaf tree is leaves 0-15, 16-23 and 24: forge 16-23.
        let owner = ctx.db.owner_pool(1);
        let t = ctx.acme_id;
        tamper(&mut owner.get().unwrap(), &format!(
            "UPDATE merkle_nodes SET hash = (SELECT hash FROM merkle_nodes WHERE tenant_id = {t} AND level = 3 AND idx = 0) WHERE tenant_id = {t} AND level = 3 AND idx = 2"));
        // The next ingest grows its tree from the forged edge: its root does not extend the
        // signed one, so nothing is signed.
        let reply = post(&app, &admin, "/api/v1/events", &json!({"action": "booking.updated", "description": "after the forgery"})).await;
        assert_ne!(reply.status.as_u16(), 201, "{}", reply.body);
        let latest = get(&app, &admin, "/api/v1/integrity/checkpoint").await.expect(200).body;
        assert_eq!(latest["tree_size"], 25, "{latest}");
    }

    async fn deleting_keeps_every_leaf_and_is_bound_to_its_record(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let ids = post(&app, &admin, "/api/v1/events", &json!({"events": [
            {"action": "customer.created", "actor": {"id": "u1", "name": "Mia"}, "entity": {"type": "customer", "id": "c9", "label": "Private Person"}, "related": [{"type": "account", "id": "a1"}], "ip": "10.1.1.1"},
            {"action": "customer.updated", "actor": {"id": "u1", "name": "Mia"}, "entity": {"type": "customer", "id": "c9"}},
            {"action": "booking.created", "actor": {"id": "s2", "name": "Sam"}}
        ]})).await.expect(201).ids();
        let delete = |body: Value, token: &str| {
            TestRequest::delete().uri("/api/v1/events").insert_header(("authorization", format!("Bearer {token}"))).set_json(body)
        };
        send(&app, delete(json!({"ids": [ids[0]], "reason": "GDPR request"}), &ctx.token(&ctx.manager))).await.problem(403);
        assert_eq!(send(&app, delete(json!({"ids": [ids[0]], "reason": " "}), &admin)).await.problem(422).pointers(), ["/reason"]);
        send(&app, delete(json!({"ids": [ids[0], 999_999], "reason": "GDPR request"}), &admin)).await.problem(422);
        send(&app, delete(json!({"ids": [ids[0]], "reason": "x"}), &ctx.token(&ctx.other_admin))).await.problem(422);
        assert_eq!(get(&app, &admin, &format!("/api/v1/events/{}", ids[0])).await.body["deleted_at"], Value::Null, "nothing deleted yet");
        let before = get(&app, &admin, &format!("/api/v1/events/{}/proof", ids[0])).await.expect(200).body;

        let done = send(&app, delete(json!({"ids": [ids[0], ids[1]], "reason": "GDPR request #42"}), &admin)).await.expect(200).body;
        assert_eq!(done["deleted"], json!([ids[0], ids[1]]));
        let again = send(&app, delete(json!({"ids": [ids[0]], "reason": "again"}), &admin)).await.expect(200).body;
        assert_eq!((again["deleted"].clone(), again["already_deleted"].clone()), (json!([]), json!([ids[0]])));

        let check = get(&app, &admin, "/api/v1/integrity/verify").await.body;
        assert_eq!(check["ok"], true, "{check}");
        // The leaf stays, and still recomputes from what the tombstone kept: its proof holds.
        let after = get(&app, &admin, &format!("/api/v1/events/{}/proof?tree_size={}", ids[0], before["tree_size"])).await.expect(200).body;
        assert_eq!((after["leaf_hash"].clone(), after["proof"].clone(), after["leaf"].clone()), (before["leaf_hash"].clone(), before["proof"].clone(), before["leaf"].clone()));
        assert!(!after["leaf"].as_str().unwrap().contains("Private") && after["salt"].is_null(), "{after}");
        let tomb = get(&app, &admin, &format!("/api/v1/events/{}", ids[0])).await.expect(200).body;
        assert_eq!(tomb["deleted_by"], "a1");
        assert!(!tomb.to_string().contains("Private Person"));
        assert_eq!(get(&app, &admin, "/api/v1/events?q=private").await.body["total"], 0);
        assert_eq!(get(&app, &admin, "/api/v1/entities/account/a1/history").await.body["total"], 0);
        let log = get(&app, &admin, "/api/v1/events?action=auditlog.deleted").await.body;
        assert_eq!(log["items"][0]["id"], done["deletion_event_id"]);
        assert_eq!(log["items"][0]["metadata"], json!({"ids": [ids[0], ids[1]], "count": 2, "reason": "GDPR request #42"}));
        // The record is the tombstone's time and author, and the tombstone's details name it.
        assert_eq!(tomb["deleted_at"], log["items"][0]["recorded_at"]);
        assert_eq!(tomb["deletion"], json!({
            "record_id": done["deletion_event_id"],
            "actor": {"id": "a1", "name": "Ada Admin", "email": "admin@acme.test", "role": "admin", "type": "user"},
            "at": tomb["deleted_at"],
            "reason": "GDPR request #42",
        }));
        let listed = get(&app, &admin, "/api/v1/events?per_page=100").await.expect(200).body;
        let row = listed["items"].as_array().unwrap().iter().find(|e| e["id"] == ids[0]).unwrap();
        assert!(row["deleted_at"].is_string() && row.get("deletion").is_none(), "only the details carry it: {row}");
        assert!(get(&app, &admin, &format!("/api/v1/events/{}", ids[2])).await.body.get("deletion").is_none());

        // Un-tombstoning — the content put back, even exactly — breaks the record's word.
        let owner = ctx.db.owner_pool(1);
        let mut conn = owner.get().unwrap();
        snapshot(&mut conn);
        let t = ctx.acme_id;
        tamper(&mut conn, &format!("UPDATE events SET deleted_at = NULL, deleted_by = NULL, actor_id = 's2', actor_name = 'Sam', description = 'x' WHERE tenant_id = {t} AND id = {}", ids[1]));
        let result = get(&app, &admin, "/api/v1/integrity/verify").await.body;
        assert_eq!(result["ok"], false, "{result}");
        restore(&mut conn);
        // A record naming an event that stays live is caught too.
        tamper(&mut conn, &format!("UPDATE events SET metadata = '{{\"count\":3,\"ids\":[{},{},{}],\"reason\":\"GDPR request #42\"}}' WHERE tenant_id = {t} AND id = {}", ids[0], ids[1], ids[2], done["deletion_event_id"]));
        let result = get(&app, &admin, "/api/v1/integrity/verify").await.body;
        assert_eq!(result["ok"], false, "{result}");
        restore(&mut conn);
        assert_eq!(get(&app, &admin, "/api/v1/integrity/verify").await.body["ok"], true);
    }

    async fn retention_boundaries_are_signed_and_archives_check_offline(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        seed_recorded(&ctx, 30, 40);
        seed_recorded(&ctx, 12, 10);
        seed_recorded(&ctx, 5, 0);
        let put = |body: Value, token: &str| {
            TestRequest::put().uri("/api/v1/settings/retention").insert_header(("authorization", format!("Bearer {token}"))).set_json(body)
        };
        assert_eq!(get(&app, &admin, "/api/v1/settings/retention").await.expect(200).body, json!({"days": null}));
        send(&app, put(json!({"days": 0}), &admin)).await.problem(422);
        send(&app, put(json!({"days": 30}), &ctx.token(&ctx.manager))).await.problem(403);
        send(&app, put(json!({"days": 30}), &admin)).await.expect(200);
        let changed = get(&app, &admin, "/api/v1/events?action=auditlog.retention_changed").await.body;
        assert_eq!(changed["items"][0]["changes"], json!([{"field": "retention_days", "old": null, "new": 30}]));

        // A crash after the file is written (and the boundary signed) but before rows are removed
        // loses and doubles nothing, and leaves the log consistent.
        let mut conn = ctx.pool.get().unwrap();
        let cutoff = Utc::now().naive_utc() - TimeDelta::days(30);
        let dir = ctx.state.settings.archive_dir.clone();
        assert!(archive_next(&mut conn, &ctx.state.notary, ctx.acme_id, cutoff, &dir, 1000, &mut |_, _, _| {
            Err(auditlog_db::StoreError::Conflict("simulated crash before removal".into()))
        }).is_err());
        let still = get(&app, &admin, "/api/v1/integrity/verify").await.body;
        assert_eq!((still["ok"].as_bool(), still["events_checked"].as_i64()), (Some(true), Some(48)), "{still}");

        let archives = auditlog_api::retention::run_for_tenant(&mut conn, &ctx.state.notary, &ctx.state.settings, ctx.acme_id, |_| {}).unwrap().unwrap();
        assert_eq!(archives.len(), 1);
        let a = &archives[0];
        assert_eq!((a.first_seq, a.last_seq, a.event_count), (1, 30, 30), "exactly the expired prefix");
        let path = auditlog_db::archive::tenant_dir(&dir, &auditlog_db::TenantSlug::parse("acme").unwrap()).join(&a.file_name);
        assert_eq!(checksum(&path).unwrap().0, a.sha256);
        // The file proves itself with the public key: its events recompute the signed boundary.
        let key = ctx.state.notary.verifier().clone();
        let proof = verify_file(&path, Some(&key)).unwrap();
        assert_eq!((proof.header.first_seq, proof.header.last_seq, proof.header.count), (1, 30, 30));
        let boundary = proof.boundary.unwrap();
        assert_eq!((boundary.origin.as_str(), boundary.size), ("activity-log.test/acme/archived", 30));
        assert!(verify_file(&path, Some(&Signer::generate(LOG_NAME).unwrap().verifier())).is_err(), "another key");
        let live = get(&app, &admin, "/api/v1/integrity/verify").await.body;
        // 49 events, the 30 archived gone; the verification run before archiving is recorded too.
        assert_eq!((live["ok"].as_bool(), live["checkpoint_seq"].as_i64(), live["events_checked"].as_i64()), (Some(true), Some(30), Some(50 - 30)), "{live}");
        let second = auditlog_api::retention::run_for_tenant(&mut conn, &ctx.state.notary, &ctx.state.settings, ctx.acme_id, |_| {}).unwrap().unwrap();
        assert!(second.is_empty());
        // Proofs of live events still hold after the prefix went.
        let newest = get(&app, &admin, "/api/v1/events?per_page=10").await.ids();
        let proof = get(&app, &admin, &format!("/api/v1/events/{}/proof", newest[0])).await.expect(200).body;
        let root: [u8; 32] = BASE64.decode(proof["checkpoint"]["root_hash"].as_str().unwrap()).unwrap().try_into().unwrap();
        let leaf: [u8; 32] = BASE64.decode(proof["leaf_hash"].as_str().unwrap()).unwrap().try_into().unwrap();
        let path_hashes: Vec<[u8; 32]> = proof["proof"].as_array().unwrap().iter().map(|h| BASE64.decode(h.as_str().unwrap()).unwrap().try_into().unwrap()).collect();
        assert!(rfc9162::verify_inclusion(proof["leaf_index"].as_u64().unwrap(), proof["tree_size"].as_u64().unwrap(), &leaf, &path_hashes, &root));

        // The boundary moved further without a signed one, or the archive file gone: detected.
        let owner = ctx.db.owner_pool(1);
        let mut owner_conn = owner.get().unwrap();
        snapshot(&mut owner_conn);
        let t = ctx.acme_id;
        tamper(&mut owner_conn, &format!("DELETE FROM events WHERE tenant_id = {t} AND seq <= 33; UPDATE tenants SET chain_base_seq = 33 WHERE id = {t}"));
        let moved = get(&app, &admin, "/api/v1/integrity/verify").await.body;
        assert_eq!((moved["ok"].as_bool(), moved["first_bad_seq"].as_i64()), (Some(false), Some(1)), "{moved}");
        restore(&mut owner_conn);
        std::fs::rename(&path, path.with_extension("moved")).unwrap();
        let gone = get(&app, &admin, "/api/v1/integrity/verify").await.body;
        assert!(gone["reason"].as_str().unwrap().contains("archive file"), "{gone}");
        std::fs::rename(path.with_extension("moved"), &path).unwrap();
        assert_eq!(get(&app, &admin, "/api/v1/integrity/verify").await.body["ok"], true);

        let list = get(&app, &admin, "/api/v1/archives").await.expect(200).body;
        assert_eq!(list["items"][0]["sha256"], a.sha256.as_str());
        let req = TestRequest::get().uri(&format!("/api/v1/archives/{}", a.id)).insert_header(("authorization", format!("Bearer {admin}")));
        let response = test::call_service(&app, req.to_request()).await;
        assert_eq!(response.status(), 200);
        assert_eq!(test::read_body(response).await.to_vec(), std::fs::read(&path).unwrap());
        get(&app, &ctx.token(&ctx.other_admin), &format!("/api/v1/archives/{}", a.id)).await.problem(404);
        get(&app, &ctx.token(&ctx.manager), "/api/v1/archives").await.problem(403);
        let _ = std::fs::remove_dir_all(&dir);
    }

    async fn events_stored_before_the_tree_get_one_and_a_first_checkpoint(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        // A database of the previous version: events with chain hashes (leaf format 1) and no
        // tree; one of them deleted then.
        let owner = ctx.db.owner_pool(1);
        let mut conn = owner.get().unwrap();
        let t = ctx.acme_id;
        let mut prev = GENESIS_HASH.to_string();
        let mut rows = Vec::new();
        for seq in 1..=12i64 {
            let mut row = new_row(&EventRow {
                id: auditlog_db::EventId(10_000 + seq), tenant_id: t, seq, external_id: None, occurred_at: Utc::now().naive_utc(), recorded_at: chrono::DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap().naive_utc(),
                actor_id: "u1".into(), actor_type: "user".into(), actor_name: "Old Timer".into(), actor_email: None, actor_role: None, admin_private: false,
                action: "booking.created".into(), module: "booking".into(), verb: "created".into(), entity_type: None, entity_id: None, entity_label: None,
                description: format!("old {seq}"), changes: "[]".into(), related: "[]".into(), metadata: "{}".into(), ip: String::new(), user_agent: None,
                prev_hash: prev.clone(), hash: String::new(), deleted_at: None, deleted_by: None, leaf_version: 1, submitted_by: None, salt: None, flags: 0, flag_reasons: None,
            });
            row.hash = auditlog_db::chain::event_hash(&prev, &row.chain_input());
            prev = row.hash.clone();
            rows.push(row);
        }
        match &mut *conn {
            DbConnection::Pg(pg) => { diesel::insert_into(events::table).values(&rows).execute(pg).unwrap(); }
            DbConnection::Sqlite(lite) => { for row in &rows { diesel::insert_into(events::table).values(row).execute(lite).unwrap(); } }
        }
        diesel::update(tenants::table.find(t)).set((tenants::head_seq.eq(12), tenants::head_hash.eq(&prev))).execute(&mut conn).unwrap();
        // Ingest waits for the tree.
        post(&app, &admin, "/api/v1/events", &json!({"action": "booking.updated"})).await.problem(409);

        let built = auditlog_api::integrity::build_trees(&mut ctx.pool.get().unwrap(), &ctx.state.notary, &ctx.state.settings).unwrap();
        assert_eq!(built, [("acme".to_string(), 12)]);
        let first = get(&app, &admin, "/api/v1/integrity/checkpoint").await.expect(200).body;
        assert_eq!(first["tree_size"], 12);
        ingest(&app, &admin, 0, 3).await;
        let result = get(&app, &admin, "/api/v1/integrity/verify").await.body;
        assert_eq!((result["ok"].as_bool(), result["events_checked"].as_i64(), result["checkpoints_checked"].as_i64()), (Some(true), Some(15), Some(2)), "{result}");
        // An old event's proof: its leaf commits to its chain hash, which covers its content.
        let proof = get(&app, &admin, "/api/v1/events/10005/proof").await.expect(200).body;
        let leaf: Value = serde_json::from_str(proof["leaf"].as_str().unwrap()).unwrap();
        assert_eq!(leaf, json!({"chain_hash": rows[4].hash, "id": 10005, "seq": 5, "v": 1}));
        // An export of old events proves offline: each line's content against its chain hash, and
        // one deleted since (blanked as before the tree), whose content is gone, by its leaf alone.
        let blank = "deleted_at = recorded_at, deleted_by = 'a1', actor_id = '', actor_name = '', description = ''";
        tamper(&mut conn, &format!("UPDATE events SET {blank} WHERE tenant_id = {t} AND seq = 7"));
        let csv = get(&app, &admin, "/api/v1/events/export?format=csv&module=booking&action=booking.created").await;
        let through = csv.headers.get("x-through-seq").unwrap().to_str().unwrap().to_string();
        let manifest = get(&app, &admin, &format!("/api/v1/events/export?format=manifest&module=booking&action=booking.created&through_seq={through}")).await;
        let (csv, manifest) = (csv.body.as_str().unwrap().to_string(), manifest.body.as_str().unwrap().to_string());
        let key = ctx.state.notary.verifier().clone();
        let proof = auditlog_api::exports::check::verify(&csv, &manifest, &key).expect("old events export and prove");
        assert_eq!((proof.rows, proof.first_seq, proof.last_seq), (12, 1, 12));
        let lines: Vec<Value> = manifest.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert!(lines[1]["legacy"].is_string() && lines[1]["prev_hash"].is_string(), "{}", lines[1]);
        assert_eq!((lines[7]["seq"].as_i64(), lines[7]["deleted"].as_bool(), lines[7].get("leaf")), (Some(7), Some(true), None));
        let filled = csv.replacen("booking,created,booking.created,,,,,,,[]", "booking,created,booking.created,,,,back,,,[]", 1);
        assert_ne!(filled, csv);
        assert!(auditlog_api::exports::check::verify(&filled, &manifest, &key).unwrap_err().contains("deleted entry"));
        // Another hash in a row (the `hash` cell of seq 4, before its `prev_hash`): its leaf differs.
        let rehashed = csv.replacen(&format!("{},{}", rows[3].hash, rows[2].hash), &format!("{},{}", rows[2].hash, rows[2].hash), 1);
        assert_ne!(rehashed, csv);
        assert!(auditlog_api::exports::check::verify(&rehashed, &manifest, &key).unwrap_err().contains("hashes differ"));
        tamper(&mut conn, &format!("UPDATE events SET deleted_at = NULL, deleted_by = NULL, actor_id = 'u1', actor_name = 'Old Timer', description = 'old 7' WHERE tenant_id = {t} AND seq = 7"));
        // Its content edited: caught by the old chain inside the new leaf.
        tamper(&mut conn, &format!("UPDATE events SET description = 'new past' WHERE tenant_id = {t} AND seq = 5"));
        let result = get(&app, &admin, "/api/v1/integrity/verify").await.body;
        assert_eq!((result["ok"].as_bool(), result["first_bad_seq"].as_i64()), (Some(false), Some(5)), "{result}");
    }

    async fn archive_files_are_read_and_written_inside_the_archive_folder_only(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        seed_recorded(&ctx, 10, 40);
        seed_recorded(&ctx, 2, 0);
        let settings = &ctx.state.settings;
        let mut conn = ctx.pool.get().unwrap();
        auditlog_db::archive::set_retention(&mut conn, ctx.acme_id, Some(30)).unwrap();
        let archives = auditlog_api::retention::run_for_tenant(&mut conn, &ctx.state.notary, settings, ctx.acme_id, |_| {}).unwrap().unwrap();
        let a = &archives[0];
        let uri = format!("/api/v1/archives/{}", a.id);
        let request = || TestRequest::get().uri(&uri).insert_header(("authorization", format!("Bearer {admin}"))).to_request();
        let response = test::call_service(&app, request()).await;
        assert_eq!(response.status(), 200);
        let name = &a.file_name;
        assert_eq!(response.headers().get("content-disposition").unwrap(), format!("attachment; filename=\"{name}\"; filename*=UTF-8''{name}").as_str());

        // A file outside the folder, and archive rows edited to name it: by a relative path, an
        // absolute one, and a link inside the folder that leads out.
        let dir = settings.archive_dir.clone();
        let outside = dir.with_extension("secret");
        std::fs::write(&outside, "not an archive").unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("acme").join("link.jsonl.gz")).unwrap();
        let owner = ctx.db.owner_pool(1);
        let mut owner_conn = owner.get().unwrap();
        let set_name = |conn: &mut DbConnection, name: &str| {
            diesel::update(auditlog_db::schema::archives::table.find(a.id))
                .set(auditlog_db::schema::archives::file_name.eq(name))
                .execute(conn)
                .unwrap();
        };
        let relative = format!("../../{}", outside.file_name().unwrap().to_str().unwrap());
        for hostile in [relative.as_str(), outside.to_str().unwrap(), "link.jsonl.gz", "..", "."] {
            set_name(&mut owner_conn, hostile);
            let reply = send(&app, TestRequest::get().uri(&uri).insert_header(("authorization", format!("Bearer {admin}")))).await.problem(409);
            let body = reply.body.to_string();
            assert!(!body.contains("not an archive") && !body.contains("secret") && !body.contains("/tmp"), "{hostile}: {body}");
            let verified = get(&app, &admin, "/api/v1/integrity/verify").await.body;
            assert_eq!(verified["ok"], false, "{hostile}");
            assert!(verified["reason"].as_str().unwrap().contains("outside the archive folder"), "{hostile}: {verified}");
        }
        set_name(&mut owner_conn, name);
        assert_eq!(test::call_service(&app, request()).await.status(), 200);
        assert_eq!(get(&app, &admin, "/api/v1/integrity/verify").await.body["ok"], true);

        // Writing: a tenant folder that is a link out of ARCHIVE_DIR is refused, nothing is written.
        let globex = ctx.other_admin.tenant_id;
        let drafts: Vec<EventDraft> = (0..5).map(event_draft).collect();
        store_events(&mut conn, globex, None, &drafts, Utc::now().naive_utc() - TimeDelta::days(40)).unwrap();
        store_events(&mut conn, globex, None, &drafts[..1], Utc::now().naive_utc()).unwrap();
        auditlog_db::archive::set_retention(&mut conn, globex, Some(30)).unwrap();
        let elsewhere = dir.with_extension("elsewhere");
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, dir.join("globex")).unwrap();
        assert!(auditlog_api::retention::run_for_tenant(&mut conn, &ctx.state.notary, settings, globex, |_| {}).is_err());
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0, "nothing written through the link");
        std::fs::remove_file(dir.join("globex")).unwrap();

        // A slug stored before the rule that would lead out of the folder: that tenant is not
        // archived (the scheduled run goes on with the others), and nothing is written.
        let escaped = format!("../{}-escaped", dir.file_name().unwrap().to_str().unwrap());
        diesel::update(tenants::table.find(globex)).set(tenants::slug.eq(&escaped)).execute(&mut owner_conn).unwrap();
        let refused = auditlog_api::retention::run_for_tenant(&mut conn, &ctx.state.notary, settings, globex, |_| {}).unwrap_err();
        assert!(refused.to_string().contains("^[a-z0-9][a-z0-9-]{0,62}$"), "{refused}");
        assert!(auditlog_api::retention::run_all(&mut conn, &ctx.state.notary, settings).unwrap().is_empty());
        let escaped_path = dir.join(&escaped);
        assert!(!escaped_path.exists(), "{} was written", escaped_path.display());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "only acme's folder");
        for path in [outside, elsewhere.clone()] {
            let _ = std::fs::remove_file(&path);
        }
        let _ = std::fs::remove_dir_all(&elsewhere);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
