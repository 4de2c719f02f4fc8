//! Captures: pcap/pcapng → TCP → HTTP → SOAP → WS-RM, into the one timeline.

pub mod export;
pub mod extract;
pub mod file;
pub mod http;
pub mod live;
pub mod nmf;
pub mod packet;
mod parallel;
mod prepare;
pub mod reader;
pub mod sniff;
pub mod synth;
pub mod tcp;
pub mod writer;

pub use reader::{
    CaptureData, CaptureError, Progress, Stats, read_file, read_file_with, read_files, read_files_on,
};
