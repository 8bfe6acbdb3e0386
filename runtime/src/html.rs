//! Self-contained HTML pages with hand-written SVG plots: no scripts, fonts or anything else fetched, so a
//! report opens offline and can be archived as one file.

use std::fmt::Write as _;

use soma_isa::report::{exact, quantity, si};

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `page` with `section` added at its end.
pub fn with_section(page: &str, section: &str) -> String {
    match page.rfind("</body>") {
        Some(at) => format!("{}{section}{}", &page[..at], &page[at..]),
        None => format!("{page}{section}"),
    }
}

/// A page with a title, a style sheet and sections of HTML.
pub fn page(title: &str, sections: &[String]) -> String {
    let mut s = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(s, "<title>{}</title>", esc(title));
    s += "<style>body{font-family:sans-serif;margin:2em;max-width:72em;color:#222}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}\
          table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}\
          td:first-child,th:first-child{text-align:left}svg{display:block;margin:.5em 0}.note{color:#666;font-size:.85em}pre{white-space:pre-wrap}</style>";
    let _ = write!(s, "</head><body><h1>{}</h1>", esc(title));
    for sec in sections {
        s += sec;
    }
    s + "</body></html>\n"
}

/// A table from a header and rows of cells (already formatted).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = String::from("<table><tr>");
    for h in header {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s += "</tr>";
    for r in rows {
        s += "<tr>";
        for c in r {
            let _ = write!(s, "<td>{}</td>", esc(c));
        }
        s += "</tr>";
    }
    s + "</table>"
}

/// A horizontal bar chart. Positive values that span more than a hundredfold are drawn on a log scale (the chart
/// says so), so that small terms stay visible beside large ones; values in physical units (J, W, s, Hz, V, A) are
/// labelled with SI prefixes.
pub fn bars(items: &[(String, f64)], unit: &str) -> String {
    let (w, row) = (640.0, 22.0);
    let positive: Vec<f64> = items.iter().map(|i| i.1).filter(|v| *v > 0.0).collect();
    let max = items.iter().map(|i| i.1.abs()).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    let min = positive.iter().copied().fold(f64::INFINITY, f64::min);
    let log = positive.len() == items.len() && positive.len() > 1 && max / min > 100.0;
    // On a log scale the smallest bar starts a tenth of the smallest value above the axis.
    let length = |v: f64| {
        if log { 360.0 * (v / (min / 10.0)).log10() / (max / (min / 10.0)).log10() } else { 360.0 * v.abs() / max }
    };
    let physical = matches!(unit, "J" | "W" | "s" | "Hz" | "V" | "A");
    let label = |v: f64| match unit {
        "%" => format!("{v:+.1}%"),
        _ if physical => si(v, unit),
        _ => format!("{} {unit}", quantity(v, "")).trim_end().to_string(),
    };
    let top = if log { 18.0 } else { 5.0 };
    let h = row * items.len() as f64 + top + 5.0;
    let mut s = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\">");
    if log {
        s += "<text x=\"170\" y=\"11\" font-size=\"10\" fill=\"#666\">log scale</text>";
    }
    for (k, (name, v)) in items.iter().enumerate() {
        let y = top + k as f64 * row;
        let len = length(*v).max(0.0);
        let color = if *v < 0.0 { "#c0504d" } else { "#4f81bd" };
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{:.1}\" font-size=\"12\">{}</text><rect x=\"170\" y=\"{y:.1}\" width=\"{len:.1}\" height=\"{:.1}\" fill=\"{color}\"><title>{}: {} {}</title></rect><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{}</text>",
            y + 14.0,
            esc(name),
            row - 6.0,
            esc(name),
            exact(*v),
            esc(unit),
            175.0 + len,
            y + 13.0,
            esc(&label(*v))
        );
    }
    s + "</svg>"
}

