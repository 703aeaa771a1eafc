//! The native `kubecraft` binary's library: the interactive/scripted shell and the
//! HTTP server that lets real clients talk to the simulated cluster.

pub mod editor;
pub mod serve;
pub mod shell;
pub mod words;
