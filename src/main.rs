//! The `soma` command line: a thin layer over the library crates that reads files, renders diagnostics,
//! prints reports and maps failures to exit codes (0 ok, 1 bad input, 2 internal error).

mod check;
mod compare;
mod compile;
mod import;
mod interrupt;
mod load;
mod output;
mod pipeline;
mod report;
mod run;
mod simulate;
mod sweep;
mod targets;
mod weight_trace;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// soma: compile spiking neural networks onto models of neuromorphic chips and emulate them.
///
/// Describe a network once (the .snn text language, a NIR graph, or a connectome edge list) and ask what it
/// would cost, and whether it would still work, on a chip: compile it for a SpiNNaker-style many-core machine, a
/// resistive crossbar or an SFQ pulse circuit (`soma targets` lists the presets, every constant sourced), run it
/// there with an energy ledger, and compare it with the float reference simulator, the golden model every target
/// is measured against. Start with `soma run examples/cuba.snn --compare-reference`.
#[derive(Parser, Debug)]
#[command(name = "soma", version, propagate_version = true, max_term_width = 110)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse and validate a network; print its populations, neurons, synapses and the memory work on it takes.
    ///
    /// Exit code 1 with diagnostics (file:line:col, the offending text underlined) if anything is wrong.
    ///
    /// Example: soma check examples/cuba.snn
    Check(CheckArgs),
    /// Run a network with the float reference simulator (f64, exact integration of linear dynamics).
    ///
    /// Prints per-population spike counts and rates. With --json the machine-readable report goes to stdout
    /// and the human-readable text to stderr.
    ///
    /// Example: soma simulate examples/microcircuit.snn --set scale=0.2 --duration 1s --spikes out.csv
    Simulate(SimulateArgs),
    /// Import a .nir graph or a .csv connectome and write it as .snn text.
    ///
    /// The text parses back to the same network; without -o it goes to standard output.
    /// Example: soma import net.nir --dt 0.1ms -o net.snn
    Import(ImportArgs),
    /// Compile a network for a hardware target and write the binary image.
    ///
    /// SpiNNaker targets: prints cores, chips, routing-table entries (before and after compression), synaptic
    /// memory, weight quantisation error and the time of each pass. Crossbar targets: tiles, their utilisation
    /// and the weight quantisation error.
    ///
    /// Examples: soma compile examples/cuba.snn --target spinnaker1 -o cuba.img;
    /// soma compile examples/lsm.snn --target reram_128 -o lsm.img
    Compile(CompileArgs),
    /// Run a compiled image (or compile a network and run it) on the emulated machine.
    ///
    /// Reports rates, energy and its breakdown (with the counts behind it), core load, overruns, late and dropped
    /// packets; on crossbar targets, tiles, ADC conversions and the ADCs' energy share, with device
    /// non-idealities switched on by --nonideal. --compare-reference also runs the float reference simulator on
    /// the same network and seed.
    ///
    /// Examples: soma run cuba.img --duration 1s; soma run examples/cuba.snn --target spinnaker1 --compare-reference;
    /// soma run examples/cuba.snn --target reram_128 --nonideal all --compare-reference
    Run(RunArgs),
    /// Turn a `soma run --json` report into a summary, an HTML page with plots, and CSV tables.
    ///
    /// Example: soma run examples/cuba.snn --compare-reference --json > run.json; soma report run.json --html r.html
    Report(ReportArgs),
    /// Run a design-space sweep over target constants: every combination compiled and run, a CSV of every point
    /// and a Pareto plot; an interrupted sweep resumes where it stopped.
    ///
    /// Example: soma sweep examples/microcircuit.snn --set scale=0.1 --vary neurons_per_core=64,128,256 --out sweep/
    Sweep(SweepArgs),
    /// Run the same network on several targets and compare energy, latency, resources and fidelity.
    ///
    /// Example: soma compare examples/cuba.snn --targets spinnaker1,spinnaker2 --html compare.html
    Compare(CompareArgs),
    /// List the target presets, or show one with the source of every constant.
    ///
    /// Example: soma targets show spinnaker1
    Targets(TargetsArgs),
}