/// The colour scale of [`heat`] as a strip, its left end labelled 0, its middle and right end as given.
pub fn heat_legend(max_label: &str, middle_label: &str) -> String {
    let mut s = String::from("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"320\" height=\"34\" role=\"img\">");
    for k in 0..40 {
        let _ = write!(
            s,
            "<rect x=\"{}\" y=\"0\" width=\"6\" height=\"14\" fill=\"{}\"/>",
            10 + k * 6,
            heat(k as f64 / 39.0)
        );
    }
    let _ = write!(
        s,
        "<text x=\"10\" y=\"28\" font-size=\"10\">0</text><text x=\"130\" y=\"28\" font-size=\"10\" text-anchor=\"middle\">{}</text><text x=\"250\" y=\"28\" font-size=\"10\" text-anchor=\"end\">{}</text>",
        esc(middle_label),
        esc(max_label)
    );
    s + "</svg>"
}

/// Colour of a value in [0, 1] on a green-yellow-red scale.
pub fn heat(x: f64) -> String {
    let x = x.clamp(0.0, 1.0);
    let (r, g) = if x < 0.5 { (510.0 * x, 200.0) } else { (255.0, 200.0 * (2.0 - 2.0 * x)) };
    format!("rgb({:.0},{:.0},60)", r, g)
}

/// A line between two chips and the packets it carried.
pub type LinkLine = ((usize, usize), (usize, usize), u64);

/// A grid of chips: `value(chip)` in [0, 1] colours it, `label(chip)` is its tooltip; `links` draws lines
/// between chip centres with widths scaled to their counts.
pub fn mesh(
    width: usize,
    height: usize,
    chips: &[(usize, usize)],
    value: impl Fn((usize, usize)) -> Option<f64>,
    label: impl Fn((usize, usize)) -> String,
    links: &[LinkLine],
) -> String {
    let cell = (560.0 / width.max(height) as f64).min(40.0);
    let (w, h) = (cell * width as f64 + 20.0, cell * height as f64 + 20.0);
    let centre =
        |(x, y): (usize, usize)| (10.0 + (x as f64 + 0.5) * cell, 10.0 + (height - 1 - y) as f64 * cell + cell / 2.0);
    let mut s = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" role=\"img\">");
    for &c in chips {
        let (cx, cy) = centre(c);
        let fill = value(c).map_or_else(|| "#eee".to_string(), heat);
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\" stroke=\"#999\"><title>{}</title></rect>",
            cx - cell / 2.0 + 1.0,
            cy - cell / 2.0 + 1.0,
            cell - 2.0,
            cell - 2.0,
            esc(&label(c))
        );
    }
    let max = links.iter().map(|l| l.2).max().unwrap_or(1).max(1) as f64;
    for &(a, b, n) in links {
        let ((x1, y1), (x2, y2)) = (centre(a), centre(b));
        // Torus wrap-around links are drawn as short stubs.
        let (x2, y2) = if (x2 - x1).abs() > 1.5 * cell || (y2 - y1).abs() > 1.5 * cell {
            (x1 + (x2 - x1).signum() * cell * 0.4, y1 + (y2 - y1).signum() * cell * 0.4)
        } else {
            (x2, y2)
        };
        let wid = link_width(n, max);
        let _ = write!(
            s,
            "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"#2a4d8f\" stroke-opacity=\"0.7\" stroke-width=\"{wid:.2}\"><title>{n} packets</title></line>"
        );
    }
    s + "</svg>"
}

/// The stroke width of a link that carried `n` of the busiest link's `max` packets: it grows with the log.
fn link_width(n: u64, max: f64) -> f64 {
    0.5 + 4.0 * (n as f64).ln_1p() / max.ln_1p()
}

