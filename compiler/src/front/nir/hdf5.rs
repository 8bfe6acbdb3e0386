//! The one module that touches the HDF5 library: it turns a NIR file's bytes into a plain tree of groups and
//! arrays, so the rest of the NIR frontend never sees `hdf5-pure` and the reader can be swapped.

use super::graph::NirError;
use std::collections::BTreeMap;

use hdf5_pure::{Dataset, Datatype, File, Group};

/// The values of a dataset.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// Floating-point values (f32 or f64 in the file), widened to f64.
    Float(Vec<f64>),
    /// Integer values.
    Int(Vec<i64>),
    /// Strings (fixed or variable length).
    Str(Vec<String>),
}

/// A dataset: its shape (empty for a scalar) and values in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Values.
    pub data: Data,
}

/// A group's children.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tree {
    /// Subgroups.
    pub groups: BTreeMap<String, Tree>,
    /// Datasets.
    pub arrays: BTreeMap<String, Array>,
}

/// Reads the whole file into a tree. Errors are about the file (its name is added by the caller).
pub fn read(bytes: Vec<u8>) -> Result<Tree, NirError> {
    if bytes.is_empty() {
        return Err(NirError::file("the file is empty".to_string()));
    }
    if !hdf5_pure::is_hdf5_bytes(&bytes) {
        return Err(NirError::file("not an HDF5 file (no HDF5 signature): NIR files are HDF5".to_string()));
    }
    let file_len = bytes.len() as u64;
    let file = File::from_bytes(bytes).map_err(|e| NirError::file(format!("unreadable HDF5 ({e})")))?;
    read_group(&file.root(), "/", 0, file_len)
}

/// The most values a compressed (filtered) dataset may expand to, and the most bytes: 2^24 values (128 MiB once
/// read as 8-byte numbers) in at most 128 MiB, far above any network a NIR file describes, far below what a
/// corrupted size field would make the reader allocate (the decompressed bytes and the values read from them are
/// both held at once).
const MAX_FILTERED_DATASET_VALUES: u64 = 1 << 24;
const MAX_FILTERED_DATASET_BYTES: u64 = 1 << 27;

/// Refuses a dataset whose declared extent cannot be real before anything is allocated for it: uncompressed data
/// must fit in the file, compressed data in [`MAX_FILTERED_DATASET_VALUES`] values and
/// [`MAX_FILTERED_DATASET_BYTES`] bytes.
fn check_extent(ds: &Dataset, at: &str, shape: &[u64], file_len: u64) -> Result<(), NirError> {
    let element = ds.element_size().map_err(|e| NirError::file(format!("{at}: unreadable type ({e})")))?;
    // Zero-length dimensions count as one, so that `[0, 2^62]` (no values) cannot carry a huge extent into a
    // reader that trusts one dimension.
    let values = shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d.max(1)));
    let bytes = values.and_then(|n| n.checked_mul(element));
    let (fits, room) = match ds.filters().is_empty() {
        true => (bytes.is_some_and(|b| b <= file_len), format!("the file holds only {file_len} bytes")),
        false => (
            values.is_some_and(|n| n <= MAX_FILTERED_DATASET_VALUES)
                && bytes.is_some_and(|b| b <= MAX_FILTERED_DATASET_BYTES),
            format!(
                "soma expands compressed datasets to at most {MAX_FILTERED_DATASET_VALUES} values and \
                 {MAX_FILTERED_DATASET_BYTES} bytes"
            ),
        ),
    };
    if fits {
        return Ok(());
    }
    Err(NirError::file(format!(
        "{at}: shape {shape:?} of {element}-byte values is more data than can be real ({room})"
    )))
}

fn read_group(group: &Group, path: &str, depth: usize, file_len: u64) -> Result<Tree, NirError> {
    if depth > 32 {
        return Err(NirError::file(format!("groups nest more than 32 deep at {path}")));
    }
    let mut tree = Tree::default();
    for name in group.groups().map_err(|e| NirError::file(format!("cannot list {path} ({e})")))? {
        let child = group.group(&name).map_err(|e| NirError::file(format!("cannot open {path}{name} ({e})")))?;
        tree.groups.insert(name.clone(), read_group(&child, &format!("{path}{name}/"), depth + 1, file_len)?);
    }
    for name in group.datasets().map_err(|e| NirError::file(format!("cannot list {path} ({e})")))? {
        let at = format!("{path}{name}");
        let ds = group.dataset(&name).map_err(|e| NirError::file(format!("cannot open {at} ({e})")))?;
        let shape = ds.shape().map_err(|e| NirError::file(format!("{at}: unreadable shape ({e})")))?;
        check_extent(&ds, &at, &shape, file_len)?;
        let shape: Vec<usize> = shape.into_iter().map(|d| d as usize).collect();
        let datatype = ds.datatype().map_err(|e| NirError::file(format!("{at}: unreadable type ({e})")))?;
        let data = match datatype {
            Datatype::FloatingPoint { .. } => {
                Data::Float(ds.read_f64().map_err(|e| NirError::file(format!("{at}: {e}")))?)
            }
            Datatype::FixedPoint { .. } | Datatype::Enumeration { .. } => {
                Data::Int(ds.read_i64().map_err(|e| NirError::file(format!("{at}: {e}")))?)
            }
            Datatype::String { .. } | Datatype::VariableLength { .. } => {
                Data::Str(ds.read_string().map_err(|e| NirError::file(format!("{at}: {e}")))?)
            }
            other => return Err(NirError::file(format!("{at}: unsupported HDF5 datatype {other:?}"))),
        };
        let len = match &data {
            Data::Float(v) => v.len(),
            Data::Int(v) => v.len(),
            Data::Str(v) => v.len(),
        };
        if len != shape.iter().product::<usize>() {
            return Err(NirError::file(format!("{at}: {len} values for shape {shape:?}")));
        }
        tree.arrays.insert(name, Array { shape, data });
    }
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_shared_nir_file() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/nir");
        let mut read_ok = 0;
        for sub in ["", "nodes", "paper"] {
            let Ok(entries) = std::fs::read_dir(format!("{dir}/{sub}")) else { continue };
            for e in entries.flatten() {
                let path = e.path();
                if path.extension().is_some_and(|x| x == "nir") {
                    let tree =
                        read(std::fs::read(&path).expect("readable")).unwrap_or_else(|err| panic!("{path:?}: {err}"));
                    assert!(tree.groups.contains_key("node"), "{path:?}");
                    read_ok += 1;
                }
            }
        }
        assert!(read_ok >= 20, "read {read_ok} files");
    }
}
