//! The report pages of the families other than SpiNNaker (crossbar, SFQ, and any later one whose `--json` carries a
//! `mapping` and a `ledger`): the fields every family shares are typed; the mapping's and the ledger's own fields
//! are drawn generically, so a family's new counters appear without changes here. Energy components are the
//! ledger's `*_j` numbers (and maps of them), except its totals; counts are its other whole numbers; lists of
//! records (weight errors, the worst cells) become tables.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::page::{constants_section, fidelity_section, learned_section, raster_section, summary};
use super::{ConstantReport, Learned, PopulationRate, rate_table};
use crate::crossbar::TileMap;
use crate::fidelity::Reference;
use crate::html::{bars, esc, heat_legend, mesh, page, table};
use soma_isa::report::{percent, quantity, si, thousands};

/// The `--json` of a crossbar or SFQ run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FamilyRun {
    network: String,
    target: String,
    populations: Vec<PopulationRate>,
    /// Energy on chip (at 4 K for SFQ), J.
    energy_j: f64,
    /// Energy at the wall, with cooling (SFQ only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wall_plug_energy_j: Option<f64>,
    synaptic_events: u64,
    energy_per_synaptic_event_j: f64,
    step_latency_s: f64,
    duration_s: f64,
    steps: u64,
    wall_s: f64,
    target_constants: Vec<ConstantReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reference: Option<Reference>,
    #[serde(default)]
    raster: Vec<(f64, String, u32)>,
    mapping: Map<String, Value>,
    ledger: Map<String, Value>,
    /// What plastic projections learned (crossbar).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    learned: Vec<Learned>,
    /// How often the tiles were read (crossbar).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tile_map: Option<TileMap>,
    /// The fields the page does not read, kept as they were so `soma report --json` gives the whole report back.
    #[serde(flatten)]
    unread: Map<String, Value>,
}

/// The crossbar's tiles over their mesh, coloured by how often they were read.
fn tile_map_section(map: &TileMap) -> String {
    let most = map.reads.iter().copied().max().unwrap_or(0).max(1);
    let side = map.tiles_per_side;
    let cell = |(x, y): (usize, usize)| y * map.columns + x;
    let used: Vec<(usize, usize)> =
        (0..map.rows).flat_map(|y| (0..map.columns).map(move |x| (x, y))).filter(|&c| map.tiles[cell(c)] > 0).collect();
    let label = |c: (usize, usize)| {
        let (x, y) = (c.0 * side, c.1 * side);
        let what = if side == 1 {
            format!("tile at ({x}, {y})")
        } else {
            format!("{} tiles at ({x}..{}, {y}..{})", map.tiles[cell(c)], x + side - 1, y + side - 1)
        };
        format!("{what}: read {} times{}", thousands(map.reads[cell(c)]), if side == 1 { "" } else { " at most" })
    };
    let note = if side == 1 {
        String::from("one square per tile")
    } else {
        format!("one square per {side} x {side} tiles, coloured by its most-read tile")
    };
    format!(
        "<h2>Tile reads over the mesh</h2><p class=\"note\">Programmed tiles, {note} (green: never read, red: the \
         most-read tile, {} reads); the mesh's row 0 is at the bottom. Hover a square for its count.</p>{}{}",
        thousands(most),
        mesh(map.columns, map.rows, &used, |c| Some(map.reads[cell(c)] as f64 / most as f64), label, &[]),
        heat_legend(&format!("{} reads", thousands(most)), &thousands(most / 2))
    )
}

/// Ledger entries that sum others up rather than being components of their own.
const TOTALS: [&str; 3] = ["chip_j", "wall_j", "dynamic_total_j"];

/// What a key's suffix says about its value: the unit and the factor to SI (`step_ps` is in s after `1e-12`), or
/// a fraction of one shown in per cent. Longest suffixes first.
const UNITS: [(&str, Unit); 11] = [
    ("_w_per_w", Unit::Si("W/W", 1.0)),
    ("_per_s", Unit::Si("/s", 1.0)),
    ("_utilisation", Unit::Percent),
    ("_relative", Unit::Percent),
    ("weight_error_rms", Unit::Percent),
    ("_ps", Unit::Si("s", 1e-12)),
    ("_fs", Unit::Si("s", 1e-15)),
    ("_hz", Unit::Si("Hz", 1.0)),
    ("_j", Unit::Si("J", 1.0)),
    ("_s", Unit::Si("s", 1.0)),
    ("_w", Unit::Si("W", 1.0)),
];