#[derive(Args, Debug)]
struct CompileArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Target preset name (see `soma targets`) or the path of a preset .toml file.
    #[arg(long, default_value = "spinnaker1", value_name = "TARGET")]
    target: String,
    /// Set one constant of the target for this compile, e.g. --target-set stdp_rounding=1 or --target-set
    /// neurons_per_core=128 (repeatable; `soma targets show NAME` lists them). The image records the changed
    /// description.
    #[arg(long = "target-set", value_name = "KEY=VALUE")]
    target_set: Vec<String>,
    /// Machine size in boards (0 for a single chip, 1, or a multiple of 3), or `auto` for the smallest that fits
    /// [default: auto, as for run, compare and sweep].
    #[arg(long, value_name = "N|auto")]
    boards: Option<String>,
    /// Where to write the image (or, with `--emit netlist`, the netlist); without it, compile only reports the
    /// mapping (or prints the netlist).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// What `-o` writes: the binary `image`, or for SFQ targets the `netlist` of pulse cells as text (one cell per
    /// line: index, kind, parameters, the inputs it drives).
    #[arg(long, default_value = "image", value_parser = ["image", "netlist"])]
    emit: String,
    /// Seed of the network's random draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the report as JSON on stdout (the text goes to stderr).
    #[arg(long)]
    json: bool,
    /// No spinner.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct RunArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Target preset or .toml, for compiling a network (an image names its own preset) [default: spinnaker1].
    #[arg(long, value_name = "TARGET")]
    target: Option<String>,
    /// Set one constant of the target when compiling, e.g. --target-set stdp_rounding=1 or --target-set
    /// time_scale_factor=20 (a SpiNNaker run 20 times slower than real time) (repeatable; `soma targets show NAME`
    /// lists them).
    #[arg(long = "target-set", value_name = "KEY=VALUE")]
    target_set: Vec<String>,
    /// Machine size in boards when compiling, or `auto` [default: auto].
    #[arg(long, value_name = "N|auto")]
    boards: Option<String>,
    /// Model time to run: a time with a unit (1s, 500ms) or a bare number of seconds.
    #[arg(long, default_value = "1s", value_name = "TIME")]
    duration: String,
    /// Seed of the network's random draws when compiling (an image carries its own).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write every spike as CSV (time_s,population,neuron).
    #[arg(long, value_name = "FILE")]
    spikes: Option<PathBuf>,
    /// Record a population's membrane potential on the hardware: NAME:v or NAME[a..b]:v (repeatable; with the
    /// network's own `probe ... : v` statements). SpiNNaker targets; needs a network, not an image.
    #[arg(long, value_name = "NAME:v")]
    probe: Vec<String>,
    /// Write the probed membrane potentials as CSV (time_s,population,neuron,v,raw,reference_v): v in volts as the
    /// hardware held it, raw its s16.15 register, reference_v the float reference's (with --compare-reference).
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Write every plastic synapse's weight before and after the run on the hardware as CSV
    /// (projection,pre,post,delay_s,weight_before,weight_after), as `soma simulate --weights` writes the reference's.
    #[arg(long, value_name = "FILE")]
    weights: Option<PathBuf>,
    #[command(flatten)]
    weight_trace: WeightTraceArgs,
    /// Score pattern-completion tests of an associative memory on the run's spikes: a CSV of
    /// `test,population,pattern,cue,from_s,to_s` (neurons as ranges a..b, times in seconds); each test reports the
    /// share of the pattern's uncued neurons that fired in its window and of the neurons outside the pattern.
    #[arg(long, value_name = "FILE")]
    recall: Option<PathBuf>,
    /// Spike input for the Input nodes of a .nir graph: a file (see `soma simulate --help` and docs/nir.md), or
    /// `poisson:RATE` (e.g. `poisson:100Hz`) for rate-coded Poisson input on every channel.
    #[arg(long = "input", value_name = "FILE")]
    spike_input: Option<PathBuf>,
    /// Also run the float reference simulator on the same network and compare (needs a network, not an image).
    #[arg(long)]
    compare_reference: bool,
    /// Print the report as JSON on stdout (the text goes to stderr).
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Crossbar targets: device non-idealities to switch on at the preset's magnitudes: none, all, or a
    /// comma-separated list of program_noise, read_noise, stuck, drift, and, for plastic projections' analog cells,
    /// cycle_to_cycle and device_to_device.
    #[arg(long, default_value = "none", value_name = "LIST")]
    nonideal: String,
    /// Crossbar targets: time between programming the arrays and the run, for conductance drift.
    #[arg(long, default_value = "0s", value_name = "TIME")]
    read_after: String,
    /// Crossbar targets: projections (named `pre->post`, e.g. `exc->exc`; a wrong name lists them) whose weights
    /// the devices draw: one identical set pulse switches each cell of their tiles at random (the liquid-state-machine
    /// use).
    #[arg(long, value_name = "PROJ[,PROJ]")]
    device_random: Option<String>,
    /// Crossbar targets: ADC range as a fraction of the calibrated full scale (the largest column current with
    /// every row driven); below 1 large column currents clip and small ones resolve more finely.
    #[arg(long, default_value_t = 1.0, value_name = "FRACTION")]
    adc_range: f64,
}

