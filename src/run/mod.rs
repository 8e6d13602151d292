//! Execution: DAG scheduling, shell, fingerprints, output modes, watch.
pub mod fingerprint;
