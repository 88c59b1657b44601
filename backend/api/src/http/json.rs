//! JSON request bodies, read the one way every endpoint reads them:
//!
//! - strictly: a key repeated within an object is refused ([`parse`]), so that no two JSON
//!   parsers (ours, and whatever reads the stored event or the client's own copy) can take two
//!   different documents from one body — serde_json alone keeps the last of the repeated members;
//! - with every failure said in the product's words ([`crate::http::wording`]) and located by a JSON
//!   Pointer ([`from_value`], the [`StrictJson`] extractor);
//! - with JSON numbers as the OpenAPI document's schemas read them: for JSON Schema `70.0` is
//!   the integer 70 (JSON has one kind of number), so an integer field of a request body takes it
//!   too. serde alone refuses a number written with a fraction where it expects an integer.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;

use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

use crate::http::error::{ApiError, FieldError};
use crate::http::state::AppState;
use crate::http::wording::{self, Flaw};

/// The deepest nesting of arrays and objects a body may have (serde_json's recursion limit).
pub const MAX_JSON_DEPTH: usize = 127;

/// Why a body is not a JSON document this API reads.
#[derive(Debug)]
pub enum BodyError {
    /// A key appears twice in one object; `pointer` is the JSON Pointer of the repeated member.
    Duplicate { pointer: String, key: String },
    /// Arrays and objects nest deeper than [`MAX_JSON_DEPTH`]: JSON, but too deep to take.
    TooDeep { line: usize, column: usize },
    /// Not JSON at all.
    Syntax(serde_json::Error),
}

/// Parses a body into a JSON value, refusing a key that appears twice in one object (at any
/// depth). Otherwise exactly `serde_json::from_slice::<Value>`, its recursion limit included.
pub fn parse(body: &[u8]) -> Result<Value, BodyError> {
    let duplicate = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = Strict { path: &Path::Root, duplicate: &duplicate }
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    value.map_err(|error| {
        if let Some((pointer, key)) = duplicate.into_inner() {
            return BodyError::Duplicate { pointer, key };
        }
        // serde_json names no error kinds but its categories; the limit is told by its message.
        if wording::without_position(&error).starts_with("recursion limit exceeded") {
            return BodyError::TooDeep { line: error.line(), column: error.column() };
        }
        BodyError::Syntax(error)
    })
}

impl From<BodyError> for ApiError {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::Duplicate { pointer, key } => {
                let message = wording::repeated_key(&key);
                ApiError::validation(format!("{pointer}: {message}"), vec![FieldError::new(pointer, message)])
            }
            BodyError::TooDeep { line, column } => ApiError::validation(
                format!(
                    "the body nests arrays and objects more than {MAX_JSON_DEPTH} levels deep \
                     (line {line}, column {column})"
                ),
                Vec::new(),
            ),
            BodyError::Syntax(error) => not_json(&error),
        }
    }
}

/// A body that is not JSON (400), with the reason and position in our words.
pub fn not_json(error: &serde_json::Error) -> ApiError {
    log::debug!("request body is not JSON: {error}");
    let message = wording::without_position(error);
    if message.starts_with("EOF while parsing a value") && error.line() == 1 && error.column() == 0 {
        return ApiError::bad_request("the request body is empty; send a JSON document");
    }
    let reason = wording::syntax_reason(&message).map(|r| format!(": {r}")).unwrap_or_default();
    ApiError::bad_request(format!("the request body is not valid JSON{reason}{}", wording::position(error)))
}

/// Reads `T` from a parsed body; values it does not take are a 422 naming each member.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    match read_all("", value) {
        (Some(read), problems) if problems.is_empty() => Ok(read),
        (_, problems) => {
            let first = &problems[0];
            Err(ApiError::validation(format!("{}: {}", first.pointer, first.message), problems))
        }
    }
}

