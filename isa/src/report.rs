//! What a family's report offers across the family boundary: every backend's mapping report and every engine's
//! run report is a typed struct of its own, seen by the commands (and a Python binding) through [`Report`] as
//! JSON (the `--json` contract) and as the text a person reads. [`thousands`] formats counts the same way in every
//! family's text.

/// A JSON value (so the families need no JSON library of their own).
pub use serde_json::Value as Json;

/// A typed report, as JSON and as text.
pub trait Report: Send + Sync {
    /// The report as JSON (the `--json` output).
    fn json(&self) -> Json;
    /// The report as lines of text, each ending in a newline.
    fn text(&self) -> String;
}

/// JSON of a serialisable report; a value serde cannot write (a map with non-string keys) becomes `null`, which
/// no report here has.
pub fn to_json(report: &impl serde::Serialize) -> Json {
    serde_json::to_value(report).unwrap_or(Json::Null)
}

/// A count with thousands separators (`1,234,567`).
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
