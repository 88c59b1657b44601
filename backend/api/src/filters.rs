//! The one parser of event filters, shared by every endpoint that reads events.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest};
use auditlog_db::flags::FlagKind;
use auditlog_db::models::EntityRef;
use auditlog_db::queries::events::{
    Cursor, EventFilter, FlagFilter, ListRequest, Paging, Sort, SortKey, SortOrder,
};
use auditlog_db::visibility::HiddenField;
use chrono::{
    DateTime, Datelike, Days, FixedOffset, Months, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Timelike,
    Utc,
};
use chrono_tz::Tz;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, Object, ObjectBuilder, SchemaFormat, Type};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::http::error::{ApiError, FieldError};
use crate::http::wording::Flaw;
use crate::text::{self, component, text_type};

/// Page sizes the list accepts.
pub const PAGE_SIZES: [u32; 4] = [10, 25, 50, 100];
pub const DEFAULT_PER_PAGE: u32 = 25;
/// Above this many matches (or when counting them is slow), page mode answers an estimated total
/// (`total_is_estimate`).
pub const EXACT_COUNT_LIMIT: i64 = 10_000;
const MAX_KEYWORD_CHARS: usize = 200;
/// Most characters of a text filter (module, verb, action, record type and id, actor id).
const MAX_FILTER_CHARS: usize = 128;
/// Most characters of the type of a record whose history is asked for (as in its path).
const MAX_RECORD_TYPE_CHARS: usize = 64;
const MAX_ACTOR_IDS: usize = 100;

// The schemas below say exactly what the parser accepts, so that a client (or a contract
// fuzzer) can tell a valid request from an invalid one without asking the server. They are named
// (components) because a parameter's `schema_with` would drop its description.

fn string_with_format(format: SchemaFormat) -> Object {
    ObjectBuilder::new().schema_type(Type::String).format(Some(format)).build()
}

text_type!(
    /// A text filter: at most 128 characters, no control characters (no stored value has them,
    /// and PostgreSQL refuses text holding NUL). Surrounding whitespace is ignored; empty matches
    /// anything.
    FilterText: Line, MAX_FILTER_CHARS
);

text_type!(
    /// A record's type, as a history names it: at most 64 characters, no control characters.
    /// Surrounding whitespace is ignored; empty is absent.
    RecordType: Line, MAX_RECORD_TYPE_CHARS
);

text_type!(
    /// A search text: at most 200 characters, no control characters. Surrounding whitespace is
    /// ignored; empty matches anything.
    Keyword: Line, MAX_KEYWORD_CHARS
);

