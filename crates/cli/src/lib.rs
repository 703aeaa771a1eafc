//! The native `kubecraft` binary's library: the interactive/scripted shell.

pub mod shell;
pub mod words;
