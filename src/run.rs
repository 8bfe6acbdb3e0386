//! `soma run`: execute an image on the emulated SpiNNaker-style machine (compiling a network first if given
//! one), report rates, energy, load and packet statistics, and optionally compare with the float reference.

use std::collections::HashMap;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use soma_isa::image::{CoreKind, Image};
use soma_isa::units::Dim;
use soma_runtime::reference::{RunOptions, Simulator};
use soma_runtime::spinnaker::{Ledger, Machine};
use soma_targets::Family;

use crate::compile::{Built, build};
use crate::load::quantity;
use crate::output::{self, thousands};
use crate::{Failure, RunArgs};

#[derive(Serialize)]
struct PopulationReport {
    name: String,
    neurons: u32,
    spikes: u64,
    rate_hz: f64,
    /// Cores holding the population (neuron and delay-extension cores).
    cores: u64,
    /// Synaptic events its cores processed.
    synaptic_events: u64,
    /// Packets its cores sent.
    packets_sent: u64,
    /// Its share of the energy: its cores' active overhead and the packets they sent (idle chip power is
    /// shared by the whole network and not attributed).
    energy_j: f64,
}

#[derive(Serialize)]
struct Breakdown {
    idle_chips: f64,
    active_cores: f64,
    packets: f64,
}

#[derive(Serialize)]
struct Counts {
    chips: u64,
    cores: u64,
    router_traversals: u64,
    packets_sent: u64,
    rows_fetched: u64,
    dma_words: u64,
    neuron_updates: u64,
    busy_fraction: f64,
}

#[derive(Serialize)]
struct ReferencePopulation {
    name: String,
    rate_hz: f64,
    machine_rate_hz: f64,
    rate_error: f64,
    spikes_matched: f64,
}

#[derive(Serialize)]
struct Reference {
    populations: Vec<ReferencePopulation>,
    /// Fraction of the reference's spikes matched by a machine spike of the same neuron within one step.
    spikes_matched: f64,
    /// Fraction of the machine's spikes matched by a reference spike within one step.
    machine_spikes_matched: f64,
}

#[derive(Serialize)]
struct Report {
    target: String,
    populations: Vec<PopulationReport>,
    energy_j: f64,
    energy_breakdown_j: Breakdown,
    energy_counts: Counts,
    energy_per_synaptic_event_j: f64,
    synaptic_events: u64,
    core_load_max: f64,
    core_load_mean: f64,
    overruns: u64,
    late_packets: u64,
    dropped_packets: u64,
    duration_s: f64,
    steps: u64,
    wall_s: f64,
    events_per_wall_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<Reference>,
}

/// Spikes as `(step, population, neuron)`.
type Spikes = Vec<(u32, u32, u32)>;

