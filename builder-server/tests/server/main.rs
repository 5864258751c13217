//! The builder server's integration tests: `app(state)` driven with
//! `tower::ServiceExt::oneshot`, through the public API only.

#![allow(missing_docs)]

mod support;

mod admin;
mod assets;
mod cli;
mod console;
mod design;
mod dev_issuer;
mod events;
mod i18n;
mod ops;
mod postgres;
mod replicas;
mod store;
mod themes;
mod tokens;
mod validation;
