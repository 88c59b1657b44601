//! Dashboard users of the caller's tenant (admins only).

use actix_web::{get, patch, post, web};
use auditlog_db::models::{Change, Role, User};
use auditlog_db::queries::users::{self, NewUser, UserChanges};
use auditlog_db::{StoreError, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::accounts::sign_in::RoleSchema;
use crate::audit::AuditEvent;
use crate::auth::{hash_password, password_problem, Admin};
use crate::http::error::{AdminOnly, ApiError, FieldError, NotFound, Problem};
use crate::http::json::StrictJson;
use crate::http::reply::Created;
use crate::http::state::AppState;
use crate::text::{text_type, Email};

/// A user as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    /// User id.
    pub id: i64,
    /// Login e-mail, unique in the tenant.
    pub email: String,
    /// Display name.
    pub name: String,
    pub role: RoleSchema,
    /// The `actor.id` that marks events as this user's own.
    pub actor_id: String,
    /// Deactivated users cannot sign in and their sessions stop working.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The last successful sign-in with a password; `null` when the user never signed in.
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

impl From<&User> for UserOut {
    fn from(u: &User) -> Self {
        UserOut {
            id: u.id.get(),
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role().into(),
            actor_id: u.actor_id.clone(),
            active: u.active,
            created_at: u.created_at.and_utc(),
            updated_at: u.updated_at.and_utc(),
            last_sign_in_at: u.last_sign_in_at.map(|t| t.and_utc()),
        }
    }
}

/// The tenant's dashboard users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    /// By name.
    pub items: Vec<UserOut>,
}

/// A new dashboard user: name, e-mail, role, initial password and actor id.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    /// Login e-mail (stored lower-case).
    pub email: Email,
    /// Display name.
    pub name: DisplayName,
    /// Initial password: 10 to 128 characters, 4 of them different, not the e-mail address.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
    pub role: RoleSchema,
    /// The user's id in the host application, so events posted with that `actor.id` are theirs
    /// (default: the new user's own id).
    pub actor_id: Option<ActorId>,
}

/// The fields of a user to change; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New display name.
    pub name: Option<DisplayName>,
    /// New role (logged as `user.role_changed`).
    pub role: Option<RoleSchema>,
    /// New link to the host application's id.
    pub actor_id: Option<ActorId>,
    /// `false` deactivates (logged as `user.deactivated`), `true` reactivates.
    pub active: Option<bool>,
}

fn role(r: &RoleSchema) -> Role {
    match r {
        RoleSchema::Admin => Role::Admin,
        RoleSchema::Manager => Role::Manager,
        RoleSchema::Member => Role::Member,
    }
}

text_type!(
    /// A user's display name: 1 to 200 characters on one line.
    DisplayName: NonBlankLine, 200
);

text_type!(
    /// An actor id in the host application: 1 to 128 characters on one line.
    ActorId: NonBlankLine, 128
);

fn user_ref(user: &User) -> (&'static str, i64, Option<String>) {
    ("user", user.id.get(), Some(user.name.clone()))
}

/// The tenant's users.
///
/// Every dashboard user of the tenant, deactivated ones included, with role and actor id.
#[utoipa::path(operation_id = "listUsers", tag = "users", security(("bearer" = [])), responses(
    (status = 200, body = UserList),
    AdminOnly,
))]
#[get("/users")]
pub async fn list(state: web::Data<AppState>, caller: Admin) -> Result<web::Json<UserList>, ApiError> {
    let tenant_id = caller.tenant.id;
    let items = state.db(move |conn| Ok(users::list(conn, tenant_id)?)).await?;
    Ok(web::Json(UserList { items: items.iter().map(UserOut::from).collect() }))
}

