//! oxtask: a Taskfile v3 runner (drop-in for go-task's `task`) with native helm/OCI/cosign.
//!
//! Data flows one way: `taskfile` (YAML → AST) → `compile` (vars, templates) → `run`
//! (DAG, shell, output). `native` holds the multi-call tools reached through `helm`/`cosign`.

pub mod app;
pub mod cache;
pub mod cli;
pub mod color;
pub mod compile;
pub mod complete;
pub mod gomatch;
pub mod native;
pub mod run;
pub mod settings;
pub mod shell;
pub mod taskfile;
pub mod template;
