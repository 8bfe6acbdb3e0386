//! The byte encoding of images, the only place that knows it (bincode 2 today):
//! `magic | format version u32 LE | payload length u64 LE | FNV-1a-64 of the payload u64 LE | payload`, with the
//! magic `"SOMAIMG\0"` for SpiNNaker [`Image`]s, `"SOMAXBR\0"` for [`CrossbarImage`]s and `"SOMASFQ\0"` for
//! [`SfqImage`]s. Decoding checks every
//! field, the checksum, and then the image's own `validate`: a corrupt or hostile image is an error, never a panic.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::crossbar::{CROSSBAR_FORMAT_VERSION, CrossbarImage};
use crate::image::{FORMAT_VERSION, Image};
use crate::sfq::{SFQ_FORMAT_VERSION, SfqImage};

const MAGIC: &[u8; 8] = b"SOMAIMG\0";
const CROSSBAR_MAGIC: &[u8; 8] = b"SOMAXBR\0";
const SFQ_MAGIC: &[u8; 8] = b"SOMASFQ\0";
const HEADER: usize = 8 + 4 + 8 + 8;

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_little_endian().with_fixed_int_encoding()
}

/// Encodes an image.
pub fn encode(image: &Image) -> Result<Vec<u8>, String> {
    frame(MAGIC, FORMAT_VERSION, image)
}

/// Decodes and validates an image.
pub fn decode(bytes: &[u8]) -> Result<Image, String> {
    let image: Image = unframe(MAGIC, FORMAT_VERSION, bytes)?;
    image.validate().map_err(|e| format!("invalid image: {e}"))?;
    Ok(image)
}

/// Encodes a crossbar image.
pub fn encode_crossbar(image: &CrossbarImage) -> Result<Vec<u8>, String> {
    frame(CROSSBAR_MAGIC, CROSSBAR_FORMAT_VERSION, image)
}

/// Decodes and validates a crossbar image.
pub fn decode_crossbar(bytes: &[u8]) -> Result<CrossbarImage, String> {
    let image: CrossbarImage = unframe(CROSSBAR_MAGIC, CROSSBAR_FORMAT_VERSION, bytes)?;
    image.validate().map_err(|e| format!("invalid crossbar image: {e}"))?;
    Ok(image)
}

/// Whether `bytes` start like a crossbar image.
pub fn is_crossbar(bytes: &[u8]) -> bool {
    bytes.starts_with(CROSSBAR_MAGIC)
}

/// Encodes an SFQ image.
pub fn encode_sfq(image: &SfqImage) -> Result<Vec<u8>, String> {
    frame(SFQ_MAGIC, SFQ_FORMAT_VERSION, image)
}

/// Decodes and validates an SFQ image.
pub fn decode_sfq(bytes: &[u8]) -> Result<SfqImage, String> {
    let image: SfqImage = unframe(SFQ_MAGIC, SFQ_FORMAT_VERSION, bytes)?;
    image.validate().map_err(|e| format!("invalid SFQ image: {e}"))?;
    Ok(image)
}

/// Whether `bytes` start like an SFQ image.
pub fn is_sfq(bytes: &[u8]) -> bool {
    bytes.starts_with(SFQ_MAGIC)
}

fn frame(magic: &[u8; 8], version: u32, payload: &impl Serialize) -> Result<Vec<u8>, String> {
    let payload =
        bincode::serde::encode_to_vec(payload, config()).map_err(|e| format!("cannot encode the image: {e}"))?;
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(magic);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&fnv1a(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

fn unframe<T: DeserializeOwned>(magic: &[u8; 8], expected: u32, bytes: &[u8]) -> Result<T, String> {
    if bytes.len() < HEADER || &bytes[..8] != magic {
        return Err("not a soma image of this kind (bad magic number)".into());
    }
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap_or([0; 4]));
    let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap_or([0; 8]));
    let version = u32_at(8);
    if version != expected {
        return Err(format!("image format version {version}; this soma reads version {expected}"));
    }
    let len = u64_at(12);
    let payload = &bytes[HEADER..];
    if len != payload.len() as u64 {
        return Err(format!("the image is truncated or padded: {} payload bytes, header says {len}", payload.len()));
    }
    if fnv1a(payload) != u64_at(20) {
        return Err("checksum mismatch: the image is corrupt".into());
    }
    let (value, used): (T, usize) =
        bincode::serde::decode_from_slice(payload, config()).map_err(|e| format!("undecodable image: {e}"))?;
    if used != payload.len() {
        return Err("trailing bytes after the image".into());
    }
    Ok(value)
}
