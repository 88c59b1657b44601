//! The columns of the CSV and XLSX exports, and the `columns=` parameter that picks them.

use std::borrow::Cow;

use auditlog_db::models::Event;
use chrono_tz::Tz;
use serde::Deserialize;
use utoipa::openapi::schema::{ObjectBuilder, Type};

use crate::text::component;

macro_rules! columns {
    ($($(#[$meta:meta])* $variant:ident = $name:literal, default: $default:literal;)*) => {
        /// A column of the CSV and XLSX exports.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Column {
            $($(#[$meta])* $variant,)*
        }

        impl Column {
            pub const ALL: &'static [Column] = &[$(Column::$variant,)*];

            /// Its name in `columns=` and in the header row.
            pub fn name(self) -> &'static str {
                match self {
                    $(Column::$variant => $name,)*
                }
            }

            /// Whether an export without `columns=` has it.
            fn by_default(self) -> bool {
                match self {
                    $(Column::$variant => $default,)*
                }
            }
        }
    };
}

columns! {
    Id = "id", default: true;
    Seq = "seq", default: true;
    OccurredAt = "occurred_at", default: true;
    /// The time in the export's zone; its header names the zone.
    OccurredAtLocal = "occurred_at_local", default: true;
    RecordedAt = "recorded_at", default: true;
    ActorId = "actor_id", default: true;
    ActorName = "actor_name", default: true;
    ActorEmail = "actor_email", default: true;
    ActorRole = "actor_role", default: true;
    ActorType = "actor_type", default: true;
    Module = "module", default: true;
    Verb = "verb", default: true;
    Action = "action", default: true;
    EntityType = "entity_type", default: true;
    EntityId = "entity_id", default: true;
    EntityLabel = "entity_label", default: true;
    Description = "description", default: true;
    Ip = "ip", default: true;
    UserAgent = "user_agent", default: true;
    Changes = "changes", default: true;
    /// The related records, as JSON (`[{"type":…,"id":…,"label":…}]`).
    Related = "related", default: false;
    /// The event's metadata, as JSON.
    Metadata = "metadata", default: false;
    Hash = "hash", default: true;
    PrevHash = "prev_hash", default: true;
}

impl Column {
    /// The header cell: `occurred_at_local (Europe/Warsaw)` names its zone.
    pub fn header(self, tz: Tz) -> Cow<'static, str> {
        match self {
            Column::OccurredAtLocal => Cow::Owned(format!("occurred_at_local ({})", tz.name())),
            other => Cow::Borrowed(other.name()),
        }
    }

    /// The column's text for `event`.
    pub fn text<'e>(self, event: &'e Event, tz: Tz) -> Cow<'e, str> {
        let d = &event.draft;
        let entity = d.entity.as_ref();
        let utc = |t: chrono::NaiveDateTime| t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let text = |v: Option<&'e str>| Cow::Borrowed(v.unwrap_or_default());
        match self {
            Column::Id => Cow::Owned(event.id.to_string()),
            Column::Seq => Cow::Owned(event.seq.to_string()),
            Column::OccurredAt => Cow::Owned(utc(d.occurred_at)),
            Column::OccurredAtLocal => Cow::Owned(
                d.occurred_at.and_utc().with_timezone(&tz).format("%Y-%m-%d %H:%M:%S %:z").to_string(),
            ),
            Column::RecordedAt => Cow::Owned(utc(event.recorded_at)),
            Column::ActorId => Cow::Borrowed(&d.actor.id),
            Column::ActorName => Cow::Borrowed(&d.actor.name),
            Column::ActorEmail => text(d.actor.email.as_deref()),
            Column::ActorRole => text(d.actor.role.as_deref()),
            Column::ActorType => Cow::Borrowed(&d.actor.actor_type),
            Column::Module => Cow::Borrowed(&d.module),
            Column::Verb => Cow::Borrowed(&d.verb),
            Column::Action => Cow::Borrowed(&d.action),
            Column::EntityType => text(entity.map(|e| e.entity_type.as_str())),
            Column::EntityId => text(entity.map(|e| e.id.as_str())),
            Column::EntityLabel => text(entity.and_then(|e| e.label.as_deref())),
            Column::Description => Cow::Borrowed(&d.description),
            Column::Ip => text(d.ip.as_deref()),
            Column::UserAgent => text(d.user_agent.as_deref()),
            Column::Changes => Cow::Owned(serde_json::to_string(&d.changes).unwrap_or_default()),
            Column::Related => Cow::Owned(serde_json::to_string(&d.related).unwrap_or_default()),
            Column::Metadata => Cow::Owned(serde_json::to_string(&d.metadata).unwrap_or_default()),
            Column::Hash => Cow::Borrowed(&event.hash),
            Column::PrevHash => Cow::Borrowed(&event.prev_hash),
        }
    }
}

