//! The `.snn` parser, written with `nom` 8 combinators over `&str`. Positions are byte offsets computed from the
//! remaining input; after a statement's keyword the parser commits (`cut`), so an error points at the first
//! token that does not fit and says what was expected there. The grammar is written down in `docs/language.md`.

use std::borrow::Cow;

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, multispace1, not_line_ending, satisfy, space0};
use nom::combinator::{cut, not, opt, peek, recognize};
use nom::error::{ErrorKind, ParseError};
use nom::multi::many0;
use nom::sequence::{pair, preceded, terminated};
use nom::{IResult, Parser};

use super::ast::{Arg, BinOp, Block, Call, Expr, ExprKind, File, Ident, Item, ItemKind};
use crate::diag::{Diagnostic, Span};

/// A syntax error: where, and what was expected there.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError {
    /// Where parsing stopped.
    pub span: Span,
    /// What would have fit.
    pub expected: Cow<'static, str>,
}

impl SyntaxError {
    /// The error as a diagnostic.
    pub fn diagnostic(&self, text: &str) -> Diagnostic {
        let start = self.span.start as usize;
        let found =
            text.get(start..).and_then(|rest| token_at(rest)).map_or("end of file".to_string(), |t| format!("`{t}`"));
        Diagnostic {
            message: format!("syntax error: expected {}, found {found}", self.expected),
            span: self.span,
            label: format!("expected {}", self.expected),
        }
    }
}

fn token_at(rest: &str) -> Option<&str> {
    let c = rest.chars().next()?;
    let len = if c.is_alphanumeric() || c == '_' || c == '.' {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.')).unwrap_or(rest.len())
    } else {
        c.len_utf8()
    };
    Some(&rest[..len])
}

/// The parser's error: the remaining input where it failed, and what it expected.
#[derive(Clone, Debug)]
struct PErr<'a> {
    at: &'a str,
    expected: Cow<'static, str>,
}

impl<'a> ParseError<&'a str> for PErr<'a> {
    fn from_error_kind(at: &'a str, kind: ErrorKind) -> Self {
        PErr { at, expected: Cow::Owned(format!("{kind:?}").to_lowercase()) }
    }
    fn append(_: &'a str, _: ErrorKind, other: Self) -> Self {
        other
    }
    fn or(self, other: Self) -> Self {
        // Keep the error that got furthest: it is the more specific one.
        if other.at.len() <= self.at.len() { other } else { self }
    }
}

type PResult<'a, O> = IResult<&'a str, O, PErr<'a>>;

/// Parses a whole file.
pub fn parse_file(text: &str) -> Result<File, SyntaxError> {
    let p = Parsing { base: text, nesting: std::cell::Cell::new(0) };
    finish(text, p.file(text))
}

/// Parses a lone expression (for `--set NAME=EXPR` and `--duration`).
pub fn parse_expr(text: &str) -> Result<Expr, SyntaxError> {
    let p = Parsing { base: text, nesting: std::cell::Cell::new(0) };
    let r = terminated(|i| p.expr(i), (|i| p.ws(i), expected("end of the expression", eof))).parse(text);
    finish(text, r)
}

fn finish<T>(text: &str, r: PResult<'_, T>) -> Result<T, SyntaxError> {
    match r {
        Ok((_, v)) => Ok(v),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
            let at = text.len() - e.at.len();
            let end = at + e.at.get(..).and_then(token_at).map_or(0, str::len);
            Err(SyntaxError { span: Span::new(at, end), expected: e.expected })
        }
        Err(nom::Err::Incomplete(_)) => {
            Err(SyntaxError { span: Span::new(text.len(), text.len()), expected: "more input".into() })
        }
    }
}

/// The text of a number: `12`, `0.5`, `1e-3`, `.5` (but `0..10` is `0` followed by `..`).
fn number_text(i: &str) -> PResult<'_, &str> {
    let digits = |from: usize| from + i[from..].bytes().take_while(u8::is_ascii_digit).count();
    let mut end = digits(0);
    let b = i.as_bytes();
    if b.get(end) == Some(&b'.') && b.get(end + 1) != Some(&b'.') {
        end = digits(end + 1);
    }
    if end == 0 || &i[..end] == "." {
        return Err(nom::Err::Error(PErr::from_error_kind(i, ErrorKind::Digit)));
    }
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(end + 1), Some(b'+' | b'-')));
        let exp_end = digits(end + 1 + sign);
        if exp_end == end + 1 + sign {
            return Err(nom::Err::Failure(PErr { at: &i[exp_end..], expected: "exponent digits".into() }));
        }
        end = exp_end;
    }
    Ok((&i[end..], &i[..end]))
}