/// The key to [`mesh`]'s link widths: lines for 1 packet, the geometric middle and the busiest link's `max`.
pub fn link_legend(max: u64) -> String {
    let max = max.max(1);
    let middle = ((max as f64).sqrt().round() as u64).clamp(1, max);
    let mut counts = vec![1, middle, max];
    counts.dedup();
    let mut s = String::from(r#"<svg xmlns="http://www.w3.org/2000/svg" width="420" height="24" role="img">"#);
    for (i, &n) in counts.iter().enumerate() {
        let x = 10.0 + 140.0 * i as f64;
        let _ = write!(
            s,
            r##"<line x1="{x:.0}" y1="12" x2="{:.0}" y2="12" stroke="#2a4d8f" stroke-opacity="0.7" stroke-width="{:.2}"/><text x="{:.0}" y="16" font-size="11">{} packet{}</text>"##,
            x + 40.0,
            link_width(n, max as f64),
            x + 46.0,
            soma_isa::report::thousands(n),
            if n == 1 { "" } else { "s" }
        );
    }
    s + "</svg>"
}

/// A group of rows of a [`raster`]: its name, its rows, and what they are (`"1 in 32 of neurons 0-3199"`).
pub struct Rows {
    /// The population.
    pub name: String,
    /// Rows it takes.
    pub rows: u32,
    /// Which neurons the rows are.
    pub which: String,
}

/// A spike raster over `duration` seconds: `(time, row)` dots, rows grouped by population (each named, with the
/// neurons its rows are), a time axis with tick values.
pub fn raster(duration: f64, groups: &[Rows], dots: &[(f64, u32)]) -> String {
    let rows = groups.iter().map(|g| g.rows).sum::<u32>().max(1);
    let frame = Frame::new((0.0, duration), (0.0, rows as f64), 680.0, 360.0);
    let mut s = frame.open("time", "s", "", None);
    let mut first = 0u32;
    for g in groups {
        let top = frame.py(f64::from(rows - first));
        let _ = write!(
            s,
            "<line x1=\"{l}\" y1=\"{top:.1}\" x2=\"{:.0}\" y2=\"{top:.1}\" stroke=\"#ddd\"/><text x=\"2\" y=\"{:.1}\" font-size=\"11\">{}<title>{}</title></text>",
            frame.w,
            top + 12.0,
            esc(&g.name),
            esc(&g.which),
            l = MARGIN.0
        );
        first += g.rows;
    }
    for &(t, row) in dots {
        let (x, y) = (frame.px(t), frame.py(f64::from(rows) - f64::from(row) - 0.5));
        let _ = write!(s, "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"1.5\" height=\"1.5\" fill=\"#222\"/>");
    }
    s + "</svg>"
}

/// How a design point is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// The recommended point (green).
    Recommended,
    /// On the Pareto front of the feasible points (red).
    Optimal,
    /// Feasible, dominated (blue).
    Feasible,
    /// Outside a limit (grey).
    Infeasible,
}

/// Round tick values covering `lo..=hi`: about five, 1, 2 or 5 times a power of ten apart.
pub fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / 5.0;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * power).find(|&s| s >= raw).unwrap_or(10.0 * power);
    // A tick within a millionth of a step of an end is on it (0.3 / 0.1 is 2.9999999999999996).
    let first = (lo / step - 1e-6).ceil() as i64;
    let last = (hi / step + 1e-6).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// A plot area of `w x h` pixels for data in `x` and `y` ranges, with axes, tick values in SI units and labels.
pub struct Frame {
    x: (f64, f64),
    y: (f64, f64),
    w: f64,
    h: f64,
}

/// Left and bottom margins of a [`Frame`], for the tick values and labels.
const MARGIN: (f64, f64) = (70.0, 40.0);

impl Frame {
    /// A frame over `x` and `y` (each `(low, high)`; an empty range is widened).
    pub fn new(x: (f64, f64), y: (f64, f64), w: f64, h: f64) -> Frame {
        let widen = |(lo, hi): (f64, f64)| if hi > lo { (lo, hi) } else { (lo - 0.5, lo + 0.5) };
        Frame { x: widen(x), y: widen(y), w, h }
    }

    /// The pixel column of `x`.
    pub fn px(&self, x: f64) -> f64 {
        MARGIN.0 + (self.w - MARGIN.0 - 30.0) * (x - self.x.0) / (self.x.1 - self.x.0)
    }