component!(
    /// `from`/`to`, as [`parse_bound`] reads them.
    DateBound = "DateBound",
    AnyOfBuilder::new()
        .description(Some("An RFC 3339 date-time (`2026-11-21T09:30:00Z`) or a date (`2026-11-21`)."))
        .item(string_with_format(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .item(string_with_format(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .build()
);

/// An IP address, as `std::net::IpAddr` parses it, kept in its canonical text (`::1`, not
/// `0::1`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IpAddress(String);

impl IpAddress {
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for IpAddress {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.parse::<IpAddr>() {
            Ok(ip) => Ok(IpAddress(ip.to_string())),
            Err(_) => Err(serde::de::Error::custom("must be an IPv4 or IPv6 address")),
        }
    }
}

component!(
    for IpAddress = "IpAddress",
    AnyOfBuilder::new()
        .description(Some("An IPv4 or IPv6 address."))
        .item(string_with_format(SchemaFormat::Custom("ipv4".into())))
        .item(string_with_format(SchemaFormat::Custom("ipv6".into())))
        .build()
);

/// The `ip` filter: an address (IPv4 or IPv6), the first one to three whole octets of an IPv4
/// address (`86.52` or `86.52.`, the network `86.52.0.0/16`), or a network in CIDR notation
/// (`86.52.0.0/16`, `2001:db8::/32`). Kept as canonical text, an address (`2001:db8::1`) or a
/// network with its host bits cleared (`86.52.0.0/16`), which
/// `auditlog_db::derived::ip_filter_range` turns into a range of the IP sort key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IpFilter(String);

/// One IPv4 octet as written in an address: 0 to 255, no leading zero.
const OCTET: &str = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
/// Groups of an IPv6 address in hex only (no embedded IPv4 part), `::` at most once.
const IPV6_HEX: &str =
    "(?:(?:H:){7}H|(?:H:){1,7}:|(?:H:){1,6}:H|(?:H:){1,5}(?::H){1,2}|(?:H:){1,4}(?::H){1,3}|\
                        (?:H:){1,3}(?::H){1,4}|(?:H:){1,2}(?::H){1,5}|H:(?::H){1,6}|:(?:(?::H){1,7}|:))";
const IP_FILTER_HELP: &str =
    "must be an IPv4 or IPv6 address (`86.52.10.7`, `2001:db8::1`), the first one to three \
     whole octets of an IPv4 address (`86.52` or `86.52.`), or a network in CIDR notation (`86.52.0.0/16`, \
     `2001:db8::/32`)";

impl IpFilter {
    pub fn into_inner(self) -> String {
        self.0
    }

    /// What the schema's pattern says besides whole addresses: leading octets, and networks.
    fn pattern() -> String {
        let ipv6 = IPV6_HEX.replace(' ', "").replace('H', "[0-9a-fA-F]{1,4}");
        format!(
            "^(?:{OCTET}(?:\\.{OCTET}){{0,2}}\\.?|{OCTET}(?:\\.{OCTET}){{3}}/(?:3[0-2]|[12][0-9]|[0-9])\
             |{ipv6}/(?:12[0-8]|1[01][0-9]|[1-9][0-9]|[0-9]))$"
        )
    }

    fn parse(text: &str) -> Result<Self, String> {
        if let Some((address, prefix)) = text.split_once('/') {
            let network: IpAddr = match address.parse::<IpAddr>() {
                // The pattern's IPv6 networks are written in hex groups only.
                Ok(IpAddr::V6(_)) if address.contains('.') => {
                    return Err(format!(
                        "must write an IPv6 network in hex groups, without an embedded IPv4 part (`{address}` has one)"
                    ))
                }
                Ok(ip) => ip,
                Err(_) => {
                    return Err(format!(
                        "must have a whole IPv4 or IPv6 address before the `/` of a network (`{address}` is not one)"
                    ))
                }
            };
            let max: u8 = if network.is_ipv4() { 32 } else { 128 };
            let written = !prefix.is_empty()
                && prefix.len() <= 3
                && prefix.bytes().all(|b| b.is_ascii_digit())
                && (prefix == "0" || !prefix.starts_with('0'));
            let length = prefix.parse::<u8>().ok().filter(|length| written && *length <= max).ok_or_else(|| {
                let family = if network.is_ipv4() { "IPv4" } else { "IPv6" };
                format!("must have a prefix length from 0 to {max} after the `/` of an {family} network, not `/{prefix}`")
            })?;
            return Ok(IpFilter(network_text(network, length)));
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(IpFilter(ip.to_string()));
        }
        // Leading octets: `86`, `86.52`, `86.52.1`, each with an optional trailing dot.
        let octets: Vec<&str> = text.strip_suffix('.').unwrap_or(text).split('.').collect();
        let octet = |o: &&str| {
            !o.is_empty()
                && o.len() <= 3
                && o.bytes().all(|b| b.is_ascii_digit())
                && (*o == "0" || !o.starts_with('0'))
                && o.parse::<u8>().is_ok()
        };
        if (1..=3).contains(&octets.len()) && octets.iter().all(octet) {
            let mut bytes = [0u8; 4];
            for (byte, o) in bytes.iter_mut().zip(&octets) {
                *byte = o.parse().unwrap_or_default();
            }
            return Ok(IpFilter(network_text(IpAddr::from(bytes), octets.len() as u8 * 8)));
        }
        Err(IP_FILTER_HELP.to_string())
    }
}

/// `network/length`, the host bits of `network` cleared.
fn network_text(network: IpAddr, length: u8) -> String {
    let cleared = match network {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(length)).unwrap_or(0);
            IpAddr::from(std::net::Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(length)).unwrap_or(0);
            IpAddr::from(std::net::Ipv6Addr::from(u128::from(v6) & mask))
        }
    };
    format!("{cleared}/{length}")
}

impl<'de> Deserialize<'de> for IpFilter {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        IpFilter::parse(&text).map_err(serde::de::Error::custom)
    }
}

component!(
    for IpFilter = "IpFilter",
    AnyOfBuilder::new()
        .description(Some(
            "An IPv4 or IPv6 address (exactly that address); the first one to three whole octets of an IPv4 \
             address, with or without a trailing dot (`86.52` or `86.52.`: the network 86.52.0.0/16); or a \
             network in CIDR notation, IPv4 `/0` to `/32` or IPv6 (in hex groups) `/0` to `/128` (`86.52.0.0/16`, \
             `2001:db8::/32`; host bits are ignored).",
        ))
        .item(string_with_format(SchemaFormat::Custom("ipv4".into())))
        .item(string_with_format(SchemaFormat::Custom("ipv6".into())))
        .item(ObjectBuilder::new().schema_type(Type::String).pattern(Some(IpFilter::pattern())))
        .build()
);

/// The `flag` filter: `any`, or a kind of flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagParam(FlagFilter);

impl<'de> Deserialize<'de> for FlagParam {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.as_str() {
            "any" => Ok(FlagParam(FlagFilter::Any)),
            other => other.parse::<FlagKind>().map(|k| FlagParam(FlagFilter::Kind(k))).map_err(|_| {
                let kinds: Vec<String> = FlagKind::ALL.iter().map(|k| format!("`{}`", k.as_str())).collect();
                serde::de::Error::custom(format!("must be `any` or one of {}", kinds.join(", ")))
            }),
        }
    }
}

component!(
    for FlagParam = "FlagFilter",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("`any` flag, or one kind of flag."))
        .enum_values(Some(std::iter::once("any").chain(FlagKind::ALL.map(FlagKind::as_str))))
        .build()
);

component!(
    /// A zone of the `chrono-tz` database, as `Tz::from_str` takes them. (`TimeZone` is chrono's
    /// trait.) A plain string, not an enum of the ~600 names: client generators turn an enum into
    /// one identifier per name, and names such as `GMT0`, `GMT+0` and `GMT-0` collide there. The
    /// server still accepts only the database's names ([`EventFilterParams::zone`]).
    TimeZoneName = "TimeZone",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "An IANA time zone name, exactly as the tz database spells it (case-sensitive): \
             `Europe/London`, `America/New_York`, `Asia/Kolkata`, `UTC`. Any other value is \
             refused with 400.",
        ))
        .examples(["Europe/London", "America/New_York", "UTC"])
        .build()
);

