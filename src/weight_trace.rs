//! `--weight-probe`, `--weight-trace` and `--weight-every`, the same on `simulate` (the reference) and `run` (the
//! hardware): which plastic synapses to sample and how often, and the CSV of the samples.

use std::io::Write;

use soma_isa::instance::Instance;
use soma_runtime::reference::{WeightProbe, WeightTrace};

use crate::output::{Output, write_atomic};
use crate::{Failure, WeightTraceArgs, load};

/// What to sample: the probes and the steps between two samples.
pub struct Sampling {
    /// The synapses sampled.
    pub probes: Vec<WeightProbe>,
    /// Steps between two samples (at least 1).
    pub every: u64,
}

/// The output the flags write, for `check_outputs`; an error if only one of --weight-probe and --weight-trace is
/// given.
pub fn output(args: &WeightTraceArgs) -> Result<(&'static str, Option<&std::path::Path>, Output), Failure> {
    if args.weight_probe.is_empty() != args.weight_trace.is_none() {
        return Err(Failure::User(
            "error: --weight-probe and --weight-trace go together (what to sample, and where)\n".into(),
        ));
    }
    Ok(("--weight-trace", args.weight_trace.as_deref(), Output::File))
}

/// The probes of `args` on `inst`, sampled every --weight-every (rounded to whole steps).
pub fn sampling(args: &WeightTraceArgs, inst: &Instance) -> Result<Sampling, Failure> {
    let probes = args.weight_probe.iter().map(|p| probe(inst, p)).collect::<Result<Vec<_>, _>>()?;
    let every = WeightTrace::every_steps(load::time("--weight-every", &args.weight_every, true)?, inst.dt);
    Ok(Sampling { probes, every })
}

/// Writes `traces` (sampled every `every` steps of `inst`) to --weight-trace, if given: one line per synapse and
/// sample.
pub fn write(args: &WeightTraceArgs, inst: &Instance, traces: &[WeightTrace], every: u64) -> Result<(), Failure> {
    let Some(path) = &args.weight_trace else { return Ok(()) };
    write_atomic(path, |w: &mut dyn Write| {
        writeln!(w, "time_s,projection,synapse,pre,post,weight")?;
        for tr in traces {
            let name = &inst.projections[tr.probe.projection].name;
            let synapses = tr.synapses(inst);
            for (k, sample) in tr.samples().enumerate() {
                let time = WeightTrace::time_s(k, every, inst.dt);
                for ((s, pre, post), weight) in synapses.iter().zip(sample) {
                    writeln!(w, "{time},{name},{s},{pre},{post},{weight}")?;
                }
            }
        }
        Ok(())
    })
    .map_err(|e| Failure::User(format!("error: {e:#}\n")))
}

/// `PROJECTION` or `PROJECTION[a..b]`: synapses of a plastic projection of `inst`.
fn probe(inst: &Instance, text: &str) -> Result<WeightProbe, Failure> {
    WeightProbe::parse(inst, text).map_err(|why| Failure::User(format!("error: --weight-probe {text}: {why}\n")))
}
