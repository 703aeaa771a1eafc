//! kubectl's output formats: tables (from server-side Tables), names, JSON and YAML.

pub mod go_values;
pub mod jsonpath;
pub mod sort_by;
pub mod structured;
pub mod table;
pub mod tabwriter;
pub mod yaml;
