//! Captures: pcap/pcapng → TCP → HTTP → SOAP → WS-RM, into the one timeline.

pub mod packet;
pub mod tcp;
