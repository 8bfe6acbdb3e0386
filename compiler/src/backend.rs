//! The backend contract: every hardware family lowers a validated instance for one of its targets into that
//! family's `isa` artifact and a typed mapping report, behind [`Backend`], found by the family's name in
//! [`BACKENDS`] (as cranelift finds an ISA with `lookup`). The commands compile through [`lookup`] and never name
//! a family; a new family adds one line to [`BACKENDS`]. A backend refuses with a [`CompileError`] saying what the
//! target cannot do and what to change.

use soma_isa::codec::{AnyArtifact, Artifact};
use soma_isa::instance::Instance;
use soma_isa::report::Report;
use soma_targets::Target;
use thiserror::Error;

use crate::diag::Diagnostic;
use crate::ir::Network;

/// Why a network does not compile for the target.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum CompileError {
    /// The network uses something the target cannot do.
    #[error("{0}")]
    Unsupported(String),
    /// The network does not fit the machine.
    #[error("{0}")]
    DoesNotFit(String),
    /// Routing failed (a table overflowed, or a chip is unreachable).
    #[error("{0}")]
    Routing(String),
    /// The machine size asked for is not one the family builds (or the family has no sizes).
    #[error("{0}")]
    MachineSize(String),
    /// The target is not of the backend's family, or an artifact is not the backend's.
    #[error("{0}")]
    WrongFamily(String),
    /// A refusal about one population or projection.
    #[error("{problem}")]
    At {
        /// What it is about.
        object: Object,
        /// The refusal.
        problem: Box<CompileError>,
    },
}

/// The IR object a refusal is about, by the name the instance gives it (a population's name; a projection's
/// `pre->post`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Object {
    /// A population.
    Population(String),
    /// A projection.
    Projection(String),
}

impl CompileError {
    /// The same refusal, about `object`.
    pub fn at(self, object: Object) -> CompileError {
        CompileError::At { object, problem: Box::new(self) }
    }

    /// The refusal as a diagnostic at its object's place in `net`'s source, if it names one `net` has.
    pub fn diagnostic(&self, net: &Network) -> Option<Diagnostic> {
        let CompileError::At { object, .. } = self else { return None };
        let (span, label) = match object {
            Object::Population(name) => {
                (net.populations.iter().find(|(_, p)| &p.name == name)?.1.span, "this population".to_string())
            }
            Object::Projection(name) => (
                net.projections
                    .iter()
                    .find(|(_, p)| &format!("{}->{}", net.node_name(p.pre), net.populations[p.post].name) == name)?
                    .1
                    .span,
                "this projection".to_string(),
            ),
        };
        Some(Diagnostic { message: self.to_string(), span, label })
    }
}

/// How large a machine to compile for, on families built of boards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Boards {
    /// The smallest machine the network fits.
    Smallest,
    /// Exactly this many boards.
    Count(usize),
}

/// A compiled network: the family's artifact and what the backend decided.
pub struct Compiled {
    /// The image, to encode or hand to the family's engine.
    pub artifact: Box<dyn AnyArtifact>,
    /// The mapping report.
    pub mapping: Box<dyn Report>,
    /// The backend's passes and their wall times.
    pub passes: Vec<PassTime>,
}

/// Wall time of one pass.
#[derive(Clone, Debug, PartialEq)]
pub struct PassTime {
    /// Pass name.
    pub name: &'static str,
    /// Seconds.
    pub wall_s: f64,
}

/// A compile's passes as they run: each is announced to a watcher (a command's spinner) when it starts, and timed
/// until the next starts. A pass run again (placement tried on a larger machine) adds to its time.
pub struct Passes<'a> {
    watch: &'a dyn Fn(&'static str),
    times: Vec<PassTime>,
    running: Option<(&'static str, std::time::Instant)>,
}