/// The `columns=` parameter: known column names separated by commas, in the order the file should
/// have them; a column named again keeps its first place (the pattern cannot forbid a repeat, so
/// the parser does not either).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnList(Vec<Column>);

impl ColumnList {
    pub fn columns(&self) -> &[Column] {
        &self.0
    }

    /// The pattern the parameter follows (also its schema's); the parser never sees an empty
    /// value, which the filter parser takes as absent.
    fn pattern() -> String {
        let names: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
        let one = format!("({})", names.join("|"));
        // Empty is allowed: an empty parameter is an absent one (the default columns).
        format!("^({one}(,{one}){{0,{}}})?$", Column::ALL.len() - 1)
    }
}

impl Default for ColumnList {
    /// Every column but `related` and `metadata`.
    fn default() -> Self {
        ColumnList(Column::ALL.iter().copied().filter(|c| c.by_default()).collect())
    }
}

impl std::str::FromStr for ColumnList {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let mut columns = Vec::new();
        for name in text.split(',') {
            let column = Column::ALL.iter().copied().find(|c| c.name() == name).ok_or_else(|| {
                let known: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
                format!("must name known columns; {name:?} is not one (the columns are {})", known.join(", "))
            })?;
            if !columns.contains(&column) {
                columns.push(column);
            }
        }
        Ok(ColumnList(columns))
    }
}

impl<'de> Deserialize<'de> for ColumnList {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
    }
}

component!(
    for ColumnList = "ExportColumns",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(format!(
            "Column names separated by commas, in the file's order; a column named again keeps its \
             first place. The columns: {}. Without it (or empty): every column but `related` and \
             `metadata`.",
            Column::ALL.iter().map(|c| format!("`{}`", c.name())).collect::<Vec<_>>().join(", ")
        )))
        .pattern(Some(ColumnList::pattern()))
        .examples(["occurred_at_local,actor_name,action,entity_label,description,changes"])
        .build()
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_known_names_each_once() {
        let list: ColumnList = "actor_name,id,metadata".parse().unwrap();
        assert_eq!(list.columns(), [Column::ActorName, Column::Id, Column::Metadata]);
        for bad in ["", "id,", "id,,seq", "ID", "id, seq", "nope"] {
            let error = bad.parse::<ColumnList>().unwrap_err();
            // `must …` is what the problem body passes on as it is.
            assert!(error.starts_with("must name known columns"), "{bad:?}: {error}");
        }
        let repeated: ColumnList = "seq,id,seq,id".parse().unwrap();
        assert_eq!(repeated.columns(), [Column::Seq, Column::Id]);
        let every: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(every.join(",").parse::<ColumnList>().unwrap().columns(), Column::ALL);
    }

    #[test]
    fn the_pattern_says_what_the_parser_takes() {
        let pattern = regex_syntax::Parser::new().parse(&ColumnList::pattern());
        assert!(pattern.is_ok(), "{pattern:?}");
        let default = ColumnList::default();
        assert_eq!(default.columns().len(), Column::ALL.len() - 2);
        assert!(!default.columns().contains(&Column::Related));
    }
}