fn eof(i: &str) -> PResult<'_, ()> {
    if i.is_empty() { Ok((i, ())) } else { Err(nom::Err::Error(PErr::from_error_kind(i, ErrorKind::Eof))) }
}

/// Wraps a parser so that a failure without progress says `what` was expected.
fn expected<'a, O>(
    what: &'static str,
    mut p: impl Parser<&'a str, Output = O, Error = PErr<'a>>,
) -> impl FnMut(&'a str) -> PResult<'a, O> {
    move |i: &'a str| match p.parse(i) {
        Err(nom::Err::Error(e)) if e.at.len() >= i.len() => Err(nom::Err::Error(PErr { at: i, expected: what.into() })),
        Err(nom::Err::Failure(e)) if e.at.len() >= i.len() => {
            Err(nom::Err::Failure(PErr { at: i, expected: what.into() }))
        }
        r => r,
    }
}

fn too_deep() -> String {
    format!(
        "an expression nested at most {MAX_EXPRESSION_DEPTH} deep (parentheses, signs, powers, calls or a chain of \
         operators); split it with `const`"
    )
}

const KEYWORDS: &[&str] =
    &["timestep", "const", "def", "population", "projection", "gap", "source", "current", "probe"];

struct Parsing<'t> {
    base: &'t str,
    /// How deep the parser is inside nested expressions now.
    nesting: std::cell::Cell<usize>,
}

/// The deepest an expression may nest (parentheses, signs, powers, calls, lists, and operator chains, whose trees
/// grow one level per operator): far beyond real files, well inside the stack of every later pass.
pub const MAX_EXPRESSION_DEPTH: usize = 256;

/// The depth of an expression tree, walked without recursion.
fn depth(e: &Expr) -> usize {
    let (mut deepest, mut stack) = (0, vec![(e, 1usize)]);
    while let Some((e, d)) = stack.pop() {
        deepest = deepest.max(d);
        match &e.kind {
            ExprKind::Number(..) | ExprKind::Name(_) => {}
            ExprKind::Neg(x) => stack.push((x, d + 1)),
            ExprKind::Binary(_, a, b) => stack.extend([(&**a, d + 1), (&**b, d + 1)]),
            ExprKind::Call(c) => stack.extend(c.args.iter().map(|a| (&a.value, d + 1))),
            ExprKind::List(items) => stack.extend(items.iter().map(|x| (x, d + 1))),
        }
    }
    deepest
}

impl<'t> Parsing<'t> {
    fn pos(&self, rest: &str) -> usize {
        self.base.len() - rest.len()
    }

    fn span(&self, before: &str, after: &str) -> Span {
        Span::new(self.pos(before), self.pos(after))
    }