/// Create a user.
///
/// Creates a dashboard user with a role and an initial password. The e-mail must not be in use in
/// the tenant (409). Logged as `user.created`.
#[utoipa::path(operation_id = "createUser", tag = "users", security(("bearer" = [])), request_body = NewUserRequest, responses(
    (status = 201, body = UserOut),
    AdminOnly,
    (status = 409, description = "The e-mail is taken in this tenant", body = Problem, content_type = "application/problem+json"),
))]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Admin,
    body: StrictJson<NewUserRequest>,
) -> Result<Created<UserOut>, ApiError> {
    let admin = caller.user().clone();
    let body = body.into_inner();
    let email = body.email.into_inner().to_lowercase();
    let name = body.name.into_inner();
    let actor_id = body.actor_id.map(ActorId::into_inner);
    if let Some(problem) = password_problem(&body.password, &email) {
        ApiError::check_fields(vec![FieldError::new("/password", problem)])?;
    }
    let password = body.password;
    let hash = web::block(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(ApiError::internal)?;
    let new_role = role(&body.role);
    let request = caller.request();
    let tenant_id = caller.tenant.id;
    let actor = caller.actor();
    let user = state
        .db(move |conn| {
            let user = users::create(
                conn,
                &NewUser { tenant_id, email: &email, name: &name, password_hash: &hash, role: new_role, actor_id: actor_id.as_deref() },
            )?;
            let (kind, id, label) = user_ref(&user);
            let snapshot = json!({"email": user.email, "name": user.name, "role": new_role.as_str(), "actor_id": user.actor_id, "active": true});
            AuditEvent::new("user.created", actor)
                .on(kind, id, label)
                .changes(crate::events::ingest::diff(None, snapshot.as_object()))
                .meta("created_by", admin.id.get())
                .record(conn, tenant_id, &request)?;
            Ok(user)
        })
        .await?;
    Ok(Created(UserOut::from(&user)))
}

/// Change a user.
///
/// Changes a user's name, role, actor id or active flag. The tenant's last active admin cannot be
/// demoted or deactivated (409), nor can admins demote or deactivate themselves (409: another
/// admin must); deactivation ends every session of the user. Logged as
/// `user.role_changed`, `user.deactivated` or `user.updated`.
#[utoipa::path(operation_id = "updateUser", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")), request_body = UserPatch, responses(
    (status = 200, body = UserOut),
    AdminOnly,
    NotFound,
    (status = 409, description = "Would leave the tenant without an active admin, or the admin would demote or deactivate themselves", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Admin,
    id: web::Path<i64>,
    body: StrictJson<UserPatch>,
) -> Result<web::Json<UserOut>, ApiError> {
    let id = id.into_inner();
    let body = body.into_inner();
    // An admin who demoted or locked out themselves by a slip could not undo it.
    let demotes = body.role.as_ref().is_some_and(|r| role(r) != Role::Admin);
    if id == caller.user().id.get() && (demotes || body.active == Some(false)) {
        return Err(ApiError::Conflict(
            "you cannot change your own role or deactivate yourself: another admin must do it".into(),
        ));
    }
    let changes = UserChanges {
        name: body.name.map(DisplayName::into_inner),
        role: body.role.as_ref().map(role),
        actor_id: body.actor_id.map(ActorId::into_inner),
        active: body.active,
        password_hash: None,
    };
    let request = caller.request();
    let tenant_id = caller.tenant.id;
    let actor = caller.actor();
    let after = state
        .db(move |conn| {
            let (before, after) =
                users::update(conn, tenant_id, UserId(id), &changes).map_err(|e| match e {
                    StoreError::NotFound => ApiError::NotFound(format!("user {id} not found")),
                    other => other.into(),
                })?;
            let (kind, uid, label) = user_ref(&after);
            let change = |field: &str, old: serde_json::Value, new: serde_json::Value| Change {
                field: field.into(),
                old: Some(old),
                new: Some(new),
            };
            if before.role != after.role {
                AuditEvent::new("user.role_changed", actor.clone())
                    .on(kind, uid, label.clone())
                    .changes(vec![change("role", json!(before.role), json!(after.role))])
                    .record(conn, tenant_id, &request)?;
            }
            if before.active && !after.active {
                AuditEvent::new("user.deactivated", actor.clone())
                    .on(kind, uid, label.clone())
                    .changes(vec![change("active", json!(true), json!(false))])
                    .record(conn, tenant_id, &request)?;
            }
            let mut other = Vec::new();
            if before.name != after.name {
                other.push(change("name", json!(before.name), json!(after.name)));
            }
            if before.actor_id != after.actor_id {
                other.push(change("actor_id", json!(before.actor_id), json!(after.actor_id)));
            }
            if !before.active && after.active {
                other.push(change("active", json!(false), json!(true)));
            }
            if !other.is_empty() {
                AuditEvent::new("user.updated", actor)
                    .on(kind, uid, label)
                    .changes(other)
                    .record(conn, tenant_id, &request)?;
            }
            Ok(after)
        })
        .await?;
    Ok(web::Json(UserOut::from(&after)))
}