/// Reads `T` from `value` (found at the JSON Pointer `prefix`), reporting every member it does
/// not take, not only the first: serde stops at the first, so each refused member is set aside
/// and the rest read again. Gives what was read without the refused members, if anything could
/// be (for rules about the whole value to check too), and the problems. Where setting a member
/// aside is itself a flaw (a required field) or cannot be done (an array's item), the nearest
/// enclosing member that can be is set aside instead, without a second report.
pub fn read_all<T: DeserializeOwned>(prefix: &str, mut value: Value) -> (Option<T>, Vec<FieldError>) {
    const MOST: usize = 50;
    let parent = |pointer: &str| pointer.rsplit_once('/').map(|(p, _)| p.to_string()).unwrap_or_default();
    let mut problems: Vec<FieldError> = Vec::new();
    let mut set_aside = String::new();
    loop {
        let error = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(read) => return (Some(read), problems),
            Err(error) => error,
        };
        let problem = field_error(prefix, error);
        // A consequence of a member set aside (now missing), or of one already reported.
        let within = |p: &FieldError| {
            p.pointer.strip_prefix(&problem.pointer).is_some_and(|r| r.is_empty() || r.starts_with('/'))
        };
        let mut target = if problems.iter().any(within) {
            parent(&set_aside)
        } else {
            let relative = problem.pointer.strip_prefix(prefix).unwrap_or(&problem.pointer).to_string();
            problems.push(problem);
            relative
        };
        if problems.len() >= MOST {
            return (None, problems);
        }
        while !remove(&mut value, &target) {
            if target.is_empty() {
                return (None, problems);
            }
            target = parent(&target);
        }
        set_aside = target;
    }
}

/// Removes the object member at `pointer`; false when it is not an object's member.
fn remove(value: &mut Value, pointer: &str) -> bool {
    let Some((parent, key)) = pointer.rsplit_once('/') else { return false };
    if key.is_empty() && parent.is_empty() {
        return false;
    }
    let key = key.replace("~1", "/").replace("~0", "~");
    match value.pointer_mut(parent) {
        Some(Value::Object(members)) => members.remove(&key).is_some(),
        _ => false,
    }
}

/// One member a typed read refused, under `prefix` (the JSON Pointer of the value read).
pub fn field_error(prefix: &str, error: serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let mut pointer = prefix.to_string();
    for segment in error.path() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => {
                let _ = write!(pointer, "/{index}");
            }
            serde_path_to_error::Segment::Map { key }
            | serde_path_to_error::Segment::Enum { variant: key } => {
                pointer.push('/');
                pointer.push_str(&escape(key));
            }
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    let error = error.into_inner();
    log::debug!("request body refused at {pointer:?}: {error}");
    let flaw = Flaw::parse(&wording::without_position(&error));
    // A missing or repeated field is reported at its object (an unknown one at itself, as its
    // key was read): point at the field.
    if let Flaw::Missing { name } | Flaw::Duplicate { name } = &flaw {
        pointer.push('/');
        pointer.push_str(&escape(name));
    }
    if pointer.is_empty() {
        pointer.push('/');
    }
    FieldError::new(pointer, flaw.message("field"))
}

/// The JSON type of a value, in words.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A key as a JSON Pointer segment (RFC 6901).
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Where a value lies in the document being parsed, for the pointer of a repeated key. Built on
/// the stack as the parser descends, and turned into text only when a key repeats.
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn pointer(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Key(parent, key) => format!("{}/{}", parent.pointer(), escape(key)),
            Path::Index(parent, index) => format!("{}/{index}", parent.pointer()),
        }
    }
}

/// serde_json's `Value` visitor, plus the refusal of a repeated key (reported through
/// `duplicate`, as serde's error type carries only text).
#[derive(Clone, Copy)]
struct Strict<'a> {
    path: &'a Path<'a>,
    duplicate: &'a RefCell<Option<(String, String)>>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let path = Path::Index(self.path, items.len());
            match seq.next_element_seed(Strict { path: &path, duplicate: self.duplicate })? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = Path::Key(self.path, &key);
            let value = map.next_value_seed(Strict { path: &path, duplicate: self.duplicate })?;
            match members.entry(key) {
                Entry::Vacant(entry) => {
                    entry.insert(value);
                }
                Entry::Occupied(entry) => {
                    let pointer = Path::Key(self.path, entry.key()).pointer();
                    *self.duplicate.borrow_mut() = Some((pointer, entry.key().clone()));
                    return Err(de::Error::custom("a key appears twice in one object"));
                }
            }
        }
        Ok(Value::Object(members))
    }
}