#[derive(Clone, Copy)]
enum Unit {
    /// An SI unit and the factor that takes the value there.
    Si(&'static str, f64),
    /// A fraction of one.
    Percent,
}

/// The unit `key` names, if any, and the key without its unit suffix.
fn unit(key: &str) -> (&str, Option<Unit>) {
    match UNITS.iter().find(|(suffix, _)| key.ends_with(suffix)) {
        // A fraction's suffix is a word of its name (`max_relative`, `cell_utilisation`).
        Some((_, Unit::Percent)) => (key, Some(Unit::Percent)),
        Some((suffix, u)) => (key.strip_suffix(suffix).unwrap_or(key), Some(*u)),
        None => (key, None),
    }
}

/// A key in words, without its unit (`step_latency_max_s` -> "step latency max").
fn label(key: &str) -> String {
    unit(key).0.replace('_', " ")
}

/// Scalars and maps of scalars that `keep` (given the field's key and the value) as `(name, field key, value)`,
/// maps flattened as `map: key` (the field's key names the unit).
fn flatten(fields: &Map<String, Value>, keep: impl Fn(&str, &Value) -> bool) -> Vec<(String, &str, &Value)> {
    let mut rows = Vec::new();
    for (k, v) in fields {
        match v {
            Value::Object(inner) => rows.extend(
                inner.iter().filter(|(_, x)| keep(k, x)).map(|(kk, x)| (format!("{}: {kk}", label(k)), k.as_str(), x)),
            ),
            Value::Array(_) => {}
            _ if keep(k, v) => rows.push((label(k), k.as_str(), v)),
            _ => {}
        }
    }
    rows
}

/// Scalars and maps of scalars as `(name, cell)` rows ([`flatten`]), each cell in its unit.
fn scalars(fields: &Map<String, Value>, keep: impl Fn(&str, &Value) -> bool) -> Vec<(String, String)> {
    flatten(fields, keep).into_iter().map(|(name, k, v)| (name, show(v, unit(k).1, true))).collect()
}

/// A value for a table cell in its unit; whole numbers with thousands separators if `grouped` (counts, not
/// indices).
fn show(v: &Value, u: Option<Unit>, grouped: bool) -> String {
    match v {
        Value::Number(n) if u.is_none() && grouped && n.is_u64() => thousands(n.as_u64().unwrap_or_default()),
        Value::Number(n) if u.is_none() && (n.is_u64() || n.is_i64()) => n.to_string(),
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            match u {
                Some(Unit::Si(unit, factor)) => si(x * factor, unit),
                Some(Unit::Percent) => percent(x),
                None => quantity(x, ""),
            }
        }
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Array(items) if items.is_empty() => "-".into(),
        Value::Array(items) if items.len() == 2 && items.iter().all(Value::is_number) => {
            format!("{} .. {}", show(&items[0], u, grouped), show(&items[1], u, grouped))
        }
        Value::Array(items) => items.iter().map(|x| show(x, u, grouped)).collect::<Vec<_>>().join(", "),
        Value::Object(fields) => fields
            .iter()
            .map(|(k, x)| format!("{}: {}", label(k), show(x, unit(k).1, grouped)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// `(name, cell)` pairs as rows of a quantity/value table.
fn quantity_rows(pairs: &[(String, String)]) -> impl Iterator<Item = Vec<String>> + '_ {
    pairs.iter().map(|(k, v)| vec![k.clone(), v.clone()])
}

/// Columns that name a record, shown first.
const NAMING: [&str; 3] = ["name", "projection", "cell"];

/// Every list of records among `fields` as a titled table (columns: the first record's keys, naming ones first).
fn record_tables(fields: &Map<String, Value>) -> String {
    let mut s = String::new();
    for (k, v) in fields {
        let Some(records) = v.as_array() else { continue };
        let Some(Value::Object(first)) = records.first() else { continue };
        let mut columns: Vec<&str> = first.keys().map(String::as_str).collect();
        columns.sort_by_key(|c| !NAMING.contains(c));
        let rows: Vec<Vec<String>> = records
            .iter()
            .filter_map(Value::as_object)
            .map(|r| {
                columns
                    .iter()
                    .map(|c| r.get(*c).map_or_else(String::new, |x| show(x, unit(c).1, !NAMING.contains(c))))
                    .collect()
            })
            .collect();
        let header: Vec<String> = columns.iter().map(|c| label(c)).collect();
        s += &format!(
            "<h3>{}</h3>{}",
            esc(&label(k)),
            table(&header.iter().map(String::as_str).collect::<Vec<_>>(), &rows)
        );
    }
    s
}

impl FamilyRun {
    /// Energy components from the ledger: `(name, J)`.
    fn energy_components(&self) -> Vec<(String, f64)> {
        flatten(&self.ledger, |k, v| k.ends_with("_j") && !TOTALS.contains(&k) && v.is_number())
            .into_iter()
            .map(|(name, _, v)| (name, v.as_f64().unwrap_or_default()))
            .collect()
    }

    /// The text summary.
    pub fn text(&self) -> String {
        let mut s = format!(
            "{} on {}, {} s of model time ({} steps)\n",
            self.network, self.target, self.duration_s, self.steps
        );
        s += &rate_table(self.populations.iter().map(|p| (p.name.as_str(), p.neurons, p.spikes, p.rate_hz)));
        s += &format!("energy {}", si(self.energy_j, "J"));
        if let Some(wall) = self.wall_plug_energy_j {
            s += &format!(" ({} at the wall, with cooling)", si(wall, "J"));
        }
        let parts: Vec<String> = self.energy_components().iter().map(|(k, j)| format!("{k} {}", si(*j, "J"))).collect();
        s += &format!(": {}\n", parts.join(", "));
        s += &format!(
            "synaptic events {}, {} per event; step time {}\n",
            thousands(self.synaptic_events),
            si(self.energy_per_synaptic_event_j, "J"),
            si(self.step_latency_s, "s")
        );
        if let Some(r) = &self.reference {
            s += &r.text("machine");
        }
        s
    }

    /// The HTML page.
    pub fn html(&self) -> String {
        let spikes = self.populations.iter().map(|p| p.spikes).sum();
        let mut sections = vec![summary(&self.network, &self.target, self.duration_s, self.steps, spikes, self.wall_s)];
        let components = self.energy_components();
        let wall =
            self.wall_plug_energy_j.map_or(String::new(), |w| format!("; {} at the wall, with cooling", si(w, "J")));
        sections.push(format!(
            "<h2>Energy: {} on chip{wall} ({} per synaptic event)</h2>{}{}",
            si(self.energy_j, "J"),
            si(self.energy_per_synaptic_event_j, "J"),
            bars(&components, "J"),
            table(
                &["component", "energy"],
                &components.iter().map(|(k, j)| vec![k.clone(), si(*j, "J")]).collect::<Vec<_>>()
            )
        ));
        let counts = scalars(&self.ledger, |k, v| !k.ends_with("_j") && (v.is_u64() || v.is_i64()));
        sections.push(format!(
            "<h2>Counts and timing</h2>{}{}",
            table(
                &["quantity", "value"],
                &[
                    vec!["synaptic events".into(), thousands(self.synaptic_events)],
                    vec!["step latency".into(), si(self.step_latency_s, "s")],
                ]
                .into_iter()
                .chain(quantity_rows(&counts))
                .chain(quantity_rows(&scalars(&self.ledger, |k, v| !k.ends_with("_j") && v.is_f64())))
                .collect::<Vec<_>>()
            ),
            record_tables(&self.ledger)
        ));
        sections.push(format!(
            "<h2>Mapping</h2>{}{}",
            table(&["quantity", "value"], &quantity_rows(&scalars(&self.mapping, |_, _| true)).collect::<Vec<_>>()),
            record_tables(&self.mapping)
        ));
        sections.push(format!(
            "<h2>Populations</h2>{}",
            table(
                &["population", "neurons", "spikes", "rate (Hz)"],
                &self
                    .populations
                    .iter()
                    .map(|p| vec![
                        p.name.clone(),
                        thousands(p.neurons),
                        thousands(p.spikes),
                        format!("{:.3}", p.rate_hz)
                    ])
                    .collect::<Vec<_>>()
            )
        ));
        if let Some(map) = &self.tile_map {
            sections.push(tile_map_section(map));
        }
        let sizes: Vec<(&str, u64)> = self.populations.iter().map(|p| (p.name.as_str(), p.neurons)).collect();
        sections.push(raster_section(&sizes, &self.raster, self.duration_s));
        if !self.learned.is_empty() {
            let count = |k: &str| thousands(self.ledger.get(k).and_then(Value::as_u64).unwrap_or_default());
            let joules = self.ledger.get("write_j").and_then(Value::as_f64).unwrap_or_default();
            let mut s = format!(
                "<h2>Plasticity</h2><p class=\"note\">{} cell writes of {} pulses ({}); {} changes rounded \
                 to no pulse, {} refused by stuck or worn cells, {} cells worn out.</p>",
                count("writes"),
                count("write_pulses"),
                si(joules, "J"),
                count("rounded_away"),
                count("writes_refused"),
                count("worn_cells")
            );
            for l in &self.learned {
                s += &learned_section(l, "weights are the cells' conductances, read without noise.");
            }
            sections.push(s);
        }
        if let Some(f) = &self.reference {
            sections.push(fidelity_section(f));
        }
        sections.push(constants_section(&self.target, &self.target_constants));
        page(&format!("soma report: {} on {}", self.network, self.target), &sections)
    }

    /// The CSV tables: populations and energy components.
    pub fn csv_tables(&self) -> Vec<(&'static str, String)> {
        let mut populations = String::from("population,neurons,spikes,rate_hz\n");
        for p in &self.populations {
            populations += &format!("{},{},{},{}\n", p.name, p.neurons, p.spikes, p.rate_hz);
        }
        let mut energy = String::from("component,energy_j\n");
        for (k, j) in self.energy_components() {
            energy += &format!("{},{j}\n", k.replace(": ", "_").replace(' ', "_"));
        }
        energy += &format!("total,{}\n", self.energy_j);
        if let Some(wall) = self.wall_plug_energy_j {
            energy += &format!("wall_plug,{wall}\n");
        }
        vec![("populations.csv", populations), ("energy.csv", energy)]
    }
}
