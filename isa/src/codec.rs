//! The byte encoding of every family's image, the only place that knows it (bincode 2 today): one frame,
//! `magic | format version u32 LE | payload length u64 LE | FNV-1a-64 of the payload u64 LE | payload`, whose
//! magic is the family's tag ([`Artifact::MAGIC`]: `"SOMAIMG\0"` for SpiNNaker [`Image`]s, `"SOMAXBR\0"` for
//! [`CrossbarImage`]s, `"SOMASFQ\0"` for [`SfqImage`]s).
//!
//! Decoding is bounded by the payload: every length bincode reads before allocating (strings, byte strings) is
//! claimed against a limit of the next power of 16 above the payload's size (at least 64 KiB), so a hostile
//! length field is an error, never a giant allocation; sequences grow as their elements are decoded. The
//! checksum is not a defence (anyone can repair it): after decoding, the image's own `validate` checks every
//! index and invariant, so a decoded image is safe to execute.

use std::io::Write;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Invalid;
use crate::crossbar::{CROSSBAR_FORMAT_VERSION, CrossbarImage};
use crate::sfq::{SFQ_FORMAT_VERSION, SfqImage};
use crate::spinnaker::{FORMAT_VERSION, Image};

const HEADER: usize = 8 + 4 + 8 + 8;

/// A family's image: what the codec frames.
pub trait Artifact: Serialize + DeserializeOwned {
    /// The family's tag at the start of the frame.
    const MAGIC: [u8; 8];
    /// The payload's format version; a reader refuses any other.
    const FORMAT_VERSION: u32;
    /// What to call it in errors.
    const KIND: &'static str;
    /// Every index and invariant, checked after decoding.
    fn validate(&self) -> Result<(), Invalid>;
    /// The target it was compiled for: its name, the fingerprint of its constants, and its description's text
    /// (empty if not carried).
    fn compiled_for(&self) -> (&str, u64, &str);
    /// The network's time step, s.
    fn dt(&self) -> f64;
    /// Writes the payload to `out` (implemented by `payload_codec!`).
    fn write_payload(&self, out: &mut dyn Write) -> Result<(), CodecError>;
    /// Decodes a payload: the image and the bytes it took (implemented by `payload_codec!`).
    fn read_payload(payload: &[u8]) -> Result<(Self, usize), CodecError>;
}

/// The payload methods of an [`Artifact`] impl, for its concrete type: so serde's and bincode's code for each image
/// is compiled once, in this crate, instead of in every crate that encodes or decodes (seven decoder instances per
/// image, one per claim-limit tier, were most of each test binary's build time).
macro_rules! payload_codec {
    () => {
        fn write_payload(&self, out: &mut dyn Write) -> Result<(), CodecError> {
            bincode::serde::encode_into_std_write(self, &mut &mut *out, config())
                .map(|_| ())
                .map_err(|e| CodecError::Encode { kind: Self::KIND, problem: e.to_string() })
        }
        fn read_payload(payload: &[u8]) -> Result<(Self, usize), CodecError> {
            bounded(payload).map_err(|(e, at)| CodecError::Payload {
                kind: Self::KIND,
                len: payload.len(),
                problem: describe(&e),
                at,
            })
        }
    };
}

/// Any family's image behind one object-safe view, as a backend hands it to the commands and an engine takes it
/// back (downcasting to its own type with [`AnyArtifact::as_any`]). Every [`Artifact`] is one.
pub trait AnyArtifact: std::any::Any + Send + Sync {
    /// What to call it in errors.
    fn kind(&self) -> &'static str;
    /// Writes the framed bytes to `out` ([`encode_into`]); returns how many.
    fn encode_into(&self, out: &mut dyn Write) -> Result<u64, CodecError>;
    /// The framed bytes in memory.
    fn encode(&self) -> Result<Vec<u8>, CodecError> {
        let mut bytes = Vec::new();
        self.encode_into(&mut bytes)?;
        Ok(bytes)
    }
    /// See [`Artifact::compiled_for`].
    fn compiled_for(&self) -> (&str, u64, &str);
    /// See [`Artifact::dt`].
    fn dt(&self) -> f64;
    /// The image itself, for its family's engine to downcast.
    fn as_any(&self) -> &dyn std::any::Any;
}

