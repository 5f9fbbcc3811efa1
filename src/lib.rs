//! `traces`: offline analysis of LLM application traces and their cost.
//!
//! Data flows one way: `ingest` (bytes to raw spans) → `store` (Parquet segments) →
//! `analysis` (questions asked of the spans) → `render` (tables, JSON, CSV, Markdown).

pub mod analysis;
pub mod ingest;
pub mod pricing;
pub mod receive;
pub mod render;
pub mod semconv;
pub mod store;
pub mod suggest;
