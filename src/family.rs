//! The registry of hardware families on the command line: each family's compile, run and headline figures
//! behind one trait, found by a target's `family` or an image's tag. `compile`, `run`, `compare` and `sweep`
//! iterate it and never name a family; a new family is one entry in [`FAMILIES`].

use std::path::Path;

use soma_targets::Target;

use crate::compare::Figures;
use crate::{CompileArgs, Failure, InputArgs, RunArgs};

/// What the commands ask of a family.
pub trait Family: Sync {
    /// The presets' `family = "..."`.
    fn name(&self) -> &'static str;
    /// Whether `bytes` are this family's image (its codec tag).
    fn reads(&self, bytes: &[u8]) -> bool;
    /// `soma compile` on one of the family's targets.
    fn compile(&self, args: &CompileArgs, target: &Target) -> Result<(), Failure>;
    /// `soma run` of a network on one of the family's targets.
    fn run_network(&self, args: &RunArgs, target: &Target) -> Result<(), Failure>;
    /// `soma run` of one of the family's images (`args.input.file`), on the target it names or `--target`.
    fn run_image(&self, args: &RunArgs) -> Result<(), Failure>;
    /// The network compiled (on `boards`, for families with boards; `None`: the smallest that fits) and run next to
    /// the float reference: the figures `compare` and `sweep` tabulate.
    fn figures(&self, input: &InputArgs, target: &Target, run: &FigureRun) -> Result<Figures, Failure>;
}

/// What `compare` and `sweep` run each point with.
pub struct FigureRun<'a> {
    /// Seed of the network and its inputs.
    pub seed: u64,
    /// Model time, s.
    pub duration: f64,
    /// `--boards`, where given.
    pub boards: Option<&'a str>,
    /// No spinner or progress bar.
    pub quiet: bool,
}

/// Refuses `--boards` on a family without boards.
pub fn refuse_boards(boards: Option<&str>, target: &Target) -> Result<(), Failure> {
    match boards {
        Some(b) => Err(Failure::User(format!(
            "error: --boards {b}: {} is a {} target, which has no boards\n",
            target.name,
            target.family_name()
        ))),
        None => Ok(()),
    }
}

/// Every family.
pub const FAMILIES: &[&dyn Family] = &[&crate::spinnaker::Cli, &crate::crossbar::Cli, &crate::sfq::Cli];

/// The family of `target`.
pub fn for_target(target: &Target) -> Result<&'static dyn Family, Failure> {
    FAMILIES
        .iter()
        .copied()
        .find(|f| f.name() == target.family_name())
        .ok_or_else(|| Failure::Internal(anyhow::anyhow!("no family `{}` in the registry", target.family_name())))
}

/// The family whose image `bytes` (read from `path`) are.
pub fn for_image(bytes: &[u8], path: &Path) -> Result<&'static dyn Family, Failure> {
    FAMILIES.iter().copied().find(|f| f.reads(bytes)).ok_or_else(|| {
        Failure::User(format!("error: {}: not a soma image of any family (bad magic number)\n", path.display()))
    })
}