/// Parses a query string strictly: unknown parameters are rejected, repeated ones collected.
/// A rejection names the parameter (an unknown one, or the one whose value is invalid).
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let deserializer = serde_html_form::Deserializer::from_bytes(query.as_bytes());
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let error = e.into_inner();
        log::debug!("query string refused at {path:?}: {error}");
        let flaw = Flaw::parse(&error.to_string());
        // The path is the parameter's name; `actor_id[2]` is still `actor_id`.
        let name = path.split('[').next().unwrap_or_default();
        let whole = |message: &str| ApiError::BadRequest {
            detail: format!("the query string {message}"),
            errors: vec![FieldError::new("query", message)],
        };
        match &flaw {
            // Reported at the query string's level by serde: the flaw names the parameter.
            Flaw::Missing { name } => ApiError::bad_parameter(name, flaw.message("parameter")),
            Flaw::Unknown { name, .. } if name.is_empty() => whole("has a parameter without a name"),
            // serde lists the fields of the one struct it fills, which may be only part of what
            // the endpoint takes (see `parse_filtered`): no list.
            Flaw::Unknown { name, .. } => {
                let message = "is not a parameter of this endpoint";
                ApiError::BadRequest {
                    detail: format!("unknown query parameter `{name}`: {message}"),
                    errors: vec![FieldError::new(name.as_str(), message)],
                }
            }
            _ if matches!(name, "" | "." | "?") => whole(&flaw.message("parameter")),
            _ => ApiError::bad_parameter(name, flaw.message("parameter")),
        }
    })
}

/// Named date ranges, resolved in the request's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RangePreset {
    Today,
    Yesterday,
    ThisWeek,
    #[serde(rename = "last_7_days")]
    Last7Days,
    #[serde(rename = "last_30_days")]
    Last30Days,
    ThisMonth,
    LastMonth,
}

/// `all` (what the role may see) or `mine` (only the caller's own events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    All,
    Mine,
}

/// The filters of every endpoint that reads events (list, history, export, stats, stream). Every
/// filter combines with every other (AND).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventFilterParams {
    /// Earliest `occurred_at`, inclusive: an RFC 3339 date-time, or a date (`YYYY-MM-DD`, from its
    /// start in `tz`); years 0001 to 9999. Not with `range`, and before `to`.
    #[param(value_type = Option<DateBound>)]
    pub from: Option<String>,
    /// Latest `occurred_at`, inclusive: an RFC 3339 date-time, or a date (`YYYY-MM-DD`, the whole
    /// day in `tz`); years 0001 to 9999. Not with `range`.
    #[param(value_type = Option<DateBound>)]
    pub to: Option<String>,
    /// A named period, resolved in `tz`. Not with `from`/`to`.
    pub range: Option<RangePreset>,
    /// IANA time zone for `range` and date-only `from`/`to`; default: the tenant's business time zone.
    #[param(value_type = Option<TimeZoneName>, example = "Europe/London")]
    pub tz: Option<String>,
    /// Only events by this actor id; repeat the parameter for several actors (at most 100).
    #[serde(default)]
    #[param(max_items = 100)]
    pub actor_id: Vec<FilterText>,
    /// Module, the first segment of the action (e.g. `booking`). Empty: any.
    pub module: Option<FilterText>,
    /// Verb, the second segment of the action (e.g. `updated`). Empty: any.
    pub verb: Option<FilterText>,
    /// Exact action (e.g. `booking.updated`). Empty: any.
    pub action: Option<FilterText>,
    /// Type of the affected record (e.g. `booking`). Empty: any.
    pub entity_type: Option<FilterText>,
    /// Id of the affected record. Empty: any.
    pub entity_id: Option<FilterText>,
    /// With `record_id`: only the history of this record, its own events and those that list it
    /// in `related` (what `GET /entities/{type}/{id}/history` shows), e.g. `customer`. Both or
    /// neither. On the history endpoint the path names the record: if given, they must name the
    /// same one.
    pub record_type: Option<RecordType>,
    /// With `record_type`: the id of the record whose history is wanted, e.g. `c1`.
    pub record_id: Option<FilterText>,
    /// An IP address (exact), the first whole octets of an IPv4 address (`86.52` or `86.52.`:
    /// 86.52.0.0/16), or a network in CIDR notation (`86.52.0.0/16`, `2001:db8::/32`). Refused
    /// (403) when the tenant hides the IP address from the caller's role (`GET /settings/fields`).
    pub ip: Option<IpFilter>,
    /// Keyword, case-insensitive substring, over description, record label and id, actor name,
    /// action, related records' labels and ids, and — only when the caller's role sees the field
    /// (`GET /settings/fields`) — the actor's e-mail, the IP address, the user agent (its first 512
    /// characters) and the changes' old and new values (as shown: text, numbers, `true`/`false`,
    /// the values inside lists and objects; not field names; each value's first 200 characters,
    /// 4,000 characters of values per event). A whole number also matches the event id. Empty: any.
    pub q: Option<Keyword>,
    /// Only flagged events: `any` flag, or one kind (`odd_hours`, `new_ip`, `new_user_agent`,
    /// `failed_login_burst`, `bulk_delete`, `bulk_export`, `privilege_change`).
    pub flag: Option<FlagParam>,
    /// `mine` keeps only the caller's own events; `all` (default) is everything the role may see
    /// (for a member that is their own events either way).
    pub scope: Option<Scope>,
}

fn page_size_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .enum_values(Some(PAGE_SIZES))
        .default(Some(DEFAULT_PER_PAGE.into()))
        .build()
}

/// The query keys of [`EventFilterParams`], to tell them from an endpoint's own parameters: the
/// field names its `Deserialize` derive knows, read from the derive itself.
pub fn filter_keys() -> &'static [&'static str] {
    static KEYS: std::sync::OnceLock<&'static [&'static str]> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        let mut fields: &'static [&'static str] = &[];
        let _ = EventFilterParams::deserialize(FieldNames(&mut fields));
        fields
    })
}