/// Reads a request body of at most `limit` bytes (`declared` is its Content-Length, refused up
/// front when over the limit). A stalled body ends in a timed-out chunk
/// (`config::BODY_IDLE_TIMEOUT`): 408.
pub async fn read_body<S>(chunks: S, declared: Option<usize>, limit: usize) -> Result<Vec<u8>, ApiError>
where
    S: Stream<Item = Result<Bytes, PayloadError>>,
{
    let too_large = || ApiError::PayloadTooLarge(format!("the request body exceeds {limit} bytes"));
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut chunks = std::pin::pin!(chunks);
    let mut body = Vec::with_capacity(declared.unwrap_or(4096).min(limit));
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| ApiError::from_payload(&e))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The request's Content-Length, if it gives a number.
pub fn content_length(req: &HttpRequest) -> Option<usize> {
    req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
}

/// A JSON request body read into `T`: `web::Json` with a strict parse ([`parse`]) and problems
/// that name the member ([`from_value`]). Content type, size limit (`MAX_BODY_BYTES`) and
/// compressed bodies are taken as `web::Json` takes them.
#[derive(Debug)]
pub struct StrictJson<T>(pub T);

impl<T> StrictJson<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for StrictJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        // `application/json`, or any `…/json` or `…+json` type, as `web::Json` takes.
        let is_json = matches!(req.mime_type(), Ok(Some(mime))
            if mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"));
        let limit = req.app_data::<web::Data<AppState>>().map(|state| state.settings.max_body_bytes);
        let declared = content_length(req);
        let body = actix_web::dev::Decompress::from_headers(payload.take(), req.headers());
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::UnsupportedMediaType("send the body as application/json".into()));
            }
            let limit = limit.ok_or_else(|| ApiError::internal("application state missing"))?;
            let body = read_body(body, declared, limit).await?;
            let value = parse(&body)?;
            // Every typed body is an object; serde would also fill a struct from an array.
            if !value.is_object() {
                let message = format!("must be a JSON object, not {}", kind(&value));
                return Err(ApiError::validation(
                    format!("the request body {message}"),
                    vec![FieldError::new("/", message)],
                ));
            }
            Ok(StrictJson(from_value(value)?))
        })
    }
}

/// The integer `n` stands for, if it is one (`70`, `70.0`, `7e1`).
pub fn integer_value(n: &Number) -> Option<i128> {
    if let Some(i) = n.as_i64() {
        return Some(i.into());
    }
    if let Some(u) = n.as_u64() {
        return Some(u.into());
    }
    // Written with a fraction or an exponent, or beyond the 64-bit integers: serde_json holds it as
    // an f64, which is exact only up to 2^53 (`-9223372036854775809` reads as `i64::MIN`).
    let f = n.as_f64()?;
    (f.fract() == 0.0 && f.abs() <= 2f64.powi(53)).then_some(f as i128)
}

/// The integer types the readers below produce, with their bounds for the error message.
pub trait Integer: TryFrom<i128> {
    const MIN: i128;
    const MAX: i128;
}

macro_rules! integer {
    ($($t:ty),*) => {
        $(impl Integer for $t {
            const MIN: i128 = <$t>::MIN as i128;
            const MAX: i128 = <$t>::MAX as i128;
        })*
    };
}

integer!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

fn to<'de, D: Deserializer<'de>, T: Integer>(n: &Number) -> Result<T, D::Error> {
    // Worded as `crate::http::wording::Flaw::Own` expects: a product sentence starting with `must`.
    let refuse = |sent: &dyn std::fmt::Display| {
        serde::de::Error::custom(format!("must be an integer from {} to {}, not {sent}", T::MIN, T::MAX))
    };
    let value = integer_value(n).ok_or_else(|| refuse(n))?;
    T::try_from(value).map_err(|_| refuse(&value))
}

/// An integer field.
pub fn integer<'de, D: Deserializer<'de>, T: Integer>(d: D) -> Result<T, D::Error> {
    to::<D, T>(&Number::deserialize(d)?)
}

/// An optional integer field (`null` or absent is `None`; add `#[serde(default)]`).
pub fn optional_integer<'de, D: Deserializer<'de>, T: Integer>(d: D) -> Result<Option<T>, D::Error> {
    Option::<Number>::deserialize(d)?.map(|n| to::<D, T>(&n)).transpose()
}

