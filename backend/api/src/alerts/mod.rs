//! Alert rules: a filter of the list plus a destination (a webhook, signed as the Standard
//! Webhooks specification says, or e-mail). The db crate writes what a rule owes into its
//! outbox in the transaction that stores the events ([`auditlog_db::queries::alerts`]); the
//! [`deliver`] worker sends it, retries with back-off and jitter, and disables a rule whose
//! destination keeps failing. Docs: docs/ALERTS.md.

pub mod deliver;
pub mod digest;
pub mod routes;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use crate::text::{component, text_type, Email};

text_type!(
    /// An alert rule's name: 1 to 100 characters on one line.
    RuleName: NonBlankLine, 100
);

/// Most characters of a webhook URL.
const MAX_URL: usize = 2000;

/// An `http` or `https` URL without credentials, at most 2000 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The host part of an `http://` or `https://` URL (any case) and its path, if it starts so.
fn split_url(text: &str) -> Option<(&str, &str)> {
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &text[8..]
    } else if lower.starts_with("http://") {
        &text[7..]
    } else {
        return None;
    };
    Some(rest.split_at(rest.find('/').unwrap_or(rest.len())))
}

impl<'de> Deserialize<'de> for WebhookUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let problem = |m: &str| serde::de::Error::custom(m.to_string());
        if text.chars().count() > MAX_URL {
            return Err(problem("must be at most 2000 characters"));
        }
        // The schema's pattern: a host part without whitespace, `@` or `/`, a path without
        // whitespace.
        let Some((host, path)) = split_url(&text) else {
            return Err(problem("must be an http or https URL"));
        };
        if host.contains('@') {
            return Err(problem("must not hold a user name or password: send credentials in a header"));
        }
        if host.is_empty() || host.chars().any(char::is_whitespace) || path.chars().any(char::is_whitespace) {
            return Err(problem("must be an http or https URL"));
        }
        let url = url::Url::parse(&text).map_err(|_| problem("must be an http or https URL"))?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err(problem("must be an http or https URL"));
        }
        Ok(WebhookUrl(url.to_string()))
    }
}

component!(
    for WebhookUrl = "WebhookUrl",
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .format(Some(utoipa::openapi::SchemaFormat::Custom("uri".into())))
        .max_length(Some(MAX_URL))
        .pattern(Some("^[Hh][Tt][Tt][Pp][Ss]?://[^\\s@/]+(/\\S*)?$"))
        .description(Some("An `http` or `https` URL, without a user name or password."))
        .build()
);

text_type!(
    /// A header name: letters, digits and `-`, 1 to 64 characters. Not one the delivery sets
    /// itself (`content-type`, `content-length`, `host`, `user-agent`, `webhook-*`).
    HeaderName {
        read: <String as serde::Deserialize>::deserialize,
        flaw: |raw: &str| {
            let lower = raw.to_ascii_lowercase();
            if raw.is_empty() || raw.len() > 64 || !raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                Some("must be 1 to 64 letters, digits or `-`".into())
            } else if matches!(lower.as_str(), "content-type" | "content-length" | "host" | "user-agent" | "connection" | "transfer-encoding")
                || lower.starts_with("webhook-")
            {
                Some("must not be a header the delivery sets itself (content-type, content-length, host, user-agent, connection, transfer-encoding, webhook-*)".into())
            } else {
                None
            }
        },
        schema: |description: String| utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(64))
            .pattern(Some("^[A-Za-z0-9-]+$"))
            .description(Some(description))
            .build()
            .into(),
    }
);

text_type!(
    /// A header value: visible ASCII and spaces, at most 1000 characters (a token such as
    /// `Splunk 1234…`).
    HeaderValue {
        read: <String as serde::Deserialize>::deserialize,
        flaw: |raw: &str| {
            if raw.len() > 1000 || !raw.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                Some("must be at most 1000 visible ASCII characters or spaces".into())
            } else {
                None
            }
        },
        schema: |description: String| utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .max_length(Some(1000))
            .pattern(Some("^[ -~]*$"))
            .description(Some(description))
            .build()
            .into(),
    }
);

/// A header sent with every delivery, e.g. a receiver's own credentials.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Header {
    #[schema(value_type = HeaderName)]
    #[serde(serialize_with = "as_text")]
    pub name: HeaderName,
    #[schema(value_type = HeaderValue)]
    #[serde(serialize_with = "as_text")]
    pub value: HeaderValue,
}

fn as_text<S: serde::Serializer, T: AsRef<str>>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value.as_ref())
}

impl AsRef<str> for HeaderName {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for HeaderValue {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// How a webhook delivery's body is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    /// One JSON object: `{"type": "alert.matched", "timestamp", "data": {"rule", "events"}}`.
    #[default]
    Json,
    /// The feed's lines, one JSON object per event per line (`application/x-ndjson`), for
    /// collectors such as Splunk HEC's raw endpoint or a log forwarder.
    Ndjson,
}

/// Where a rule's deliveries go, as stored (the request's `DestinationIn`, headers included).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Destination {
    /// An HTTP POST to `url`, signed (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
    Webhook {
        url: WebhookUrl,
        #[serde(default)]
        format: BodyFormat,
        /// Sent with every delivery (at most 5).
        #[serde(default)]
        headers: Vec<Header>,
    },
    /// A message to each address, through the server's SMTP relay (`SMTP_URL`).
    Email { to: Vec<Email> },
}

impl Serialize for Email {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Destination {
    /// What is wrong with it beyond its members' own checks, by JSON pointer under the
    /// destination.
    pub fn problems(&self, smtp_configured: bool) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        match self {
            Destination::Webhook { headers, .. } => {
                if headers.len() > 5 {
                    problems.push(("/headers".into(), "at most 5 headers".into()));
                }
                let mut names: Vec<String> =
                    headers.iter().map(|h| h.name.as_str().to_ascii_lowercase()).collect();
                names.sort();
                if names.windows(2).any(|w| w[0] == w[1]) {
                    problems.push(("/headers".into(), "names a header twice".into()));
                }
            }
            Destination::Email { to } => {
                if to.is_empty() || to.len() > 10 {
                    problems.push(("/to".into(), "give 1 to 10 addresses".into()));
                }
                if !smtp_configured {
                    problems.push((
                        "/type".into(),
                        "e-mail alerts need an SMTP server: this server has no SMTP_URL set".into(),
                    ));
                }
            }
        }
        problems
    }
}

/// A new signing secret: `whsec_` and 32 random bytes in base64 (Standard Webhooks).
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("whsec_{}", BASE64.encode(bytes))
}

/// The `webhook-signature` header of a body: `v1,` and the base64 HMAC-SHA256, keyed with the
/// secret's bytes, of `{id}.{timestamp}.{body}`.
pub fn signature(secret: &str, message_id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = BASE64.decode(secret.strip_prefix("whsec_").unwrap_or(secret)).unwrap_or_default();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes a key of any length");
    mac.update(message_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The specification's own example (standard-webhooks, spec/standard-webhooks.md).
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_are_32_random_bytes() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(BASE64.decode(a.strip_prefix("whsec_").unwrap()).unwrap().len(), 32);
    }
}
