//! The checked-in `openapi.yaml` must be exactly what the code generates.

#[test]
fn openapi_yaml_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi.yaml");
    let checked_in = std::fs::read_to_string(&path).expect("openapi.yaml at the repository root");
    let generated = auditlog_api::http::openapi::yaml().unwrap();
    assert!(
        checked_in == generated,
        "openapi.yaml is stale: regenerate it with `cargo run -p auditlog-api -- openapi --output openapi.yaml`"
    );
}

/// What integrators read first: every operation has a one-line summary and a description, every
/// schema a description, every JSON request body and every operation's main response an example.
#[test]
fn every_operation_and_schema_is_described_with_examples() {
    let doc = serde_json::to_value(auditlog_api::http::openapi::document()).unwrap();
    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or(path);
            let summary = op["summary"].as_str().unwrap_or("");
            if summary.trim().is_empty() || summary.contains('\n') {
                missing.push(format!("{method} {path} ({id}): a one-line summary"));
            }
            if op["description"].as_str().unwrap_or("").trim().is_empty() {
                missing.push(format!("{id}: a description"));
            }
            if let Some(body) = op["requestBody"]["content"]["application/json"].as_object() {
                if body.get("example").is_none() {
                    missing.push(format!("{id}: a request example"));
                }
            }
            let responses = op["responses"].as_object().unwrap();
            let main = responses.iter().find(|(status, _)| status.starts_with('2')).map(|(_, r)| r);
            match main.and_then(|r| r["content"].as_object()) {
                Some(content) => {
                    for (media_type, c) in content {
                        if c.get("example").is_none()
                            && media_type != "application/x-ndjson"
                            && media_type != "application/pdf"
                            && media_type
                                != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                            && media_type != "application/gzip"
                        {
                            missing.push(format!("{id}: an example of its {media_type} response"));
                        }
                    }
                }
                None if main.is_none() => missing.push(format!("{id}: a successful response")),
                None => {}
            }
        }
    }
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        let described = schema["description"].as_str().is_some_and(|d| !d.trim().is_empty());
        // A oneOf of references takes its meaning from its members.
        if !described && schema.get("oneOf").is_none() {
            missing.push(format!("schema {name}: a description"));
        }
    }
    assert!(missing.is_empty(), "the API document lacks:\n{}", missing.join("\n"));
}
