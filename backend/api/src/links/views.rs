//! The tenant's links as the API reads and answers them, and as they are stored.

use std::collections::BTreeMap;

use auditlog_db::models::Change;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use utoipa::ToSchema;

use super::template::UrlTemplate;
use crate::events::ingest::EntityType;
use crate::text::text_type;

/// Most templates a tenant may keep.
pub const MAX_TEMPLATES: usize = 50;
/// The name the dashboard uses until an admin sets one.
const DEFAULT_APP_NAME: &str = "the host application";

text_type!(
    /// The host application's name as the dashboard says it ("Open in Acme CRM"): 1 to 60
    /// characters on one line.
    AppName: NonBlankLine, 60
);

/// The link for one record type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordLink {
    /// The record type it opens, as events name it (`booking`, `credit_note`).
    #[serde(serialize_with = "as_text")]
    pub entity_type: EntityType,
    /// Where a record of that type opens in the host application.
    pub url: UrlTemplate,
}

/// The templates: at most 50, each record type once.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Templates(Vec<RecordLink>);

impl Templates {
    pub fn iter(&self) -> impl Iterator<Item = &RecordLink> {
        self.0.iter()
    }

    /// Why `rows` cannot be kept together: too many, or a record type twice.
    fn flaw(rows: &[RecordLink]) -> Option<String> {
        if rows.len() > MAX_TEMPLATES {
            return Some(format!("must hold at most {MAX_TEMPLATES} templates"));
        }
        let mut seen = BTreeMap::new();
        for (index, row) in rows.iter().enumerate() {
            if let Some(first) = seen.insert(row.entity_type.as_str(), index) {
                return Some(format!(
                    "must name each record type once: `{}` is at {first} and {index}",
                    row.entity_type.as_str()
                ));
            }
        }
        None
    }
}

impl<'de> Deserialize<'de> for Templates {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let rows = Vec::<RecordLink>::deserialize(deserializer)?;
        match Templates::flaw(&rows) {
            Some(flaw) => Err(serde::de::Error::custom(flaw)),
            None => Ok(Templates(rows)),
        }
    }
}

/// Links into the host application: "Open in <app_name>" beside each record whose type has a
/// template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordLinks {
    /// The host application's name, as the dashboard says it: "Open in Acme CRM".
    #[serde(serialize_with = "as_text")]
    pub app_name: AppName,
    /// A URL template per record type; empty: no links. Replaces the stored list whole.
    #[schema(value_type = Vec<RecordLink>, max_items = 50)]
    pub templates: Templates,
}

impl Default for RecordLinks {
    fn default() -> Self {
        RecordLinks { app_name: AppName(DEFAULT_APP_NAME.into()), templates: Templates::default() }
    }
}

impl RecordLinks {
    /// The stored links, checked again: a member that does not pass the rules a request passes
    /// (written into the database by other means) is left out, never handed out.
    pub fn from_stored(text: Option<&str>) -> Self {
        let Some(Value::Object(stored)) = text.and_then(|t| serde_json::from_str::<Value>(t).ok()) else {
            return RecordLinks::default();
        };
        let app_name = stored
            .get("app_name")
            .and_then(|name| AppName::deserialize(name).ok())
            .unwrap_or_else(|| RecordLinks::default().app_name);
        let all = stored.get("templates").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let mut rows: Vec<RecordLink> = Vec::new();
        for row in all {
            let Ok(row) = RecordLink::deserialize(row) else { continue };
            if rows.len() < MAX_TEMPLATES && rows.iter().all(|r| r.entity_type != row.entity_type) {
                rows.push(row);
            }
        }
        if rows.len() < all.len() {
            log::warn!("left out {} stored record link(s) that break the rules", all.len() - rows.len());
        }
        RecordLinks { app_name, templates: Templates(rows) }
    }

    /// The text stored for these links.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// What changed from `before`: `app_name`, and `templates.<type>` for each record type whose
    /// template was added (only `new`), changed or removed (only `old`).
    pub fn changes_from(&self, before: &RecordLinks) -> Vec<Change> {
        let mut changes = Vec::new();
        if self.app_name != before.app_name {
            changes.push(Change {
                field: "app_name".into(),
                old: Some(Value::from(before.app_name.as_str())),
                new: Some(Value::from(self.app_name.as_str())),
            });
        }
        let by_type = |links: &RecordLinks| -> BTreeMap<String, String> {
            links.templates.iter().map(|r| (r.entity_type.as_str().into(), r.url.as_str().into())).collect()
        };
        let (old, new) = (by_type(before), by_type(self));
        let types: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for entity_type in types {
            let (was, is) = (old.get(entity_type), new.get(entity_type));
            if was != is {
                changes.push(Change {
                    field: format!("templates.{entity_type}"),
                    old: was.map(|u| Value::from(u.as_str())),
                    new: is.map(|u| Value::from(u.as_str())),
                });
            }
        }
        changes
    }
}

fn as_text<T: AsText, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value.text())
}

/// The text of a checked text type, for serialising it.
trait AsText {
    fn text(&self) -> &str;
}

impl AsText for EntityType {
    fn text(&self) -> &str {
        self.as_str()
    }
}

impl AsText for AppName {
    fn text(&self) -> &str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stored_links_that_break_the_rules_are_left_out() {
        let stored = json!({
            "app_name": "Acme CRM",
            "templates": [
                {"entity_type": "booking", "url": "javascript:alert(1)//{id}"},
                {"entity_type": "invoice", "url": "https://crm.acme.example/invoices/{id}"},
                {"entity_type": "invoice", "url": "https://crm.acme.example/other/{id}"},
                {"entity_type": "Bad Type", "url": "https://crm.acme.example/x/{id}"},
                {"entity_type": "customer", "url": "https://crm.acme.example/c/{id}", "extra": 1},
            ]
        });
        let links = RecordLinks::from_stored(Some(&stored.to_string()));
        assert_eq!(links.app_name.as_str(), "Acme CRM");
        let kept: Vec<_> = links.templates.iter().map(|r| (r.entity_type.as_str(), r.url.as_str())).collect();
        assert_eq!(kept, [("invoice", "https://crm.acme.example/invoices/{id}")]);
        assert_eq!(RecordLinks::from_stored(Some("not json")), RecordLinks::default());
        assert_eq!(
            RecordLinks::from_stored(Some(r#"{"app_name": "", "templates": 3}"#)),
            RecordLinks::default()
        );
        assert_eq!(RecordLinks::from_stored(Some(&links.to_stored())), links, "round trip");
    }
}