    /// Whitespace and `#` comments.
    fn ws<'a>(&self, i: &'a str) -> PResult<'a, ()> {
        let (i, _) = many0(alt((multispace1, recognize(pair(char('#'), not_line_ending))))).parse(i)?;
        Ok((i, ()))
    }

    /// A symbol token after optional whitespace.
    fn sym<'a>(&self, s: &'static str, what: &'static str) -> impl FnMut(&'a str) -> PResult<'a, &'a str> + '_ {
        move |i| preceded(|i| self.ws(i), expected(what, tag(s))).parse(i)
    }

    fn ident<'a>(&self, i: &'a str) -> PResult<'a, Ident> {
        let (i, _) = self.ws(i)?;
        let (rest, name) = expected(
            "a name",
            recognize(pair(
                satisfy(|c: char| c.is_ascii_alphabetic() || c == '_'),
                take_while(|c: char| c.is_ascii_alphanumeric() || c == '_'),
            )),
        )
        .parse(i)?;
        Ok((rest, Ident { name: name.to_string(), span: self.span(i, rest) }))
    }

    /// A keyword: a whole word.
    fn keyword<'a>(&self, kw: &'static str) -> impl FnMut(&'a str) -> PResult<'a, ()> + '_ {
        move |i| {
            let (i, _) = self.ws(i)?;
            let (i, _) = terminated(tag(kw), not(satisfy(|c: char| c.is_ascii_alphanumeric() || c == '_'))).parse(i)?;
            Ok((i, ()))
        }
    }

    fn file<'a>(&self, i: &'a str) -> PResult<'a, File> {
        let (i, items) = many0(|i| self.item(i)).parse(i)?;
        let (i, _) = self.ws(i)?;
        let (i, _) = expected(
            "a statement (timestep, const, def, population, projection, gap, source, current, probe)",
            eof,
        )(i)?;
        Ok((i, File { items }))
    }

    fn item<'a>(&self, i: &'a str) -> PResult<'a, Item> {
        let (start, _) = self.ws(i)?;
        let (rest, kind) = alt((
            preceded(self.keyword("timestep"), cut(|i| self.expr(i))).map(ItemKind::Timestep),
            preceded(self.keyword("const"), cut(|i| self.const_item(i))),
            preceded(self.keyword("def"), cut(|i| self.def_item(i))),
            preceded(self.keyword("population"), cut(|i| self.population(i))),
            preceded(self.keyword("projection"), cut(|i| self.projection(i, false))),
            preceded(self.keyword("gap"), cut(|i| self.projection(i, true))),
            preceded(self.keyword("source"), cut(|i| self.source(i))),
            preceded(self.keyword("current"), cut(|i| self.current(i))),
            preceded(self.keyword("probe"), cut(|i| self.probe(i))),
        ))
        .parse(start)?;
        Ok((rest, Item { kind, span: self.span(start, rest) }))
    }

    fn const_item<'a>(&self, i: &'a str) -> PResult<'a, ItemKind> {
        let (i, name) = self.ident(i)?;
        let (i, _) = self.sym("=", "`=`")(i)?;
        let (i, value) = self.expr(i)?;
        Ok((i, ItemKind::Const { name, value }))
    }

    fn def_item<'a>(&self, i: &'a str) -> PResult<'a, ItemKind> {
        let (i, name) = self.ident(i)?;
        let (i, _) = self.sym("(", "`(` and parameter names")(i)?;
        let (i, params) = self.comma_list(i, ")", "`)`", |i| self.ident(i))?;
        let (i, _) = self.sym("=", "`=`")(i)?;
        let (i, body) = self.expr(i)?;
        Ok((i, ItemKind::Def { name, params, body }))
    }

    fn sized_name<'a>(&self, i: &'a str) -> PResult<'a, (Ident, Expr)> {
        let (i, name) = self.ident(i)?;
        let (i, _) = self.sym("[", "`[` and a size, as in `exc[3200]`")(i)?;
        let (i, size) = self.expr(i)?;
        let (i, _) = self.sym("]", "`]`")(i)?;
        Ok((i, (name, size)))
    }

    fn population<'a>(&self, i: &'a str) -> PResult<'a, ItemKind> {
        let (i, (name, size)) = self.sized_name(i)?;
        let (i, _) = self.sym(":", "`:` and a neuron model")(i)?;
        let (i, model) = self.ident(i)?;
        let (i, block) = self.block(i)?;
        Ok((i, ItemKind::Population { name, size, model, block }))
    }

    fn projection<'a>(&self, i: &'a str, electrical: bool) -> PResult<'a, ItemKind> {
        let (i, pre) = self.ident(i)?;
        let (i, _) = self.sym("->", "`->`")(i)?;
        let (i, post) = self.ident(i)?;
        let (i, _) = self.sym(":", "`:` and a connector")(i)?;
        let (i, connector) = self.call(i)?;
        let (i, block) = self.block(i)?;
        Ok((i, ItemKind::Projection { electrical, pre, post, connector, block }))
    }

    fn source<'a>(&self, i: &'a str) -> PResult<'a, ItemKind> {
        let (i, (name, size)) = self.sized_name(i)?;
        let (i, _) = self.sym(":", "`:` and a source kind (poisson, spikes)")(i)?;
        let (i, kind) = self.ident(i)?;
        let (i, block) = self.block(i)?;
        Ok((i, ItemKind::Source { name, size, kind, block }))
    }

    fn current<'a>(&self, i: &'a str) -> PResult<'a, ItemKind> {
        let (i, target) = self.ident(i)?;
        let (i, _) = self.sym(":", "`:` and a current kind (dc, step)")(i)?;
        let (i, kind) = self.ident(i)?;
        let (i, block) = self.block(i)?;
        Ok((i, ItemKind::Current { target, kind, block }))
    }

    fn probe<'a>(&self, i: &'a str) -> PResult<'a, ItemKind> {
        let (i, population) = self.ident(i)?;
        let (i, range) = opt(|i| {
            let (i, _) = self.sym("[", "`[`")(i)?;
            let (i, a) = cut(|i| self.expr(i)).parse(i)?;
            let (i, _) = cut(self.sym("..", "`..`, as in `[0..10]`")).parse(i)?;
            let (i, b) = cut(|i| self.expr(i)).parse(i)?;
            let (i, _) = cut(self.sym("]", "`]`")).parse(i)?;
            Ok((i, (a, b)))
        })
        .parse(i)?;
        let (i, _) = self.sym(":", "`:` and what to record (spikes, v)")(i)?;
        let (i, kind) = self.ident(i)?;
        Ok((i, ItemKind::Probe { population, range, kind }))
    }

    fn block<'a>(&self, i: &'a str) -> PResult<'a, Block> {
        let (start, _) = self.ws(i)?;
        let (i, _) = self.sym("{", "`{`")(start)?;
        let (i, entries) = self.comma_list(i, "}", "`}`", |i| {
            let (i, key) = self.ident(i)?;
            let (i, _) = self.sym("=", "`=`")(i)?;
            let (i, value) = self.expr(i)?;
            Ok((i, (key, value)))
        })?;
        Ok((i, Block { entries, span: self.span(start, i) }))
    }

    /// `item, item, ... close` with an optional trailing comma; the opening token is already consumed.
    fn comma_list<'a, T>(
        &self,
        mut i: &'a str,
        close: &'static str,
        close_what: &'static str,
        mut item: impl FnMut(&'a str) -> PResult<'a, T>,
    ) -> PResult<'a, Vec<T>> {
        let mut out = Vec::new();
        loop {
            if let Ok((rest, _)) = self.sym(close, close_what)(i) {
                return Ok((rest, out));
            }
            let (rest, x) = item(i)?;
            out.push(x);
            i = rest;
            match self.sym(",", "`,`")(i) {
                Ok((rest, _)) => i = rest,
                Err(_) => {
                    let (rest, _) =
                        self.sym(close, if close == "}" { "`,` or `}`" } else { "`,` or a closing bracket" })(i)?;
                    return Ok((rest, out));
                }
            }
        }
    }

    fn call<'a>(&self, i: &'a str) -> PResult<'a, Call> {
        let (i, name) = self.ident(i)?;
        let start = name.span.start as usize;
        let (i, args) = match self.sym("(", "`(`")(i) {
            Ok((i, _)) => self.comma_list(i, ")", "`)`", |i| self.arg(i))?,
            Err(_) => (i, Vec::new()),
        };
        Ok((i, Call { name, args, span: Span::new(start, self.pos(i)) }))
    }

    fn arg<'a>(&self, i: &'a str) -> PResult<'a, Arg> {
        let named = (|i| self.ident(i), self.sym("=", "`=`"), not(char('='))).parse(i);
        match named {
            Ok((i, (name, _, _))) => {
                let (i, value) = self.expr(i)?;
                Ok((i, Arg { name: Some(name), value }))
            }
            Err(_) => {
                let (i, value) = self.expr(i)?;
                Ok((i, Arg { name: None, value }))
            }
        }
    }

    fn expr<'a>(&self, i: &'a str) -> PResult<'a, Expr> {
        self.nested(i, |i| self.binary(i, 0))
    }

    /// Runs `f` one nesting level deeper, refusing (a failure naming `i`) beyond [`MAX_EXPRESSION_DEPTH`].
    fn nested<'a, T>(&self, i: &'a str, f: impl FnOnce(&'a str) -> PResult<'a, T>) -> PResult<'a, T> {
        let n = self.nesting.get() + 1;
        if n > MAX_EXPRESSION_DEPTH {
            return Err(nom::Err::Failure(PErr { at: i, expected: too_deep().into() }));
        }
        self.nesting.set(n);
        let out = f(i);
        self.nesting.set(n - 1);
        out
    }

    /// Precedence climbing: level 0 is `+ -`, level 1 is `* /`.
    fn binary<'a>(&self, i: &'a str, level: u8) -> PResult<'a, Expr> {
        let operand = |i| {
            if level == 0 { self.binary(i, 1) } else { self.unary(i) }
        };
        let (mut i, mut lhs) = operand(i)?;
        let mut lhs_depth = depth(&lhs);
        loop {
            let (rest, _) = self.ws(i)?;
            let op = match (level, rest.chars().next()) {
                (0, Some('+')) => BinOp::Add,
                (0, Some('-')) if !rest.starts_with("->") => BinOp::Sub,
                (1, Some('*')) => BinOp::Mul,
                (1, Some('/')) => BinOp::Div,
                _ => return Ok((i, lhs)),
            };
            let (after, rhs) = cut(operand).parse(&rest[1..])?;
            lhs_depth = lhs_depth.max(depth(&rhs)) + 1;
            if lhs_depth > MAX_EXPRESSION_DEPTH {
                return Err(nom::Err::Failure(PErr { at: rest, expected: too_deep().into() }));
            }
            let span = lhs.span.to(rhs.span);
            lhs = Expr { kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span };
            i = after;
        }
    }

    fn unary<'a>(&self, i: &'a str) -> PResult<'a, Expr> {
        self.nested(i, |i| self.unary_here(i))
    }

    fn unary_here<'a>(&self, i: &'a str) -> PResult<'a, Expr> {
        let (i, _) = self.ws(i)?;
        if let Some(rest) = i.strip_prefix('-') {
            let (rest, inner) = cut(|i| self.unary(i)).parse(rest)?;
            let span = Span::new(self.pos(i), inner.span.end as usize);
            return Ok((rest, Expr { kind: ExprKind::Neg(Box::new(inner)), span }));
        }
        let (i, base) = self.atom(i)?;
        let (rest, _) = self.ws(i)?;
        if let Some(rest) = rest.strip_prefix('^') {
            let (rest, exp) = cut(|i| self.unary(i)).parse(rest)?;
            let span = base.span.to(exp.span);
            return Ok((rest, Expr { kind: ExprKind::Binary(BinOp::Pow, Box::new(base), Box::new(exp)), span }));
        }
        Ok((i, base))
    }

    fn atom<'a>(&self, i: &'a str) -> PResult<'a, Expr> {
        let (i, _) = self.ws(i)?;
        let what = "a value (number, name, `(`, `[` or a call)";
        match i.chars().next() {
            Some(c) if c.is_ascii_digit() || c == '.' => self.number(i),
            Some('(') => {
                let (rest, e) = cut(|i| self.expr(i)).parse(&i[1..])?;
                let (rest, _) = cut(self.sym(")", "`)`")).parse(rest)?;
                Ok((rest, Expr { span: self.span(i, rest), ..e }))
            }
            Some('[') => {
                let (rest, items) = self.comma_list(&i[1..], "]", "`]`", |i| self.expr(i))?;
                Ok((rest, Expr { kind: ExprKind::List(items), span: self.span(i, rest) }))
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let (rest, name) = self.ident(i)?;
                if KEYWORDS.contains(&name.name.as_str()) {
                    return Err(nom::Err::Error(PErr { at: i, expected: what.into() }));
                }
                if peek(self.sym("(", "`(`")).parse(rest).is_ok() {
                    let (rest, call) = self.call(i)?;
                    let span = call.span;
                    return Ok((rest, Expr { kind: ExprKind::Call(call), span }));
                }
                let span = name.span;
                Ok((rest, Expr { kind: ExprKind::Name(name), span }))
            }
            _ => Err(nom::Err::Error(PErr { at: i, expected: what.into() })),
        }
    }

    /// `12`, `0.5`, `1e-3`, `.5`, optionally followed on the same line by a unit name: `20 ms`.
    fn number<'a>(&self, i: &'a str) -> PResult<'a, Expr> {
        let (rest, text) = expected("a number", number_text).parse(i)?;
        let value: f64 = text.parse().map_err(|_| nom::Err::Failure(PErr { at: i, expected: "a number".into() }))?;
        let (after_space, _) = space0(rest)?;
        let (rest, unit) = match take_while1::<_, _, PErr<'a>>(|c: char| c.is_ascii_alphabetic()).parse(after_space) {
            // A word right after a number is its unit, unless it starts the next `key = value` entry.
            Ok((after, word))
                if !KEYWORDS.contains(&word)
                    && !after.starts_with(|c: char| c == '_' || c.is_ascii_digit())
                    && !after.trim_start().starts_with('=') =>
            {
                (after, Some(Ident { name: word.to_string(), span: self.span(after_space, after) }))
            }
            _ => (rest, None),
        };
        Ok((rest, Expr { kind: ExprKind::Number(value, unit), span: self.span(i, rest) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parses(text: &str) -> File {
        match parse_file(text) {
            Ok(f) => f,
            Err(e) => panic!("{}", crate::diag::render(&e.diagnostic(text), "t.snn", text)),
        }
    }

    fn error(text: &str) -> (String, String) {
        let e = parse_file(text).expect_err("should not parse");
        let d = e.diagnostic(text);
        let at = &text[e.span.start as usize..];
        (d.message, at.chars().take(6).collect())
    }

    #[test]
    fn items_and_precedence() {
        let f = parses("timestep 0.1 ms # step\nconst a = 1 + 2 * 3 ^ 2 - -4 / 2\nprobe exc[0..10] : v\n");
        assert_eq!(f.items.len(), 3);
        let ItemKind::Const { value, .. } = &f.items[1].kind else { panic!() };
        // (1 + (2 * (3 ^ 2))) - ((-4) / 2)
        let ExprKind::Binary(BinOp::Sub, l, r) = &value.kind else { panic!("{value:?}") };
        assert!(matches!(l.kind, ExprKind::Binary(BinOp::Add, _, _)));
        assert!(matches!(r.kind, ExprKind::Binary(BinOp::Div, _, _)));
        let ItemKind::Probe { range: Some(_), kind, .. } = &f.items[2].kind else { panic!() };
        assert_eq!(kind.name, "v");
    }

    #[test]
    fn numbers_units_and_calls() {
        let f = parses("population p[10] : lif { tau = 20 ms, r = 1e-3, v_init = normal(mean = -58 mV, sd = 10mV), }");
        let ItemKind::Population { block, .. } = &f.items[0].kind else { panic!() };
        assert_eq!(block.entries.len(), 3);
        let ExprKind::Number(v, Some(u)) = &block.entries[0].1.kind else { panic!() };
        assert_eq!((*v, u.name.as_str()), (20.0, "ms"));
        let ExprKind::Call(call) = &block.entries[2].1.kind else { panic!() };
        assert_eq!(call.args.len(), 2);
        assert_eq!(call.args[1].name.as_ref().map(|n| n.name.as_str()), Some("sd"));
    }

    #[test]
    fn errors_point_at_the_offending_token() {
        let (msg, at) = error("population p[10] lif {}");
        assert!(msg.contains("expected `:`"), "{msg}");
        assert_eq!(at, "lif {}");
        let (msg, at) = error("const x = 3 *\n");
        assert!(msg.contains("expected a value"), "{msg}");
        assert_eq!(at, "");
        let (msg, _) = error("populaton p[1] : lif {}");
        assert!(msg.contains("expected a statement"), "{msg}");
        let (msg, at) = error("projection a -> b : one_to_one { weight = 1 delay = 2 }");
        assert!(msg.contains("`,` or `}`"), "{msg}");
        assert_eq!(at, "delay ");
    }

    #[test]
    fn standalone_expression() {
        assert!(parse_expr("5 ms").is_ok());
        assert!(parse_expr("5 ms )").is_err());
    }
}
