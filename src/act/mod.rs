//! The Act! Web API auth protocol, and nothing else.
//!
//! Endpoint forms, the `/authorize` and `/api/system` calls, JWT decoding, the
//! verdict table and rate-limit header parsing. No UI, no config files, no
//! background tasks: plain async functions that the session engine and the
//! command line both call. `../shared/ACT-API.md` is the source for every rule
//! here.

pub mod client;
pub mod endpoint;
pub mod jwt;
pub mod meter;
pub mod verdict;

pub use client::{ActClient, CallKind, ClientOptions, Exchange, HttpDetail, Issued, SystemInfo};
pub use jwt::{Claims, Expiry, ExpirySource};
pub use meter::{Excerpt, Meter, Unreadable};
pub use verdict::{Verdict, VerdictClass, VerdictKind};
