//! The columns of an event derived from its hashed fields, which verification recomputes: the
//! keyword text (`search_text`) and the IP address's sort key (`ip_key`).
//!
//! The keyword text is lower-case and made of parts. The first holds what every reader of the
//! event sees: description, record label and id, actor name, action, and each related record's
//! label and id. Each field a tenant may hide from a role follows in a part of its own, opened by
//! [`PART_MARK`] and a letter ([`SearchPart`]): the actor's e-mail, the IP address, the user agent
//! and the values of the changes. A keyword may hold neither mark nor separator, so a match lies
//! within one part, and a reader's search can be confined to the parts they see
//! ([`SearchPart::pattern`]). Values inside a part are separated by [`SEARCH_SEPARATOR`].
//!
//! Bounded: the user agent is cut to [`MAX_USER_AGENT_CHARS`], each related label, id and change
//! value to [`MAX_VALUE_CHARS`], and the related records and the change values to
//! [`MAX_PART_CHARS`] each (values past it are not searchable). With the other fields' own limits
//! a text stays under about 12 KB.

use std::net::IpAddr;

use crate::models::{Change, EntityRef, EventRow};
use crate::visibility::HiddenField;

/// Separates the values of `search_text`; keyword searches may not contain it.
pub const SEARCH_SEPARATOR: char = '\u{1f}';
/// Opens a part of `search_text` holding a field that may be hidden; keywords may not contain it.
pub const PART_MARK: char = '\u{1e}';
/// Most characters of the user agent searched.
pub const MAX_USER_AGENT_CHARS: usize = 512;
/// Most characters of one related label or id, or of one change value, searched.
pub const MAX_VALUE_CHARS: usize = 200;
/// Most characters of the related records' part, and of the change values' part.
pub const MAX_PART_CHARS: usize = 4_000;

/// The parts of `search_text`, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchPart {
    /// Seen by every reader of the event.
    Open,
    ActorEmail,
    Ip,
    UserAgent,
    Changes,
}

impl SearchPart {
    pub const ALL: [SearchPart; 5] = [
        SearchPart::Open,
        SearchPart::ActorEmail,
        SearchPart::Ip,
        SearchPart::UserAgent,
        SearchPart::Changes,
    ];

    /// The letter after [`PART_MARK`] that opens the part (the open part comes first, unmarked).
    fn letter(self) -> Option<char> {
        match self {
            SearchPart::Open => None,
            SearchPart::ActorEmail => Some('e'),
            SearchPart::Ip => Some('i'),
            SearchPart::UserAgent => Some('u'),
            SearchPart::Changes => Some('c'),
        }
    }

    /// The field a role may be forbidden to see, whose value the part holds.
    pub fn field(self) -> Option<HiddenField> {
        match self {
            SearchPart::Open => None,
            SearchPart::ActorEmail => Some(HiddenField::ActorEmail),
            SearchPart::Ip => Some(HiddenField::Ip),
            SearchPart::UserAgent => Some(HiddenField::UserAgent),
            SearchPart::Changes => Some(HiddenField::Changes),
        }
    }

    fn next(self) -> Option<SearchPart> {
        let at = SearchPart::ALL.iter().position(|p| *p == self)?;
        SearchPart::ALL.get(at + 1).copied()
    }

    /// A LIKE pattern (escape `\`) matching a text with `q` (lower-case, without marks or
    /// separators) inside this part: after its opening mark, before the next part's. Each mark is
    /// in a text once, so the match cannot lie elsewhere.
    pub fn pattern(self, q: &str) -> String {
        let mut pattern = String::new();
        if let Some(letter) = self.letter() {
            pattern.push('%');
            pattern.push(PART_MARK);
            pattern.push(letter);
        }
        pattern.push_str(&crate::queries::contains_pattern(q));
        if let Some(letter) = self.next().and_then(SearchPart::letter) {
            pattern.push(PART_MARK);
            pattern.push(letter);
            pattern.push('%');
        }
        pattern
    }
}

/// The hashed fields the keyword text is made of.
#[derive(Debug, Clone, Copy)]
pub struct Searchable<'a> {
    pub description: &'a str,
    pub entity_label: Option<&'a str>,
    pub entity_id: Option<&'a str>,
    pub actor_name: &'a str,
    pub actor_email: Option<&'a str>,
    pub action: &'a str,
    pub related: &'a [EntityRef],
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub changes: &'a [Change],
}

