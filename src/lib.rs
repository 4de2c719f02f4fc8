//! rmscope: see inside WS-ReliableMessaging sessions.

pub mod analysis;
pub mod capture;
pub mod cli;
pub mod config;
pub mod engine;
pub mod live;
pub mod netsim;
pub mod ranges;
pub mod sim;
pub mod svclog;
pub mod trace;
pub mod transport;
#[cfg(feature = "gui")]
pub mod ui;
pub mod whatif;
pub mod wsrm;
