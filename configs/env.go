package configs

import "maps"

// Environment variables ApplyEnv reads (the original's README documents
// the first four; its code never read them).
const (
	EnvBaseURL     = "LLM_BASE_URL"
	EnvType        = "LLM_TYPE"
	EnvAPIKey      = "LLM_API_KEY"
	EnvLogLevel    = "LOG_LEVEL"
	EnvCHDBLibPath = "CHDB_LIB_PATH"
)

// ApplyEnv sets llm.base_url, llm.type, llm.api_key, logging.level and
// storage.embedded.lib_path from LLM_BASE_URL, LLM_TYPE, LLM_API_KEY,
// LOG_LEVEL and CHDB_LIB_PATH when they are set and not empty. The
// environment sits below the file: call it on Default() before the file is
// decoded on top (LoadLayered does). A nil lookup sets nothing.
func (c *Config) ApplyEnv(lookup func(string) (string, bool)) {
	if lookup == nil {
		return
	}
	for name, dst := range map[string]*string{
		EnvBaseURL:     &c.LLM.BaseURL,
		EnvType:        &c.LLM.Type,
		EnvAPIKey:      &c.LLM.APIKey,
		EnvLogLevel:    &c.Logging.Level,
		EnvCHDBLibPath: &c.Storage.Embedded.LibPath,
	} {
		if v, ok := lookup(name); ok && v != "" {
			*dst = v
		}
	}
}

// Overrides are the run command's flags; zero values mean "not given".
type Overrides struct {
	BaseURL  string
	Type     string
	APIKey   string
	Host     string
	Port     int
	LogLevel string
}

// WithOverrides returns a copy of c with every given override applied
// (flags beat the file); c itself is left untouched.
func (c *Config) WithOverrides(o Overrides) *Config {
	out := c.Clone()
	set := func(path string, dst *string, v string) {
		if v != "" {
			*dst = v
			delete(out.lines, path) // the value no longer comes from the file
		}
	}
	set("llm.base_url", &out.LLM.BaseURL, o.BaseURL)
	set("llm.type", &out.LLM.Type, o.Type)
	set("llm.api_key", &out.LLM.APIKey, o.APIKey)
	set("server.host", &out.Server.Host, o.Host)
	set("logging.level", &out.Logging.Level, o.LogLevel)
	if o.Port != 0 {
		out.Server.Port = o.Port
		delete(out.lines, "server.port")
	}
	return out
}

// Clone returns a deep copy of c.
func (c *Config) Clone() *Config {
	out := *c
	out.lines = maps.Clone(c.lines)
	if out.lines == nil {
		out.lines = map[string]int{}
	}
	out.Storage.ClickHouse.Addresses = append([]string(nil), c.Storage.ClickHouse.Addresses...)
	if c.Interceptors != nil {
		out.Interceptors = make([]InterceptorConfig, len(c.Interceptors))
		for i, ic := range c.Interceptors {
			out.Interceptors[i] = InterceptorConfig{Type: ic.Type, Enabled: ic.Enabled}
			if ic.Config != nil {
				out.Interceptors[i].Config = deepCopy(ic.Config).(map[string]any)
			}
		}
	}
	return &out
}

// deepCopy copies the maps and slices a YAML document decodes into, at
// every depth; other values are returned as they are.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return deepCopyMap(v)
	case map[any]any:
		return deepCopyMap(v)
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

func deepCopyMap[K comparable](v map[K]any) map[K]any {
	m := make(map[K]any, len(v))
	for k, e := range v {
		m[k] = deepCopy(e)
	}
	return m
}