impl<'a> Passes<'a> {
    /// Passes announced to `watch`.
    pub fn new(watch: &'a dyn Fn(&'static str)) -> Passes<'a> {
        Passes { watch, times: Vec::new(), running: None }
    }

    /// Passes nobody watches (tests, benchmarks, the Python package).
    pub fn unwatched() -> Passes<'static> {
        Passes::new(&|_| {})
    }

    /// Ends the running pass and starts `name`.
    pub fn start(&mut self, name: &'static str) {
        self.stop();
        (self.watch)(name);
        self.running = Some((name, std::time::Instant::now()));
    }

    /// Ends the running pass; the passes and their times, in the order they first ran.
    pub fn finish(mut self) -> Vec<PassTime> {
        self.stop();
        self.times
    }

    fn stop(&mut self) {
        let Some((name, at)) = self.running.take() else { return };
        let wall_s = at.elapsed().as_secs_f64();
        match self.times.iter_mut().find(|p| p.name == name) {
            Some(pass) => pass.wall_s += wall_s,
            None => self.times.push(PassTime { name, wall_s }),
        }
    }
}

/// A hardware family's compiler.
pub trait Backend: Sync {
    /// The family's name, as presets spell it (`family = "..."`).
    fn family(&self) -> &'static str;
    /// Whether the family's machines are sized in boards (`--boards`).
    fn sized_in_boards(&self) -> bool;
    /// Compiles `inst` for `target` (of this family) on `boards` (`None`: the preset's machine), naming each pass
    /// to `watch` as it starts.
    fn compile(
        &self,
        inst: &Instance,
        target: &Target,
        boards: Option<Boards>,
        watch: &dyn Fn(&'static str),
    ) -> Result<Compiled, CompileError>;
    /// The mapping report of an artifact read back from a file, where the family's run report carries one
    /// (`None`: it does not).
    fn mapping_of(&self, artifact: &dyn AnyArtifact, target: &Target) -> Result<Option<Box<dyn Report>>, CompileError>;
    /// The names of the other forms the family writes besides its image (`--emit`).
    fn forms(&self) -> &'static [&'static str];
    /// The artifact in another `form` of [`Backend::forms`], as text.
    fn emit(&self, artifact: &dyn AnyArtifact, form: &str) -> Result<String, CompileError>;
    /// What compiling for the family holds at its peak and what its image takes, per synapse.
    fn footprint(&self) -> Footprint;
}

/// Memory a family's compile holds, per synapse of the network: estimates from the peak resident memory measured
/// on networks of millions of synapses (docs/robustness.md gives the measurements), so that work that cannot fit
/// is refused before it starts. Neurons are a small part at that scale and are left to the instance's estimate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Footprint {
    /// Peak bytes of a compile (the instance, the lowering's working memory and the encoded image), per synapse.
    pub compile_bytes_per_synapse: f64,
    /// Bytes of the encoded image, per synapse.
    pub image_bytes_per_synapse: f64,
}

/// What a family's backend makes: its image and the mapping report.
pub type Lowered<I> = (I, Box<dyn Report>);

/// A family's backend on its own image type: what each family writes. Every `FamilyBackend` is a [`Backend`]
/// (boxing and downcasting are done once, here).
pub trait FamilyBackend: Sync {
    /// The family's image.
    type Image: Artifact + Send + Sync + 'static;
    /// See [`Backend::family`].
    const FAMILY: &'static str;
    /// See [`Backend::sized_in_boards`].
    const SIZED_IN_BOARDS: bool;
    /// See [`Backend::forms`].
    const FORMS: &'static [&'static str] = &[];
    /// Why the family does not run plastic projections (`None`: it learns on chip). A network with one is
    /// refused before lowering, at the first plastic projection, with this reason.
    const NO_PLASTICITY: Option<&'static str>;
    /// See [`Backend::footprint`].
    const FOOTPRINT: Footprint;
    /// See [`Backend::compile`]: the image and the mapping report, each pass started on `passes`.
    fn compile(
        &self,
        inst: &Instance,
        target: &Target,
        boards: Option<Boards>,
        passes: &mut Passes,
    ) -> Result<Lowered<Self::Image>, CompileError>;
    /// See [`Backend::mapping_of`]; none by default.
    fn mapping_of(&self, _image: &Self::Image, _target: &Target) -> Result<Option<Box<dyn Report>>, CompileError> {
        Ok(None)
    }
    /// See [`Backend::emit`]; only for a form of [`FamilyBackend::FORMS`].
    fn emit(&self, _image: &Self::Image, form: &str) -> Result<String, CompileError> {
        Err(no_form(form, Self::FAMILY))
    }
}