    /// The pixel row of `y`.
    pub fn py(&self, y: f64) -> f64 {
        (self.h - MARGIN.1) - (self.h - MARGIN.1 - 10.0) * (y - self.y.0) / (self.y.1 - self.y.0)
    }

    /// The opening `<svg>`, the axes with their ticks in `x_unit` and `y_unit` (no y ticks for `None`: the caller
    /// labels the rows), and the labels.
    pub fn open(&self, x_label: &str, x_unit: &str, y_label: &str, y_unit: Option<&str>) -> String {
        let (w, h) = (self.w, self.h);
        let base = h - MARGIN.1;
        let mut s = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\">");
        let _ = write!(
            s,
            "<line x1=\"{l}\" y1=\"{base}\" x2=\"{w}\" y2=\"{base}\" stroke=\"#333\"/><line x1=\"{l}\" y1=\"0\" x2=\"{l}\" y2=\"{base}\" stroke=\"#333\"/>",
            l = MARGIN.0
        );
        for t in ticks(self.x.0, self.x.1) {
            let x = self.px(t);
            let _ = write!(
                s,
                "<line x1=\"{x:.1}\" y1=\"{base}\" x2=\"{x:.1}\" y2=\"{:.0}\" stroke=\"#333\"/><text x=\"{x:.1}\" y=\"{:.0}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
                base + 4.0,
                base + 15.0,
                esc(&si(t, x_unit))
            );
        }
        for t in y_unit.map_or_else(Vec::new, |_| ticks(self.y.0, self.y.1)) {
            let y = self.py(t);
            let _ = write!(
                s,
                "<line x1=\"{:.0}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\" stroke=\"#333\"/><text x=\"{:.0}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
                MARGIN.0 - 4.0,
                MARGIN.0,
                MARGIN.0 - 6.0,
                y + 3.0,
                esc(&si(t, y_unit.unwrap_or("")))
            );
        }
        let _ = write!(
            s,
            "<text x=\"{:.0}\" y=\"{:.0}\" font-size=\"12\" text-anchor=\"middle\">{}</text><text x=\"12\" y=\"{:.0}\" font-size=\"12\" transform=\"rotate(-90 12 {:.0})\" text-anchor=\"middle\">{}</text>",
            (w + MARGIN.0) / 2.0,
            h - 5.0,
            esc(x_label),
            base / 2.0,
            base / 2.0,
            esc(y_label)
        );
        s
    }
}

/// A scatter plot of points `(x, y, label)`, each drawn as its [`Mark`] says (the recommended point, the Pareto
/// front of the feasible points, the other feasible points, the infeasible ones); axes from zero with tick values
/// in `x_unit` and `y_unit`.
pub fn pareto(points: &[(f64, f64, String)], marks: &[Mark], x_axis: (&str, &str), y_axis: (&str, &str)) -> String {
    let (xmax, ymax) = points.iter().fold((f64::MIN_POSITIVE, f64::MIN_POSITIVE), |m, p| (m.0.max(p.0), m.1.max(p.1)));
    // The x range leaves a third of the width to the right of the last point for its label.
    let frame = Frame::new((0.0, xmax * 1.5), (0.0, ymax * 1.05), 760.0, 360.0);
    let mut s = frame.open(x_axis.0, x_axis.1, y_axis.0, Some(y_axis.1));
    let mut labelled: Vec<(f64, f64)> = Vec::new();
    // The recommended point is drawn last, over the points it coincides with.
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by_key(|&i| marks.get(i) == Some(&Mark::Recommended));
    for i in order {
        let (x, y, label) = &points[i];
        let (px, py) = (frame.px(*x), frame.py(*y));
        // Every point is labelled; labels of points drawn at the same place stack downwards.
        let below = labelled.iter().filter(|&&(a, b)| (a - px).abs() < 4.0 && (b - py).abs() < 4.0).count();
        labelled.push((px, py));
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" fill=\"#444\">{}</text>",
            px + 9.0,
            py - 4.0 + 11.0 * below as f64,
            esc(label)
        );
        let (r, fill) = match marks.get(i).copied().unwrap_or(Mark::Feasible) {
            Mark::Recommended => (8.0, "#2e7d32"),
            Mark::Optimal => (6.0, "#c0504d"),
            Mark::Feasible => (4.0, "#4f81bd"),
            Mark::Infeasible => (4.0, "#bbbbbb"),
        };
        let _ = write!(
            s,
            "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"{r}\" fill=\"{fill}\"><title>{}: {} {}, {} {}</title></circle>",
            esc(label),
            esc(x_axis.0),
            esc(&si(*x, x_axis.1)),
            esc(y_axis.0),
            esc(&si(*y, y_axis.1))
        );
    }
    s + "</svg>"
}

