//! Native tools reached as `helm …` / `cosign …` (multi-call on argv[0]).