/// The keyword text of an event (see the module's documentation).
pub fn search_text(s: &Searchable<'_>) -> String {
    let mut text = String::new();
    let open = [Some(s.description), s.entity_label, s.entity_id, Some(s.actor_name), Some(s.action)];
    let mut first = true;
    for value in open.into_iter().flatten() {
        push_value(&mut text, &mut first, value, usize::MAX);
    }
    let mut related = Part::new(&mut text, &mut first);
    for r in s.related {
        if let Some(label) = &r.label {
            related.push(label);
        }
        related.push(&r.id);
    }
    for part in &SearchPart::ALL[1..] {
        text.push(PART_MARK);
        text.push(part.letter().unwrap_or_default());
        let mut first = true;
        match part {
            SearchPart::Open => {}
            SearchPart::ActorEmail => push_optional(&mut text, &mut first, s.actor_email, usize::MAX),
            SearchPart::Ip => push_optional(&mut text, &mut first, s.ip, usize::MAX),
            SearchPart::UserAgent => push_optional(&mut text, &mut first, s.user_agent, MAX_USER_AGENT_CHARS),
            SearchPart::Changes => {
                let mut values = Part::new(&mut text, &mut first);
                for change in s.changes {
                    for side in [&change.old, &change.new].into_iter().flatten() {
                        values.push_json(side);
                    }
                }
            }
        }
    }
    text.to_lowercase()
}

/// The keyword text of a stored row (a tombstone's is empty). Unreadable JSON counts as none.
pub fn row_search_text(row: &EventRow) -> String {
    if row.deleted_at.is_some() {
        return String::new();
    }
    let related: Vec<EntityRef> = serde_json::from_str(&row.related).unwrap_or_default();
    let changes: Vec<Change> = serde_json::from_str(&row.changes).unwrap_or_default();
    search_text(&Searchable {
        description: &row.description,
        entity_label: row.entity_label.as_deref(),
        entity_id: row.entity_id.as_deref(),
        actor_name: &row.actor_name,
        actor_email: row.actor_email.as_deref(),
        action: &row.action,
        related: &related,
        ip: Some(row.ip.as_str()).filter(|ip| !ip.is_empty()),
        user_agent: row.user_agent.as_deref(),
        changes: &changes,
    })
}

/// The IP key of a stored row (a tombstone has no address).
pub fn row_ip_key(row: &EventRow) -> String {
    if row.deleted_at.is_some() {
        return NO_IP_KEY.to_string();
    }
    ip_key(&row.ip)
}

fn push_optional(text: &mut String, first: &mut bool, value: Option<&str>, max: usize) {
    if let Some(value) = value {
        push_value(text, first, value, max);
    }
}

/// Appends `value` (at most `max` characters of it), its control characters made spaces: marks
/// and separators among them, and NUL, which a change value may hold and PostgreSQL's text may
/// not (no keyword holds a control character either).
fn push_value(text: &mut String, first: &mut bool, value: &str, max: usize) {
    if !*first {
        text.push(SEARCH_SEPARATOR);
    }
    *first = false;
    text.extend(value.chars().take(max).map(|c| if c.is_control() { ' ' } else { c }));
}

/// Values appended up to [`MAX_PART_CHARS`].
struct Part<'t> {
    text: &'t mut String,
    first: &'t mut bool,
    left: usize,
}

impl<'t> Part<'t> {
    fn new(text: &'t mut String, first: &'t mut bool) -> Self {
        Part { text, first, left: MAX_PART_CHARS }
    }

    fn push(&mut self, value: &str) {
        let take = value.chars().take(MAX_VALUE_CHARS).count().min(self.left);
        if take == 0 {
            return;
        }
        self.left -= take;
        push_value(self.text, self.first, value, take);
    }

    /// A change value as a reader sees it: a string as itself, a number or boolean as its JSON
    /// text, the scalars inside an array or object each on their own; null is nothing.
    fn push_json(&mut self, value: &serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::Null => {}
            Value::String(s) => self.push(s),
            Value::Bool(_) | Value::Number(_) => self.push(&value.to_string()),
            Value::Array(items) => items.iter().for_each(|v| self.push_json(v)),
            Value::Object(map) => map.values().for_each(|v| self.push_json(v)),
        }
    }
}

/// The IP key of an event without an address (or with one that does not parse): after every
/// address.
pub const NO_IP_KEY: &str = "z";

/// The sort key of an address: `4` and 8 hex digits for IPv4, `6` and 32 for IPv6, [`NO_IP_KEY`]
/// for none. Compared as bytes it orders addresses numerically, IPv4 before IPv6 before none.
pub fn ip_key(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => format!("4{:08x}", u32::from(v4)),
        Ok(IpAddr::V6(v6)) => format!("6{:032x}", u128::from(v6)),
        Err(_) => NO_IP_KEY.to_string(),
    }
}

/// The addresses of a network: its first and last keys (inclusive). `prefix` is cut to the
/// address's length.
pub fn ip_key_range(network: IpAddr, prefix: u8) -> (String, String) {
    match network {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let host = u32::MAX.checked_shr(u32::from(prefix.min(32))).unwrap_or(0);
            (format!("4{:08x}", bits & !host), format!("4{:08x}", bits | host))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let host = u128::MAX.checked_shr(u32::from(prefix.min(128))).unwrap_or(0);
            (format!("6{:032x}", bits & !host), format!("6{:032x}", bits | host))
        }
    }
}