/// Runs the command.
#[allow(clippy::print_stdout)]
pub fn run(args: &RunArgs) -> Result<(), Failure> {
    let wall = Instant::now();
    let duration = quantity("--duration", &args.duration, Dim::TIME)?;
    let is_image = args.input.file.extension().is_some_and(|e| e == "img");
    if is_image && args.spike_input.is_some() {
        return Err(Failure::User("error: --input feeds a .nir graph; an image carries its inputs\n".into()));
    }
    let (image, target, built) = if is_image {
        if args.compare_reference {
            return Err(Failure::User("error: --compare-reference needs the network, not an image: run the .snn/.nir/.csv file with --target\n".into()));
        }
        let name = args.input.file.display().to_string();
        let bytes =
            std::fs::read(&args.input.file).map_err(|e| Failure::User(format!("error: cannot read {name}: {e}\n")))?;
        let image = soma_isa::codec::decode(&bytes).map_err(|e| Failure::User(format!("error: {name}: {e}\n")))?;
        let target_name = args.target.clone().unwrap_or_else(|| image.header.target.clone());
        let target = soma_targets::lookup(&target_name).map_err(|e| Failure::User(format!("error: {e}\n")))?;
        (image, target, None)
    } else {
        let target = soma_targets::lookup(args.target.as_deref().unwrap_or("spinnaker1"))
            .map_err(|e| Failure::User(format!("error: {e}\n")))?;
        let built = build(
            &args.input,
            args.spike_input.as_deref(),
            &target,
            Some(args.boards.as_deref().unwrap_or("auto")),
            args.seed,
        )?;
        (built.image.clone(), target, Some(built))
    };
    let Family::SpiNNaker(spinn) = &target.family;
    let mut machine =
        Machine::new(&image, spinn, target.fingerprint).map_err(|e| Failure::User(format!("error: {e}\n")))?;
    let steps = (duration / image.header.dt).round() as u64;
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stderr())
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} running [{bar:30}] {pos}/{len} steps, eta {eta}")
            .map_err(|e| Failure::Internal(e.into()))?
            .progress_chars("=> "),
    );
    let record = args.spikes.is_some() || args.compare_reference;
    let mut spikes: Spikes = Vec::new();
    let mut counts = vec![0u64; image.populations.len()];
    let run_start = Instant::now();
    for t in 0..steps {
        machine.advance();
        for (i, c) in image.cores.iter().enumerate() {
            if let CoreKind::Neurons(_) = c.kind {
                let s = machine.spiked(i);
                counts[c.population as usize] += s.len() as u64;
                if record {
                    spikes.extend(s.iter().map(|&n| (t as u32, c.population, c.first + n)));
                }
            }
        }
        if t % 100 == 99 {
            bar.set_position(t + 1);
        }
    }
    bar.finish_and_clear();
    let run_s = run_start.elapsed().as_secs_f64();
    let ledger =
        Ledger::new(spinn, machine.chips, machine.counters(), machine.router_traversals, steps, image.header.dt);
    let counters = machine.counters();
    let budget = machine.budget() as f64;
    let neuron_cores: Vec<_> = image
        .cores
        .iter()
        .zip(counters)
        .filter(|(c, _)| matches!(c.kind, CoreKind::Neurons(_)))
        .map(|(_, k)| k)
        .collect();
    let loads: Vec<f64> = neuron_cores.iter().map(|k| k.cycles as f64 / steps.max(1) as f64 / budget).collect();
    let reference = match (&built, args.compare_reference) {
        (Some(b), true) => Some(compare(b, &image, &spikes, steps)),
        _ => None,
    };
    let report = Report {
        target: target.name.clone(),
        populations: image
            .populations
            .iter()
            .enumerate()
            .zip(&counts)
            .filter(|((_, p), _)| p.model != "source")
            .map(|((pi, p), &n)| {
                let mine: Vec<(usize, &soma_runtime::spinnaker::CoreCounters)> =
                    counters.iter().enumerate().filter(|(i, _)| image.cores[*i].population as usize == pi).collect();
                let packets: u64 = mine.iter().map(|(_, c)| c.packets_sent).sum();
                let traversals: u64 = mine.iter().map(|&(i, c)| c.packets_sent * machine.routers_per_packet(i)).sum();
                PopulationReport {
                    name: p.name.clone(),
                    neurons: p.size,
                    spikes: n,
                    rate_hz: if duration > 0.0 { n as f64 / p.size as f64 / duration } else { 0.0 },
                    cores: mine.len() as u64,
                    synaptic_events: mine.iter().map(|(_, c)| c.synaptic_events).sum(),
                    packets_sent: packets,
                    energy_j: spinn.energy.active_core_w.value * mine.len() as f64 * ledger.model_time_s
                        + spinn.energy.packet_j.value * traversals as f64,
                }
            })
            .collect(),
        energy_j: ledger.total_j(),
        energy_breakdown_j: Breakdown {
            idle_chips: ledger.idle_chips_j,
            active_cores: ledger.active_cores_j,
            packets: ledger.packets_j,
        },
        energy_counts: Counts {
            chips: ledger.chips,
            cores: ledger.cores,
            router_traversals: ledger.router_traversals,
            packets_sent: counters.iter().map(|c| c.packets_sent).sum(),
            rows_fetched: counters.iter().map(|c| c.rows).sum(),
            dma_words: counters.iter().map(|c| c.dma_words).sum(),
            neuron_updates: counters.iter().map(|c| c.neuron_updates).sum(),
            busy_fraction: ledger.busy_fraction,
        },
        energy_per_synaptic_event_j: ledger.per_synaptic_event_j(),
        synaptic_events: ledger.synaptic_events,
        core_load_max: neuron_cores.iter().map(|k| k.max_step_cycles as f64 / budget).fold(0.0, f64::max),
        core_load_mean: if loads.is_empty() { 0.0 } else { loads.iter().sum::<f64>() / loads.len() as f64 },
        overruns: counters.iter().map(|c| c.overruns).sum(),
        late_packets: counters.iter().map(|c| c.late_packets).sum(),
        dropped_packets: machine.dropped_packets,
        duration_s: duration,
        steps,
        wall_s: wall.elapsed().as_secs_f64(),
        events_per_wall_s: ledger.synaptic_events as f64 / run_s.max(1e-9),
        reference,
    };
    if let Some(path) = &args.spikes {
        let names: Vec<&str> = image.populations.iter().map(|p| p.name.as_str()).collect();
        output::write_spikes(path, image.header.dt, &names, &spikes)?;
    }
    let name = built.as_ref().map_or_else(|| args.input.file.display().to_string(), |b| b.name.clone());
    let text = text_report(&name, &report, &ledger);
    if args.json {
        eprint!("{text}");
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| Failure::Internal(e.into()))?);
    } else {
        print!("{text}");
    }
    Ok(())
}

