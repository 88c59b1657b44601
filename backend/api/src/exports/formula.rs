//! Spreadsheet formula injection ("CSV injection", OWASP): a CSV cell that a spreadsheet would
//! run as a formula is exported with a leading apostrophe, which spreadsheets show as text. The
//! export and its offline verifier (`export_check`, `auditlog verify-export`) both use this module,
//! so a cell is read back by exactly the rule that wrote it.
//!
//! The rule:
//! - A cell is *dangerous* when it starts with a tab or a carriage return, or when its first
//!   visible character, after any whitespace (Unicode `White_Space`, e.g. spaces, NBSP, newlines)
//!   and invisible format characters (general category `Cf`: bidi controls, zero-width spaces,
//!   BOM…), is `=`, `+`, `-`, `@` or their full-width forms `＝`, `＋`, `－`, `＠`. Spreadsheets skip
//!   leading blanks, and some read the full-width forms as the ASCII ones.
//! - A cell gets one apostrophe in front when it is dangerous once its own leading apostrophes
//!   are set aside. Counting those in keeps the rule reversible: a value `'=1` (an apostrophe of its
//!   own before a formula) is exported as `''=1`, so that removing the one apostrophe the export
//!   added always gives back the value, and an exported `'=1` always stands for `=1`.

use std::borrow::Cow;

/// First visible characters that start a formula.
pub const FORMULA_STARTS: [char; 8] = ['=', '+', '-', '@', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}'];

/// Whether `c` is an invisible format character: Unicode general category `Cf` (Unicode 16).
pub fn is_format(c: char) -> bool {
    matches!(
        c as u32,
        0xAD | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x890..=0x891
            | 0x8E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

/// Whitespace or an invisible format character: skipped when looking for the first visible one.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace() || is_format(c)
}

/// Whether a spreadsheet could run `cell` as a formula (see the module's rule).
pub fn is_dangerous(cell: &str) -> bool {
    cell.starts_with(['\t', '\r'])
        || cell.chars().find(|c| !is_invisible(*c)).is_some_and(|c| FORMULA_STARTS.contains(&c))
}

/// Whether the export puts an apostrophe in front of `cell`.
pub fn needs_apostrophe(cell: &str) -> bool {
    is_dangerous(cell.trim_start_matches('\''))
}

/// The cell as exported: with a leading `'` when [`needs_apostrophe`], else as it is.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if needs_apostrophe(cell) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// The value an exported cell stands for: [`neutralise`] undone.
pub fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_apostrophe(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use regex_syntax::hir::{Class, HirKind};

    /// The code points of a Unicode class, from the regex engine's own tables: an oracle written
    /// apart from [`is_format`].
    fn class(pattern: &str) -> Vec<(char, char)> {
        let hir = regex_syntax::Parser::new().parse(pattern).unwrap();
        match hir.kind() {
            HirKind::Class(Class::Unicode(class)) => {
                class.ranges().iter().map(|r| (r.start(), r.end())).collect()
            }
            other => panic!("{pattern} is not a class: {other:?}"),
        }
    }

    fn in_class(ranges: &[(char, char)], c: char) -> bool {
        ranges.iter().any(|(start, end)| (*start..=*end).contains(&c))
    }

    #[test]
    fn format_and_whitespace_are_unicodes_cf_and_white_space() {
        let (cf, space) = (class(r"\p{Cf}"), class(r"\p{White_Space}"));
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(is_format(c), in_class(&cf, c), "U+{:04X}", c as u32);
            assert_eq!(c.is_whitespace(), in_class(&space, c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn formula_cells_are_neutralised() {
        let dangerous = [
            "=1+1",
            "+SUM(A1)",
            "-2",
            "@cmd",
            "\tx",
            "\rx",
            "\t",
            "＝1+1",
            "＋1",
            "－1",
            "＠SUM(A1)",
            " =1",
            "\u{a0}=1",
            "\u{3000}+1",
            "\n-1",
            "\u{202e}=1",
            "\u{2066}@x",
            "\u{200b}=1",
            "\u{feff}=1",
            "\u{61c}=1",
            " \u{202a}\u{a0}\u{200f}＝x",
            "'=1",
            "''\t",
            "' =1",
        ];
        for cell in dangerous {
            assert_eq!(neutralise(cell), format!("'{cell}"), "{cell:?}");
            assert_eq!(unneutralise(&neutralise(cell)), cell);
        }
        for cell in [
            "plain",
            "",
            " ",
            "\u{a0}",
            "'",
            "'plain",
            " 'x",
            "1-2",
            "a=b",
            "\u{202e}txt",
            "\n",
            " \tx",
            "'\u{a0}",
        ] {
            assert_eq!(neutralise(cell), cell, "{cell:?}");
            assert_eq!(unneutralise(cell), cell, "{cell:?}");
        }
    }

    /// Whitespace and format characters by the regex engine's tables, parsed once.
    struct Oracle {
        format: Vec<(char, char)>,
        space: Vec<(char, char)>,
    }

    impl Oracle {
        fn get() -> &'static Oracle {
            static ORACLE: std::sync::OnceLock<Oracle> = std::sync::OnceLock::new();
            ORACLE.get_or_init(|| Oracle { format: class(r"\p{Cf}"), space: class(r"\p{White_Space}") })
        }

        /// `text` from its first visible character on.
        fn visible<'a>(&self, text: &'a str) -> &'a str {
            text.trim_start_matches(|c| in_class(&self.format, c) || in_class(&self.space, c))
        }

        /// The rule, stated apart from the code: tab or CR first, or a formula start first visible.
        fn dangerous(&self, text: &str) -> bool {
            text.starts_with(['\t', '\r']) || self.visible(text).starts_with(FORMULA_STARTS)
        }
    }

    /// Strings built mostly of the characters that matter here.
    fn cells() -> impl Strategy<Value = String> {
        let interesting = prop::sample::select(vec![
            '=',
            '+',
            '-',
            '@',
            '＝',
            '＋',
            '－',
            '＠',
            '\'',
            '\t',
            '\r',
            '\n',
            ' ',
            '\u{a0}',
            '\u{3000}',
            '\u{2028}',
            '\u{85}',
            '\u{202a}',
            '\u{202e}',
            '\u{2066}',
            '\u{2069}',
            '\u{200b}',
            '\u{200f}',
            '\u{feff}',
            '\u{61c}',
            '\u{ad}',
            '\u{e0001}',
            'a',
            '1',
            '"',
            ',',
        ]);
        prop::collection::vec(prop_oneof![3 => interesting, 1 => any::<char>()], 0..8)
            .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        // Cheap cases: many by default; `PROPTEST_CASES` sets another number, as for the other
        // property tests. No regression files in the source tree.
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(4096),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn neutralised_cells_never_start_a_formula(cell in cells()) {
            let oracle = Oracle::get();
            let out = neutralise(&cell);
            // Safe: what a spreadsheet sees first is the apostrophe, or no formula.
            prop_assert!(out.starts_with('\'') || !oracle.dangerous(&out), "{:?} exported as {:?}", cell, out);
            // Exact: a cell is kept unless it is dangerous once its own leading apostrophes are
            // set aside (then it gets exactly one more).
            let expected = if oracle.dangerous(cell.trim_start_matches('\'')) { format!("'{cell}") } else { cell.clone() };
            prop_assert_eq!(out.as_ref(), expected.as_str());
            // Reversible.
            prop_assert_eq!(unneutralise(&out), cell.as_str());
        }
    }
}
