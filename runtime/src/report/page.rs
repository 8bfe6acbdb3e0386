//! The pages of a run report, whatever the family: the self-contained HTML page with plots (energy by component
//! and population, core load over the chip mesh, link traffic, spike raster and rates, fidelity, what plastic
//! projections learned and what it cost, membrane traces) and CSV tables of a SpiNNaker run, from the report
//! `soma run --json` writes (and Python's `Run.to_json`); the other families' pages are in [`super::family`].

use std::collections::HashMap;

use soma_targets::spinnaker::LINK_OFFSETS;

use super::ConstantReport;
use super::family::FamilyRun;
use super::{Learned, RASTER_ROWS, raster_stride};
use crate::engine::ChipTrace;
use crate::fidelity::Reference;
use crate::html::{LinkLine, Rows, Series, bars, esc, heat_legend, lines, link_legend, mesh, page, raster, table};
use crate::spinnaker::report::{PlasticityReport, Report};
use soma_isa::report::{exact, quantity, si, thousands};

/// A run report: SpiNNaker's, or another family's (crossbar, SFQ: any report with a `mapping` and a `ledger`).
/// It serialises as the report it was read from, in the current form (fields an older report lacks at their
/// defaults).
#[derive(serde::Serialize)]
#[serde(untagged)]
pub enum RunJson {
    /// A SpiNNaker-style machine's run.
    Machine(Box<Report>),
    /// Another family's run.
    Family(Box<FamilyRun>),
}

/// Parses the JSON of a run report (a family's if it has a `mapping` and a `ledger`, SpiNNaker's otherwise).
pub fn parse(text: &str) -> Result<RunJson, serde_json::Error> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    if value.get("mapping").is_some() && value.get("ledger").is_some() {
        serde_json::from_str(text).map(|r| RunJson::Family(Box::new(r)))
    } else {
        serde_json::from_str(text).map(|r| RunJson::Machine(Box::new(r)))
    }
}

impl RunJson {
    /// The HTML page, with the membrane `traces` plotted if any.
    pub fn html(&self, traces: &[NeuronTrace]) -> String {
        let page = match self {
            RunJson::Machine(r) => html(r),
            RunJson::Family(r) => r.html(),
        };
        if traces.is_empty() { page } else { crate::html::with_section(&page, &traces_section(traces)) }
    }

    /// The text summary.
    pub fn text(&self) -> String {
        match self {
            RunJson::Machine(r) => crate::spinnaker::report::text(r),
            RunJson::Family(r) => r.text(),
        }
    }

    /// The CSV tables: `(file name, contents)`.
    pub fn csv_tables(&self) -> Vec<(&'static str, String)> {
        match self {
            RunJson::Machine(r) => csv_tables(r),
            RunJson::Family(r) => r.csv_tables(),
        }
    }
}

/// One probed neuron's membrane potential over time: `(time_s, v)` on the machine and, where compared, the
/// reference's.
pub struct NeuronTrace {
    /// Population.
    pub population: String,
    /// Neuron index in it.
    pub neuron: u32,
    /// `(time_s, v)` on the machine.
    pub machine: Vec<(f64, f64)>,
    /// The reference's, where the run compared (else empty).
    pub reference: Vec<(f64, f64)>,
}

impl NeuronTrace {
    /// Each recorded neuron's series of the hardware's `traces` of a run with time step `dt`.
    pub fn of_chip(traces: &[ChipTrace], dt: f64) -> Vec<NeuronTrace> {
        let mut out = Vec::new();
        for tr in traces {
            let per_step = tr.neurons.len().max(1);
            for (i, &neuron) in tr.neurons.iter().enumerate() {
                let series = |values: &[f64]| -> Vec<(f64, f64)> {
                    values
                        .chunks(per_step)
                        .enumerate()
                        .filter_map(|(k, row)| Some((soma_isa::report::step_end_s(k as u64, dt), *row.get(i)?)))
                        .collect()
                };
                out.push(NeuronTrace {
                    population: tr.population.clone(),
                    neuron,
                    machine: series(&tr.values),
                    reference: tr.reference.as_deref().map(series).unwrap_or_default(),
                });
            }
        }
        out
    }
}

