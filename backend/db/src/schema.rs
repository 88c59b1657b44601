//! Table definitions shared by both backends. Column types are chosen so that PostgreSQL and SQLite
//! map them identically (JSON is stored as text, timestamps as UTC `TIMESTAMP`).

diesel::table! {
    tenants (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        timezone -> Text,
        head_seq -> BigInt,
        head_hash -> Text,
        created_at -> Timestamp,
        retention_days -> Nullable<Integer>,
        chain_base_seq -> BigInt,
        chain_base_hash -> Text,
        tree_size -> BigInt,
        review_settings -> Nullable<Text>,
        field_visibility -> Nullable<Text>,
        record_links -> Nullable<Text>,
        derived_format -> Integer,
    }
}

diesel::table! {
    actor_sightings (tenant_id, actor_id) {
        tenant_id -> BigInt,
        actor_id -> Text,
        seen -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        role -> Text,
        actor_id -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        session_epoch -> Integer,
        last_sign_in_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    events (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        seq -> BigInt,
        external_id -> Nullable<Text>,
        occurred_at -> Timestamp,
        recorded_at -> Timestamp,
        actor_id -> Text,
        actor_type -> Text,
        actor_name -> Text,
        actor_email -> Nullable<Text>,
        actor_role -> Nullable<Text>,
        admin_private -> Bool,
        action -> Text,
        module -> Text,
        verb -> Text,
        entity_type -> Nullable<Text>,
        entity_id -> Nullable<Text>,
        entity_label -> Nullable<Text>,
        description -> Text,
        changes -> Text,
        related -> Text,
        metadata -> Text,
        ip -> Text,
        user_agent -> Nullable<Text>,
        search_text -> Text,
        ip_key -> Text,
        prev_hash -> Text,
        hash -> Text,
        deleted_at -> Nullable<Timestamp>,
        deleted_by -> Nullable<Text>,
        leaf_version -> Integer,
        submitted_by -> Nullable<Text>,
        salt -> Nullable<Text>,
        flags -> Integer,
        flag_reasons -> Nullable<Text>,
    }
}

diesel::table! {
    event_related (tenant_id, entity_type, entity_id, event_id) {
        tenant_id -> BigInt,
        entity_type -> Text,
        entity_id -> Text,
        event_id -> BigInt,
    }
}

diesel::table! {
    idempotency_keys (tenant_id, submitted_by, idempotency_key) {
        tenant_id -> BigInt,
        idempotency_key -> Text,
        request_hash -> Text,
        response -> Text,
        created_at -> Timestamp,
        submitted_by -> Text,
    }
}

diesel::table! {
    revoked_tokens (tenant_id, jti) {
        tenant_id -> BigInt,
        jti -> Text,
        expires_at -> Timestamp,
        revoked_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        name -> Text,
        scopes -> Text,
        secret_hash -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_throttle (throttle_key) {
        throttle_key -> Text,
        attempts -> Integer,
        first_at -> Timestamp,
        last_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    sign_in_addresses (tenant_id, user_id, ip) {
        tenant_id -> BigInt,
        user_id -> BigInt,
        ip -> Text,
        last_success_at -> Timestamp,
    }
}

diesel::table! {
    archives (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        file_name -> Text,
        first_seq -> BigInt,
        last_seq -> BigInt,
        event_count -> BigInt,
        first_recorded_at -> Timestamp,
        last_recorded_at -> Timestamp,
        prev_hash -> Text,
        last_hash -> Text,
        sha256 -> Text,
        size_bytes -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Events per action and actor, split by what visibility looks at; kept by triggers on
    /// `events`. `actor_email` is '' when the events name none.
    facet_counts (tenant_id, action, module, verb, actor_id, actor_name, actor_email, admin_private, deleted) {
        tenant_id -> BigInt,
        action -> Text,
        module -> Text,
        verb -> Text,
        actor_id -> Text,
        actor_name -> Text,
        actor_email -> Text,
        admin_private -> Bool,
        deleted -> Bool,
        event_count -> BigInt,
    }
}

diesel::table! {
    /// Events per 15-minute UTC slot of `occurred_at` (epoch seconds / 900), split by what
    /// visibility looks at; kept by triggers on `events`.
    slot_counts (tenant_id, slot, admin_private, deleted) {
        tenant_id -> BigInt,
        slot -> BigInt,
        admin_private -> Bool,
        deleted -> Bool,
        event_count -> BigInt,
    }
}

diesel::table! {
    /// Complete subtrees of each tenant's Merkle tree, level 1 and up (and the leaves a retention
    /// boundary needs): the node (level, idx) covers leaves `[idx·2^level, (idx+1)·2^level)`.
    merkle_nodes (tenant_id, level, idx) {
        tenant_id -> BigInt,
        level -> Integer,
        idx -> BigInt,
        hash -> Binary,
    }
}

diesel::table! {
    verifications (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        started_at -> Timestamp,
        finished_at -> Timestamp,
        tree_size -> BigInt,
        ok -> Bool,
        events_checked -> BigInt,
        checkpoints_checked -> BigInt,
        first_bad_seq -> Nullable<BigInt>,
        reason -> Nullable<Text>,
        trigger -> Text,
    }
}

diesel::table! {
    mutation_guard (mode) {
        mode -> Text,
    }
}

diesel::table! {
    alert_rules (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        name -> Text,
        query -> Text,
        filter -> Text,
        destination -> Text,
        secret -> Text,
        batch_max_events -> Integer,
        batch_max_seconds -> Integer,
        paused -> Bool,
        schedule -> Nullable<Text>,
        last_digest_at -> Nullable<Timestamp>,
        disabled_at -> Nullable<Timestamp>,
        disabled_reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        seal -> Nullable<Text>,
    }
}

diesel::table! {
    deliveries (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        rule_id -> BigInt,
        message_id -> Text,
        event_ids -> Text,
        event_count -> Integer,
        status -> Text,
        created_at -> Timestamp,
        next_attempt_at -> Timestamp,
        leased_until -> Nullable<Timestamp>,
        attempts -> Integer,
        last_attempt_at -> Nullable<Timestamp>,
        response_code -> Nullable<Integer>,
        latency_ms -> Nullable<Integer>,
        error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        period_start -> Nullable<Timestamp>,
        period_end -> Nullable<Timestamp>,
    }
}

diesel::joinable!(deliveries -> alert_rules (rule_id));

diesel::allow_tables_to_appear_in_same_query!(
    alert_rules,
    deliveries,
    actor_sightings,
    tenants,
    users,
    events,
    event_related,
    idempotency_keys,
    revoked_tokens,
    api_tokens,
    login_throttle,
    sign_in_addresses,
    archives,
    facet_counts,
    slot_counts,
    merkle_nodes,
    verifications,
    mutation_guard
);
