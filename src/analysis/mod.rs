//! Questions asked of the stored spans: polars scans with projection and filters pushed
//! down, then per-trace structure built in Rust.

pub mod attribution;
pub mod budget;
pub mod calls;
pub mod calls_view;
pub mod cost_columns;
pub mod cost_report;
pub mod partition;
pub mod report;
pub mod session_report;
pub mod show;
pub mod source;
pub mod store_set;
pub mod time_bound;
pub mod trace_list;
pub mod tree;
