//! rmscope: see inside WS-ReliableMessaging sessions.

pub mod cli;
#[cfg(feature = "gui")]
pub mod ui;
pub mod wsrm;