/// The HTML section plotting up to 8 probed neurons, the machine's line over the reference's.
fn traces_section(traces: &[NeuronTrace]) -> String {
    const SHOWN: usize = 8;
    let mut s = String::from("<h2>Membrane potential: machine and reference</h2>");
    s += &format!(
        "<p>Solid: the machine's membrane register after each step, in volts; dashed: the float reference's, where \
         the run compared. {} of {} probed neurons shown.</p>",
        traces.len().min(SHOWN),
        traces.len()
    );
    for tr in traces.iter().take(SHOWN) {
        let mut series = vec![Series { label: "machine", colour: "#1f4e79", dashed: false, points: &tr.machine }];
        if !tr.reference.is_empty() {
            series.push(Series { label: "reference", colour: "#c0504d", dashed: true, points: &tr.reference });
        }
        s += &format!("<h3>{} neuron {}</h3>", esc(&tr.population), tr.neuron);
        s += &lines(&series, "membrane potential", "V");
    }
    s
}

/// The HTML page of a run.
pub fn html(r: &Report) -> String {
    let mut sections = vec![summary(
        &r.network,
        &r.target,
        r.duration_s,
        r.steps,
        r.populations.iter().map(|p| p.spikes).sum(),
        r.wall_s,
    )];
    let b = &r.energy_breakdown_j;
    let c = &r.energy_counts;
    let joules = |x: f64| si(x, "J");
    sections.push(format!(
        "<h2>Energy: {} ({} per synaptic event)</h2>{}{}",
        si(r.energy_j, "J"),
        si(r.energy_per_synaptic_event_j, "J"),
        bars(
            &[
                ("idle chips".into(), b.idle_chips),
                ("active cores".into(), b.active_cores),
                ("busy cycles".into(), b.core_cycles),
                ("packets".into(), b.packets)
            ],
            "J"
        ),
        table(
            &["component", "energy", "count"],
            &[
                vec!["idle chips".into(), joules(b.idle_chips), format!("{} chips x {} s", c.chips, r.duration_s)],
                vec!["active cores".into(), joules(b.active_cores), format!("{} cores x {} s", c.cores, r.duration_s)],
                vec![
                    "busy cycles".into(),
                    joules(b.core_cycles),
                    format!("{:.1}% of the cores' cycles", 100.0 * c.busy_fraction)
                ],
                vec![
                    "packets".into(),
                    joules(b.packets),
                    format!(
                        "{} router traversals ({} packets)",
                        thousands(c.router_traversals),
                        thousands(c.packets_sent)
                    )
                ],
                vec!["synaptic events".into(), String::new(), thousands(r.synaptic_events)],
                vec![
                    "rows fetched / DMA words".into(),
                    String::new(),
                    format!("{} / {}", thousands(c.rows_fetched), thousands(c.dma_words))
                ],
                vec!["neuron updates".into(), String::new(), thousands(c.neuron_updates)],
            ]
        )
    ));
    sections.push(format!(
        "<h2>Energy and activity by population</h2><p class=\"note\">A population's energy is its cores' active overhead and the packets they sent; idle chip power is shared.</p>{}{}",
        bars(&r.populations.iter().map(|p| (p.name.clone(), p.energy_j)).collect::<Vec<_>>(), "J"),
        table(
            &["population", "neurons", "spikes", "rate (Hz)", "cores", "synaptic events", "packets sent", "energy"],
            &r.populations
                .iter()
                .map(|p| vec![p.name.clone(), thousands(p.neurons as u64), thousands(p.spikes), format!("{:.3}", p.rate_hz), thousands(p.cores), thousands(p.synaptic_events), thousands(p.packets_sent), joules(p.energy_j)])
                .collect::<Vec<_>>()
        )
    ));
    // Core load over the mesh: the busiest core of each chip.
    let mut load: HashMap<(usize, usize), (f64, Vec<String>)> = HashMap::new();
    for core in &r.cores {
        let e = load.entry((core.chip.0 as usize, core.chip.1 as usize)).or_insert((0.0, Vec::new()));
        e.0 = e.0.max(core.load_mean);
        e.1.push(format!(
            "core {} {} ({}): load {:.2} mean, {:.2} max",
            core.core, core.population, core.kind, core.load_mean, core.load_max
        ));
    }
    let m = &r.machine;
    sections.push(format!(
        "<h2>Core load over the chips</h2><p class=\"note\">Colour: the busiest core's mean cycles per step over its budget (green 0, yellow 1 = exactly the budget, red 2 or more). Hover a chip for its cores. Overruns {}, late packets {}, dropped packets {}, ring-buffer saturations {}; mean load {:.2}, worst step {:.2}.</p>{}",
        r.overruns,
        r.late_packets,
        r.dropped_packets,
        r.ring_buffer_saturations,
        r.core_load_mean,
        r.core_load_max,
        mesh(
            m.width,
            m.height,
            &m.chips,
            |chip| load.get(&chip).map(|l| l.0 / 2.0),
            |chip| load.get(&chip).map_or_else(|| format!("chip ({}, {}): idle", chip.0, chip.1), |l| format!("chip ({}, {})\n{}", chip.0, chip.1, l.1.join("\n"))),
            &[]
        ) + &heat_legend("2x the budget or more", "1 = the budget")
    ));
    let wrap = |x: i64, n: usize| x.rem_euclid(n as i64) as usize;
    let links: Vec<LinkLine> = r
        .links
        .iter()
        .map(|l| {
            let (dx, dy) = LINK_OFFSETS[l.link % 6];
            (
                l.chip,
                (wrap(l.chip.0 as i64 + dx as i64, m.width), wrap(l.chip.1 as i64 + dy as i64, m.height)),
                l.packets,
            )
        })
        .collect();
    sections.push(format!(
        "<h2>Link traffic</h2><p class=\"note\">{} links carried packets; line width grows with the log of the count (key below; hover a link for its count).</p>{}",
        links.len(),
        mesh(m.width, m.height, &m.chips, |chip| load.get(&chip).map(|_| 0.0), |chip| format!("chip ({}, {})", chip.0, chip.1), &links)
            + &links.iter().map(|l| l.2).max().map_or_else(String::new, link_legend)
    ));
    let sizes: Vec<(&str, u64)> = r.populations.iter().map(|p| (p.name.as_str(), p.neurons as u64)).collect();
    sections.push(raster_section(&sizes, &r.raster, r.duration_s));
    if let Some(f) = &r.reference {
        sections.push(fidelity_section(f));
    }
    if let Some(p) = &r.plasticity {
        sections.push(plasticity_section(p));
    }
    let nb = &r.neurobench;
    sections.push(format!(
        "<h2>Workload (NeuroBench metrics)</h2>{}",
        table(
            &["metric", "value"],
            &[
                vec!["footprint (bytes)".into(), nb.footprint.to_string()],
                vec!["connection_sparsity".into(), format!("{:.4}", nb.connection_sparsity)],
                vec!["activation_sparsity".into(), format!("{:.4}", nb.activation_sparsity)],
                vec!["membrane_updates".into(), nb.membrane_updates.to_string()],
                vec!["synaptic_operations.Effective_ACs".into(), nb.synaptic_operations.Effective_ACs.to_string()],
                vec!["synaptic_operations.Effective_MACs".into(), nb.synaptic_operations.Effective_MACs.to_string()],
                vec!["synaptic_operations.Dense".into(), nb.synaptic_operations.Dense.to_string()],
            ]
        )
    ));
    sections.push(constants_section(&r.target, &r.target_constants));
    page(&format!("soma report: {} on {}", r.network, r.target), &sections)
}