/// An array of integers.
pub fn integers<'de, D: Deserializer<'de>, T: Integer>(d: D) -> Result<Vec<T>, D::Error> {
    Vec::<Number>::deserialize(d)?.iter().map(to::<D, T>).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Item {
        email: crate::text::Email,
        n: Option<u8>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        id: u8,
        items: Option<Vec<Item>>,
        note: Option<u8>,
    }

    fn pointers(problems: &[FieldError]) -> Vec<&str> {
        problems.iter().map(|p| p.pointer.as_str()).collect()
    }

    #[test]
    fn every_refused_member_is_reported_once() {
        let body =
            serde_json::json!({"extra": 1, "id": 1, "items": [{"email": "no at sign", "n": 1}], "note": "x"});
        let (read, problems) = read_all::<Doc>("/events/2", body);
        assert_eq!(pointers(&problems), ["/events/2/extra", "/events/2/items/0/email", "/events/2/note"]);
        assert_eq!(problems[1].message, "must be an e-mail address: an `@`, no whitespace");
        // The item's required member refused: the array is set aside, the rest is read.
        assert_eq!(read, Some(Doc { id: 1, items: None, note: None }));

        let (read, problems) = read_all::<Doc>("", serde_json::json!({"id": "one", "note": 300}));
        assert_eq!(pointers(&problems), ["/id", "/note"], "a required member is reported once");
        assert_eq!(read, None);

        let (read, problems) = read_all::<Doc>("", serde_json::json!([1]));
        assert_eq!((read, problems.len()), (None, 1));
        let (read, problems) = read_all::<Doc>("", serde_json::json!({"id": 3}));
        assert_eq!((read, problems.len()), (Some(Doc { id: 3, items: None, note: None }), 0));
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Body {
        #[serde(deserialize_with = "integer")]
        one: i32,
        #[serde(default, deserialize_with = "optional_integer")]
        maybe: Option<i64>,
        #[serde(default, deserialize_with = "integers")]
        many: Vec<i64>,
    }

    fn read(json: &str) -> Result<Body, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn integers_may_be_written_with_a_zero_fraction() {
        let body = read(r#"{"one": 70.0, "maybe": 7e1, "many": [1, 2.0, -3]}"#).unwrap();
        assert_eq!(body, Body { one: 70, maybe: Some(70), many: vec![1, 2, -3] });
        assert_eq!(read(r#"{"one": 1, "maybe": null}"#).unwrap().maybe, None);
        assert_eq!(read(r#"{"one": 1}"#).unwrap().many, Vec::<i64>::new());
        let inexact = r#"{"one": 1, "many": [-9223372036854775809]}"#;
        for bad in [
            r#"{"one": 1.5}"#,
            r#"{"one": 3e9}"#,
            r#"{"one": "1"}"#,
            r#"{"one": 1, "many": [1e300]}"#,
            inexact,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn integer_errors_name_the_range() {
        let message = read(r#"{"one": 3e9}"#).unwrap_err().to_string();
        assert!(
            message.starts_with("must be an integer from -2147483648 to 2147483647, not 3000000000"),
            "{message}"
        );
        let message = read(r#"{"one": 1.5}"#).unwrap_err().to_string();
        assert!(
            message.starts_with("must be an integer from -2147483648 to 2147483647, not 1.5"),
            "{message}"
        );
    }

    fn duplicate(body: &str) -> (String, String) {
        match parse(body.as_bytes()) {
            Err(BodyError::Duplicate { pointer, key }) => (pointer, key),
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn a_repeated_key_is_refused_at_any_depth() {
        assert_eq!(duplicate(r#"{"a": 1, "a": 1}"#), ("/a".into(), "a".into()));
        assert_eq!(duplicate(r#"{"a": 1, "b": {"c": [], "c": null}}"#), ("/b/c".into(), "c".into()));
        assert_eq!(
            duplicate(r#"{"events": [{}, {"x": [0, {"a/b~": 1, "a/b~": 2}]}]}"#),
            ("/events/1/x/1/a~1b~0".into(), "a/b~".into())
        );
        // Keys are compared as decoded: an escape is the same key.
        assert_eq!(duplicate(r#"[{"k": 1, "\u006b": 2}]"#), ("/0/k".into(), "k".into()));
        // The same key in sibling objects is no repetition.
        assert!(parse(br#"[{"a": 1}, {"a": 2}, {"b": {"a": 3}, "a": 4}]"#).is_ok());
    }

    #[test]
    fn without_repeated_keys_the_value_is_serde_jsons() {
        for body in [
            "null",
            "true",
            r#""text \u00e9 \ud83d\ude00""#,
            "-12",
            "18446744073709551615",
            "18446744073709551616",
            "1.5e300",
            "-0.0",
            r#"{"b": [1, {"c": {}}], "a": "", "": []}"#,
            " [ ] ",
        ] {
            let strict = parse(body.as_bytes()).unwrap();
            assert_eq!(strict, serde_json::from_str::<Value>(body).unwrap(), "{body}");
        }
    }

    #[test]
    fn nesting_is_limited_as_serde_json_limits_it() {
        let nested = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
        assert!(parse(nested(MAX_JSON_DEPTH).as_bytes()).is_ok());
        assert!(serde_json::from_str::<Value>(&nested(MAX_JSON_DEPTH)).is_ok());
        for levels in [MAX_JSON_DEPTH + 1, 100_000] {
            assert!(matches!(parse(nested(levels).as_bytes()), Err(BodyError::TooDeep { line: 1, .. })));
            assert!(serde_json::from_str::<Value>(&nested(levels)).is_err());
        }
    }

    #[test]
    fn what_is_not_json_is_a_syntax_error_in_our_words() {
        for (body, detail) in [
            ("", "the request body is empty; send a JSON document"),
            ("{\"a\": 1", "the request body is not valid JSON: it ends before the JSON value is complete (line 1, column 7)"),
            ("{} {}", "the request body is not valid JSON: something follows the JSON value (line 1, column 4)"),
            ("{\"a\": tru}", "the request body is not valid JSON (line 1, column 10)"),
        ] {
            let Err(error @ BodyError::Syntax(_)) = parse(body.as_bytes()) else { panic!("{body}") };
            assert_eq!(ApiError::from(error).problem().detail, detail, "{body}");
        }
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Option<Inner>,
        #[serde(default)]
        list: Vec<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "lowercase")]
    #[allow(dead_code)]
    struct Inner {
        inner: Option<u8>,
        kind: Option<Kind>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Small,
        Large,
    }

    fn refusal(body: serde_json::Value) -> (String, String) {
        match from_value::<Outer>(body) {
            Err(ApiError::Validation { errors, detail }) => {
                assert_eq!(detail, format!("{}: {}", errors[0].pointer, errors[0].message));
                (errors[0].pointer.clone(), errors[0].message.clone())
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn typed_bodies_are_refused_at_the_member_in_our_words() {
        use serde_json::json;
        let cases = [
            (json!({}), "/name", "is required"),
            (
                json!({"name": "n", "inner": {"inner": {}}}),
                "/inner/inner",
                "must be an integer from 0 to 255, not an object",
            ),
            (
                json!({"name": "n", "inner": {"kind": "huge"}}),
                "/inner/kind",
                "must be one of `small`, `large`",
            ),
            (
                json!({"name": "n", "list": [{}, {"colour": 1}]}),
                "/list/1/colour",
                "is not a known field; the fields are inner, kind",
            ),
            (
                json!({"name": "n", "inner": {"inner": {}, "x": 1}}),
                "/inner/inner",
                "must be an integer from 0 to 255, not an object",
            ),
            (json!({"name": 5}), "/name", "must be a string, not a number"),
            (json!({"name": "n", "list": {}}), "/list", "must be an array, not an object"),
            (
                json!({"name": "n", "inner": {"inner": 256}}),
                "/inner/inner",
                "must be an integer from 0 to 255",
            ),
            (json!([]), "/", "must be an object, not an array"),
        ];
        for (body, pointer, message) in cases {
            let (p, m) = refusal(body.clone());
            assert_eq!((p.as_str(), m.as_str()), (pointer, message), "{body}");
        }
    }

    #[test]
    fn a_field_serde_names_is_pointed_at() {
        use serde_json::json;
        // A repeated field of a typed body read from text (as `web::Json` reads it) is reported at
        // its object by serde: the pointer adds the field, as for a missing one.
        let body = r#"{"name": "n", "list": [{"kind": "small", "kind": "large"}]}"#;
        let error =
            serde_path_to_error::deserialize::<_, Outer>(&mut serde_json::Deserializer::from_str(body))
                .unwrap_err();
        let problem = field_error("", error);
        assert_eq!(problem.pointer, "/list/0/kind");
        assert_eq!(
            problem.message,
            "the key \"kind\" appears more than once in its object; give each key once"
        );
        let error = serde_path_to_error::deserialize::<_, Outer>(json!({"list": []})).unwrap_err();
        assert_eq!(field_error("/events/2", error).pointer, "/events/2/name");
    }
}
