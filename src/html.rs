//! Self-contained HTML pages with hand-written SVG plots: no scripts, fonts or anything else fetched, so a
//! report opens offline and can be archived as one file.

use std::fmt::Write as _;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A page with a title, a style sheet and sections of HTML.
pub fn page(title: &str, sections: &[String]) -> String {
    let mut s = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(s, "<title>{}</title>", esc(title));
    s += "<style>body{font-family:sans-serif;margin:2em;max-width:72em;color:#222}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}\
          table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}\
          td:first-child,th:first-child{text-align:left}svg{display:block;margin:.5em 0}.note{color:#666;font-size:.85em}</style>";
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

/// A horizontal bar chart.
pub fn bars(items: &[(String, f64)], unit: &str) -> String {
    let (w, row) = (640.0, 22.0);
    let h = row * items.len() as f64 + 10.0;
    let max = items.iter().map(|i| i.1.abs()).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    let mut s = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\">");
    for (k, (label, v)) in items.iter().enumerate() {
        let y = 5.0 + k as f64 * row;
        let len = 360.0 * v.abs() / max;
        let color = if *v < 0.0 { "#c0504d" } else { "#4f81bd" };
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{:.1}\" font-size=\"12\">{}</text><rect x=\"170\" y=\"{y:.1}\" width=\"{len:.1}\" height=\"{:.1}\" fill=\"{color}\"><title>{}: {v:.4e} {}</title></rect><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{v:.3e} {}</text>",
            y + 14.0,
            esc(label),
            row - 6.0,
            esc(label),
            esc(unit),
            175.0 + len,
            y + 13.0,
            esc(unit)
        );
    }
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
        let wid = 0.5 + 4.0 * (n as f64).ln_1p() / max.ln_1p();
        let _ = write!(
            s,
            "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"#2a4d8f\" stroke-opacity=\"0.7\" stroke-width=\"{wid:.2}\"><title>{n} packets</title></line>"
        );
    }
    s + "</svg>"
}

/// A spike raster: `(time, row)` dots, rows grouped by population with labels.
pub fn raster(duration: f64, groups: &[(String, u32)], dots: &[(f64, u32)]) -> String {
    let rows: u32 = groups.iter().map(|g| g.1).sum::<u32>().max(1);
    let (w, h) = (640.0, 320.0);
    let mut s =
        format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{:.0}\" role=\"img\">", h + 20.0);
    let mut y0 = 0u32;
    for (name, n) in groups {
        let y = h * y0 as f64 / rows as f64;
        let _ = write!(
            s,
            "<line x1=\"90\" y1=\"{y:.1}\" x2=\"{w}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"0\" y=\"{:.1}\" font-size=\"11\">{}</text>",
            y + 12.0,
            esc(name)
        );
        y0 += n;
    }
    for &(t, row) in dots {
        let x = 90.0 + (w - 95.0) * t / duration.max(f64::MIN_POSITIVE);
        let y = h * (row as f64 + 0.5) / rows as f64;
        let _ = write!(s, "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"1.5\" height=\"1.5\" fill=\"#222\"/>");
    }
    let _ = write!(
        s,
        "<text x=\"90\" y=\"{:.0}\" font-size=\"11\">0 s</text><text x=\"{:.0}\" y=\"{:.0}\" font-size=\"11\" text-anchor=\"end\">{duration} s</text>",
        h + 16.0,
        w,
        h + 16.0
    );
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

/// A scatter plot of points `(x, y, label)`, each drawn as its [`Mark`] says (the recommended point, the Pareto
/// front of the feasible points, the other feasible points, the infeasible ones).
pub fn pareto(points: &[(f64, f64, String)], marks: &[Mark], x_label: &str, y_label: &str) -> String {
    let (w, h, pad) = (560.0, 360.0, 60.0);
    let (xmax, ymax) = points.iter().fold((f64::MIN_POSITIVE, f64::MIN_POSITIVE), |m, p| (m.0.max(p.0), m.1.max(p.1)));
    let mut s = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\">");
    let _ = write!(
        s,
        "<line x1=\"{pad}\" y1=\"{}\" x2=\"{w}\" y2=\"{}\" stroke=\"#333\"/><line x1=\"{pad}\" y1=\"0\" x2=\"{pad}\" y2=\"{}\" stroke=\"#333\"/><text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">{}</text><text x=\"12\" y=\"{}\" font-size=\"12\" transform=\"rotate(-90 12 {})\" text-anchor=\"middle\">{}</text>",
        h - pad,
        h - pad,
        h - pad,
        (w + pad) / 2.0,
        h - 20.0,
        esc(x_label),
        (h - pad) / 2.0,
        (h - pad) / 2.0,
        esc(y_label)
    );
    for (i, (x, y, label)) in points.iter().enumerate() {
        let px = pad + (w - pad - 10.0) * x / xmax;
        let py = (h - pad) - (h - pad - 10.0) * y / ymax;
        let (r, fill) = match marks.get(i).copied().unwrap_or(Mark::Feasible) {
            Mark::Recommended => (8.0, "#2e7d32"),
            Mark::Optimal => (6.0, "#c0504d"),
            Mark::Feasible => (4.0, "#4f81bd"),
            Mark::Infeasible => (4.0, "#bbbbbb"),
        };
        let _ = write!(
            s,
            "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"{r}\" fill=\"{fill}\"><title>{}: {x:.4e}, {y:.4e}</title></circle>",
            esc(label)
        );
    }
    s + "</svg>"
}