/// A deserializer that only notes the fields a derived struct asks for, then stops.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> serde::Deserializer<'de> for FieldNames<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("only a struct's fields are read"))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(serde::de::Error::custom("fields noted"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// Sort and paging of an event list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Sort column (default `occurred_at`); ties are broken by `occurred_at`, then `id`. `ip`
    /// sorts numerically (9.x before 10.x), IPv4 before IPv6, events without an address last when
    /// ascending (first when descending); it is refused (403) when the tenant hides the IP
    /// address from the caller's role.
    pub sort: Option<SortKey>,
    /// Sort direction (default `desc`).
    pub order: Option<SortOrder>,
    /// Page size: 10, 25 (default), 50 or 100.
    #[param(schema_with = page_size_schema)]
    pub per_page: Option<u32>,
    /// 1-based page number; the response then includes `total`. Not with `cursor`.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 4294967295_i64)]
    pub page: Option<u32>,
    /// Keyset position from a previous response's `next_cursor`, passed back exactly as received
    /// (it is made for one `sort` and `order`): constant time at any depth. Send it empty
    /// (`cursor=`) for the first page in cursor mode.
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
    /// Whether `cursor` was sent at all (even empty).
    #[serde(skip)]
    #[param(ignore)]
    pub cursor_mode: bool,
}

/// Splits a query string into the shared filters and an endpoint's own parameters `T`; a key
/// that neither knows is rejected.
pub fn parse_filtered<T: DeserializeOwned>(query: &str) -> Result<(EventFilterParams, T), ApiError> {
    let (mut filter_pairs, mut own_pairs) = (Vec::new(), Vec::new());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let key = pair.split('=').next().unwrap_or_default();
        if filter_keys().contains(&key) {
            filter_pairs.push(pair);
        } else {
            own_pairs.push(pair);
        }
    }
    Ok((parse_query(&filter_pairs.join("&"))?, parse_query(&own_pairs.join("&"))?))
}

/// Sort column and direction, with the defaults (newest first).
pub fn sort_of(sort: Option<SortKey>, order: Option<SortOrder>) -> Sort {
    Sort { key: sort.unwrap_or_default(), order: order.unwrap_or_default() }
}

/// A list request (list and history endpoints): filters, sort and paging from one query string.
pub fn list_request(query: &str, ctx: &FilterContext) -> Result<ListRequest, ApiError> {
    let (filter, mut list): (EventFilterParams, ListParams) = parse_filtered(query)?;
    list.cursor_mode = cursor_mode(query);
    list.request(filter.filter(ctx)?)
}

/// Whether the query asks for cursor mode: `cursor` sent at all, even empty.
fn cursor_mode(query: &str) -> bool {
    query.split('&').any(|pair| pair == "cursor" || pair.starts_with("cursor="))
}

/// The time frame for relative dates: now, in the tenant's business zone.
pub fn filter_context(caller: &Caller) -> FilterContext {
    FilterContext { now: Utc::now(), default_tz: caller.tenant.timezone.parse::<Tz>().unwrap_or(Tz::UTC) }
}

/// The parameters of an operation that takes only the shared filters: none, so that any other
/// key is refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// What every filtered read (list, history, export, timeline, stream) starts from: the signed-in
/// caller, the shared filters resolved for them (relative dates against now, in their tenant's
/// zone unless `tz` says otherwise), the zone, and the operation's own query parameters `P`. A
/// query key that neither the filters nor `P` know is a 400.
pub struct Filtered<P> {
    pub caller: Caller,
    pub filter: EventFilter,
    pub tz: Tz,
    pub params: P,
    /// When the filters were resolved (what `range=24h` counted back from).
    pub now: DateTime<Utc>,
    /// The query string as sent.
    pub query: String,
}

impl<P: DeserializeOwned + 'static> FromRequest for Filtered<P> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        let query = req.query_string().to_string();
        Box::pin(async move { Filtered::resolve(caller.await?, query) })
    }
}

impl<P: DeserializeOwned> Filtered<P> {
    /// The filters and parameters of `query`, resolved for `caller`; a filter or sort on a field
    /// the caller's role may not see is refused.
    pub fn resolve(caller: Caller, query: String) -> Result<Self, ApiError> {
        let (filter_params, params): (EventFilterParams, P) = parse_filtered(&query)?;
        let ctx = filter_context(&caller);
        let filter = filter_params.filter(&ctx)?;
        refuse_hidden(&caller, &filter, &query)?;
        Ok(Filtered { filter, tz: filter_params.zone(&ctx)?, now: ctx.now, caller, params, query })
    }
}

impl Filtered<ListParams> {
    /// The list request of the list and history endpoints.
    pub fn list_request(self) -> Result<(Caller, ListRequest), ApiError> {
        let mut list = self.params;
        list.cursor_mode = cursor_mode(&self.query);
        Ok((self.caller, list.request(self.filter)?))
    }
}

