//! JSON numbers as the OpenAPI document's schemas read them: for JSON Schema `70.0` is the
//! integer 70 (JSON has one kind of number), so an integer field of a request body takes it too.
//! serde alone refuses a number written with a fraction where it expects an integer.

use serde::{Deserialize, Deserializer};
use serde_json::Number;

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

fn to<'de, D: Deserializer<'de>, T: TryFrom<i128>>(n: &Number) -> Result<T, D::Error> {
    let value =
        integer_value(n).ok_or_else(|| serde::de::Error::custom(format!("expected an integer, got {n}")))?;
    T::try_from(value).map_err(|_| serde::de::Error::custom(format!("integer {value} is out of range")))
}

/// An integer field.
pub fn integer<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<T, D::Error> {
    to::<D, T>(&Number::deserialize(d)?)
}

/// An optional integer field (`null` or absent is `None`; add `#[serde(default)]`).
pub fn optional_integer<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<Number>::deserialize(d)?.map(|n| to::<D, T>(&n)).transpose()
}

/// An array of integers.
pub fn integers<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<Vec<T>, D::Error> {
    Vec::<Number>::deserialize(d)?.iter().map(to::<D, T>).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Body {
        #[serde(deserialize_with = "integer")]
        one: i32,
        #[serde(default, deserialize_with = "optional_integer")]
        maybe: Option<i64>,
        #[serde(default, deserialize_with = "integers")]
        many: Vec<i64>,
    }

    fn parse(json: &str) -> Result<Body, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn integers_may_be_written_with_a_zero_fraction() {
        let body = parse(r#"{"one": 70.0, "maybe": 7e1, "many": [1, 2.0, -3]}"#).unwrap();
        assert_eq!(body, Body { one: 70, maybe: Some(70), many: vec![1, 2, -3] });
        assert_eq!(parse(r#"{"one": 1, "maybe": null}"#).unwrap().maybe, None);
        assert_eq!(parse(r#"{"one": 1}"#).unwrap().many, Vec::<i64>::new());
        let inexact = r#"{"one": 1, "many": [-9223372036854775809]}"#;
        for bad in [
            r#"{"one": 1.5}"#,
            r#"{"one": 3e9}"#,
            r#"{"one": "1"}"#,
            r#"{"one": 1, "many": [1e300]}"#,
            inexact,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
