//! The checked-in `openapi.yaml` must be exactly what the code generates.

#[test]
fn openapi_yaml_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi.yaml");
    let checked_in = std::fs::read_to_string(&path).expect("openapi.yaml at the repository root");
    let generated = auditlog_api::openapi::yaml().unwrap();
    assert!(
        checked_in == generated,
        "openapi.yaml is stale: regenerate it with `cargo run -p auditlog-api -- openapi --output openapi.yaml`"
    );
}