/// Runs the reference simulator on the compiled network's instance and compares rates and spike trains.
fn compare(built: &Built, image: &Image, machine_spikes: &Spikes, steps: u64) -> Reference {
    let inst = &built.inst;
    let result = Simulator::new(inst).run(&RunOptions { steps, record_all_spikes: true }, |_| {});
    let duration = steps as f64 * inst.dt;
    // Per (population, neuron): sorted spike steps of each.
    let mut reference: HashMap<(u32, u32), Vec<u32>> = HashMap::new();
    for (p, list) in result.spikes.iter().enumerate() {
        for &(t, n) in list {
            reference.entry((p as u32, n)).or_default().push(t);
        }
    }
    let mut machine: HashMap<(u32, u32), Vec<u32>> = HashMap::new();
    for &(t, p, n) in machine_spikes {
        machine.entry((p, n)).or_default().push(t);
    }
    let matched =
        |a: &HashMap<(u32, u32), Vec<u32>>, b: &HashMap<(u32, u32), Vec<u32>>, pop: Option<u32>| -> (u64, u64) {
            let (mut hit, mut total) = (0u64, 0u64);
            for (key, times) in a.iter().filter(|(k, _)| pop.is_none_or(|p| k.0 == p)) {
                let other = b.get(key).map(Vec::as_slice).unwrap_or_default();
                let mut used = vec![false; other.len()];
                for &t in times {
                    total += 1;
                    let lo = other.partition_point(|&x| x + 1 < t);
                    if let Some(j) = (lo..other.len()).take_while(|&j| other[j] <= t + 1).find(|&j| !used[j]) {
                        used[j] = true;
                        hit += 1;
                    }
                }
            }
            (hit, total)
        };
    let frac = |(h, t): (u64, u64)| if t == 0 { 1.0 } else { h as f64 / t as f64 };
    let populations = inst
        .populations
        .iter()
        .enumerate()
        .map(|(p, pop)| {
            let r = result.spike_counts[p] as f64 / pop.size() as f64 / duration;
            let m = machine_spikes.iter().filter(|s| s.1 == p as u32).count() as f64 / pop.size() as f64 / duration;
            ReferencePopulation {
                name: pop.name.clone(),
                rate_hz: r,
                machine_rate_hz: m,
                rate_error: if r > 0.0 {
                    (m - r) / r
                } else if m == 0.0 {
                    0.0
                } else {
                    f64::INFINITY
                },
                spikes_matched: frac(matched(&reference, &machine, Some(p as u32))),
            }
        })
        .collect();
    let _ = image;
    Reference {
        populations,
        spikes_matched: frac(matched(&reference, &machine, None)),
        machine_spikes_matched: frac(matched(&machine, &reference, None)),
    }
}

fn text_report(name: &str, r: &Report, l: &Ledger) -> String {
    let mut s = format!("ran {name} on {} for {} s ({} steps)\n", r.target, r.duration_s, r.steps);
    s += &output::rate_table(r.populations.iter().map(|p| (p.name.as_str(), p.neurons as u64, p.spikes, p.rate_hz)));
    s += &format!(
        "energy {:.4e} J: idle chips {:.3e} J ({} chips), active cores {:.3e} J ({} cores), packets {:.3e} J ({} router traversals)\n",
        r.energy_j,
        l.idle_chips_j,
        l.chips,
        l.active_cores_j,
        l.cores,
        l.packets_j,
        thousands(l.router_traversals)
    );
    s += &format!(
        "synaptic events {}, energy per synaptic event {:.3e} J\n",
        thousands(r.synaptic_events),
        r.energy_per_synaptic_event_j
    );
    s += &format!(
        "core load (cycles per step / budget): max {:.2}, mean {:.2}; overruns {}, late packets {}, dropped packets {}\n",
        r.core_load_max, r.core_load_mean, r.overruns, r.late_packets, r.dropped_packets
    );
    s += &format!("wall {:.3} s, {:.3e} synaptic events per wall second\n", r.wall_s, r.events_per_wall_s);
    if let Some(c) = &r.reference {
        s += "against the float reference (same network and seed):\n";
        for p in &c.populations {
            s += &format!(
                "  {:<14} reference {:>8.3} Hz, machine {:>8.3} Hz ({:+.1}%), {:.1}% of spikes within one step\n",
                p.name,
                p.rate_hz,
                p.machine_rate_hz,
                p.rate_error * 100.0,
                p.spikes_matched * 100.0
            );
        }
        s += &format!(
            "  spikes matched within one step: {:.1}% of the reference's, {:.1}% of the machine's\n",
            c.spikes_matched * 100.0,
            c.machine_spikes_matched * 100.0
        );
    }
    s
}