/// The CSV tables of a run: `(file name, contents)`.
fn csv_tables(r: &Report) -> Vec<(&'static str, String)> {
    let mut tables = Vec::new();
    let mut s = String::from("population,neurons,spikes,rate_hz,cores,synaptic_events,packets_sent,energy_j\n");
    for p in &r.populations {
        s += &format!(
            "{},{},{},{},{},{},{},{}\n",
            p.name, p.neurons, p.spikes, p.rate_hz, p.cores, p.synaptic_events, p.packets_sent, p.energy_j
        );
    }
    tables.push(("populations.csv", s));
    let b = &r.energy_breakdown_j;
    tables.push((
        "energy.csv",
        format!(
            "component,energy_j\nidle_chips,{}\nactive_cores,{}\ncore_cycles,{}\npackets,{}\ntotal,{}\n",
            b.idle_chips, b.active_cores, b.core_cycles, b.packets, r.energy_j
        ),
    ));
    let mut s = String::from("chip_x,chip_y,core,population,kind,load_mean,load_max,synaptic_events,packets_sent\n");
    for c in &r.cores {
        s += &format!(
            "{},{},{},{},{},{},{},{},{}\n",
            c.chip.0,
            c.chip.1,
            c.core,
            c.population,
            c.kind,
            c.load_mean,
            c.load_max,
            c.synaptic_events,
            c.packets_sent
        );
    }
    tables.push(("cores.csv", s));
    let mut s = String::from("chip_x,chip_y,link,packets\n");
    for l in &r.links {
        s += &format!("{},{},{},{}\n", l.chip.0, l.chip.1, l.link, l.packets);
    }
    tables.push(("links.csv", s));
    tables
}