/// Refuses (403) a filter or sort on a field withheld from the caller's role: its answer would
/// tell of the value (which events have this IP, how they order by it). The keyword search and
/// the actor search instead leave the hidden fields out (`auditlog_db::visibility`).
fn refuse_hidden(caller: &Caller, filter: &EventFilter, query: &str) -> Result<(), ApiError> {
    // A caller who may not read events at all is refused by the operation itself.
    let Ok(viewer) = caller.viewer() else { return Ok(()) };
    if !viewer.hides(HiddenField::Ip) {
        return Ok(());
    }
    let refused = |what: &str| {
        ApiError::Forbidden(format!("{what} is not available: the IP address is hidden from your role"))
    };
    if filter.ip.is_some() {
        return Err(refused("the `ip` filter"));
    }
    // Every operation that sorts names its column `sort`; a malformed one is its own to refuse.
    #[derive(Deserialize)]
    struct SortOnly {
        sort: Option<SortKey>,
    }
    let sort = serde_html_form::from_str::<SortOnly>(query).ok().and_then(|s| s.sort);
    if sort == Some(SortKey::Ip) {
        return Err(refused("`sort=ip`"));
    }
    Ok(())
}

/// Where relative dates are resolved.
pub struct FilterContext {
    pub now: DateTime<Utc>,
    pub default_tz: Tz,
}

fn clean(value: &Option<FilterText>) -> Option<String> {
    value.clone().and_then(FilterText::non_empty)
}

/// Local midnight of `date` in `tz`; on a day that starts inside a DST gap, the first valid instant.
fn start_of_day(tz: Tz, date: NaiveDate) -> NaiveDateTime {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    (0..=180)
        .step_by(15)
        .find_map(|minutes| tz.from_local_datetime(&(midnight + TimeDelta::minutes(minutes))).earliest())
        .map(|t| t.naive_utc())
        .unwrap_or(midnight)
}

fn resolve_range(preset: RangePreset, tz: Tz, now: DateTime<Utc>) -> (NaiveDateTime, NaiveDateTime) {
    let today = now.with_timezone(&tz).date_naive();
    let day = |d: NaiveDate| start_of_day(tz, d);
    let tomorrow = today + Days::new(1);
    let month_start = today.with_day(1).unwrap_or(today);
    match preset {
        RangePreset::Today => (day(today), day(tomorrow)),
        RangePreset::Yesterday => (day(today - Days::new(1)), day(today)),
        RangePreset::ThisWeek => {
            let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
            (day(monday), day(monday + Days::new(7)))
        }
        RangePreset::Last7Days => (day(today - Days::new(6)), day(tomorrow)),
        RangePreset::Last30Days => (day(today - Days::new(29)), day(tomorrow)),
        RangePreset::ThisMonth => (day(month_start), day(month_start + Months::new(1))),
        RangePreset::LastMonth => (day(month_start - Months::new(1)), day(month_start)),
    }
}

/// An RFC 3339 `date-time`, read as JSON Schema's `date-time` format reads it: chrono alone would
/// also take a space for the `T`, and a leap second in any minute (not only at 23:59:60 UTC).
pub fn parse_date_time(text: &str) -> Option<DateTime<FixedOffset>> {
    let t = DateTime::parse_from_rfc3339(text).ok()?;
    let separator = matches!(text.as_bytes().get(10), Some(b'T' | b't'));
    let utc = t.naive_utc();
    let leap_second_at_midnight = t.nanosecond() < 1_000_000_000 || (utc.hour(), utc.minute()) == (23, 59);
    (separator && leap_second_at_midnight).then_some(t)
}

/// A `YYYY-MM-DD` date (JSON Schema's `date` format): chrono alone would also take a sign,
/// surrounding space and unpadded fields.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let shape = text.len() == 10
        && text
            .bytes()
            .enumerate()
            .all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    shape.then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()).flatten()
}

/// A bound given as RFC 3339 or a date. Returns the instant, and whether it was a date.
/// Years 1 to 9999 only, as written (its instant may then fall a few hours into year 0 or 10000):
/// beyond them date arithmetic overflows and PostgreSQL has no timestamps.
fn parse_bound(name: &str, text: &str, tz: Tz) -> Result<(NaiveDateTime, bool), ApiError> {
    let in_range = |year: i32| {
        (1..=9999)
            .contains(&year)
            .then_some(())
            .ok_or_else(|| ApiError::bad_parameter(name, "must lie between the years 1 and 9999"))
    };
    if let Some(t) = parse_date_time(text) {
        in_range(t.year())?;
        return Ok((t.naive_utc(), false));
    }
    if let Some(date) = parse_date(text) {
        in_range(date.year())?;
        return Ok((start_of_day(tz, date), true));
    }
    Err(ApiError::bad_parameter(
        name,
        "must be an RFC 3339 timestamp (2026-11-21T09:30:00Z) or a date (2026-11-21)",
    ))
}

impl EventFilterParams {
    /// The filter part, resolved against `ctx`.
    /// The time zone the request's dates are in: `tz`, else the tenant's.
    pub fn zone(&self, ctx: &FilterContext) -> Result<Tz, ApiError> {
        // Exactly a name of the tz database: no trimming, and empty is not a zone.
        match &self.tz {
            Some(name) => name
                .parse::<Tz>()
                .map_err(|_| ApiError::bad_parameter("tz", format!("unknown IANA time zone {name:?}"))),
            None => Ok(ctx.default_tz),
        }
    }