impl<A: Artifact + Send + Sync + 'static> AnyArtifact for A {
    fn kind(&self) -> &'static str {
        A::KIND
    }
    fn encode_into(&self, out: &mut dyn Write) -> Result<u64, CodecError> {
        encode_into(self, out)
    }
    fn compiled_for(&self) -> (&str, u64, &str) {
        Artifact::compiled_for(self)
    }
    fn dt(&self) -> f64 {
        Artifact::dt(self)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Artifact for Image {
    const MAGIC: [u8; 8] = *b"SOMAIMG\0";
    const FORMAT_VERSION: u32 = FORMAT_VERSION;
    const KIND: &'static str = "SpiNNaker image";
    fn validate(&self) -> Result<(), Invalid> {
        Image::validate(self)
    }
    fn compiled_for(&self) -> (&str, u64, &str) {
        (&self.header.target, self.header.fingerprint, &self.header.target_text)
    }
    fn dt(&self) -> f64 {
        self.header.dt
    }
    payload_codec!();
}

impl Artifact for CrossbarImage {
    const MAGIC: [u8; 8] = *b"SOMAXBR\0";
    const FORMAT_VERSION: u32 = CROSSBAR_FORMAT_VERSION;
    const KIND: &'static str = "crossbar image";
    fn validate(&self) -> Result<(), Invalid> {
        CrossbarImage::validate(self)
    }
    fn compiled_for(&self) -> (&str, u64, &str) {
        (&self.program.target, self.program.fingerprint, &self.target_text)
    }
    fn dt(&self) -> f64 {
        self.network.dt
    }
    payload_codec!();
}

impl Artifact for SfqImage {
    const MAGIC: [u8; 8] = *b"SOMASFQ\0";
    const FORMAT_VERSION: u32 = SFQ_FORMAT_VERSION;
    const KIND: &'static str = "SFQ image";
    fn validate(&self) -> Result<(), Invalid> {
        SfqImage::validate(self)
    }
    fn compiled_for(&self) -> (&str, u64, &str) {
        (&self.program.target, self.program.fingerprint, &self.target_text)
    }
    fn dt(&self) -> f64 {
        self.network.dt
    }
    payload_codec!();
}

/// Why bytes are not an image (or an image cannot be written).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The frame does not start with this kind's tag.
    #[error("not a soma {kind} (bad magic number)")]
    Magic {
        /// The kind expected.
        kind: &'static str,
    },
    /// Another format version.
    #[error("{kind} format version {found}; this soma reads version {expected}")]
    Version {
        /// The kind.
        kind: &'static str,
        /// The file's version.
        found: u32,
        /// This build's.
        expected: u32,
    },
    /// The header's length does not match the bytes.
    #[error("the image is truncated or padded: {found} payload bytes, header says {header}")]
    Length {
        /// Bytes present.
        found: u64,
        /// Bytes the header announces.
        header: u64,
    },
    /// The FNV checksum does not match.
    #[error("checksum mismatch: the image is corrupt")]
    Checksum,
    /// The payload does not decode.
    #[error("undecodable {kind} ({len} payload bytes): {problem} (at payload byte {at})")]
    Payload {
        /// The kind.
        kind: &'static str,
        /// Payload length.
        len: usize,
        /// What bincode found.
        problem: String,
        /// How far into the payload decoding had read when it failed.
        at: usize,
    },
    /// Bytes follow the decoded image.
    #[error("{0} trailing bytes after the image")]
    Trailing(usize),
    /// It decodes, but breaks an invariant.
    #[error("invalid {kind}: {problem}")]
    Invalid {
        /// The kind.
        kind: &'static str,
        /// Where and what.
        problem: Invalid,
    },
    /// Encoding failed (a value serde cannot write).
    #[error("cannot encode the {kind}: {problem}")]
    Encode {
        /// The kind.
        kind: &'static str,
        /// Why.
        problem: String,
    },
}

