//! Real transports for the live driver: the same sans-IO engines, with their messages on a real
//! wire instead of the in-memory link.

pub mod http;
pub mod pipeline;