impl<B: FamilyBackend> Backend for B {
    fn family(&self) -> &'static str {
        B::FAMILY
    }

    fn sized_in_boards(&self) -> bool {
        B::SIZED_IN_BOARDS
    }

    fn compile(
        &self,
        inst: &Instance,
        target: &Target,
        boards: Option<Boards>,
        watch: &dyn Fn(&'static str),
    ) -> Result<Compiled, CompileError> {
        if target.family_name() != B::FAMILY {
            return Err(CompileError::WrongFamily(format!(
                "{} is a {} target, not a {} one",
                target.name,
                target.family_name(),
                B::FAMILY
            )));
        }
        if !B::SIZED_IN_BOARDS {
            refuse_boards(boards, target)?;
        }
        if let (Some(reason), Some(plastic)) =
            (B::NO_PLASTICITY, inst.projections.iter().find(|p| p.plasticity.is_some()))
        {
            return Err(CompileError::Unsupported(format!(
                "{} cannot run a plastic projection: {reason}; run it with `soma simulate` (the float reference), \
                 or remove `plasticity` to compile it with fixed weights",
                target.name
            ))
            .at(Object::Projection(plastic.name.clone())));
        }
        let mut passes = Passes::new(watch);
        let (image, mapping) = FamilyBackend::compile(self, inst, target, boards, &mut passes)?;
        Ok(Compiled { artifact: Box::new(image), mapping, passes: passes.finish() })
    }

    fn mapping_of(&self, artifact: &dyn AnyArtifact, target: &Target) -> Result<Option<Box<dyn Report>>, CompileError> {
        FamilyBackend::mapping_of(self, own::<B>(artifact)?, target)
    }

    fn forms(&self) -> &'static [&'static str] {
        B::FORMS
    }

    fn footprint(&self) -> Footprint {
        B::FOOTPRINT
    }

    fn emit(&self, artifact: &dyn AnyArtifact, form: &str) -> Result<String, CompileError> {
        FamilyBackend::emit(self, own::<B>(artifact)?, form)
    }
}

/// `artifact` as `B`'s own image.
fn own<B: FamilyBackend>(artifact: &dyn AnyArtifact) -> Result<&B::Image, CompileError> {
    artifact
        .as_any()
        .downcast_ref::<B::Image>()
        .ok_or_else(|| CompileError::WrongFamily(format!("a {} is not a {} image", artifact.kind(), B::FAMILY)))
}

/// Every family's backend.
pub static BACKENDS: &[&dyn Backend] = &[&crate::spinnaker::Backend, &crate::crossbar::Backend, &crate::sfq::Backend];

/// The backend of `family`.
pub fn lookup(family: &str) -> Option<&'static dyn Backend> {
    BACKENDS.iter().copied().find(|b| b.family() == family)
}

/// The backend for `target`'s family.
pub fn for_target(target: &Target) -> Result<&'static dyn Backend, CompileError> {
    lookup(target.family_name()).ok_or_else(|| {
        CompileError::WrongFamily(format!("{}: no backend for the `{}` family", target.name, target.family_name()))
    })
}

/// Refuses `boards` on a family without boards.
pub fn refuse_boards(boards: Option<Boards>, target: &Target) -> Result<(), CompileError> {
    match boards {
        Some(_) => Err(CompileError::MachineSize(format!(
            "{} is a {} target, which has no boards",
            target.name,
            target.family_name()
        ))),
        None => Ok(()),
    }
}

/// Refuses a form the family does not write.
pub fn no_form(form: &str, target_family: &str) -> CompileError {
    CompileError::Unsupported(format!("the {target_family} family writes no `{form}` form"))
}
