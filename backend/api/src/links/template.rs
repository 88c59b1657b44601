//! A URL template, and the link it gives for one record.

use serde::{Deserialize, Serialize};

/// Most characters of a URL template.
pub const MAX_TEMPLATE_CHARS: usize = 500;

/// A URL template: `https://`, a host, then anything holding `{id}` once (where the record's id
/// goes) and `{type}` at most once; no other `{…}`, no user name or password; visible ASCII
/// without `\`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct UrlTemplate(String);

impl UrlTemplate {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The template, or why it is not one (a sentence starting with "must").
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.chars().count() > MAX_TEMPLATE_CHARS {
            return Err(format!("must be at most {MAX_TEMPLATE_CHARS} characters"));
        }
        // Visible ASCII, as the schema's pattern says: anything else is percent-encoded (and an
        // internationalised host name written as punycode).
        if !text.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') {
            return Err(
                "must hold only visible ASCII characters, no spaces or `\\`: percent-encode the rest".into(),
            );
        }
        let Some(rest) = text.strip_prefix("https://") else {
            return Err("must start with `https://`: links open over HTTPS only".into());
        };
        let host = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        if host.is_empty() {
            return Err("must name a host after `https://`".into());
        }
        if host.contains('@') {
            return Err("must not hold a user name or password (`user:pass@`)".into());
        }
        if host.contains(['{', '}']) {
            return Err("must keep `{id}` and `{type}` out of the host name".into());
        }
        let (mut ids, mut types) = (0, 0);
        let mut scan = rest;
        while let Some(at) = scan.find(['{', '}']) {
            let after = &scan[at + 1..];
            if scan[at..].starts_with('}') {
                return Err("must not hold a `}` outside a placeholder".into());
            }
            let Some(end) = after.find(['{', '}']).filter(|&end| after[end..].starts_with('}')) else {
                return Err("must close every `{`".into());
            };
            match &after[..end] {
                "id" => ids += 1,
                "type" => types += 1,
                other => {
                    return Err(format!(
                        "must hold no placeholder but `{{id}}` and `{{type}}` (found `{{{other}}}`)"
                    ))
                }
            }
            scan = &after[end + 1..];
        }
        match (ids, types) {
            (0, _) => return Err("must hold `{id}`, where the record's id goes".into()),
            (2.., _) => return Err("must hold `{id}` once".into()),
            (_, 2..) => return Err("must hold `{type}` at most once".into()),
            _ => {}
        }
        let template = UrlTemplate(text.to_string());
        let sample = template.render("t", "1").unwrap_or_default();
        match url::Url::parse(&sample) {
            Ok(url) if url.scheme() == "https" && url.host_str().is_some_and(|h| !h.is_empty()) => {}
            _ => return Err("must be a valid https URL once `{id}` is filled in".into()),
        }
        Ok(template)
    }

    /// The link to the record `id` of type `entity_type`: each put in as one percent-encoded
    /// path segment, so that no id leaves its place (`../admin?x=1` gives `..%2Fadmin%3Fx%3D1`).
    /// `None` for an id no URL can hold in a path segment: empty, `.` or `..` (URL parsers
    /// resolve those, even encoded, as "this" and "the parent" folder). The dashboard builds its
    /// links by the same rule.
    pub fn render(&self, entity_type: &str, id: &str) -> Option<String> {
        if matches!(id, "" | "." | "..") {
            return None;
        }
        Some(self.0.replace("{id}", &encode(id)).replace("{type}", &encode(entity_type)))
    }
}

/// Every byte but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`) as `%XX`.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl<'de> Deserialize<'de> for UrlTemplate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        UrlTemplate::parse(&text).map_err(serde::de::Error::custom)
    }
}

crate::text::component!(
    for UrlTemplate = "UrlTemplate",
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .max_length(Some(MAX_TEMPLATE_CHARS))
        .pattern(Some(r#"^https://[!"$-.0->A-\[\]-z|~]+[/?#]([!-\[\]-z|~]|\{type\})*\{id\}([!-\[\]-z|~]|\{type\})*$"#))
        .description(Some(
            "A URL template: `https://`, a host, then a path, query or fragment holding `{id}` once \
             (the record's id, percent-encoded) and `{type}` at most once (the record type); no \
             other placeholder, no user name or password; visible ASCII only, without `\\`.",
        ))
        .examples(["https://crm.acme.example/bookings/{id}"])
        .build()
);

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> String {
        UrlTemplate::parse(text).expect_err(text)
    }

    #[test]
    fn only_https_templates_with_an_id_are_taken() {
        assert!(UrlTemplate::parse("https://crm.acme.example/bookings/{id}").is_ok());
        assert!(UrlTemplate::parse("https://crm.acme.example:8443/r?type={type}&id={id}#top").is_ok());
        assert!(refused("http://crm.acme.example/{id}").contains("`https://`"));
        assert!(refused("javascript:alert(1)//{id}").contains("`https://`"));
        assert!(refused("data:text/html,{id}").contains("`https://`"));
        assert!(refused("HTTPS://crm.acme.example/{id}").contains("`https://`"));
        assert!(refused("https://user:pass@crm.acme.example/{id}").contains("user name"));
        assert!(refused("https://crm.acme.example\\@evil.example/{id}").contains("`\\`"));
        assert!(refused("https://crm.acme.example/é/{id}").contains("visible ASCII"));
        assert!(refused("https://crm.acme.example/\u{1}/{id}").contains("visible ASCII"));
        assert!(refused("https://{id}.acme.example/").contains("host name"));
        assert!(refused("https://crm.acme.example/bookings").contains("must hold `{id}`"));
        assert!(refused("https://crm.acme.example/{id}/{id}").contains("once"));
        assert!(refused("https://crm.acme.example/{name}/{id}").contains("found `{name}`"));
        assert!(refused("https://crm.acme.example/{id").contains("close"));
        assert!(refused("https://crm.acme.example/}{id}").contains("outside"));
        assert!(refused("https://crm.acme.example/ {id}").contains("no spaces"));
        assert!(refused("https:///{id}").contains("name a host"));
        assert!(refused("https://exa mple/{id}").contains("no spaces"));
        assert!(refused("https://[::1/{id}").contains("valid https URL"));
        let long = format!("https://crm.acme.example/{}{{id}}", "a".repeat(MAX_TEMPLATE_CHARS));
        assert!(refused(&long).contains("at most 500"));
    }

    #[test]
    fn ids_stay_in_their_path_segment() {
        let template = UrlTemplate::parse("https://crm.acme.example/{type}/{id}?tab=history").unwrap();
        assert_eq!(
            template.render("booking", "../admin?x=1").as_deref(),
            Some("https://crm.acme.example/booking/..%2Fadmin%3Fx%3D1?tab=history")
        );
        assert_eq!(
            template.render("booking", "a b#c/é").as_deref(),
            Some("https://crm.acme.example/booking/a%20b%23c%2F%C3%A9?tab=history")
        );
        assert_eq!(
            template.render("booking", "BOK-1_2.3~").as_deref(),
            Some("https://crm.acme.example/booking/BOK-1_2.3~?tab=history")
        );
        for dots in ["", ".", ".."] {
            assert_eq!(template.render("booking", dots), None, "{dots:?}");
        }
        let parsed = url::Url::parse(&template.render("booking", "../../admin").unwrap()).unwrap();
        assert_eq!(parsed.path(), "/booking/..%2F..%2Fadmin");
    }
}