/// The opening line of a report page.
pub fn summary(network: &str, target: &str, duration_s: f64, steps: u64, spikes: u64, wall_s: f64) -> String {
    format!(
        "<p>{} on <b>{}</b>, {duration_s} s of model time ({steps} steps); {spikes} neurons' spikes; wall {wall_s:.2} s.</p>",
        esc(network),
        esc(target)
    )
}

/// The spike raster of the neurons `runtime::report::raster_stride` samples in each population (`sizes`: name and
/// neurons), and each population's rate over time from those neurons.
pub fn raster_section(sizes: &[(&str, u64)], spikes: &[(f64, String, u32)], duration_s: f64) -> String {
    let stride: Vec<u64> = sizes.iter().map(|&(_, n)| raster_stride(n)).collect();
    let groups: Vec<Rows> = sizes
        .iter()
        .zip(&stride)
        .map(|(&(name, n), &k)| Rows {
            name: name.to_string(),
            rows: n.div_ceil(k) as u32,
            which: match k {
                1 => format!("neurons 0-{}", n.saturating_sub(1)),
                k => format!("1 in {k} of neurons 0-{}", n.saturating_sub(1)),
            },
        })
        .collect();
    let mut first = HashMap::new();
    let mut row = 0;
    for (g, &k) in groups.iter().zip(&stride) {
        first.insert(g.name.as_str(), (row, k));
        row += g.rows;
    }
    let dots: Vec<(f64, u32)> = spikes
        .iter()
        .filter_map(|(t, p, n)| first.get(p.as_str()).map(|&(o, k)| (*t, o + (u64::from(*n) / k) as u32)))
        .collect();
    let mut s = format!(
        "<h2>Spike raster</h2><p>Up to {RASTER_ROWS} neurons of each population, spread evenly over it (hover a name \
         for which).</p>{}",
        raster(duration_s, &groups, &dots)
    );
    // Rates in 50 bins (fewer for short runs: at least 1 ms each), from the sampled neurons.
    let bins = ((duration_s / 1e-3).floor() as usize).clamp(1, 50);
    let width = duration_s / bins as f64;
    const COLOURS: [&str; 8] = ["#1f4e79", "#c0504d", "#2e7d32", "#8064a2", "#f79646", "#4bacc6", "#7f6000", "#444444"];
    let counts: Vec<(String, Vec<(f64, f64)>)> = groups
        .iter()
        .map(|g| {
            let mut c = vec![0u64; bins];
            for (t, _, _) in spikes.iter().filter(|(_, p, _)| *p == g.name) {
                c[((t / width) as usize).min(bins - 1)] += 1;
            }
            let hz = |n: u64| n as f64 / f64::from(g.rows.max(1)) / width;
            (g.name.clone(), c.iter().enumerate().map(|(i, &n)| ((i as f64 + 0.5) * width, hz(n))).collect())
        })
        .collect();
    let series: Vec<Series> = counts
        .iter()
        .enumerate()
        .map(|(i, (name, points))| Series { label: name, colour: COLOURS[i % COLOURS.len()], dashed: false, points })
        .collect();
    s += &format!("<h3>Rate over time ({bins} bins of {}, the sampled neurons)</h3>", esc(&si(width, "s")));
    s += &lines(&series, "rate", "Hz");
    s
}

/// Rate errors and spike agreement against the float reference.
pub fn fidelity_section(f: &Reference) -> String {
    let weights = if f.weights.is_empty() {
        String::new()
    } else {
        table(
            &[
                "plastic projection",
                "mean weight, reference",
                "mean weight, machine",
                "difference rms",
                "difference max",
            ],
            &f.weights
                .iter()
                .map(|w| {
                    vec![
                        w.projection.clone(),
                        quantity(w.mean_reference, &w.unit),
                        quantity(w.mean_machine, &w.unit),
                        quantity(w.rms_difference, &w.unit),
                        quantity(w.max_difference, &w.unit),
                    ]
                })
                .collect::<Vec<_>>(),
        )
    };
    format!(
        "<h2>Fidelity against the float reference</h2><p class=\"note\">Relative rate error per population (machine vs reference, same network and seed); {:.1}% of the reference's spikes are matched within one step.</p>{}{}",
        f.spikes_matched * 100.0,
        bars(
            &f.populations.iter().filter_map(|p| Some((p.name.clone(), p.rate_error? * 100.0))).collect::<Vec<_>>(),
            "%"
        ),
        table(
            &["population", "reference (Hz)", "machine (Hz)", "rate error", "spikes within one step"],
            &f.populations
                .iter()
                .map(|p| vec![
                    p.name.clone(),
                    format!("{:.3}", p.rate_hz),
                    format!("{:.3}", p.machine_rate_hz),
                    p.rate_error_text(),
                    format!("{:.1}%", p.spikes_matched * 100.0)
                ])
                .collect::<Vec<_>>()
        )
    ) + &weights
}

