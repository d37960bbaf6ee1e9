//! The built-in Act! simulator.
