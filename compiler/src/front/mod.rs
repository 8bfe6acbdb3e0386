//! Frontends: readers that turn a network description into the IR. Each returns spans into its own source
//! so that the CLI can render diagnostics; none of them validates (that is [`crate::valid`]'s job).

pub mod edges;
pub mod load;
pub mod nir;
pub mod snn;

/// A name the `.snn` language accepts, made from a name in another format: characters other than ASCII letters,
/// digits and `_` become `_`, and a leading digit gets an `n` in front (`1_LIF` -> `n1_LIF`, `block.lif` ->
/// `block_lif`).
pub(crate) fn identifier(name: &str) -> String {
    let mut s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if !s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        s.insert(0, 'n');
    }
    s
}