/// What the plastic projections learned (weights per tenth of their bounds, before and after) and what learning
/// cost the machine.
fn plasticity_section(p: &PlasticityReport) -> String {
    let mut s = format!(
        "<h2>Plasticity</h2><p class=\"note\">{} plastic synaptic events paired with {} postsynaptic spikes; {} rows \
         written back ({} words). A plastic event costs {:.1} cycles against {:.0} for a static one: {:.1}% of the \
         busy cycles, {}.{}</p>",
        p.plastic_events,
        p.pairs,
        p.rows_written_back,
        p.write_back_words,
        p.cycles_per_plastic_event,
        p.cycles_per_static_event,
        p.cycles_share * 100.0,
        p.energy_text(),
        if p.missed_pairs > 0 {
            format!(" {} updates missed a pair whose postsynaptic spike had left the 16-entry history.", p.missed_pairs)
        } else {
            String::new()
        }
    );
    for (l, res) in p.learned.iter().zip(&p.resolution) {
        let step =
            format!("weight step {}, [w_min, w_max] in {:.0} steps.", quantity(res.step, &l.unit), res.range_steps);
        s += &learned_section(l, &step);
    }
    s
}

/// What one plastic projection learned: its mean weight before and after, then its weights per tenth of
/// `[w_min, w_max]` before and after, with `note` on how finely the target holds them.
pub fn learned_section(l: &Learned, note: &str) -> String {
    let mut s = format!(
        "<h3>{}</h3><p class=\"note\">{} synapses; mean weight {} before, {} after ({} rose, {} fell); {note}</p>",
        esc(&l.projection),
        thousands(l.synapses),
        quantity(l.mean_before, &l.unit),
        quantity(l.mean_after, &l.unit),
        l.potentiated,
        l.depressed,
    );
    let tenth = |k: usize| format!("{:.1} .. {:.1}", k as f64 / 10.0, (k + 1) as f64 / 10.0);
    let after: Vec<(String, f64)> =
        l.histogram_after.iter().enumerate().map(|(k, &n)| (format!("{} of w_max", tenth(k)), n as f64)).collect();
    s += &bars(&after, "synapses after");
    s + &table(
        &["weight (fraction of [w_min, w_max])", "synapses before", "synapses after"],
        &l.histogram_before
            .iter()
            .zip(&l.histogram_after)
            .enumerate()
            .map(|(k, (b, a))| vec![tenth(k), b.to_string(), a.to_string()])
            .collect::<Vec<_>>(),
    )
}

/// The target's constants with their sources.
pub fn constants_section(target: &str, constants: &[ConstantReport]) -> String {
    format!(
        "<h2>Target {}: constants and sources</h2>{}",
        esc(target),
        table(
            &["constant", "value", "source"],
            &constants.iter().map(|c| vec![c.name.clone(), exact(c.value), c.source.clone()]).collect::<Vec<_>>()
        )
    )
}

#[cfg(test)]
mod tests {
    use super::NeuronTrace;
    use crate::engine::ChipTrace;

    #[test]
    fn a_chip_trace_becomes_one_series_per_neuron_at_the_ends_of_the_steps() {
        let chip = ChipTrace {
            population: "exc".into(),
            neurons: vec![4, 7],
            values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            raw: vec![0; 6],
            reference: Some(vec![1.5, 2.5, 3.5, 4.5, 5.5, 6.5]),
        };
        let traces = NeuronTrace::of_chip(&[chip], 0.5);
        assert_eq!(traces.len(), 2);
        assert_eq!((traces[1].population.as_str(), traces[1].neuron), ("exc", 7));
        assert_eq!(traces[0].machine, vec![(0.5, 1.0), (1.0, 3.0), (1.5, 5.0)]);
        assert_eq!(traces[1].reference, vec![(0.5, 2.5), (1.0, 4.5), (1.5, 6.5)]);
    }
}
