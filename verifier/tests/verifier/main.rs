//! The verifier's integration tests: one binary, public API only.
//!
//! Test vectors are read from `../shared/testvectors` beside the repository
//! (or `$TESSERA_TESTVECTORS`); a missing directory fails the run loudly.

#![allow(missing_docs)]

mod support;

mod cache;
mod layer;
mod remote;
mod rules;
mod two_step;
mod vectors;
