//! `Content-Disposition` of downloads (RFC 6266), built in one place.
//!
//! File names hold a tenant's slug, and slugs stored before the slug rule may hold anything:
//! quotes, newlines, non-ASCII, path separators. Written into the header as they are, they break
//! its syntax or make it an invalid header value (the whole response then fails).

use actix_web::http::header::HeaderValue;

/// `attachment; filename="<fallback>"; filename*=UTF-8''<name>`: the name percent-encoded as
/// RFC 8187 says for clients that read `filename*`, and an ASCII fallback for those that do not.
/// Control and invisible format characters (a right-to-left override can disguise `exe.txt` as
/// `txt.exe`) and path separators become `_` in both, and so do leading dots (no hidden files); the fallback keeps only letters, digits, `.`, `-` and `_`. Always a valid header value.
pub fn attachment(name: &str) -> HeaderValue {
    let unsafe_char =
        |c: char| c.is_control() || crate::exports::formula::is_format(c) || matches!(c, '/' | '\\');
    let mut clean: String = name.chars().map(|c| if unsafe_char(c) { '_' } else { c }).collect();
    let dots = clean.len() - clean.trim_start_matches('.').len();
    clean.replace_range(..dots, &"_".repeat(dots));
    if clean.is_empty() {
        clean = "download".into();
    }
    let fallback: String = clean
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .collect();
    let value = format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{}", encode(&clean));
    // Only visible ASCII goes in, so this always succeeds.
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// RFC 8187 `value-chars`: `attr-char`s as they are, every other byte of the UTF-8 as `%XX`.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let attr_char = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            );
        if attr_char {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str) -> String {
        attachment(name).to_str().expect("visible ASCII").to_string()
    }

    #[test]
    fn plain_names_are_kept() {
        assert_eq!(
            header("activity-log_acme_20250101-now.csv"),
            "attachment; filename=\"activity-log_acme_20250101-now.csv\"; \
             filename*=UTF-8''activity-log_acme_20250101-now.csv"
        );
    }

    #[test]
    fn quotes_cannot_end_the_parameter() {
        assert_eq!(
            header("a\"b\\\".csv"),
            "attachment; filename=\"a_b__.csv\"; filename*=UTF-8''a%22b_%22.csv"
        );
        assert_eq!(
            header("x\"; filename=evil.exe"),
            "attachment; filename=\"x___filename_evil.exe\"; filename*=UTF-8''x%22%3B%20filename%3Devil.exe"
        );
    }

    #[test]
    fn newlines_and_controls_cannot_split_the_header() {
        assert_eq!(
            header("acme\r\nSet-Cookie: x=1\0.csv"),
            "attachment; filename=\"acme__Set-Cookie__x_1_.csv\"; filename*=UTF-8''acme__Set-Cookie%3A%20x%3D1_.csv"
        );
    }

    #[test]
    fn non_ascii_is_percent_encoded_with_an_ascii_fallback() {
        assert_eq!(
            header("café_Ω.csv"),
            "attachment; filename=\"caf___.csv\"; filename*=UTF-8''caf%C3%A9_%CE%A9.csv"
        );
    }

    #[test]
    fn path_separators_and_leading_dots_go() {
        assert_eq!(
            header("../../etc/passwd"),
            "attachment; filename=\"___.._etc_passwd\"; filename*=UTF-8''___.._etc_passwd"
        );
        assert_eq!(
            header("..\\boot.ini"),
            "attachment; filename=\"___boot.ini\"; filename*=UTF-8''___boot.ini"
        );
        assert_eq!(header(""), "attachment; filename=\"download\"; filename*=UTF-8''download");
    }

    #[test]
    fn every_name_gives_a_valid_header() {
        for name in ["\u{202e}gpj.exe", "tab\there", "\u{7f}", "%41", " ", "\u{feff}x"] {
            let value = header(name);
            let fallback = value.split('"').nth(1).unwrap();
            assert!(fallback.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)), "{value}");
            assert!(value.bytes().all(|b| (0x21..0x7f).contains(&b) || b == b' '), "{value}");
        }
        assert_eq!(header("%41"), "attachment; filename=\"_41\"; filename*=UTF-8''%2541");
        assert_eq!(header("\u{202e}gpj.exe"), "attachment; filename=\"_gpj.exe\"; filename*=UTF-8''_gpj.exe");
    }
}

crate::text::component!(
    /// A file's bytes (a PDF export, a gzip archive), for `inline(BinaryFile)` in a response's
    /// content: utoipa writes a `Vec<u8>` body as an array of integers, which client generators
    /// take for JSON.
    BinaryFile = "BinaryFile",
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Binary)))
        .build()
);