/// One line of a [`lines`] plot.
pub struct Series<'a> {
    /// Its legend.
    pub label: &'a str,
    /// Its colour (CSS).
    pub colour: &'a str,
    /// Drawn dashed.
    pub dashed: bool,
    /// `(time_s, value)` points.
    pub points: &'a [(f64, f64)],
}

/// Lines over time with a legend; axes with tick values, time in seconds and values in `unit`.
pub fn lines(series: &[Series], y_label: &str, unit: &str) -> String {
    let all = series.iter().flat_map(|s| s.points.iter());
    let (mut x, mut y) = ((f64::INFINITY, f64::NEG_INFINITY), (f64::INFINITY, f64::NEG_INFINITY));
    for &(a, b) in all {
        (x.0, x.1, y.0, y.1) = (x.0.min(a), x.1.max(a), y.0.min(b), y.1.max(b));
    }
    if !x.0.is_finite() {
        (x, y) = ((0.0, 1.0), (0.0, 1.0));
    }
    let margin = (y.1 - y.0) * 0.05;
    let frame = Frame::new((0.0, x.1), (y.0 - margin, y.1 + margin), 640.0, 260.0);
    let mut s = frame.open("time", "s", y_label, Some(unit));
    let mut legend_x = MARGIN.0 + 10.0;
    for Series { label, colour, dashed, points } in series {
        let path: Vec<String> = points.iter().map(|&(a, b)| format!("{:.1},{:.1}", frame.px(a), frame.py(b))).collect();
        let dash = if *dashed { " stroke-dasharray=\"4 3\"" } else { "" };
        let _ = write!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.2\"{dash}/><text x=\"{:.0}\" y=\"{:.0}\" font-size=\"11\" fill=\"{colour}\">{}</text>",
            path.join(" "),
            legend_x,
            12.0,
            esc(label)
        );
        legend_x += 16.0 + 7.0 * label.chars().count() as f64;
    }
    s + "</svg>"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 1.0), [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
        assert_eq!(ticks(-0.07, -0.05), [-0.07, -0.065, -0.06, -0.055, -0.05]);
        assert_eq!(ticks(0.0, 0.0), [0.0]);
        assert!(ticks(0.0, 37.0).iter().all(|t| t % 10.0 == 0.0));
    }

    #[test]
    fn bars_go_logarithmic_when_values_span_a_hundredfold() {
        let wide = bars(&[("a".into(), 27.4), ("b".into(), 1.03e-4)], "W");
        assert!(wide.contains("log scale") && wide.contains(">27.4 W<") && wide.contains(">103 uW<"), "{wide}");
        let narrow = bars(&[("a".into(), 2.0), ("b".into(), 1.0)], "J");
        assert!(!narrow.contains("log scale"));
        let signed = bars(&[("a".into(), 3.7), ("b".into(), -0.01)], "%");
        assert!(!signed.contains("log scale") && signed.contains(">+3.7%<") && signed.contains(">-0.0%<"), "{signed}");
    }

    #[test]
    fn a_section_goes_before_the_end_of_the_page() {
        let p = page("t", &["<p>a</p>".to_string()]);
        assert!(with_section(&p, "<p>b</p>").ends_with("<p>a</p><p>b</p></body></html>\n"));
    }
}