    pub fn filter(&self, ctx: &FilterContext) -> Result<EventFilter, ApiError> {
        let tz = self.zone(ctx)?;
        let (from, to) = (self.from.as_deref(), self.to.as_deref());
        let (from, until) = match (self.range, from, to) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(ApiError::bad_parameter("range", "use either `range` or `from`/`to`, not both"))
            }
            (Some(preset), None, None) => {
                let (start, end) = resolve_range(preset, tz, ctx.now);
                (Some(start), Some(end))
            }
            (None, _, _) => {
                let from = from.map(|t| parse_bound("from", t, tz)).transpose()?.map(|(t, _)| t);
                let until = match to {
                    None => None,
                    Some(text) => match parse_bound("to", text, tz)? {
                        (t, false) => Some(t + TimeDelta::microseconds(1)),
                        (_, true) => {
                            let date = parse_date(text).unwrap_or_default();
                            Some(start_of_day(tz, date + Days::new(1)))
                        }
                    },
                };
                if let (Some(f), Some(u)) = (from, until) {
                    if f >= u {
                        return Err(ApiError::bad_parameter("from", "`from` must be before `to`"));
                    }
                }
                // Stored times are whole microseconds: `from` rounds up to one and `until` down,
                // so a bound with nanoseconds selects the same events on both backends (SQLite
                // compares the text, PostgreSQL would drop the nanoseconds).
                let whole = |t: NaiveDateTime| t - TimeDelta::nanoseconds(i64::from(t.nanosecond() % 1000));
                let up = |t: NaiveDateTime| {
                    if t.nanosecond().is_multiple_of(1000) {
                        t
                    } else {
                        whole(t) + TimeDelta::microseconds(1)
                    }
                };
                (from.map(up), until.map(whole))
            }
        };

        // Counted as sent (the schema's `maxItems`), before duplicates and blanks are dropped.
        if self.actor_id.len() > MAX_ACTOR_IDS {
            return Err(ApiError::bad_parameter(
                "actor_id",
                format!("at most {MAX_ACTOR_IDS} actors at once"),
            ));
        }
        let mut actor_ids: Vec<String> = Vec::new();
        for id in &self.actor_id {
            if !id.as_str().is_empty() && !actor_ids.iter().any(|a| a == id.as_str()) {
                actor_ids.push(id.as_str().to_string());
            }
        }
        // The search text's separator (`SEARCH_SEPARATOR`) is a control character: no keyword holds it.
        let q = self.q.clone().and_then(Keyword::non_empty).map(|q| q.to_lowercase());
        let record_type = self.record_type.clone().and_then(RecordType::non_empty);
        let record = match (record_type, clean(&self.record_id)) {
            (Some(entity_type), Some(id)) => Some(EntityRef { entity_type, id, label: None }),
            (None, None) => None,
            // The problem names the parameter sent alone, and says what it lacks.
            (Some(_), None) => {
                return Err(ApiError::bad_parameter(
                    "record_type",
                    "must come with `record_id`: a record is named by its type and id",
                ))
            }
            (None, Some(_)) => {
                return Err(ApiError::bad_parameter(
                    "record_id",
                    "must come with `record_type`: a record is named by its type and id",
                ))
            }
        };
        Ok(EventFilter {
            from,
            until,
            actor_ids,
            module: clean(&self.module),
            verb: clean(&self.verb),
            action: clean(&self.action),
            entity_type: clean(&self.entity_type),
            entity_id: clean(&self.entity_id),
            ip: self.ip.clone().map(IpFilter::into_inner),
            q,
            mine: self.scope == Some(Scope::Mine),
            record,
            ids: Vec::new(),
            through_seq: None,
            flag: self.flag.map(|f| f.0),
        })
    }
}

impl ListParams {
    /// Sort and paging around an already parsed filter.
    pub fn request(&self, filter: EventFilter) -> Result<ListRequest, ApiError> {
        let sort = sort_of(self.sort, self.order);
        let per_page = self.per_page.unwrap_or(DEFAULT_PER_PAGE);
        if !PAGE_SIZES.contains(&per_page) {
            return Err(ApiError::bad_parameter("per_page", "must be 10, 25, 50 or 100"));
        }
        // Empty (`cursor=`) asks for the first page in cursor mode; anything else must decode.
        let paging = match (self.page, self.cursor.as_deref().filter(|c| !c.is_empty())) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_parameter("cursor", "use either `page` or `cursor`, not both"))
            }
            (Some(0), None) => return Err(ApiError::bad_parameter("page", "pages start at 1")),
            (Some(page), None) => Paging::Page(page),
            (None, Some(cursor)) => Paging::Cursor(Some(
                Cursor::decode(cursor, sort).map_err(|e| ApiError::bad_parameter("cursor", e))?,
            )),
            (None, None) if self.cursor_mode => Paging::Cursor(None),
            (None, None) => Paging::Page(1),
        };
        Ok(ListRequest { filter, sort, per_page, paging })
    }
}