/// The range of keys an `ip` filter's text stands for: an address (`10.1.2.3`, `2001:db8::1`) or
/// a network in CIDR notation (`10.1.0.0/16`), as the API writes them; `None` for other text.
pub fn ip_filter_range(filter: &str) -> Option<(String, String)> {
    match filter.split_once('/') {
        None => {
            let ip = filter.parse::<IpAddr>().ok()?;
            let key = ip_key(&ip.to_string());
            Some((key.clone(), key))
        }
        Some((network, prefix)) => {
            let network = network.parse::<IpAddr>().ok()?;
            let prefix = prefix.parse::<u8>().ok()?;
            let max = if network.is_ipv4() { 32 } else { 128 };
            (prefix <= max).then(|| ip_key_range(network, prefix))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(changes: &[Change], related: &[EntityRef]) -> String {
        search_text(&Searchable {
            description: "Booked a Room",
            entity_label: Some("B-17"),
            entity_id: Some("17"),
            actor_name: "Mia",
            actor_email: Some("mia@acme.test"),
            action: "booking.created",
            related,
            ip: Some("10.9.8.7"),
            user_agent: Some("Mozilla/5.0 Firefox"),
            changes,
        })
    }

    fn change(old: Option<serde_json::Value>, new: Option<serde_json::Value>) -> Change {
        Change { field: "item".into(), old, new }
    }

    #[test]
    fn each_hideable_field_sits_in_its_own_part() {
        let related = [EntityRef {
            entity_type: "customer".into(),
            id: "c-9".into(),
            label: Some("Amelia Hughes".into()),
        }];
        let changes = [change(Some(json!("Heater")), Some(json!("Boiler"))), change(None, Some(json!(42)))];
        let t = text(&changes, &related);
        assert_eq!(
            t,
            "booked a room\u{1f}b-17\u{1f}17\u{1f}mia\u{1f}booking.created\u{1f}amelia hughes\u{1f}c-9\
             \u{1e}emia@acme.test\u{1e}i10.9.8.7\u{1e}umozilla/5.0 firefox\u{1e}cheater\u{1f}boiler\u{1f}42"
        );
        let like = |pattern: &str| {
            // A LIKE of `%`-separated literal pieces, as SQL reads it here (no `_` in these).
            let pieces: Vec<&str> = pattern.split('%').collect();
            let mut at = 0;
            for piece in pieces.iter().filter(|p| !p.is_empty()) {
                match t[at..].find(piece) {
                    Some(found) => at += found + piece.len(),
                    None => return false,
                }
            }
            true
        };
        assert!(like(&SearchPart::Changes.pattern("boiler")));
        assert!(!like(&SearchPart::Open.pattern("boiler")));
        assert!(like(&SearchPart::Open.pattern("amelia")));
        assert!(like(&SearchPart::Ip.pattern("10.9")));
        assert!(!like(&SearchPart::UserAgent.pattern("10.9")));
        assert!(like(&SearchPart::UserAgent.pattern("firefox")));
        assert!(!like(&SearchPart::ActorEmail.pattern("firefox")));
    }

    #[test]
    fn values_are_bounded_and_marks_in_them_are_spaces() {
        let long = "x".repeat(10_000);
        let changes: Vec<Change> = (0..100).map(|_| change(Some(json!(long)), Some(json!(long)))).collect();
        let t = text(&changes, &[]);
        let values = t.split_once("\u{1e}c").map(|(_, v)| v).unwrap_or_default();
        assert_eq!(values.chars().filter(|c| *c == 'x').count(), MAX_PART_CHARS);
        let sneaky = [EntityRef { entity_type: "t".into(), id: "a\u{1e}ib\u{1f}\0".into(), label: None }];
        let t = text(&[change(None, Some(json!("nul\u{0}")))], &sneaky);
        assert_eq!(
            (t.matches('\u{1e}').count(), t.matches('\u{1f}').count(), t.contains('\0')),
            (4, 5, false),
            "{t:?}"
        );
    }

    #[test]
    fn ip_keys_sort_numerically_and_ranges_cover_networks() {
        let mut ips = ["10.0.0.1", "", "9.255.255.255", "::1", "2001:db8::1", "255.0.0.0"].map(ip_key);
        ips.sort();
        assert_eq!(ips, ["9.255.255.255", "10.0.0.1", "255.0.0.0", "::1", "2001:db8::1", ""].map(ip_key));
        let (low, high) = ip_filter_range("86.52.0.0/16").unwrap_or_default();
        assert!(low <= ip_key("86.52.0.0") && ip_key("86.52.255.255") <= high);
        assert!(ip_key("86.53.0.0") > high && ip_key("86.51.255.255") < low);
        let (low, high) = ip_filter_range("2001:db8::/32").unwrap_or_default();
        assert!(low <= ip_key("2001:db8:ffff::1") && ip_key("2001:db8:ffff::1") <= high);
        assert!(ip_key("2001:db9::") > high);
        assert_eq!(ip_filter_range("0.0.0.0/0"), Some(("400000000".into(), "4ffffffff".into())));
        assert_eq!(ip_filter_range("1.2.3.4"), Some((ip_key("1.2.3.4"), ip_key("1.2.3.4"))));
        assert_eq!(ip_filter_range("1.2.3.4/33"), None);
        assert_eq!(ip_filter_range("nonsense"), None);
    }
}
