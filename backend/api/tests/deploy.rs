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

/// `auditlog config check` (and `serve`) with `env` over a working SQLite set-up.
fn with_settings(command: &str, env: &[(&str, &str)]) -> std::process::Output {
    let db = auditlog_db::testing::TestDatabase::new(auditlog_db::Backend::Sqlite);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let archives = unique_dir("config-archives");
    let mut run = Command::new(env!("CARGO_BIN_EXE_auditlog"));
    run.args(command.split(' '))
        .envs(db.server_env())
        .env("DATABASE_URL", &db.url)
        .env("JWT_SECRET", "a-long-enough-secret-for-the-checks-0123456789")
        .env("ARCHIVE_DIR", &archives)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("STATIC_DIR", "/nonexistent")
        .env("RUST_LOG", "error");
    for (name, value) in env {
        run.env(name, value);
    }
    run.output().expect("run auditlog")
}

#[test]
fn config_check_prints_the_settings_without_their_secrets() {
    let done = with_settings(
        "config check",
        &[("SMTP_URL", "smtp://mailer:mail-pass-77@smtp.example:587"), ("METRICS_TOKEN", "scrape-token-55")],
    );
    let out = String::from_utf8_lossy(&done.stdout);
    assert!(done.status.success(), "{out}{}", String::from_utf8_lossy(&done.stderr));
    assert!(out.contains("JWT_SECRET=(set)") && out.contains("METRICS_TOKEN=(set)"), "{out}");
    assert!(out.contains("SMTP_URL=smtp://mailer:***@smtp.example:587"), "{out}");
    for secret in ["a-long-enough-secret", "mail-pass-77", "scrape-token-55"] {
        assert!(!out.contains(secret), "{secret} printed:\n{out}");
    }
    assert!(out.contains("no problems found"));
}

#[test]
fn unsafe_settings_are_refused_by_check_and_serve() {
    for (env, says) in [
        (vec![("JWT_SECRET", "short")], "JWT_SECRET must be at least 32 bytes"),
        (
            vec![("AUDITLOG_DEV", "1"), ("DATABASE_URL", "postgres://app:pw@db.example.com:5432/audit")],
            "AUDITLOG_DEV=1 with a PostgreSQL server that is not on this machine",
        ),
        (
            vec![("ARCHIVE_DIR", "/etc/hostname/archives")],
            "ARCHIVE_DIR (/etc/hostname/archives) is not writable",
        ),
    ] {
        for command in ["config check", "serve"] {
            let started = std::time::Instant::now();
            let done = with_settings(command, &env);
            let said = String::from_utf8_lossy(&done.stderr);
            assert!(!done.status.success(), "{command} {env:?} was accepted");
            assert!(said.contains(says), "{command} {env:?}: {said}");
            assert!(!said.contains("pw@"), "a password in the message: {said}");
            assert!(started.elapsed() < std::time::Duration::from_secs(20), "{command} did not stop at once");
        }
    }
}

fn manifest(name: &str) -> serde_json::Value {
    let path = format!("{}/../../deploy/kubernetes/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{name} is not valid YAML: {e}"))
}

