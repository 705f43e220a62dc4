//! `seclang`: a SecLang (ModSecurity rule language) engine, enough of it
//! to run the OWASP Core Rule Set. Load rules with [`RuleSet::load`], then
//! run each exchange through a [`Transaction`], phase by phase.
//!
//! Regular expressions compile with the `regex` crate (linear time); a
//! pattern that needs back-references or look-around other than at the
//! edges of its alternatives, or an operator that
//! needs a service a proxy plugin lacks, skips its rule with a warning in
//! [`Report::skipped`]. Anything else the engine does not know (a
//! directive, action, variable, transformation or operator) is an
//! [`Error`] naming the file and line.

pub mod actions;
pub mod body;
pub mod crs;
mod effects;
pub mod eval;
pub mod files;
mod lookaround;
pub mod operators;
pub mod parse;
pub mod pcre;
pub mod request;
pub mod rules;
pub mod transforms;
pub mod variables;
pub mod vars;

pub use eval::{Interruption, Match, Transaction};
pub use files::MapFiles;
pub use request::{Limits, RequestHead};
pub use rules::{Files, Report, RuleSet, Skipped};

/// A rule file that cannot be loaded: where and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl Error {
    pub fn at(file: &str, line: usize, message: String) -> Self {
        Error {
            file: file.to_string(),
            line,
            message,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for Error {}