#[derive(Args, Debug)]
struct ReportArgs {
    /// The JSON written by `soma run --json`.
    run: PathBuf,
    /// Write a self-contained HTML page with plots here.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Write CSV tables (populations, energy, cores, links) into this folder.
    #[arg(long, value_name = "DIR")]
    csv: Option<PathBuf>,
    /// Membrane traces written by `soma run --probe ... --trace FILE`: the HTML page plots the machine's membrane
    /// potential of each probed neuron (up to 8) over the reference's, where the run compared.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Print the report as read and checked, in the current form (fields an older report lacks at their
    /// defaults), as JSON on stdout; the summary goes to stderr.
    #[arg(long)]
    json: bool,
    /// No notes on stderr of the files written.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct SweepArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Target preset or .toml whose constants are varied.
    #[arg(long, default_value = "spinnaker1", value_name = "TARGET")]
    target: String,
    /// A target constant and its values, e.g. neurons_per_core=64,128,256 or performance_level=1,2,3 (repeatable;
    /// every combination is a point).
    #[arg(long, value_name = "KEY=V1,V2,...", required = true)]
    vary: Vec<String>,
    /// Folder for the points, sweep.csv and sweep.html.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Model time per point: a time with a unit (100ms) or a bare number of seconds.
    #[arg(long, default_value = "100ms", value_name = "TIME")]
    duration: String,
    /// Machine size in boards, or `auto` [default: auto].
    #[arg(long, value_name = "N|auto")]
    boards: Option<String>,
    /// Seed of the network's random draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The figure the recommended point minimises: energy_j, wall_plug_energy_j, energy_per_synaptic_event_j,
    /// step_latency_s, rate_error, size, overruns or dropped_packets.
    #[arg(long, default_value = "energy_j", value_name = "FIGURE")]
    minimize: String,
    /// An upper limit a point must meet to be feasible, e.g. --max rate_error=5% or --max step_latency_s=1e-4
    /// (repeatable; the same figures as --minimize). Infeasible points are marked and never recommended.
    #[arg(long = "max", value_name = "FIGURE=VALUE")]
    limits: Vec<String>,
    /// Print the points as a JSON array instead of sweep.csv's table: per point the constants set, the target, every
    /// figure, and `feasible`, `pareto_optimal` and `recommended` (the rows Python's soma.sweep returns).
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct CompareArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Targets to compare, comma-separated (presets or .toml files).
    #[arg(long, default_value = "spinnaker1,spinnaker2", value_name = "T1,T2,...")]
    targets: String,
    /// Spike input for the Input nodes of a .nir graph, the same on every target: a file (see `soma simulate
    /// --help` and docs/nir.md), or `poisson:RATE` (e.g. `poisson:100Hz`) on every channel.
    #[arg(long = "input", value_name = "FILE")]
    spike_input: Option<PathBuf>,
    /// Model time on each target: a time with a unit (100ms) or a bare number of seconds.
    #[arg(long, default_value = "100ms", value_name = "TIME")]
    duration: String,
    /// Seed of the network's random draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write an HTML page here.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Print one JSON object per target on stdout (figures, energy terms, constants that differ from the first
    /// target of its family); the table goes to stderr.
    #[arg(long)]
    json: bool,
    /// No progress bars and no note of the page written.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct TargetsArgs {
    /// `list` (the default) lists the presets; `show NAME` prints one with the source of every constant.
    #[arg(value_name = "list | show NAME", num_args = 0..=2)]
    words: Vec<String>,
    /// Print JSON on stdout instead of the table: the presets' names, families and descriptions, or one target's
    /// constants with their sources.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct ImportArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Where to write the .snn text [default: standard output; `-` says so too].
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// No note on stderr of the file written.
    #[arg(long, short)]
    quiet: bool,
}

/// Weights sampled over a run (`simulate` and `run`).
#[derive(Args, Debug)]
struct WeightTraceArgs {
    /// Sample plastic synapses' weights over the run: PROJECTION (all its synapses) or PROJECTION[a..b]
    /// (synapses a..b-1, numbered as --weights lists them), e.g. "input->cell[0..10]" (repeatable; needs
    /// --weight-trace). On SpiNNaker targets a sample is the weight the synapse word holds: sPyNNaker's deferred
    /// updates change it when a presynaptic spike fetches its row (docs/plasticity.md).
    #[arg(long, value_name = "PROJ[a..b]")]
    weight_probe: Vec<String>,
    /// Write the --weight-probe samples as CSV (time_s,projection,synapse,pre,post,weight) to this file.
    #[arg(long, value_name = "FILE")]
    weight_trace: Option<PathBuf>,
    /// Time between two --weight-probe samples.
    #[arg(long, default_value = soma_runtime::reference::WeightTrace::DEFAULT_EVERY, value_name = "TIME")]
    weight_every: String,
}

