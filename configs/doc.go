// Package configs owns Perimeter's configuration: the typed struct tree for
// every section of the YAML file (server, llm, session, interceptors,
// logging, live_trace, storage, detect), the defaults (all of them in
// Default, nowhere else), ${VAR} substitution, the LLM_* / LOG_LEVEL
// environment overrides, validation that reports every problem at once
// with its YAML path and line, redaction of secrets for /config and logs,
// and the commented example files that generate-config writes.
//
// Layering is flags > file > env > defaults. LoadLayered does
// Default -> ApplyEnv -> file; the CLI then applies its flags with
// WithOverrides and calls Validate:
//
//	cfg, problems, err := configs.LoadLayered(path, os.LookupEnv)
//	if err != nil { ... }                 // YAML syntax or type errors, with lines
//	cfg = cfg.WithOverrides(flags)
//	problems = append(problems, cfg.Validate()...)
//	if configs.HasErrors(problems) { ... }
//
// Load reports what it sees while reading the file (unknown keys, values of
// the wrong type, unset variables); Validate reports what is wrong with the
// values (ranges, URLs, unknown interceptor types, interceptor options), so
// the two lists never repeat each other.
//
// The original gateway (cylestio-perimeter) must keep working: its
// config.yaml loads unchanged, unknown sections and interceptor types are
// warnings, numbers are seconds, "10MB" sizes are binary megabytes.
//
// configs never does I/O beyond reading the one file it is asked to load:
// it does not create directories, open log files, resolve host names or
// check that TLS or library paths exist. Those belong to the packages that
// use the values.
package configs
