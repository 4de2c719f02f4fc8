//! The WS-RM wire model and its codec (smoltcp's Packet/Repr split: `model` is the Repr,
//! `decode`/`encode` turn bytes into it and back).

pub mod binary;
mod decode;
pub mod duration;
mod encode;
pub mod error;
mod fingerprint;
pub mod model;
pub mod ns;
pub mod pretty;
pub mod security;
mod text;
mod xml;

pub use decode::{Decoded, Options, decode, decode_scanned, decode_unscanned, decode_with};
pub use encode::encode;
pub use error::{DecodeError, ErrorKind, Warning};
pub use fingerprint::{action_uri, body_digest, fingerprint};
pub use model::*;
pub use ns::{AddressingVersion, RmVersion, SoapVersion};
pub use xml::{local_name, predefined_entity};