/// The record a history request is about: the path's type and id, taken exactly as sent.
pub fn record_ref(entity_type: &str, id: &str) -> Result<EntityRef, ApiError> {
    for (name, value, max) in [("type", entity_type, MAX_RECORD_TYPE_CHARS), ("id", id, MAX_FILTER_CHARS)] {
        if value.is_empty() {
            return Err(ApiError::bad_parameter(name, "must not be empty"));
        }
        if let Some(flaw) = text::Form::Line.flaw(value, max) {
            return Err(ApiError::bad_parameter(name, flaw));
        }
    }
    Ok(EntityRef { entity_type: entity_type.to_string(), id: id.to_string(), label: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(now: &str, tz: &str) -> FilterContext {
        FilterContext {
            now: DateTime::parse_from_rfc3339(now).unwrap().with_timezone(&Utc),
            default_tz: tz.parse().unwrap(),
        }
    }

    fn utc(s: &str) -> NaiveDateTime {
        DateTime::parse_from_rfc3339(s).unwrap().naive_utc()
    }

    fn params(query: &str) -> EventFilterParams {
        parse_query(query).unwrap()
    }

    #[test]
    fn bounds_with_nanoseconds_round_to_the_stored_microseconds() {
        let c = ctx("2026-11-21T12:00:00Z", "UTC");
        let f = params("from=2026-11-21T09:30:00.123456789Z&to=2026-11-21T09:31:00.000001999Z")
            .filter(&c)
            .unwrap();
        // An event at …456 µs is before `from`; one at 09:31:00.000001 is not after `to`, one at
        // …000002 is.
        assert_eq!(
            (f.from, f.until),
            (Some(utc("2026-11-21T09:30:00.123457Z")), Some(utc("2026-11-21T09:31:00.000002Z")))
        );
        let f =
            params("from=2026-11-21T09:30:00.1234561Z&to=2026-11-21T09:30:00.1234569Z").filter(&c).unwrap();
        assert_eq!(f.from, f.until, "within one microsecond: an empty range, not an error");
        let f = params("from=2026-11-21T09:30:00.5Z&to=2026-11-21T09:31:00Z").filter(&c).unwrap();
        assert_eq!(
            (f.from, f.until),
            (Some(utc("2026-11-21T09:30:00.5Z")), Some(utc("2026-11-21T09:31:00.000001Z")))
        );
    }

    #[test]
    fn presets_resolve_in_the_requested_zone() {
        // 2026-03-29 is the day British Summer Time starts; 00:30 UTC is 00:30 GMT.
        let c = ctx("2026-03-29T23:30:00Z", "Europe/London");
        let f = params("range=today").filter(&c).unwrap();
        assert_eq!((f.from, f.until), (Some(utc("2026-03-29T23:00:00Z")), Some(utc("2026-03-30T23:00:00Z"))));
        let f = params("range=yesterday").filter(&c).unwrap();
        assert_eq!((f.from, f.until), (Some(utc("2026-03-29T00:00:00Z")), Some(utc("2026-03-29T23:00:00Z"))));
        let f = params("range=this_week&tz=UTC").filter(&c).unwrap();
        assert_eq!((f.from, f.until), (Some(utc("2026-03-23T00:00:00Z")), Some(utc("2026-03-30T00:00:00Z"))));
        let f = params("range=last_month&tz=America/New_York").filter(&c).unwrap();
        assert_eq!((f.from, f.until), (Some(utc("2026-02-01T05:00:00Z")), Some(utc("2026-03-01T05:00:00Z"))));
        let f = params("range=last_7_days&tz=UTC").filter(&c).unwrap();
        assert_eq!((f.from, f.until), (Some(utc("2026-03-23T00:00:00Z")), Some(utc("2026-03-30T00:00:00Z"))));
        let f = params("range=this_month&tz=Asia/Kolkata").filter(&c).unwrap();
        assert_eq!(f.from, Some(utc("2026-02-28T18:30:00Z")), "March 1st in India");
        let f = params("range=today&tz=Asia/Tokyo").filter(&c).unwrap();
        assert_eq!(f.from, Some(utc("2026-03-29T15:00:00Z")), "already the 30th in Tokyo");
    }

    #[test]
    fn dates_cover_whole_days_and_timestamps_are_inclusive() {
        let c = ctx("2026-11-21T12:00:00Z", "UTC");
        let f = params("from=2026-11-01&to=2026-11-02").filter(&c).unwrap();
        assert_eq!((f.from, f.until), (Some(utc("2026-11-01T00:00:00Z")), Some(utc("2026-11-03T00:00:00Z"))));
        let f = params("to=2026-11-02T10:00:00%2B01:00").filter(&c).unwrap();
        assert_eq!(f.until, Some(utc("2026-11-02T09:00:00.000001Z")));
    }

    #[test]
    fn bad_parameters_are_rejected_with_their_name() {
        let c = ctx("2026-11-21T12:00:00Z", "UTC");
        let long_type = format!("record_type={}&record_id=c1", "x".repeat(65));
        for (query, name) in [
            ("range=today&from=2026-01-01", "range"),
            ("from=yesterday", "from"),
            ("from=2026-02-01&to=2026-01-01", "from"),
            ("tz=Mars/Olympus", "tz"),
            ("ip=999.1.1.1", "ip"),
            // Exactly what the parameters' schemas accept: no trimming. (Empty is absent.)
            ("tz=%20UTC", "tz"),
            ("ip=%201.2.3.4", "ip"),
            ("from=2026-1-01", "from"),
            ("from=2026-11-21%2009:30:00Z", "from"),
            ("from=2026-11-21T09:59:60Z", "from"),
            ("to=0000-01-01", "to"),
            ("module=%0Dbooking", "module"),
            ("page=4294967296", "page"),
            ("per_page=7", "per_page"),
            ("page=0", "page"),
            ("page=2&cursor=abc", "cursor"),
            ("cursor=!!!", "cursor"),
            // A record is named by both; an empty one is absent.
            ("record_type=customer", "record_type"),
            ("record_type=customer&record_id=%20", "record_type"),
            ("record_id=c1", "record_id"),
            (long_type.as_str(), "record_type"),
            ("record_type=customer&record_id=%0Ac1", "record_id"),
        ] {
            match list_request(query, &c) {
                Err(ApiError::BadRequest { errors, .. }) => {
                    assert_eq!(errors[0].pointer, name, "{query}")
                }
                other => panic!("{query}: expected a bad request, got {other:?}"),
            }
        }
        // 200 characters and a space: too long as sent, though not once trimmed.
        assert!(list_request(&format!("q=%20{}", "x".repeat(200)), &c).is_err());
        match list_request("module=x&colour=red", &c) {
            Err(ApiError::BadRequest { errors, .. }) => assert_eq!(errors[0].pointer, "colour"),
            other => panic!("expected unknown parameter error, got {other:?}"),
        }
        assert!(list_request("sort=name", &c).is_err());
        // Every key of the filter struct is routed to it.
        assert_eq!(filter_keys().len(), 16, "{:?}", filter_keys());
        for &key in filter_keys() {
            let value = if key == "record_type" {
                "customer&record_id=c1"
            } else if key == "record_id" {
                "c1&record_type=customer"
            } else if key == "range" {
                "today"
            } else if key == "scope" {
                "all"
            } else if key == "ip" {
                "::1"
            } else if key == "tz" {
                "UTC"
            } else if key == "flag" {
                "new_ip"
            } else {
                "2026-01-01"
            };
            assert!(list_request(&format!("{key}={value}"), &c).is_ok(), "{key}");
        }
    }

    #[test]
    fn a_record_filter_names_the_history_of_one_record() {
        let c = ctx("2026-11-21T12:00:00Z", "UTC");
        let f = params("record_type=%20customer&record_id=c1%20").filter(&c).unwrap();
        assert_eq!(
            f.record,
            Some(EntityRef { entity_type: "customer".into(), id: "c1".into(), label: None })
        );
        assert_eq!(params("record_type=&record_id=").filter(&c).unwrap().record, None);
    }

    #[test]
    fn no_keyword_can_hold_the_search_separator() {
        // `Keyword` refuses control characters, so the separator and part marks of the search
        // text are ones.
        assert!(auditlog_db::queries::events::SEARCH_SEPARATOR.is_control());
        assert!(auditlog_db::derived::PART_MARK.is_control());
    }

    #[test]
    fn an_ip_filter_is_an_address_leading_octets_or_a_network() {
        let parsed = |text: &str| IpFilter::parse(text).map(IpFilter::into_inner);
        for (text, kept) in [
            ("86.52.10.7", "86.52.10.7"),
            ("2001:DB8::1", "2001:db8::1"),
            ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
            ("86", "86.0.0.0/8"),
            ("86.", "86.0.0.0/8"),
            ("86.52", "86.52.0.0/16"),
            ("86.52.", "86.52.0.0/16"),
            ("86.52.1.", "86.52.1.0/24"),
            ("0", "0.0.0.0/8"),
            ("86.52.0.0/16", "86.52.0.0/16"),
            ("86.52.9.9/16", "86.52.0.0/16"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("10.1.2.3/32", "10.1.2.3/32"),
            ("2001:db8::/32", "2001:db8::/32"),
            ("2001:db8:ff::1/128", "2001:db8:ff::1/128"),
            ("::/0", "::/0"),
        ] {
            assert_eq!(parsed(text).as_deref(), Ok(kept), "{text}");
        }
        for (text, says) in [
            ("", "must be an IPv4 or IPv6 address"),
            ("86.52.1.7.", "must be an IPv4 or IPv6 address"),
            ("256", "must be an IPv4 or IPv6 address"),
            ("086.52", "must be an IPv4 or IPv6 address"),
            ("86..52", "must be an IPv4 or IPv6 address"),
            (".86", "must be an IPv4 or IPv6 address"),
            ("2001:db8", "must be an IPv4 or IPv6 address"),
            ("10.0.0.0/33", "from 0 to 32 after the `/` of an IPv4 network, not `/33`"),
            ("2001:db8::/129", "from 0 to 128 after the `/` of an IPv6 network, not `/129`"),
            ("10.0.0.0/", "from 0 to 32 after the `/` of an IPv4 network, not `/`"),
            ("10.0.0.0/08", "not `/08`"),
            ("10.0.0.0/+8", "not `/+8`"),
            ("10.0/8", "address before the `/` of a network (`10.0` is not one)"),
            ("::ffff:1.2.3.4/96", "hex groups"),
        ] {
            let error = parsed(text).unwrap_err();
            assert!(error.contains(says), "{text:?}: {error}");
        }
    }

    /// Whether `text` is what the schema of `IpFilter` describes: an ipv4 or ipv6 `format`, or
    /// its pattern.
    fn ip_schema_takes(pattern: &regex::Regex, text: &str) -> bool {
        text.parse::<std::net::Ipv4Addr>().is_ok()
            || text.parse::<std::net::Ipv6Addr>().is_ok()
            || pattern.is_match(text)
    }

    proptest::proptest! {
        #[test]
        fn the_ip_filter_takes_what_its_schema_describes(text in "[0-9a-fA-F:./]{0,24}|[0-9.]{0,12}(/[0-9]{1,3})?") {
            let pattern = regex::Regex::new(&IpFilter::pattern()).unwrap();
            proptest::prop_assert_eq!(IpFilter::parse(&text).is_ok(), ip_schema_takes(&pattern, &text), "{}", text);
        }

        #[test]
        fn every_text_of_the_pattern_is_taken(text in proptest::string::string_regex(IpFilter::pattern().trim_start_matches('^').trim_end_matches('$')).unwrap()) {
            proptest::prop_assert!(IpFilter::parse(&text).is_ok(), "{}", text);
        }
    }

    #[test]
    fn repeated_actor_ids_and_keyword_are_normalised() {
        let c = ctx("2026-11-21T12:00:00Z", "UTC");
        let f = params("actor_id=7&actor_id=8&actor_id=7&q=%20BOK-12%20&ip=2001:DB8::1&module=")
            .filter(&c)
            .unwrap();
        assert_eq!(f.actor_ids, vec!["7", "8"]);
        assert_eq!(f.q.as_deref(), Some("bok-12"));
        assert_eq!(f.ip.as_deref(), Some("2001:db8::1"));
        assert_eq!(f.module, None);
    }
}
