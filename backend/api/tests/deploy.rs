//! The container image and its health check: what the Dockerfile must keep (a numeric user, no
//! extra tools, the dependencies cached in a layer of their own), and `auditlog healthcheck`
//! against a real server. Building the image needs a Docker daemon; without one that part skips
//! with a message.

mod common;

use std::process::Command;

use common::*;

const DOCKERFILE: &str = include_str!("../../../Dockerfile");
const COMPOSE: &str = include_str!("../../../docker-compose.yml");

/// The lines of the Dockerfile's last stage.
fn runtime_stage() -> Vec<&'static str> {
    let start = DOCKERFILE.rfind("\nFROM ").expect("a last stage");
    DOCKERFILE[start..].lines().collect()
}

#[test]
fn the_image_runs_as_a_numeric_user_without_extra_tools() {
    let stage = runtime_stage();
    let user = stage.iter().find_map(|l| l.strip_prefix("USER ")).expect("a USER");
    assert!(
        user.split(':').all(|part| part.parse::<u32>().is_ok_and(|id| id > 0)),
        "USER {user} is not a numeric non-root user"
    );
    assert!(!DOCKERFILE.contains("curl"), "curl in the image");
    let check = stage.iter().find(|l| l.starts_with("HEALTHCHECK")).expect("a HEALTHCHECK");
    assert!(check.contains(r#"["auditlog", "healthcheck"]"#), "{check}");
    assert!(DOCKERFILE.contains("FROM node:22"), "the dashboard is built on Node 22");
    assert!(!DOCKERFILE.contains("node:20"), "Node 20 is past its end of life");
}

#[test]
fn dependencies_are_built_before_the_code_is_copied() {
    let at = |needle: &str| DOCKERFILE.find(needle).unwrap_or_else(|| panic!("{needle} missing"));
    let server = at("AS server");
    let cook = at("cargo chef cook");
    let code =
        server + DOCKERFILE[server..].find("COPY backend/").expect("the code copied into the server stage");
    assert!(server < cook && cook < code, "the dependencies are not cached apart from the code");
    let npm_ci = at("npm ci");
    let frontend = at("COPY frontend/ frontend/");
    assert!(npm_ci < frontend, "the npm packages are not cached apart from the dashboard's code");
}

#[test]
fn archives_live_on_a_volume_in_compose() {
    assert!(COMPOSE.contains("ARCHIVE_DIR: /var/lib/auditlog/archives"));
    assert!(COMPOSE.contains("- archives:/var/lib/auditlog/archives"));
}

#[actix_web::test]
async fn healthcheck_passes_on_a_ready_server_and_fails_otherwise() {
    let ctx = Ctx::new(auditlog_db::Backend::Sqlite);
    let served = ctx.serve().await;
    let url = served.url.clone();
    let run = move |args: Vec<String>, bind: Option<String>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_auditlog"));
        command.arg("healthcheck").args(args).env("RUST_LOG", "error");
        if let Some(bind) = bind {
            command.env("BIND", bind);
        }
        command.output().expect("run auditlog")
    };
    let (ok, by_bind, closed) = actix_web::rt::task::spawn_blocking(move || {
        let port = url.rsplit_once(':').unwrap().1.to_string();
        let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        (
            run(vec![format!("--url={url}/readyz")], None),
            run(vec![], Some(format!("0.0.0.0:{port}"))),
            run(vec![], Some(format!("0.0.0.0:{closed_port}"))),
        )
    })
    .await
    .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(by_bind.status.success(), "{}", String::from_utf8_lossy(&by_bind.stderr));
    assert!(!closed.status.success(), "a closed port passed");
    assert!(String::from_utf8_lossy(&closed.stderr).contains("/readyz"));
}

/// Builds the image when a Docker daemon answers; says why it does not otherwise.
#[test]
fn the_image_builds_where_docker_runs() {
    let daemon = Command::new("docker").args(["info", "--format", "{{.ServerVersion}}"]).output();
    if !daemon.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: no Docker daemon here, the image is not built (its rules are checked above)");
        return;
    }
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let built =
        Command::new("docker").args(["build", "--quiet", "-t", "activity-log:test", root]).output().unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let user = Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Config.User}}", "activity-log:test"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&user.stdout).trim(), "10001:10001");
}
