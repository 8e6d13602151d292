//! Taskfile loading: lookup, YAML with positions, typed AST, includes, dotenv.
pub mod dotenv;