/// FNV-1a, 64 bits: the image checksum and the target fingerprint (not a MAC: it detects accidents).
pub fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    fnv1a_from(FNV_OFFSET, bytes)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a continued from the hash `h` of the bytes before.
fn fnv1a_from(h: u64, bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(h, |h, b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

/// A writer that keeps only the length and FNV-1a of what passes through it: the frame's header, computed
/// without holding the payload.
struct Digest {
    len: u64,
    hash: u64,
}

impl Write for Digest {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.len += bytes.len() as u64;
        self.hash = fnv1a_from(self.hash, bytes.iter().copied());
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

type Fixed = bincode::config::Configuration<bincode::config::LittleEndian, bincode::config::Fixint>;

fn config() -> Fixed {
    bincode::config::standard().with_little_endian().with_fixed_int_encoding()
}

/// Encodes an image in its family's frame.
pub fn encode<A: Artifact>(image: &A) -> Result<Vec<u8>, CodecError> {
    let mut bytes = Vec::new();
    encode_into(image, &mut bytes)?;
    Ok(bytes)
}

/// Writes an image in its family's frame to `out` and returns the frame's length. The payload is encoded twice,
/// once for the header's length and checksum and once into `out`, so no copy of it is held (a full-scale image is
/// gigabytes).
pub fn encode_into<A: Artifact>(image: &A, out: &mut dyn Write) -> Result<u64, CodecError> {
    let failed = |e: &dyn std::fmt::Display| CodecError::Encode { kind: A::KIND, problem: e.to_string() };
    let mut digest = Digest { len: 0, hash: FNV_OFFSET };
    image.write_payload(&mut digest)?;
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(&A::MAGIC);
    header.extend_from_slice(&A::FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&digest.len.to_le_bytes());
    header.extend_from_slice(&digest.hash.to_le_bytes());
    out.write_all(&header).map_err(|e| failed(&e))?;
    image.write_payload(out)?;
    Ok(HEADER as u64 + digest.len)
}

/// Whether `bytes` are framed as an `A` (its tag), before any decoding.
pub fn is<A: Artifact>(bytes: &[u8]) -> bool {
    bytes.starts_with(&A::MAGIC)
}

/// Decodes and validates an `A`.
pub fn decode<A: Artifact>(bytes: &[u8]) -> Result<A, CodecError> {
    if bytes.len() < HEADER || !is::<A>(bytes) {
        return Err(CodecError::Magic { kind: A::KIND });
    }
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap_or([0; 4]));
    let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap_or([0; 8]));
    let version = u32_at(8);
    if version != A::FORMAT_VERSION {
        return Err(CodecError::Version { kind: A::KIND, found: version, expected: A::FORMAT_VERSION });
    }
    let payload = &bytes[HEADER..];
    let header = u64_at(12);
    if header != payload.len() as u64 {
        return Err(CodecError::Length { found: payload.len() as u64, header });
    }
    if fnv1a(payload.iter().copied()) != u64_at(20) {
        return Err(CodecError::Checksum);
    }
    let (image, used) = A::read_payload(payload)?;
    if used != payload.len() {
        return Err(CodecError::Trailing(payload.len() - used));
    }
    image.validate().map_err(|problem| CodecError::Invalid { kind: A::KIND, problem })?;
    Ok(image)
}

/// A reader over the payload that knows how far decoding got, so that an error can say where it stopped.
struct Counting<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl bincode::de::read::Reader for Counting<'_> {
    fn read(&mut self, out: &mut [u8]) -> Result<(), bincode::error::DecodeError> {
        let end = self.at.saturating_add(out.len());
        let Some(from) = self.bytes.get(self.at..end) else {
            return Err(bincode::error::DecodeError::UnexpectedEnd { additional: end - self.bytes.len() });
        };
        out.copy_from_slice(from);
        self.at = end;
        Ok(())
    }

    fn peek_read(&mut self, n: usize) -> Option<&[u8]> {
        self.bytes.get(self.at..self.at.saturating_add(n))
    }

    fn consume(&mut self, n: usize) {
        self.at = self.at.saturating_add(n).min(self.bytes.len());
    }
}

/// Decodes with a claim limit of the next power of 16 at or above the payload's length (from 64 KiB): the image
/// and the bytes it took, or the error and the payload offset decoding had reached.
fn bounded<A: Artifact>(payload: &[u8]) -> Result<(A, usize), (bincode::error::DecodeError, usize)> {
    let mut reader = Counting { bytes: payload, at: 0 };
    macro_rules! tiers {
        ($($bits:literal)*) => {
            $( if payload.len() <= 1usize << $bits {
                let decoded =
                    bincode::serde::decode_from_reader(&mut reader, config().with_limit::<{ 1usize << $bits }>());
                return decoded.map(|image| (image, reader.at)).map_err(|e| (e, reader.at));
            } )*
        };
    }
    tiers!(16 20 24 28 32 36 40);
    Err((bincode::error::DecodeError::LimitExceeded, 0))
}

/// bincode's error in words.
fn describe(e: &bincode::error::DecodeError) -> String {
    use bincode::error::DecodeError as E;
    match e {
        E::UnexpectedEnd { additional } => format!("the payload ends {additional} bytes before the image does"),
        E::LimitExceeded => "a length field claims more bytes than the image holds".into(),
        E::InvalidBooleanValue(v) => format!("{v} is not a boolean"),
        E::UnexpectedVariant { type_name, found, .. } => format!("{found} is not a variant of {type_name}"),
        E::Utf8 { .. } => "a string is not UTF-8".into(),
        E::InvalidCharEncoding(_) => "a character is not UTF-8".into(),
        other => other.to_string(),
    }
}
