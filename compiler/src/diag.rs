//! Source spans and the rendering of diagnostics: `file:line:col`, the offending line, and the offending text
//! underlined with what was expected.

use std::fmt::Write as _;

/// A byte range in the source a network was read from (`Span::NONE` for networks built in code).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// No source location.
    pub const NONE: Span = Span { start: u32::MAX, end: u32::MAX };

    /// The span of `start..end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start: start as u32, end: end.max(start) as u32 }
    }

    /// Whether the span points into a source.
    pub fn is_known(self) -> bool {
        self != Span::NONE
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        if !self.is_known() {
            return other;
        }
        if !other.is_known() {
            return self;
        }
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// A message about a place in a source.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where.
    pub span: Span,
    /// What was expected or how to fix it, shown under the underline.
    pub label: String,
}

/// The 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Renders a diagnostic against the source it points into.
pub fn render(d: &Diagnostic, file: &str, text: &str) -> String {
    let mut out = format!("error: {}\n", d.message);
    if !d.span.is_known() {
        let _ = writeln!(out, "  --> {file}");
        if !d.label.is_empty() {
            let _ = writeln!(out, "  = {}", d.label);
        }
        return out;
    }
    let start = floor_char_boundary(text, (d.span.start as usize).min(text.len()));
    let end = floor_char_boundary(text, (d.span.end as usize).min(text.len())).max(start);
    let (line, col) = line_col(text, start);
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let source_line = text[line_start..line_end].trim_end_matches('\r');
    let width = line.to_string().len();
    let pad = " ".repeat(width);
    let lead = text[line_start..start].chars().map(|c| if c == '\t' { '\t' } else { ' ' }).collect::<String>();
    let marks = text[start..end.min(line_end)].chars().count().max(1);
    let _ = writeln!(out, "{pad}--> {file}:{line}:{col}");
    let _ = writeln!(out, "{pad} |");
    let _ = writeln!(out, "{line} | {}", source_line.replace(|c: char| c.is_control() && c != '\t', "\u{fffd}"));
    let _ = writeln!(out, "{pad} | {lead}{} {}", "^".repeat(marks), d.label);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_line_column_and_underline() {
        let text = "timestep 0.1 ms\nconst x = 5 mS\n";
        let d =
            Diagnostic { message: "unknown unit `mS`".into(), span: Span::new(28, 30), label: "expected ms".into() };
        let out = render(&d, "a.snn", text);
        assert_eq!(
            out,
            "error: unknown unit `mS`\n --> a.snn:2:13\n  |\n2 | const x = 5 mS\n  |             ^^ expected ms\n"
        );
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncµd", 6), (2, 3));
        assert_eq!(line_col("", 10), (1, 1));
    }
}
