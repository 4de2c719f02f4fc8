//! rmscope: see inside WS-ReliableMessaging sessions.

pub mod cli;
pub mod ui;
pub mod wsrm;