/// The settings the server reads: every name in `.env.example` (set or commented out), the
/// `_FILE` form of each secret, and the object store's `AWS_*` variables.
fn known_settings() -> Vec<String> {
    let example = include_str!("../../../.env.example");
    let mut names: Vec<String> = example
        .lines()
        .map(|l| l.trim_start_matches("# "))
        .filter_map(|l| l.split_once('=').map(|(name, _)| name.to_string()))
        .filter(|name| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .collect();
    for secret in ["DATABASE_URL", "MIGRATION_DATABASE_URL", "JWT_SECRET", "SMTP_URL", "METRICS_TOKEN"] {
        names.push(format!("{secret}_FILE"));
    }
    names.extend(
        ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT", "AWS_ALLOW_HTTP"]
            .map(String::from),
    );
    names
}

#[test]
fn the_kubernetes_manifests_match_the_server() {
    let kustomization = manifest("kustomization.yaml");
    let resources: Vec<&str> =
        kustomization["resources"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert!(resources.len() >= 4);
    for name in &resources {
        let doc = manifest(name);
        for field in ["apiVersion", "kind"] {
            assert!(doc[field].is_string(), "{name}: no {field}");
        }
        assert!(doc["metadata"]["name"].is_string(), "{name}: no metadata.name");
    }
    let known = known_settings();
    let config = manifest("configmap.yaml");
    for name in config["data"].as_object().unwrap().keys() {
        assert!(known.contains(name), "the ConfigMap sets {name}, which the server does not read");
    }
    let deployment = manifest("deployment.yaml");
    assert_eq!(deployment["kind"], "Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(
        deployment["spec"]["selector"]["matchLabels"], deployment["spec"]["template"]["metadata"]["labels"],
        "the selector does not select the pods"
    );
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let user =
        runtime_stage().iter().find_map(|l| l.strip_prefix("USER ")).unwrap().split(':').next().unwrap();
    assert_eq!(pod["securityContext"]["runAsUser"].as_u64().unwrap().to_string(), user, "the image's user");
    let container = &pod["containers"][0];
    let documented = auditlog_api::http::openapi::document();
    for probe in ["readinessProbe", "livenessProbe"] {
        let path = container[probe]["httpGet"]["path"].as_str().unwrap_or_else(|| panic!("no {probe}"));
        assert!(
            documented.paths.paths.contains_key(path),
            "{probe} asks {path}, which the server does not answer"
        );
    }
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    for limit in ["cpu", "memory"] {
        assert!(container["resources"]["limits"][limit].is_string(), "no {limit} limit");
    }
    let mounts: Vec<&str> = container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap())
        .collect();
    let volumes: Vec<&str> =
        pod["volumes"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    for mount in container["volumeMounts"].as_array().unwrap() {
        assert!(
            volumes.contains(&mount["name"].as_str().unwrap()),
            "a mount of an undeclared volume: {mount}"
        );
    }
    let secret_files: Vec<String> = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["secret"]["items"].as_array())
        .flatten()
        .map(|item| format!("/run/secrets/activity-log/{}", item["path"].as_str().unwrap()))
        .collect();
    for var in container["env"].as_array().unwrap() {
        let name = var["name"].as_str().unwrap();
        assert!(
            known.contains(&name.to_string()),
            "the Deployment sets {name}, which the server does not read"
        );
        assert!(var.get("value").is_none() || !name.ends_with("SECRET"), "{name} as a plain value");
        if let Some(file) = var["value"].as_str().filter(|_| name.ends_with("_FILE")) {
            assert!(
                secret_files.contains(&file.to_string()),
                "{name} names {file}, which no Secret item mounts"
            );
        }
    }
    // With a read-only root, every folder the server writes is a volume.
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    let written = [
        config["data"]["CHECKPOINT_DIR"].as_str().unwrap(),
        config["data"]["ARCHIVE_DIR"].as_str().unwrap(),
        "/app/data",
    ];
    for dir in written {
        assert!(mounts.iter().any(|m| dir.starts_with(m)), "{dir} is written but on the read-only root");
    }
    let service = manifest("service.yaml");
    assert_eq!(service["spec"]["selector"], deployment["spec"]["template"]["metadata"]["labels"]);
}

#[test]
fn the_systemd_unit_runs_the_server_hardened_with_its_secrets_as_credentials() {
    let unit = include_str!("../../../deploy/systemd/activity-log.service");
    let mut sections: std::collections::HashMap<&str, Vec<(&str, &str)>> = Default::default();
    let mut current = "";
    for line in unit.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name;
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or_else(|| panic!("not a setting: {line}"));
        sections.entry(current).or_default().push((key, value));
    }
    let service = &sections["Service"];
    let value = |key: &str| service.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    assert_eq!(value("ExecStart"), Some("/usr/local/bin/auditlog serve"));
    assert_eq!(value("ExecStartPre"), Some("/usr/local/bin/auditlog config check"));
    assert!(value("User").is_some_and(|u| u != "root"));
    for (key, expected) in [("NoNewPrivileges", "true"), ("ProtectSystem", "strict"), ("PrivateTmp", "true")]
    {
        assert_eq!(value(key), Some(expected), "{key}");
    }
    let known = known_settings();
    for (_, setting) in service.iter().filter(|(k, _)| *k == "Environment") {
        let name = setting.split_once('=').unwrap().0;
        assert!(known.contains(&name.to_string()), "the unit sets {name}, which the server does not read");
    }
    let credentials: Vec<&str> = service
        .iter()
        .filter(|(k, _)| *k == "LoadCredential")
        .map(|(_, v)| v.split(':').next().unwrap())
        .collect();
    for (_, setting) in service.iter().filter(|(k, v)| *k == "Environment" && v.contains("%d/")) {
        let file = setting.rsplit("%d/").next().unwrap();
        assert!(credentials.contains(&file), "{setting}: no credential {file}");
    }
    assert!(!unit.contains("JWT_SECRET="), "a secret written into the unit");
    assert_eq!(sections["Install"], [("WantedBy", "multi-user.target")]);
}
