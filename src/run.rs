//! `soma run`: execute an image (its family read from its tag) or compile a network for a target (its family
//! from the target's preset) and execute it, through the family's engine; print or write its report and spikes.

use soma_compiler::backend;
use soma_runtime::engine::{self, Devices};

use crate::output;
use crate::pipeline::{self, RunAsk};
use crate::weight_trace;
use crate::{Failure, RunArgs};

/// The device models of the crossbar flags, if any was given.
fn devices(args: &RunArgs) -> Result<Option<Devices>, Failure> {
    let given =
        args.nonideal != "none" || args.device_random.is_some() || args.read_after != "0s" || args.adc_range != 1.0;
    if !given {
        return Ok(None);
    }
    Ok(Some(Devices {
        nonideal: args.nonideal.clone(),
        read_after_s: crate::load::time("--read-after", &args.read_after, false)?,
        device_random: args
            .device_random
            .iter()
            .flat_map(|list| list.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        adc_range: args.adc_range,
    }))
}

/// Refuses the flags an image fixes.
fn refuse_fixed(args: &RunArgs) -> Result<(), Failure> {
    if args.spike_input.is_some() {
        return Err(Failure::User("error: --input feeds a .nir graph; an image carries its inputs\n".into()));
    }
    let fixed: Vec<&str> = [
        (!args.input.set.is_empty(), "--set"),
        (args.input.dt.is_some(), "--dt"),
        (args.input.format.is_some(), "--format"),
        (args.boards.is_some(), "--boards"),
        (args.seed != 1, "--seed"),
    ]
    .into_iter()
    .filter_map(|(given, flag)| given.then_some(flag))
    .collect();
    if !fixed.is_empty() {
        return Err(Failure::User(format!(
            "error: {}: an image fixes its network, machine size and seed; run the network file with --target to \
             change them\n",
            fixed.join(", ")
        )));
    }
    Ok(())
}

/// Runs the command.
pub fn run(args: &RunArgs) -> Result<(), Failure> {
    let inputs: Vec<&std::path::Path> =
        std::iter::once(args.input.file.as_path()).chain(args.spike_input.as_deref()).collect();
    output::check_outputs(
        &inputs,
        &[
            ("--spikes", args.spikes.as_deref(), output::Output::File),
            ("--trace", args.trace.as_deref(), output::Output::File),
            ("--weights", args.weights.as_deref(), output::Output::File),
            crate::weight_trace::output(&args.weight_trace)?,
        ],
    )?;
    let recall_tests = output::recall_tests(args.recall.as_deref())?;
    let duration_s = crate::load::time("--duration", &args.duration, false)?;
    let devices = devices(args)?;
    let path = &args.input.file;
    let name = path.display().to_string();
    let ask = |network, instance, mapping, weights| RunAsk {
        network,
        weights,
        duration_s,
        instance,
        compare: args.compare_reference,
        mapping,
        devices: devices.as_ref(),
        quiet: args.quiet,
        verb: "running",
    };
    let run = if path.extension().is_some_and(|e| e == "img") {
        refuse_fixed(args)?;
        let engine = pipeline::image_engine(path, &name)?;
        let bytes =
            std::fs::read(path).map_err(|e| Failure::User(format!("error: cannot read {}: {e}\n", path.display())))?;
        let artifact = engine.decode(&bytes).map_err(|e| Failure::User(format!("error: {name}: {e}\n")))?;
        drop(bytes);
        let target = engine::target_of(&*artifact, args.target.as_deref(), engine.family())
            .map_err(|e| Failure::User(format!("error: {name}: {e}\n")))?;
        engine::check_devices(engine, devices.as_ref(), &target).map_err(|e| pipeline::run_error(e, &name))?;
        let instance = engine.network(&*artifact);
        if !args.target_set.is_empty() {
            return Err(Failure::User(format!(
                "error: {name}: --target-set changes the target an image was compiled for; compile the network with \
                 it (soma compile --target-set ..., or soma run NETWORK --target-set ...)\n"
            )));
        }
        for (given, flag) in [
            (!args.probe.is_empty(), "--probe"),
            (args.weights.is_some() && instance.is_none(), "--weights"),
            (!args.weight_trace.weight_probe.is_empty() && instance.is_none(), "--weight-probe"),
        ] {
            if given {
                return Err(Failure::User(format!(
                    "error: {flag} needs the network, not an image: run the .snn/.nir/.csv file with --target\n"
                )));
            }
        }
        if args.compare_reference && instance.is_none() {
            return Err(Failure::User(
                "error: --compare-reference needs the network, not an image: run the .snn/.nir/.csv file with --target\n"
                    .into(),
            ));
        }
        let backend = backend::for_target(&target).map_err(|e| Failure::Internal(e.into()))?;
        let mapping =
            backend.mapping_of(&*artifact, &target).map_err(|e| pipeline::compile_error(e, &name, None, None))?;
        let sampling = instance.map(|inst| weight_trace::sampling(&args.weight_trace, inst)).transpose()?;
        let weights = sampling.as_ref().map_or((&[][..], 1), |s| (&s.probes[..], s.every));
        let run = pipeline::execute(engine, &*artifact, &target, &ask(&name, instance, mapping.as_deref(), weights))?;
        if let (Some(inst), Some(s)) = (instance, &sampling) {
            write_learned(args, inst, &run)?;
            weight_trace::write(&args.weight_trace, inst, &run.weight_traces, s.every)?;
        }
        run
    } else {
        let target = pipeline::target(args.target.as_deref().unwrap_or("spinnaker1"), &args.target_set)?;
        let engine = engine::for_target(&target).map_err(|e| Failure::Internal(e.into()))?;
        engine::check_devices(engine, devices.as_ref(), &target).map_err(|e| pipeline::run_error(e, &name))?;
        if (!args.probe.is_empty() || args.trace.is_some()) && !engine.records_traces() {
            return Err(Failure::User(format!(
                "error: --probe and --trace record the hardware's membrane potentials; the {} engine does not record \
                 them yet (spinnaker targets do; `soma simulate --probe` gives the reference's)\n",
                engine.family()
            )));
        }
        let backend = backend::for_target(&target).map_err(|e| Failure::Internal(e.into()))?;
        let boards = pipeline::boards(args.boards.as_deref(), backend)?;
        let network =
            pipeline::Network { input: &args.input, spike_input: args.spike_input.as_deref(), probes: &args.probe };
        let built = pipeline::build(
            &network,
            &target,
            backend,
            Some(engine),
            (boards, args.boards.as_deref()),
            args.seed,
            args.quiet,
        )?;
        let sampling = weight_trace::sampling(&args.weight_trace, &built.inst)?;
        let ask = ask(
            &built.loaded.name,
            Some(&built.inst),
            Some(&*built.compiled.mapping),
            (&sampling.probes[..], sampling.every),
        );
        let run = pipeline::execute(engine, &*built.compiled.artifact, &target, &ask)?;
        write_learned(args, &built.inst, &run)?;
        weight_trace::write(&args.weight_trace, &built.inst, &run.weight_traces, sampling.every)?;
        run
    };
    if let Some(path) = &args.spikes {
        output::write_spikes(path, run.dt, &run.populations, &run.spikes)?;
    }
    if let Some(path) = &args.trace {
        write_traces(path, run.dt, &run.traces)?;
    }
    let recall = soma_runtime::recall::score(&recall_tests, &run.spikes, &run.populations, &run.sizes, run.dt)
        .map_err(|e| Failure::User(format!("error: {e}\n")))?;
    let mut json = run.report.json();
    if !recall.is_empty()
        && let Some(fields) = json.as_object_mut()
    {
        fields.insert("recall".into(), serde_json::to_value(&recall).map_err(|e| Failure::Internal(e.into()))?);
    }
    output::emit(&(run.report.text() + &soma_runtime::recall::text(&recall)), args.json, &json)
}

/// The header of `--trace`'s CSV, which `soma report --trace` reads back.
pub const TRACE_HEADER: &str = "time_s,population,neuron,v,raw,reference_v";

/// The hardware's membrane traces, one line per neuron and step: SI value, raw register, the reference's value.
fn write_traces(path: &std::path::Path, dt: f64, traces: &[engine::ChipTrace]) -> Result<(), Failure> {
    output::write_atomic(path, |w: &mut dyn std::io::Write| {
        writeln!(w, "{TRACE_HEADER}")?;
        for tr in traces {
            let per_step = tr.neurons.len().max(1);
            for (k, (values, raw)) in tr.values.chunks(per_step).zip(tr.raw.chunks(per_step)).enumerate() {
                for (i, (n, (v, r))) in tr.neurons.iter().zip(values.iter().zip(raw)).enumerate() {
                    let reference = tr
                        .reference
                        .as_ref()
                        .and_then(|x| x.get(k * per_step + i))
                        .map_or(String::new(), f64::to_string);
                    writeln!(
                        w,
                        "{},{},{n},{v},{r},{reference}",
                        soma_isa::report::step_end_s(k as u64, dt),
                        tr.population
                    )?;
                }
            }
        }
        Ok(())
    })
    .map_err(|e| Failure::User(format!("error: {e:#}\n")))
}

/// `--weights FILE`: the plastic synapses' weights before and after the run (`inst`: the network it ran).
fn write_learned(args: &RunArgs, inst: &soma_isa::instance::Instance, run: &engine::Run) -> Result<(), Failure> {
    let Some(path) = &args.weights else { return Ok(()) };
    let learned: Vec<(usize, &[f64])> = run
        .learned
        .iter()
        .filter_map(|(name, w)| Some((inst.projections.iter().position(|p| &p.name == name)?, &w[..])))
        .collect();
    output::write_weights(path, inst, &learned)
}