/// Options shared by every command that reads a network file.
#[derive(Args, Debug)]
struct InputArgs {
    /// The network: a .snn description, a .nir graph (NIR, HDF5) or a .csv connectome edge list.
    file: PathBuf,
    /// Read FILE as this format instead of guessing from its extension.
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<load::Format>,
    /// Override a top-level constant of a .snn file, e.g. --set scale=0.1 or --set "tau=10 ms" (repeatable).
    /// The value must have the same unit as the constant.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// Time step for .nir and .csv networks, e.g. 0.1ms or 1e-4 (NIR stores seconds but no time step; a .csv
    /// network defaults to 0.1 ms).
    #[arg(long, value_name = "TIME")]
    dt: Option<String>,
    #[command(flatten)]
    connectome: load::ConnectomeArgs,
}

#[derive(Args, Debug)]
struct CheckArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Print the summary as one JSON object (populations, sources, neurons, synapses and whether that count is
    /// exact, projections, memory to instantiate, per family about what compiling and running take, and what this
    /// machine has available).
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct SimulateArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Model time to simulate: a time with a unit (1s, 500ms, "0.25 s") or a bare number of seconds.
    #[arg(long, default_value = "1s", value_name = "TIME")]
    duration: String,
    /// Seed of every random draw (connectivity, weights, delays, initial state, Poisson inputs).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write every spike as CSV (time_s,population,neuron) to this file.
    #[arg(long, value_name = "FILE")]
    spikes: Option<PathBuf>,
    /// Score pattern-completion tests of an associative memory on the run's spikes: a CSV of
    /// `test,population,pattern,cue,from_s,to_s` (neurons as ranges a..b, times in seconds); each test reports the
    /// share of the pattern's uncued neurons that fired in its window and of the neurons outside the pattern.
    #[arg(long, value_name = "FILE")]
    recall: Option<PathBuf>,
    /// Write the membrane potentials of the file's `probe ... : v` statements and of --probe NAME:v as CSV
    /// (time_s,population,neuron,v) to this file.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Write every plastic synapse's weight before and after the run as CSV
    /// (projection,pre,post,delay_s,weight_before,weight_after) to this file. See docs/plasticity.md.
    #[arg(long, value_name = "FILE")]
    weights: Option<PathBuf>,
    #[command(flatten)]
    weight_trace: WeightTraceArgs,
    /// Record a population: NAME:v (membrane potential), NAME[a..b]:v, or NAME:spikes (repeatable).
    #[arg(long, value_name = "NAME:WHAT")]
    probe: Vec<String>,
    /// Spike input for the Input nodes of a .nir graph: a CSV 0/1 matrix (one row per time step, one column per
    /// input channel) or an event list with the header `time_s,index`; or `poisson:RATE` (e.g. `poisson:100Hz`)
    /// for rate-coded Poisson input on every channel. See docs/nir.md.
    #[arg(long = "input", value_name = "FILE")]
    spike_input: Option<PathBuf>,
    /// Print the report as JSON on stdout (the text goes to stderr).
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// How a command failed.
#[derive(Debug)]
enum Failure {
    /// Bad input: the message is ready to print (diagnostics already rendered).
    User(String),
    /// A bug or an environment problem.
    Internal(anyhow::Error),
    /// Stopped by Ctrl-C: what was stopped, how far it got and what was kept.
    Interrupted(String),
}

impl From<soma_compiler::front::load::LoadError> for Failure {
    fn from(e: soma_compiler::front::load::LoadError) -> Self {
        Failure::User(e.printed())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Internal(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    interrupt::install();
    let outcome = std::panic::catch_unwind(|| match cli.command {
        Command::Check(a) => check::run(&a.input, a.json),
        Command::Simulate(a) => simulate::run(&a),
        Command::Import(a) => import::run(&a),
        Command::Compile(a) => compile::run(&a),
        Command::Targets(a) => targets::run(&a),
        Command::Run(a) => run::run(&a),
        Command::Report(a) => report::run(&a),
        Command::Sweep(a) => sweep::run(&a),
        Command::Compare(a) => compare::run(&a),
    });
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(Failure::User(msg))) => {
            eprint!("{msg}");
            if !msg.ends_with('\n') {
                eprintln!();
            }
            ExitCode::from(1)
        }
        Ok(Err(Failure::Internal(e))) => {
            eprintln!("internal error: {e:#}");
            ExitCode::from(2)
        }
        Ok(Err(Failure::Interrupted(what))) => {
            eprintln!("{what}");
            ExitCode::from(130)
        }
        Err(_) => {
            eprintln!("internal error: soma panicked (a bug; please report it with the input that caused it)");
            ExitCode::from(2)
        }
    }
}
